using System.Data;
using System.Data.Common;
using WebhookReceiver.Kernel;
using static WebhookReceiver.Kernel.Sql;

namespace WebhookReceiver.Webhooks;

// What the query API reads and replays.
internal sealed partial class WebhookStore : IInboxQueries
{
    public async Task<WebhookPage> ListAsync(WebhookQuery query, CancellationToken cancellationToken)
    {
        await using var connection = await storage.OpenAsync(cancellationToken);
        await using var list = ListCommand(connection, storage.Dialect, query);
        var rows = await ReadWebhooksAsync(list, withPayload: false, cancellationToken);
        var hasMore = rows.Count > query.Limit;
        if (hasMore)
        {
            rows.RemoveAt(rows.Count - 1);
        }

        var deliveries = await DeliverySubject.Webhooks.ReadDeliveriesAsync(connection, rows.Select(r => r.Id).ToList(), cancellationToken);
        var items = rows.Select(r => r with { Deliveries = deliveries[r.Id].ToList() }).ToList();
        return new WebhookPage(items, hasMore ? items[^1].Id : null);
    }

    /// <summary>The list's statement: only the filters given become terms, each served by an index.</summary>
    internal static DbCommand ListCommand(DbConnection connection, StorageDialect dialect, WebhookQuery query)
    {
        var list = connection.CreateCommand();
        var order = query.ReceivedFrom is null && query.ReceivedTo is null ? "w.id" : dialect.SortedKey("w.id");
        list.CommandText = $"""
            SELECT {WebhookColumns} FROM webhooks w
            WHERE {AddFilter(list, query, DeliverySubject.Webhooks)}
            ORDER BY {order} DESC
            LIMIT @limit
            """;
        Add(list, "limit", DbType.Int32, query.Limit + 1);
        return list;
    }

    public Task<StoredWebhook?> GetAsync(long id, CancellationToken cancellationToken) =>
        GetOneAsync("w.id = @key", DbType.Int64, id, cancellationToken);

    public Task<StoredWebhook?> GetByRunIdAsync(string runId, CancellationToken cancellationToken) =>
        GetOneAsync("w.run_id = @key", DbType.String, runId, cancellationToken);

    public Task<int?> ReplayAsync(long webhookId, IReadOnlyCollection<string> handlers, DateTimeOffset now, CancellationToken cancellationToken) =>
        DeliverySubject.Webhooks.ReplayAsync(storage, webhookId, handlers, now, cancellationToken);

    /// <summary>
    /// The dead deliveries of the webhooks that match, and of the interrupts that match: an interrupt has a thread, assistant,
    /// graph, deployment and a time (when it was seen), so a query that also asks about a run's status, verification or
    /// source matches none.
    /// </summary>
    public async Task<int> ReplayDeadAsync(WebhookQuery query, string? handler, DateTimeOffset now, CancellationToken cancellationToken)
    {
        await using var connection = await storage.OpenAsync(cancellationToken);
        var replayed = 0;
        foreach (var subject in new[] { DeliverySubject.Webhooks, DeliverySubject.Interrupts })
        {
            await using var replay = connection.CreateCommand();
            if (AddFilter(replay, query with { DeliveryState = null }, subject) is not { } filter)
            {
                continue;
            }

            replay.CommandText = $"""
                UPDATE deliveries
                SET state = 'pending', next_attempt_at = @now, round_start = attempts, updated_at = @now
                WHERE state = 'dead' AND (@handler IS NULL OR handler = @handler)
                  AND {subject.Owner} IN (SELECT {subject.Alias}.id FROM {subject.Table} {subject.Alias} WHERE {filter})
                """;
            Add(replay, "handler", DbType.String, handler);
            Add(replay, "now", DbType.Int64, now.ToUnixTimeMilliseconds());
            replayed += await replay.ExecuteNonQueryAsync(cancellationToken);
        }

        return replayed;
    }

    public async Task<IReadOnlyList<DeliveryCount>> CountDeliveriesAsync(CancellationToken cancellationToken)
    {
        await using var connection = await storage.OpenAsync(cancellationToken);
        await using var count = Command(connection, null, """
            SELECT handler, state, COUNT(*), CASE WHEN interrupt_id IS NULL THEN 0 ELSE 1 END AS of_interrupts
            FROM deliveries GROUP BY handler, state, of_interrupts
            """);
        await using var reader = await count.ExecuteReaderAsync(cancellationToken);
        var counts = new List<DeliveryCount>();
        while (await reader.ReadAsync(cancellationToken))
        {
            counts.Add(new DeliveryCount(reader.GetString(0), reader.GetString(1), reader.GetInt64(2), reader.GetInt32(3) == 1));
        }

        return counts;
    }

    // The due index (partial: pending and failed only) gives the earliest due time at its first entry, whatever the
    // backlog; SQLite has to be told to use it (see StorageDialect.DueIndexHint). Waiting interrupts are people's queue: a few rows of
    // the state index.
    public async Task<OldestWaiting> ReadOldestWaitingAsync(CancellationToken cancellationToken)
    {
        await using var connection = await storage.OpenAsync(cancellationToken);
        await using var read = Command(connection, null, $"""
            SELECT (SELECT next_attempt_at FROM deliveries {storage.Dialect.DueIndexHint("ix_deliveries_due")}
                    WHERE state IN ('pending', 'failed') AND next_attempt_at IS NOT NULL
                    ORDER BY next_attempt_at LIMIT 1),
                   (SELECT MIN(seen_at) FROM interrupts WHERE state = 'waiting')
            """);
        await using var reader = await read.ExecuteReaderAsync(cancellationToken);
        await reader.ReadAsync(cancellationToken);
        return new OldestWaiting(reader.IsDBNull(0) ? null : Time(reader.GetInt64(0)), reader.IsDBNull(1) ? null : Time(reader.GetInt64(1)));
    }

