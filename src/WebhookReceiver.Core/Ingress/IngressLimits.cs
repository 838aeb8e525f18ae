using System.Globalization;
using System.Net;
using System.Threading.RateLimiting;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.HttpOverrides;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using WebhookReceiver.Configuration;
using WebhookReceiver.Operations;

namespace WebhookReceiver.Ingress;

/// <summary>
/// Abuse limits of the public webhook route: a rate per client address (ASP.NET's rate limiter, 429), a cap on
/// requests handled at once (503, so a flood sheds load instead of filling memory), and client addresses taken from
/// X-Forwarded-For only when the request comes from a configured proxy.
/// </summary>
public static class IngressLimits
{
    public const string RatePolicy = "WebhookReceiver.PerClient";

    public static IServiceCollection AddIngressLimits(this IServiceCollection services)
    {
        services.AddSingleton(sp => new ConcurrencyLimiter(new ConcurrencyLimiterOptions
        {
            PermitLimit = sp.GetRequiredService<IOptions<WebhookReceiverOptions>>().Value.Limits.MaxConcurrentIngests,
            QueueLimit = 0,
        }));

        services.AddRateLimiter(_ => { });
        services.AddOptions<RateLimiterOptions>().Configure<IOptions<WebhookReceiverOptions>>((rateLimiter, receiver) =>
        {
            var limits = receiver.Value.Limits;
            rateLimiter.RejectionStatusCode = StatusCodes.Status429TooManyRequests;
            rateLimiter.AddPolicy(RatePolicy, context => limits.PermitsPerSecond == 0
                ? RateLimitPartition.GetNoLimiter("off")
                : RateLimitPartition.GetTokenBucketLimiter(context.Connection.RemoteIpAddress?.ToString() ?? "unknown", _ => new TokenBucketRateLimiterOptions
                {
                    TokenLimit = limits.Burst,
                    TokensPerPeriod = limits.PermitsPerSecond,
                    ReplenishmentPeriod = TimeSpan.FromSeconds(1),
                    QueueLimit = 0,
                }));
            rateLimiter.OnRejected = async (rejected, cancellationToken) =>
            {
                var metrics = rejected.HttpContext.RequestServices.GetRequiredService<ReceiverMetrics>();
                metrics.WebhookReceived(IngestOutcome.RateLimited, metrics.StartIngest());
                var retryAfter = rejected.Lease.TryGetMetadata(MetadataName.RetryAfter, out var wait) ? Math.Max(1, (int)Math.Ceiling(wait.TotalSeconds)) : 1;
                rejected.HttpContext.Response.Headers.RetryAfter = retryAfter.ToString(CultureInfo.InvariantCulture);
                await rejected.HttpContext.RequestServices.GetRequiredService<IProblemDetailsService>().WriteAsync(new ProblemDetailsContext
                {
                    HttpContext = rejected.HttpContext,
                    ProblemDetails = { Status = StatusCodes.Status429TooManyRequests, Detail = "Too many webhooks from this client; send again after Retry-After." },
                });
            };
        });

        services.AddOptions<ForwardedHeadersOptions>().Configure<IOptions<WebhookReceiverOptions>>((forwarded, receiver) =>
        {
            var limits = receiver.Value.Limits;
            // Not even loopback by default: only the proxies named in configuration. With none named, the headers are
            // not read at all (the middleware trusts every sender when its lists are empty).
            forwarded.KnownProxies.Clear();
            forwarded.KnownIPNetworks.Clear();
#pragma warning disable ASPDEPR005 // The obsolete list still holds 127.0.0.0/8 by default and is still consulted.
            forwarded.KnownNetworks.Clear();
#pragma warning restore ASPDEPR005
            forwarded.ForwardedHeaders = limits.KnownProxies.Count + limits.KnownNetworks.Count == 0
                ? ForwardedHeaders.None
                : ForwardedHeaders.XForwardedFor | ForwardedHeaders.XForwardedProto;
            foreach (var proxy in limits.KnownProxies)
            {
                forwarded.KnownProxies.Add(IPAddress.Parse(proxy));
            }

            foreach (var network in limits.KnownNetworks)
            {
                forwarded.KnownIPNetworks.Add(System.Net.IPNetwork.Parse(network));
            }
        });
        return services;
    }
}
