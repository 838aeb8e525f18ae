using System.Net;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Http.Resilience;
using Microsoft.Extensions.Options;
using Polly;
using WebhookReceiver.Kernel;

namespace WebhookReceiver.LangGraph;

/// <summary>
/// The LangGraph clients, one per deployment configured in <c>WebhookReceiver:LangGraph:Deployments</c>; always registered
/// (a singleton), with no <see cref="Deployments"/> when none is configured. Each call to <see cref="ForDeployment"/> returns a client over a fresh <see cref="HttpClient"/>
/// from <see cref="IHttpClientFactory"/>, so take one per piece of work rather than keeping it.
/// </summary>
/// <example><c>var thread = await clients.ForDeployment("prod").GetThreadAsync(run.ThreadId!, ct);</c></example>
public interface ILangGraphClients
{
    /// <summary>The configured deployment names, in configuration order.</summary>
    IReadOnlyList<string> Deployments { get; }

    /// <summary>The client of the deployment named <paramref name="deployment"/> (case-insensitive); <see cref="KeyNotFoundException"/> for an unknown name.</summary>
    LangGraphClient ForDeployment(string deployment);
}

internal sealed class LangGraphClients(IHttpClientFactory factory, IOptions<LangGraphOptions> options, SecretRedactor redactor) : ILangGraphClients
{
    internal const string HttpClientName = "WebhookReceiver.LangGraph";
    private readonly List<LangGraphDeploymentOptions> _deployments = options.Value.Deployments;

    public IReadOnlyList<string> Deployments => _deployments.Select(d => d.Name).ToList();

    public LangGraphClient ForDeployment(string deployment)
    {
        var found = _deployments.Find(d => string.Equals(d.Name, deployment, StringComparison.OrdinalIgnoreCase))
                    ?? throw new KeyNotFoundException($"No LangGraph deployment is named '{deployment}' (WebhookReceiver:LangGraph:Deployments).");
        return new LangGraphClient(factory.CreateClient(HttpClientName), found, redactor);
    }
}

/// <summary>The retry and timeout around every call to a LangGraph server (Microsoft.Extensions.Http.Resilience).</summary>
internal static class LangGraphResilience
{
    /// <summary>Set on a request that must not be repeated after a 5xx or a timeout (creating a run).</summary>
    internal static readonly HttpRequestOptionsKey<bool> NotIdempotent = new("WebhookReceiver.LangGraph.NotIdempotent");

    /// <summary>
    /// Registers <see cref="ILangGraphClients"/> (with no deployments when none is configured) and its HTTP client.
    /// </summary>
    internal static void AddLangGraphClients(this IServiceCollection services)
    {
        if (services.Any(d => d.ServiceType == typeof(ILangGraphClients)))
        {
            return;
        }

        services.AddSingleton<ILangGraphClients, LangGraphClients>();
        services.AddHttpClient(LangGraphClients.HttpClientName, client => client.Timeout = Timeout.InfiniteTimeSpan)
            .AddResilienceHandler("langgraph", (pipeline, context) =>
            {
                var options = context.ServiceProvider.GetRequiredService<IOptions<LangGraphOptions>>().Value;
                if (options.MaxRetries > 0)
                {
                    pipeline.AddRetry(new HttpRetryStrategyOptions
                    {
                        MaxRetryAttempts = options.MaxRetries,
                        Delay = options.RetryDelay,
                        BackoffType = DelayBackoffType.Exponential,
                        UseJitter = true,
                        ShouldHandle = args => ValueTask.FromResult(ShouldRetry(args.Outcome, args.Context)),
                    });
                }

                pipeline.AddTimeout(options.RequestTimeout);
            });
    }

    /// <summary>429, 5xx, 408 and no answer, for reads; for a request that is not idempotent, only 429 (the server refused it unseen).</summary>
    private static bool ShouldRetry(Outcome<HttpResponseMessage> outcome, ResilienceContext context) =>
        HttpClientResiliencePredicates.IsTransient(outcome)
        && (outcome.Result?.StatusCode == HttpStatusCode.TooManyRequests
            || context.GetRequestMessage()?.Options.TryGetValue(NotIdempotent, out var notIdempotent) != true
            || !notIdempotent);
}