    /// <summary>
    /// One filter for listing and for bulk replay: the condition on <paramref name="subject"/>'s rows that <paramref name="query"/>
    /// asks for, its parameters added to <paramref name="command"/>; null when it asks about what only a run has (status,
    /// verification, source), so no interrupt matches. Only the filters given become terms, each a plain comparison,
    /// so the engine can use a selective one's index (thread_id) instead of reading every webhook (a term written as
    /// <c>@x IS NULL OR w.x = @x</c> made SQLite scan the table whatever was given).
    /// </summary>
    private static string? AddFilter(DbCommand command, WebhookQuery query, DeliverySubject subject)
    {
        if (!subject.IsRun && (query.Status ?? query.Verification ?? (object?)query.Source) is not null)
        {
            return null;
        }

        var a = subject.Alias;
        var terms = new List<string>();
        void Term(string condition, string name, DbType type, object? value)
        {
            if (value is not null)
            {
                terms.Add(condition);
                Add(command, name, type, value);
            }
        }

        Term($"{a}.status = @status", "status", DbType.String, query.Status);
        Term($"{a}.assistant_id = @assistant_id", "assistant_id", DbType.String, query.AssistantId);
        Term($"{a}.graph_id = @graph_id", "graph_id", DbType.String, query.GraphId);
        Term($"{a}.thread_id = @thread_id", "thread_id", DbType.String, query.ThreadId);
        Term($"{a}.{subject.TimeColumn} >= @received_from", "received_from", DbType.Int64, query.ReceivedFrom?.ToUnixTimeMilliseconds());
        Term($"{a}.{subject.TimeColumn} < @received_to", "received_to", DbType.Int64, query.ReceivedTo?.ToUnixTimeMilliseconds());
        Term($"{a}.deployment = @deployment", "deployment", DbType.String, query.Deployment);
        Term($"{a}.verification = @verification", "verification", DbType.String, query.Verification);
        Term($"{a}.source = @source", "source", DbType.String, query.Source is { } source ? WebhookSources.Name(source) : null);
        // By delivery: the ids the deliveries' state or handler index gives (IN, not EXISTS per row, which read every row).
        if (query.DeliveryHandler is null)
        {
            Term($"{a}.id IN (SELECT d.{subject.Owner} FROM deliveries d WHERE d.state = @delivery_state)", "delivery_state", DbType.String, query.DeliveryState);
        }
        else
        {
            // One handler's delivery (in the state asked for, if any): "dead for forward-crm", not "dead for someone, and has forward-crm".
            Term($"{a}.id IN (SELECT d.{subject.Owner} FROM deliveries d WHERE d.handler = @delivery_handler"
                + (query.DeliveryState is null ? ")" : " AND d.state = @delivery_state)"), "delivery_handler", DbType.String, query.DeliveryHandler);
            if (query.DeliveryState is not null)
            {
                Add(command, "delivery_state", DbType.String, query.DeliveryState);
            }
        }

        Term($"{a}.id < @before", "before", DbType.Int64, query.Before);
        return terms.Count == 0 ? "TRUE" : string.Join(" AND ", terms);
    }

    private async Task<StoredWebhook?> GetOneAsync(string where, DbType keyType, object key, CancellationToken cancellationToken)
    {
        await using var connection = await storage.OpenAsync(cancellationToken);
        await using var get = Command(connection, null, $"SELECT {WebhookColumns}, w.payload FROM webhooks w WHERE {where}");
        Add(get, "key", keyType, key);
        if ((await ReadWebhooksAsync(get, withPayload: true, cancellationToken)).SingleOrDefault() is not { } webhook)
        {
            return null;
        }

        var deliveries = await DeliverySubject.Webhooks.ReadDeliveriesAsync(connection, [webhook.Id], cancellationToken);
        await using var attempts = Command(connection, null, """
            SELECT a.delivery_id, a.attempt, a.started_at, a.ended_at, a.succeeded, a.error, a.abandoned
            FROM attempts a JOIN deliveries d ON d.id = a.delivery_id
            WHERE d.webhook_id = @id ORDER BY a.delivery_id, a.attempt
            """);
        Add(attempts, "id", DbType.Int64, webhook.Id);
        var history = new List<StoredAttempt>();
        await using (var reader = await attempts.ExecuteReaderAsync(cancellationToken))
        {
            while (await reader.ReadAsync(cancellationToken))
            {
                history.Add(new StoredAttempt(reader.GetInt64(0), reader.GetInt32(1), Time(reader.GetInt64(2)), Time(reader.GetInt64(3)),
                    reader.GetInt32(4) != 0, reader.IsDBNull(5) ? null : reader.GetString(5), Abandoned: reader.GetInt32(6) != 0));
            }
        }

        return webhook with { Deliveries = deliveries[webhook.Id].ToList(), Attempts = history };
    }

    private static async Task<List<StoredWebhook>> ReadWebhooksAsync(DbCommand command, bool withPayload, CancellationToken cancellationToken)
    {
        var rows = new List<StoredWebhook>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            rows.Add(new StoredWebhook(
                reader.GetInt64(0),
                NullableString(reader, 1),
                NullableString(reader, 2),
                NullableString(reader, 3),
                NullableString(reader, 4),
                NullableString(reader, 5),
                Time(reader.GetInt64(6)),
                Deliveries: [],
                Payload: withPayload ? reader.GetFieldValue<byte[]>(reader.GetOrdinal("payload")) : null,
                Deployment: NullableString(reader, 7),
                Verification: ReadVerification(reader, 8),
                Source: WebhookSources.Parse(NullableString(reader, 11))));
        }

        return rows;
    }
}
