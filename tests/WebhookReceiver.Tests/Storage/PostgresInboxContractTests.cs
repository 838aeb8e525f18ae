using WebhookReceiver.Tests.Infrastructure;

namespace WebhookReceiver.Tests.Storage;

/// <summary>The inbox contract on a real PostgreSQL server, in a database of the test's own.</summary>
[Trait("Category", "System")]
public sealed class PostgresInboxContractTests : InboxContractTests
{
    private PostgresDatabase? _database;

    private protected override async Task<TestStores> CreateStoresAsync()
    {
        _database = await PostgresDatabase.CreateAsync();
        return TestStores.Postgres(_database.ConnectionString);
    }

    protected override async Task DestroyStoreAsync()
    {
        if (_database is not null)
        {
            await _database.DisposeAsync();
        }
    }
}
