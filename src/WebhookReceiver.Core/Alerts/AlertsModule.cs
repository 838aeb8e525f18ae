using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using WebhookReceiver.Kernel;
using WebhookReceiver.LangGraph;

namespace WebhookReceiver.Alerts;

/// <summary>Alerts raised from the sweep's outcome (an observer), the dead letters, waiting interrupts and the store (the evaluator).</summary>
internal static class AlertsModule
{
    internal static IServiceCollection AddAlerts(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddSection<AlertOptions, AlertOptionsAnnotations>(configuration, AlertOptions.Section)
            .AddValidator<AlertOptions, AlertWebhookValidator>();
        services.AddStoreSchema(AlertStore.Schema);
        services.TryAddSingleton<IInboxAlerts, AlertStore>();
        services.TryAddSingleton<AlertNotifier>();
        services.TryAddSingleton<AlertRecorder>();
        services.TryAddSingleton<AlertEvaluator>();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<ISweepObserver, SweepAlerts>());
        services.AddHostedService(sp => sp.GetRequiredService<AlertNotifier>());
        services.AddHostedService(sp => sp.GetRequiredService<AlertEvaluator>());
        services.AddHttpClient(AlertNotifier.HttpClientName, client => client.Timeout = Timeout.InfiniteTimeSpan);
        services.TryAddScoped<AcknowledgeAlertCommand>();
        return services;
    }
}
