using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using WebhookReceiver.Kernel;
using WebhookReceiver.LangGraph;
using WebhookReceiver.Webhooks;

namespace WebhookReceiver.Interrupts;

/// <summary>Human in the loop: a finished run's thread is checked for a pause, which people answer through a resume.</summary>
internal static class InterruptsModule
{
    internal static IServiceCollection AddInterrupts(this IServiceCollection services)
    {
        services.AddStoreSchema(InterruptStore.Schema);
        services.TryAddSingleton<IInboxInterrupts, InterruptStore>();
        services.TryAddSingleton<InterruptLinks>();
        services.TryAddSingleton<IInterruptSource, StoredInterrupts>(); // Dispatch reads the interrupt of an interrupt delivery.
        services.TryAddSingleton<InterruptRecorder>();
        services.TryAddSingleton<IPauseRecorder>(sp => sp.GetRequiredService<InterruptRecorder>()); // The sweep records the pauses it finds.
        services.TryAddSingleton<InterruptResumer>();
        // A success run's thread is checked for a pause: a delivery of its own, on while a deployment is configured.
        services.TryAddSingleton<InterruptDetector>();
        services.AddSingleton(InterruptDetector.Registration);
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IMetricSource, InterruptGauges>());
        services.TryAddScoped<ReplayInterruptCommand>();
        services.TryAddScoped<ResumeInterruptCommand>();
        return services;
    }
}
