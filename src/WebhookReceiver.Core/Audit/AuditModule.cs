using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using WebhookReceiver.Kernel;

namespace WebhookReceiver.Audit;

/// <summary>The append-only record of every state-changing command, and its retention.</summary>
internal static class AuditModule
{
    internal static IServiceCollection AddAudit(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddSection<AuditOptions, AuditOptionsAnnotations>(configuration, AuditOptions.Section);
        services.AddStoreSchema(AuditStore.Schema);
        services.TryAddSingleton<IAuditLog, AuditStore>();
        services.AddHostedService<AuditRetentionService>();
        services.TryAddScoped<CommandGate>();
        return services;
    }
}
