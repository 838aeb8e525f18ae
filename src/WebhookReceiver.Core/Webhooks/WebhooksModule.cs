using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using WebhookReceiver.Kernel;

namespace WebhookReceiver.Webhooks;

/// <summary>Ingress, dispatch, the handlers and the webhook queries: the receiver's first job.</summary>
internal static class WebhooksModule
{
    internal static IServiceCollection AddWebhooks(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddSection<WebhookReceiverOptions, WebhookReceiverOptionsAnnotations>(configuration, WebhookReceiverOptions.Section)
            .AddValidator<WebhookReceiverOptions, WebhookReceiverOptionsValidator>();
        services.AddSection<IngestOptions, IngestOptionsAnnotations>(configuration, IngestOptions.Section);
        services.AddSection<AbuseLimitOptions, AbuseLimitOptionsAnnotations>(configuration, AbuseLimitOptions.Section)
            .AddValidator<AbuseLimitOptions, TrustedProxiesValidator>();
        services.AddSection<DispatchOptions, DispatchOptionsAnnotations>(configuration, DispatchOptions.Section);
        services.AddSection<BuiltInHandlerOptions, BuiltInHandlerOptionsAnnotations>(configuration, BuiltInHandlerOptions.Section)
            .AddValidator<BuiltInHandlerOptions, ForwardTargetsValidator>();
        // Raised so the dispatcher's grace fits in the host's shutdown; never lowered below what the host chose.
        services.AddOptions<HostOptions>().PostConfigure<IOptions<DispatchOptions>>((host, dispatch) =>
        {
            var needed = dispatch.Value.ShutdownGrace + TimeSpan.FromSeconds(10);
            if (host.ShutdownTimeout < needed)
            {
                host.ShutdownTimeout = needed;
            }
        });

        services.TryAddSingleton<ReceiverMetrics>();
        services.AddSection<RetentionOptions, RetentionOptionsAnnotations>(configuration, RetentionOptions.Section);
        services.AddStoreSchema(WebhookStore.Schema);
        services.TryAddSingleton<WebhookStore>();
        // Each consumer depends on the part of the store it uses; all are the one store above.
        services.TryAddSingleton<IWebhookInbox>(sp => sp.GetRequiredService<WebhookStore>());
        services.TryAddSingleton<IInboxIngest>(sp => sp.GetRequiredService<IWebhookInbox>());
        services.TryAddSingleton<IInboxDeliveries>(sp => sp.GetRequiredService<IWebhookInbox>());
        services.TryAddSingleton<IInboxQueries>(sp => sp.GetRequiredService<IWebhookInbox>());
        services.TryAddSingleton<IInboxMaintenance>(sp => sp.GetRequiredService<IWebhookInbox>());
        services.TryAddSingleton<IRunVerificationStore>(sp => sp.GetRequiredService<WebhookStore>());
        services.TryAddSingleton<IInboxActivity>(sp => sp.GetRequiredService<WebhookStore>());
        services.AddSingleton<IStoreStartupJob, StoredPayloadRedaction>();
        services.AddHostedService<RetentionService>();
        services.TryAddSingleton<DispatchSignal>();
        services.TryAddSingleton<MissingRunIdWarning>();
        services.TryAddSingleton<HandlerCatalog>();
        services.TryAddSingleton<HandlerInvoker>();
        services.TryAddSingleton<OutcomeRecorder>();
        services.TryAddSingleton<InboxWriter>();
        // Hosted services start in the order added: the schema (the inbox's) first, then the writer, then the dispatcher.
        services.AddHostedService(sp => sp.GetRequiredService<InboxWriter>());
        services.AddHostedService<Dispatcher>();
        services.AddIngressLimits();
        services.AddHttpClient(ForwardHandler.HttpClientName, client => client.Timeout = Timeout.InfiniteTimeSpan);
        services.TryAddScoped<ReplayWebhookCommand>();
        services.TryAddScoped<ReplayDeadLettersCommand>();
        return services;
    }
}
