using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace WebhookReceiver.Inbox;

/// <summary>The inbox each <see cref="StorageProvider"/> means.</summary>
internal static class StorageProviders
{
    /// <summary>The inbox of the configured engine; options are validated first, so an unknown name never gets here.</summary>
    public static IWebhookInbox CreateInbox(IServiceProvider services)
    {
        var provider = services.GetRequiredService<IOptions<StorageOptions>>().Value.Provider;
        return provider switch
        {
            StorageProvider.Sqlite => ActivatorUtilities.CreateInstance<SqliteInbox>(services),
            StorageProvider.Postgres => ActivatorUtilities.CreateInstance<PostgresInbox>(services),
            _ => throw new InvalidOperationException($"WebhookReceiver:Storage:Provider '{provider}' is not one of {string.Join(", ", Enum.GetNames<StorageProvider>())}."),
        };
    }
}
