using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using WebhookReceiver.Kernel;

namespace WebhookReceiver.Inbox;

/// <summary>The store: its engine, schema, retention and readiness check.</summary>
internal static class InboxModule
{
    internal static IServiceCollection AddInbox(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddSection<StorageOptions, StorageOptionsAnnotations>(configuration, StorageOptions.Section)
            .AddValidator<StorageOptions, PostgresStorageOptionsValidator>();
        services.AddSection<RetentionOptions, RetentionOptionsAnnotations>(configuration, RetentionOptions.Section);
        services.TryAddSingleton<DispatchSignal>();
        services.TryAddSingleton(StorageProviders.CreateInbox);
        // Each consumer depends on the part of the inbox it uses; all are the one store above.
        services.TryAddSingleton<IInboxIngest>(sp => sp.GetRequiredService<IWebhookInbox>());
        services.TryAddSingleton<IInboxDeliveries>(sp => sp.GetRequiredService<IWebhookInbox>());
        services.TryAddSingleton<IInboxQueries>(sp => sp.GetRequiredService<IWebhookInbox>());
        services.TryAddSingleton<IInboxMaintenance>(sp => sp.GetRequiredService<IWebhookInbox>());
        services.AddHostedService<InboxMigrator>();
        services.AddHostedService<RetentionService>();
        services.AddHostedService<SqliteCheckpointer>();
        // A check only: the host maps its health routes and picks checks by the ready tag.
        services.AddHealthChecks().Add(new HealthCheckRegistration(InboxHealthCheck.Name,
            sp => new InboxHealthCheck(sp.GetRequiredService<IInboxMaintenance>()), failureStatus: null, tags: [InboxHealthCheck.ReadyTag]));
        return services;
    }
}
