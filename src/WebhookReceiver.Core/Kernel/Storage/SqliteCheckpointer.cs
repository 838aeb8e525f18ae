using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace WebhookReceiver.Kernel;

/// <summary>
/// Keeps SQLite's write-ahead log short from beside the ingest writer: every <see cref="Interval"/> it copies the log's
/// committed pages into the database file (<see cref="SqliteStorage.CheckpointAsync"/>). Left to SQLite, the commit that
/// fills 1,000 pages of log does that copy and its fsyncs while the webhooks of its batch wait: moving it here took p99
/// at 64 connections from 44-45 ms to 24-27 ms (docs/benchmarks.md). With <c>Storage:Synchronous=Normal</c>, a checkpoint
/// is also when the file is synced, so a commit is on disk within about this interval even when no more webhooks
/// come. Does nothing when the store is PostgreSQL.
/// </summary>
internal sealed partial class SqliteCheckpointer(StorageKernel storage, TimeProvider time, ILogger<SqliteCheckpointer> logger) : BackgroundService
{
    /// <summary>How often the log is copied: 500 ms.</summary>
    public static readonly TimeSpan Interval = TimeSpan.FromMilliseconds(500);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (storage is not SqliteStorage sqlite)
        {
            return;
        }

        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(Interval, time, stoppingToken);
                await sqlite.CheckpointAsync(stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex)
            {
                // The next round tries again; meanwhile the log only grows.
                LogCheckpointFailed(logger, ex);
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Copying SQLite's write-ahead log into the database file failed; trying again shortly")]
    private static partial void LogCheckpointFailed(ILogger logger, Exception exception);
}
