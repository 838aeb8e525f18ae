using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using WebhookReceiver.Kernel;

namespace WebhookReceiver.Interrupts;

/// <summary>Human in the loop: a finished run's thread is checked for a pause, which people answer through a resume.</summary>
internal static class InterruptsModule
{
    internal static IServiceCollection AddInterrupts(this IServiceCollection services)
    {
        services.AddStoreSchema(InterruptStore.Schema);
        services.TryAddSingleton<IInboxInterrupts, InterruptStore>();
        // A success run's thread is checked for a pause: a delivery of its own, on while a deployment is configured.
        services.TryAddSingleton<InterruptLinks>();
        services.TryAddSingleton<InterruptRecorder>();
        services.TryAddSingleton<InterruptResumer>();
        services.TryAddSingleton<InterruptDetector>();
        services.AddSingleton(InterruptDetector.Registration);
        services.TryAddScoped<ReplayInterruptCommand>();
        services.TryAddScoped<ResumeInterruptCommand>();
        return services;
    }
}
