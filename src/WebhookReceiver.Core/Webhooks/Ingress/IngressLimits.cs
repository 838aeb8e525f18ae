using System.Globalization;
using System.Threading.RateLimiting;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace WebhookReceiver.Webhooks;

/// <summary>
/// Abuse limits of the public webhook route: a rate per client address (ASP.NET's rate limiter, 429), a cap on
/// requests handled at once (503, so a flood sheds load instead of filling memory). The client address is the host's
/// (its forwarded-headers settings decide whether X-Forwarded-For is believed).
/// </summary>
internal static class IngressLimits
{
    public const string RatePolicy = "WebhookReceiver.PerClient";

    public static IServiceCollection AddIngressLimits(this IServiceCollection services)
    {
        services.TryAddSingleton<IngestConcurrency>();

        services.AddRateLimiter(_ => { });
        services.AddOptions<RateLimiterOptions>().Configure<IOptions<AbuseLimitOptions>>((rateLimiter, receiver) =>
        {
            var limits = receiver.Value;
            rateLimiter.AddPolicy(RatePolicy, context => limits.PermitsPerSecond == 0
                ? RateLimitPartition.GetNoLimiter("off")
                : RateLimitPartition.GetTokenBucketLimiter(context.Connection.RemoteIpAddress?.ToString() ?? "unknown", _ => new TokenBucketRateLimiterOptions
                {
                    TokenLimit = limits.Burst,
                    TokensPerPeriod = limits.PermitsPerSecond,
                    ReplenishmentPeriod = TimeSpan.FromSeconds(1),
                    QueueLimit = 0,
                }));
            // The host's own rejection answer stays in force for its own endpoints; only this policy's rejections are ours.
            var hostOnRejected = rateLimiter.OnRejected;
            rateLimiter.OnRejected = async (rejected, cancellationToken) =>
            {
                if (rejected.HttpContext.GetEndpoint()?.Metadata.GetMetadata<EnableRateLimitingAttribute>()?.PolicyName != RatePolicy)
                {
                    if (hostOnRejected is not null)
                    {
                        await hostOnRejected(rejected, cancellationToken);
                    }

                    return;
                }

                rejected.HttpContext.Response.StatusCode = StatusCodes.Status429TooManyRequests;
                var metrics = rejected.HttpContext.RequestServices.GetRequiredService<ReceiverMetrics>();
                metrics.WebhookReceived(IngestOutcome.RateLimited, metrics.StartIngest());
                var retryAfter = rejected.Lease.TryGetMetadata(MetadataName.RetryAfter, out var wait) ? Math.Max(1, (int)Math.Ceiling(wait.TotalSeconds)) : 1;
                rejected.HttpContext.Response.Headers.RetryAfter = retryAfter.ToString(CultureInfo.InvariantCulture);
                // Through the host's IProblemDetailsService when it has one, else written as problem details by the result itself.
                await TypedResults.Problem(statusCode: StatusCodes.Status429TooManyRequests, detail: "Too many webhooks from this client; send again after Retry-After.")
                    .ExecuteAsync(rejected.HttpContext);
            };
        });

        return services;
    }
}
