using System.Data;
using System.Data.Common;
using WebhookReceiver.Kernel;
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
        // Every filter of the list served by an index (issue 31): the action and the actor; the target and time have theirs.
        _ => """
            CREATE INDEX ix_audit_records_action ON audit_records (action);
            CREATE INDEX ix_audit_records_actor ON audit_records (actor);
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
        await using var list = ListCommand(connection, storage.Dialect, query);
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

    /// <summary>The list's statement: only the filters given become terms, each served by an index (see <see cref="Sql.Filter"/>).</summary>
    internal static DbCommand ListCommand(DbConnection connection, StorageDialect dialect, AuditQuery query)
    {
        var list = connection.CreateCommand();
        var filter = new Filter(list)
            .Term("action = @action", "action", DbType.String, query.Action)
            .Term("actor = @actor", "actor", DbType.String, query.Actor)
            .Term("target = @target", "target", DbType.String, query.Target)
            .Term("at >= @from", "from", DbType.Int64, query.From?.ToUnixTimeMilliseconds())
            .Term("at < @to", "to", DbType.Int64, query.To?.ToUnixTimeMilliseconds())
            .Term("id < @before", "before", DbType.Int64, query.Before);
        var order = query.From is null && query.To is null ? "id" : dialect.SortedKey("id");
        list.CommandText = $"""
            SELECT id, at, actor, action, target, outcome, detail FROM audit_records
            WHERE {filter}
            ORDER BY {order} DESC
            LIMIT @limit
            """;
        Add(list, "limit", DbType.Int32, query.Limit + 1);
        return list;
    }

    async Task<bool> IAuditLog.ExistsAsync(string action, string target, CancellationToken cancellationToken)
    {
        await using var connection = await storage.OpenAsync(cancellationToken);
        await using var find = ExistsCommand(connection, action, target);
        return await find.ExecuteScalarAsync(cancellationToken) is not null;
    }

    /// <summary>One lookup in the (target, action) index.</summary>
    internal static DbCommand ExistsCommand(DbConnection connection, string action, string target)
    {
        var find = Command(connection, null, "SELECT 1 FROM audit_records WHERE target = @target AND action = @action LIMIT 1");
        Add(find, "target", DbType.String, target);
        Add(find, "action", DbType.String, action);
        return find;
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
