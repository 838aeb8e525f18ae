using Microsoft.Extensions.Options;
using WebhookReceiver.Inbox;
using WebhookReceiver.Tests.Infrastructure;

namespace WebhookReceiver.Tests.Inbox;

/// <summary>A store of one test's own on one engine: created, migrated, and destroyed after the test.</summary>
public interface IInboxEngine : IAsyncDisposable
{
    internal Task<IWebhookInbox> CreateAsync();
}

/// <summary>A real SQLite file in a directory of the test's own.</summary>
public sealed class SqliteEngine : IInboxEngine
{
    private readonly string _directory = Directory.CreateTempSubdirectory("webhook-receiver-tests-").FullName;

    Task<IWebhookInbox> IInboxEngine.CreateAsync() => Task.FromResult<IWebhookInbox>(
        new SqliteInbox(Options.Create(new StorageOptions { ConnectionString = $"Data Source={Path.Combine(_directory, "webhooks.db")}" })));

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

    async Task<IWebhookInbox> IInboxEngine.CreateAsync()
    {
        _database = await PostgresDatabase.CreateAsync();
        return PostgresInboxContractTests.Create(_database.ConnectionString);
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
    private readonly TEngine _engine = new();

    private protected IWebhookInbox Inbox { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Inbox = await _engine.CreateAsync();
        await Inbox.MigrateAsync(CancellationToken.None);
    }

    public async Task DisposeAsync()
    {
        if (Inbox is IAsyncDisposable disposable)
        {
            await disposable.DisposeAsync();
        }
        else if (Inbox is IDisposable sync)
        {
            sync.Dispose();
        }

        await _engine.DisposeAsync();
    }
}
