using System.Data;
using WebhookReceiver.Kernel;
using WebhookReceiver.Webhooks;
using static WebhookReceiver.Kernel.Sql;

namespace WebhookReceiver.Audit;

/// <summary>The audit trail: an append-only table (<c>audit_records</c>) beside the webhooks, in the same engine, purged by its own age.</summary>
internal sealed class AuditStore(StorageKernel storage) : IAuditLog
{
    /// <summary>
    /// The module's table, written once for both engines: who did what, when, to what, how it ended (issue #24). Version 1
    /// is the table the last release with one schema version left.
    /// </summary>
    public static readonly StoreSchema Schema = new("audit", Layer: 2, LegacyBaseline: 1,
    [
        d => $"""
            CREATE TABLE audit_records (
                id {d.IdColumn},
                at BIGINT NOT NULL,
                actor TEXT NOT NULL,
                action TEXT NOT NULL,
                target TEXT NOT NULL,
                outcome TEXT NOT NULL,
                detail TEXT
            );
            CREATE INDEX ix_audit_records_at ON audit_records (at);
            CREATE INDEX ix_audit_records_target ON audit_records (target, action);
            """,
    ]);

    async Task<long> IAuditLog.AppendAsync(AuditEntry entry, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(entry);
        await using var connection = await storage.OpenAsync(cancellationToken);
        using var turn = await storage.WaitWriteTurnAsync(cancellationToken);
        await using var insert = Command(connection, null, """
            INSERT INTO audit_records (at, actor, action, target, outcome, detail)
            VALUES (@at, @actor, @action, @target, @outcome, @detail)
            RETURNING id
            """);
        Add(insert, "at", DbType.Int64, entry.At.ToUnixTimeMilliseconds());
        Add(insert, "actor", DbType.String, entry.Actor);
        Add(insert, "action", DbType.String, entry.Action);
        Add(insert, "target", DbType.String, entry.Target);
        Add(insert, "outcome", DbType.String, entry.Outcome);
        Add(insert, "detail", DbType.String, entry.Detail);
        return Convert.ToInt64(await insert.ExecuteScalarAsync(cancellationToken), System.Globalization.CultureInfo.InvariantCulture);
    }

    async Task<AuditPage> IAuditLog.ListAsync(AuditQuery query, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(query);
        await using var connection = await storage.OpenAsync(cancellationToken);
        await using var list = Command(connection, null, """
            SELECT id, at, actor, action, target, outcome, detail FROM audit_records
            WHERE (@action IS NULL OR action = @action)
              AND (@actor IS NULL OR actor = @actor)
              AND (@target IS NULL OR target = @target)
              AND (@from IS NULL OR at >= @from)
              AND (@to IS NULL OR at < @to)
              AND (@before IS NULL OR id < @before)
            ORDER BY id DESC
            LIMIT @limit
            """);
        Add(list, "action", DbType.String, query.Action);
        Add(list, "actor", DbType.String, query.Actor);
        Add(list, "target", DbType.String, query.Target);
        Add(list, "from", DbType.Int64, query.From?.ToUnixTimeMilliseconds());
        Add(list, "to", DbType.Int64, query.To?.ToUnixTimeMilliseconds());
        Add(list, "before", DbType.Int64, query.Before);
        Add(list, "limit", DbType.Int32, query.Limit + 1);
        var rows = new List<AuditRecord>();
        await using (var reader = await list.ExecuteReaderAsync(cancellationToken))
        {
            while (await reader.ReadAsync(cancellationToken))
            {
                rows.Add(new AuditRecord(reader.GetInt64(0), Time(reader.GetInt64(1)), reader.GetString(2), reader.GetString(3), reader.GetString(4),
                    reader.GetString(5), NullableString(reader, 6)));
            }
        }

        var hasMore = rows.Count > query.Limit;
        if (hasMore)
        {
            rows.RemoveAt(rows.Count - 1);
        }

        return new AuditPage(rows, hasMore ? rows[^1].Id : null);
    }

    async Task<int> IAuditLog.PurgeAsync(DateTimeOffset before, int batchSize, CancellationToken cancellationToken)
    {
        await using var connection = await storage.OpenAsync(cancellationToken);
        using var turn = await storage.WaitWriteTurnAsync(cancellationToken);
        await using var delete = Command(connection, null, """
            DELETE FROM audit_records WHERE id IN (SELECT id FROM audit_records WHERE at < @before ORDER BY id LIMIT @limit)
            """);
        Add(delete, "before", DbType.Int64, before.ToUnixTimeMilliseconds());
        Add(delete, "limit", DbType.Int32, batchSize);
        return await delete.ExecuteNonQueryAsync(cancellationToken);
    }
}
