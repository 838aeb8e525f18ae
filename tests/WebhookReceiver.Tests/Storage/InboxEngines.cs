using WebhookReceiver.Tests.Infrastructure;
using WebhookReceiver.Webhooks;

namespace WebhookReceiver.Tests.Storage;

/// <summary>A store of one test's own on one engine: created, migrated, and destroyed after the test.</summary>
public interface IInboxEngine : IAsyncDisposable
{
    internal Task<TestStores> CreateAsync();
}

/// <summary>A real SQLite file in a directory of the test's own.</summary>
public sealed class SqliteEngine : IInboxEngine
{
    private readonly string _directory = Directory.CreateTempSubdirectory("webhook-receiver-tests-").FullName;

    /// <summary>The SQLite file's connection string.</summary>
    public string ConnectionString => $"Data Source={Path.Combine(_directory, "webhooks.db")}";

    Task<TestStores> IInboxEngine.CreateAsync() => Task.FromResult(TestStores.Sqlite(ConnectionString));

    public ValueTask DisposeAsync()
    {
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        Directory.Delete(_directory, recursive: true);
        return ValueTask.CompletedTask;
    }
}

/// <summary>A database of the test's own on the PostgreSQL server the test command started.</summary>
public sealed class PostgresEngine : IInboxEngine
{
    private PostgresDatabase? _database;

    /// <summary>The database, once created.</summary>
    public PostgresDatabase Database => _database ?? throw new InvalidOperationException("Not created yet.");

    async Task<TestStores> IInboxEngine.CreateAsync()
    {
        _database = await PostgresDatabase.CreateAsync();
        return TestStores.Postgres(_database.ConnectionString);
    }

    public async ValueTask DisposeAsync()
    {
        if (_database is not null)
        {
            await _database.DisposeAsync();
        }
    }
}

/// <summary>A contract that every engine keeps: each concrete subclass names the engine its tests run on.</summary>
public abstract class EngineContract<TEngine> : IAsyncLifetime
    where TEngine : IInboxEngine, new()
{
    private protected TEngine Engine { get; } = new();

    private protected TestStores Stores { get; private set; } = null!;

    private protected IWebhookInbox Inbox => Stores.Webhooks;

    public async Task InitializeAsync()
    {
        Stores = await Engine.CreateAsync();
        await Stores.MigrateAsync();
    }

    public async Task DisposeAsync()
    {
        await Stores.DisposeAsync();
        await Engine.DisposeAsync();
    }
}
