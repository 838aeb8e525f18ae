using Microsoft.Extensions.Options;
using WebhookReceiver.Inbox;
using WebhookReceiver.Tests.Infrastructure;

namespace WebhookReceiver.Tests.Inbox;

/// <summary>The inbox contract on a real PostgreSQL server, in a database of the test's own.</summary>
[Trait("Category", "System")]
public sealed class PostgresInboxContractTests : InboxContractTests
{
    private PostgresDatabase? _database;

    private protected override async Task<IWebhookInbox> CreateInboxAsync()
    {
        _database = await PostgresDatabase.CreateAsync();
        return Create(_database.ConnectionString);
    }

    protected override Task RecordSchemaVersionAsync(int version) =>
        _database!.ScalarAsync<int>($"INSERT INTO webhook_receiver_schema (version) VALUES ({version}) RETURNING version");

    protected override async Task DestroyStoreAsync()
    {
        if (_database is not null)
        {
            await _database.DisposeAsync();
        }
    }

    internal static PostgresInbox Create(string connectionString)
    {
        var storage = new StorageOptions { Provider = StorageProvider.Postgres, ConnectionString = connectionString };
        return new PostgresInbox(Options.Create(storage));
    }
}
