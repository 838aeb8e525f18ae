using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Options;
using WebhookReceiver.Kernel;
using WebhookReceiver.Tests.Infrastructure;

namespace WebhookReceiver.Tests.Storage;

/// <summary>
/// Issue #27's soak: under a steady load the dispatcher's and the queries' short reads always overlap, so the passive
/// checkpoint never saw a moment without a reader of the log, the log never started over, and it grew without bound
/// (2.2 GB in two minutes at 300 webhooks/s). Past its bound the checkpoint now waits for the readers and empties it.
/// </summary>
public sealed class SqliteCheckpointTests
{
    private const long Bound = 1 << 20;

    [Fact]
    public async Task The_log_is_started_over_past_its_bound_although_readers_always_overlap()
    {
        using var folder = new TempDirectory();
        var file = Path.Combine(folder.Path, "webhooks.db");
        var inbox = new SqliteStorage(Options.Create(new StorageOptions { ConnectionString = $"Data Source={file}" })) { WalRestartBytes = Bound };
        await inbox.MigrateAsync(TestStores.Schemas, CancellationToken.None);

        await using var writer = await OpenAsync(file, "PRAGMA wal_autocheckpoint = 0; CREATE TABLE filler (b BLOB);");
        using var stop = new CancellationTokenSource();
        var readers = OverlappingReadersAsync(file, stop.Token);
        long largest = 0;
        try
        {
            for (var round = 0; round < 80; round++)
            {
                await ExecuteAsync(writer, "INSERT INTO filler (b) VALUES (randomblob(100000));");
                await inbox.CheckpointAsync(CancellationToken.None);
                largest = Math.Max(largest, new FileInfo(file + "-wal").Length);
                await Task.Delay(5);
            }
        }
        finally
        {
            await stop.CancelAsync();
            await readers;
            inbox.Dispose();
            SqliteConnection.ClearAllPools();
        }

        // 8 MB were written; the log may pass the bound by what one round writes before the checkpoint that restarts it.
        Assert.True(largest < 2 * Bound, $"The log reached {largest / 1024} KiB; bound {Bound / 1024} KiB.");
    }

    /// <summary>Two readers taking turns so that one is always inside a read transaction, each for ~15 ms.</summary>
    private static async Task OverlappingReadersAsync(string file, CancellationToken stop)
    {
        await using var a = await OpenAsync(file, "");
        await using var b = await OpenAsync(file, "");
        var (current, next) = (a, b);
        await ExecuteAsync(current, "BEGIN; SELECT COUNT(*) FROM filler;");
        while (!stop.IsCancellationRequested)
        {
            await Task.Delay(15, CancellationToken.None);
            await ExecuteAsync(next, "BEGIN; SELECT COUNT(*) FROM filler;");
            await ExecuteAsync(current, "COMMIT;");
            (current, next) = (next, current);
        }

        await ExecuteAsync(current, "COMMIT;");
    }

    private static async Task<SqliteConnection> OpenAsync(string file, string sql)
    {
        var connection = new SqliteConnection($"Data Source={file};Pooling=False");
        await connection.OpenAsync();
        await ExecuteAsync(connection, "PRAGMA busy_timeout = 30000;" + sql);
        return connection;
    }

    private static async Task ExecuteAsync(SqliteConnection connection, string sql)
    {
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        await command.ExecuteNonQueryAsync();
    }
}
