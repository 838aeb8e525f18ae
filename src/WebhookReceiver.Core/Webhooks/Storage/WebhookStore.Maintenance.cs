using System.Data;
using System.Data.Common;
using static WebhookReceiver.Kernel.Sql;

namespace WebhookReceiver.Webhooks;

// What runs in the background or at start: retention purges (webhooks and interrupts), payload redaction, the readiness ping.
internal sealed partial class WebhookStore : IInboxMaintenance
{
    public async Task<PurgeCounts> PurgeAsync(DateTimeOffset receivedBefore, DateTimeOffset deadReceivedBefore, int batchSize, CancellationToken cancellationToken)
    {
        await using var connection = await storage.OpenAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        // Where several processes share the store their purges take turns: they pick the same expired rows.
        if (storage.Dialect.PurgeTurnSql is { } purgeLock)
        {
            await using var takeTurn = Command(connection, transaction, purgeLock);
            await takeTurn.ExecuteNonQueryAsync(cancellationToken);
        }

        // Webhooks still being retried are never purged; those with dead letters wait for the dead-letter cutoff.
        const string ExpiredWebhooks = """
            SELECT w.id FROM webhooks w
            WHERE w.received_at < @before
              AND NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.webhook_id = w.id
                              AND (d.state IN ('pending', 'failed') OR (d.state = 'dead' AND w.received_at >= @dead_before)))
            ORDER BY w.id
            LIMIT @batch
            """;
        // Interrupts by when they were seen, the same way; one still waiting for a person is never purged.
        const string ExpiredInterrupts = """
            SELECT i.id FROM interrupts i
            WHERE i.seen_at < @before AND i.state <> 'waiting'
              AND NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.interrupt_id = i.id
                              AND (d.state IN ('pending', 'failed') OR (d.state = 'dead' AND i.seen_at >= @dead_before)))
            ORDER BY i.id
            LIMIT @batch
            """;
        var webhooks = await PurgeAsync(connection, transaction, "webhooks", "webhook_id", ExpiredWebhooks, receivedBefore, deadReceivedBefore, batchSize, cancellationToken);
        var interrupts = await PurgeAsync(connection, transaction, "interrupts", "interrupt_id", ExpiredInterrupts, receivedBefore, deadReceivedBefore, batchSize, cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return new PurgeCounts(webhooks, interrupts);
    }

    /// <summary>Deletes the rows of <paramref name="table"/> that <paramref name="expired"/> picks, with their deliveries and attempts; returns how many.</summary>
    private static async Task<int> PurgeAsync(DbConnection connection, DbTransaction transaction, string table, string owner, string expired,
        DateTimeOffset before, DateTimeOffset deadBefore, int batchSize, CancellationToken cancellationToken)
    {
        var deleted = 0;
        foreach (var sql in new[]
                 {
                     $"DELETE FROM attempts WHERE delivery_id IN (SELECT id FROM deliveries WHERE {owner} IN ({expired}))",
                     $"DELETE FROM deliveries WHERE {owner} IN ({expired})",
                     $"DELETE FROM {table} WHERE id IN ({expired})",
                 })
        {
            await using var purge = Command(connection, transaction, sql);
            Add(purge, "before", DbType.Int64, before.ToUnixTimeMilliseconds());
            Add(purge, "dead_before", DbType.Int64, deadBefore.ToUnixTimeMilliseconds());
            Add(purge, "batch", DbType.Int32, batchSize);
            deleted = await purge.ExecuteNonQueryAsync(cancellationToken);
        }

        return deleted;
    }

    /// <summary>The marker a migration leaves for <see cref="RedactStoredPayloadsAsync"/>, in table <c>pending_jobs</c>.</summary>
    private const string RedactPayloadsJob = "redact_payloads";

    public async Task<int> RedactStoredPayloadsAsync(Func<byte[], byte[]?> redact, CancellationToken cancellationToken)
    {
        await using var connection = await storage.OpenAsync(cancellationToken);
        await using (var pending = Command(connection, null, "SELECT COUNT(*) FROM pending_jobs WHERE name = @name"))
        {
            Add(pending, "name", DbType.String, RedactPayloadsJob);
            if (Convert.ToInt64(await pending.ExecuteScalarAsync(cancellationToken), System.Globalization.CultureInfo.InvariantCulture) == 0)
            {
                return 0;
            }
        }

        // In batches by id, each rewritten in its own short transaction: a large inbox is never held in memory or locked whole.
        const int BatchSize = 200;
        var rewritten = 0;
        long after = 0;
        while (true)
        {
            var batch = new List<(long Id, byte[] Payload)>(BatchSize);
            await using (var read = Command(connection, null, "SELECT id, payload FROM webhooks WHERE id > @after ORDER BY id LIMIT @limit"))
            {
                Add(read, "after", DbType.Int64, after);
                Add(read, "limit", DbType.Int32, BatchSize);
                await using var reader = await read.ExecuteReaderAsync(cancellationToken);
                while (await reader.ReadAsync(cancellationToken))
                {
                    batch.Add((reader.GetInt64(0), reader.GetFieldValue<byte[]>(1)));
                }
            }

            if (batch.Count == 0)
            {
                break;
            }

            after = batch[^1].Id;
            var changed = batch.Select(row => (row.Id, Payload: redact(row.Payload))).Where(row => row.Payload is not null).ToList();
            if (changed.Count > 0)
            {
                using var turn = await storage.WaitWriteTurnAsync(cancellationToken);
                await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
                await using var update = Command(connection, transaction, "UPDATE webhooks SET payload = @payload WHERE id = @id");
                var payload = Add(update, "payload", DbType.Binary);
                var id = Add(update, "id", DbType.Int64);
                foreach (var row in changed)
                {
                    payload.Value = row.Payload;
                    id.Value = row.Id;
                    rewritten += await update.ExecuteNonQueryAsync(cancellationToken);
                }

                await transaction.CommitAsync(cancellationToken);
            }
        }

        await using var done = Command(connection, null, "DELETE FROM pending_jobs WHERE name = @name");
        Add(done, "name", DbType.String, RedactPayloadsJob);
        await done.ExecuteNonQueryAsync(cancellationToken);
        return rewritten;
    }

    public Task PingAsync(CancellationToken cancellationToken) => storage.PingAsync(cancellationToken);
}
