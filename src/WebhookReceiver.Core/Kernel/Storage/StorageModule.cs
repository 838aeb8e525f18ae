using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace WebhookReceiver.Kernel;

/// <summary>The storage kernel: its engine, the migration runner, the SQLite checkpointer and the readiness check.</summary>
internal static class StorageModule
{
    internal static IServiceCollection AddStorage(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddSection<StorageOptions, StorageOptionsAnnotations>(configuration, StorageOptions.Section)
            .AddValidator<StorageOptions, StorageConnectionStringValidator>();
        services.TryAddSingleton(StorageKernel.Create);
        services.AddStoreSchema(StorageKernel.Schema);
        services.AddHostedService<StorageMigrator>();
        services.AddHostedService<SqliteCheckpointer>();
        // A check only: the host maps its health routes and picks checks by the ready tag.
        services.AddHealthChecks().Add(new HealthCheckRegistration(InboxHealthCheck.Name,
            sp => new InboxHealthCheck(sp.GetRequiredService<StorageKernel>()), failureStatus: null, tags: [InboxHealthCheck.ReadyTag]));
        return services;
    }

    /// <summary>Registers a module's tables for the migration runner (a module registered twice migrates once).</summary>
    internal static IServiceCollection AddStoreSchema(this IServiceCollection services, StoreSchema schema)
    {
        services.AddSingleton(schema);
        return services;
    }
}
