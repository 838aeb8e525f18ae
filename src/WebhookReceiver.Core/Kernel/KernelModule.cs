using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace WebhookReceiver.Kernel;

/// <summary>What every module stands on: the clock, the metrics settings and the meter factory.</summary>
internal static class KernelModule
{
    internal static IServiceCollection AddKernel(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddSection<MetricsOptions, MetricsOptionsAnnotations>(configuration, MetricsOptions.Section);
        services.TryAddSingleton(TimeProvider.System);
        services.AddMetrics();
        return services;
    }
}
