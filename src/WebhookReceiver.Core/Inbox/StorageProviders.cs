using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using WebhookReceiver.Configuration;

namespace WebhookReceiver.Inbox;

/// <summary>The engines <c>WebhookReceiver:Storage:Provider</c> may name, and the inbox each one means.</summary>
internal static class StorageProviders
{
    public const string Sqlite = "Sqlite";
    public const string Postgres = "Postgres";

    /// <summary>The inbox of the configured engine; options are validated first, so an unknown name never gets here.</summary>
    public static IWebhookInbox CreateInbox(IServiceProvider services)
    {
        var provider = services.GetRequiredService<IOptions<WebhookReceiverOptions>>().Value.Storage.Provider;
        return provider.ToUpperInvariant() switch
        {
            "SQLITE" => ActivatorUtilities.CreateInstance<SqliteInbox>(services),
            "POSTGRES" => ActivatorUtilities.CreateInstance<PostgresInbox>(services),
            _ => throw new InvalidOperationException($"WebhookReceiver:Storage:Provider '{provider}' is not one of {Sqlite}, {Postgres}."),
        };
    }
}
