using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using WebhookReceiver.Kernel;
using WebhookReceiver.Webhooks;

namespace WebhookReceiver.LangGraph;

/// <summary>The call back to LangGraph: its API clients, run verification, and the sweep that recovers lost webhooks.</summary>
internal static class LangGraphModule
{
    internal static IServiceCollection AddLangGraphCallback(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddSection<LangGraphOptions, LangGraphOptionsAnnotations>(configuration, LangGraphOptions.Section)
            .AddValidator<LangGraphOptions, LangGraphOptionsValidator>()
            .AddValidator<LangGraphOptions, SweepLookbackValidator>();
        services.TryAddSingleton(sp => new DeploymentAttribution(sp.GetRequiredService<IOptions<LangGraphOptions>>().Value.Deployments));
        services.TryAddSingleton<IWebhookAttribution>(sp => sp.GetRequiredService<DeploymentAttribution>()); // Ingest attributes webhooks with it.
        services.TryAddSingleton(sp => sp.GetRequiredService<IWebhookInbox>() as IRunVerificationStore
            ?? throw new InvalidOperationException("LangGraph verification needs an inbox that stores verifications (the SQLite or PostgreSQL inbox)."));
        services.TryAddSingleton<RunVerifier>();
        services.TryAddSingleton<IDeliveryGate>(sp => sp.GetRequiredService<RunVerifier>()); // Dispatch asks it before each run delivery.
        services.TryAddSingleton<PublicWebhookUrl>();
        services.AddStoreSchema(SweepStore.Schema);
        services.TryAddSingleton<IInboxSweeps, SweepStore>();
        services.TryAddSingleton<SweptWebhooks>();
        services.TryAddSingleton<RunSweeper>();
        services.TryAddSingleton<RecentSweeps>();
        services.AddHostedService<SweepService>();
        services.AddLangGraphClients();
        services.TryAddScoped<SweepCommand>();
        return services;
    }
}
