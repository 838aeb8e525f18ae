using System.Data;
using System.Data.Common;
using WebhookReceiver.Kernel;
using WebhookReceiver.Webhooks;
using static WebhookReceiver.Kernel.Sql;

namespace WebhookReceiver.Interrupts;

/// <summary>The states of an interrupt: waiting for a person, resumed through the receiver, or gone from the thread.</summary>
internal static class InterruptState
{
    public const string Waiting = "waiting";
    public const string Resumed = "resumed";
    /// <summary>The thread no longer waits at this pause (resumed elsewhere, or deleted).</summary>
    public const string Expired = "expired";

    public static readonly IReadOnlyList<string> All = [Waiting, Resumed, Expired];
}

/// <summary>A pause found on a thread, ready to store, with the interrupt handlers it is for.</summary>
/// <param name="PauseKey">What makes the pause one: <c>interrupts:</c> + its interrupt ids (sorted), or <c>checkpoint:</c> + the checkpoint id of a static breakpoint.</param>
/// <param name="Pending">JSON array of the pending interrupts, <c>[{"id", "value", "response_schema"?}]</c>; <c>[]</c> at a static breakpoint.</param>
/// <param name="Next">JSON array of the nodes that run next.</param>
/// <param name="WebhookId">The stored webhook whose check found the pause; null when the sweep found it.</param>
internal sealed record NewInterrupt(
    string Deployment,
    string ThreadId,
    string PauseKey,
    string? RunId,
    string? AssistantId,
    string? GraphId,
    long? WebhookId,
    string Pending,
    string Next,
    string? CheckpointId,
    DateTimeOffset SeenAt,
    IReadOnlyList<string> Handlers);

/// <param name="ResumedWebhookId">The stored webhook of the resumed run, once it arrived.</param>
/// <param name="EndedAt">When it expired; null otherwise.</param>
/// <param name="Detail">Why it expired, as the receiver found it.</param>
/// <param name="Traceparent">The trace context stored with the webhook that showed the pause; null when none was (or it is purged).</param>
/// <param name="ResumedBy">Who resumed it through the receiver (an operator's or the host user's name); null otherwise.</param>
internal sealed record StoredInterrupt(
    long Id,
    string Deployment,
    string ThreadId,
    string PauseKey,
    string? RunId,
    string? AssistantId,
    string? GraphId,
    long? WebhookId,
    string Pending,
    string Next,
    string? CheckpointId,
    DateTimeOffset SeenAt,
    string State,
    DateTimeOffset? ResumedAt,
    string? ResumedRunId,
    long? ResumedWebhookId,
    DateTimeOffset? EndedAt,
    string? Detail,
    IReadOnlyList<StoredDelivery> Deliveries,
    string? Traceparent = null,
    string? ResumedBy = null);

internal sealed record InterruptQuery
{
    /// <summary>An <see cref="InterruptState"/>.</summary>
    public string? State { get; init; }
    public string? Deployment { get; init; }
    public string? GraphId { get; init; }
    public string? ThreadId { get; init; }
    /// <summary>Only interrupts older than this id (the cursor from the previous page).</summary>
    public long? Before { get; init; }
    public int Limit { get; init; } = 50;
}

internal sealed record InterruptPage(IReadOnlyList<StoredInterrupt> Items, long? NextCursor);

internal sealed record WaitingInterruptCount(string Deployment, string? GraphId, long Count);

/// <summary>What human in the loop needs: record the pauses found, list and read them, mark them resumed or expired, replay their deliveries.</summary>
internal interface IInboxInterrupts
{
    /// <summary>
    /// Stores the pause with one delivery per handler, in one transaction, unless the same pause (deployment, thread, pause
    /// key) is stored already: then nothing changes. Returns the stored interrupt's id and whether it is new.
    /// </summary>
    Task<(long Id, bool Created)> RecordInterruptAsync(NewInterrupt interrupt, CancellationToken cancellationToken);

    /// <summary>Newest first, filtered; a null filter means any.</summary>
    Task<InterruptPage> ListInterruptsAsync(InterruptQuery query, CancellationToken cancellationToken);

    /// <summary>The interrupt with its deliveries; null when no interrupt has this id.</summary>
    Task<StoredInterrupt?> GetInterruptAsync(long id, CancellationToken cancellationToken);

    /// <summary>
    /// Claims the resume of a waiting interrupt for <paramref name="claim"/> until <paramref name="until"/>: false when it is not
    /// waiting, or another claim holds it still. One claim at a time, across every process sharing the store.
    /// </summary>
    Task<bool> ClaimInterruptResumeAsync(long id, string claim, DateTimeOffset now, DateTimeOffset until, CancellationToken cancellationToken);

    /// <summary>Gives <paramref name="claim"/> back, if it still holds the interrupt.</summary>
    Task ReleaseInterruptResumeAsync(long id, string claim, CancellationToken cancellationToken);

    /// <summary>Waiting → resumed, recording when, the new run and who resumed it; false when it was no longer waiting.</summary>
    Task<bool> MarkInterruptResumedAsync(long id, string runId, DateTimeOffset at, string? resumedBy, CancellationToken cancellationToken);

    /// <summary>Waiting → expired, recording when and why; false when it was no longer waiting.</summary>
    Task<bool> MarkInterruptExpiredAsync(long id, string detail, DateTimeOffset at, CancellationToken cancellationToken);

    /// <summary>Waiting interrupts by deployment and graph.</summary>
    Task<IReadOnlyList<WaitingInterruptCount>> CountWaitingInterruptsAsync(CancellationToken cancellationToken);

    /// <summary>Makes an interrupt's deliveries to <paramref name="handlers"/> due now (created if missing); null when no such interrupt.</summary>
    Task<int?> ReplayInterruptAsync(long interruptId, IReadOnlyCollection<string> handlers, DateTimeOffset now, CancellationToken cancellationToken);
}

/// <summary>
/// Human in the loop: the pauses found on threads (table <c>interrupts</c>), and their deliveries to interrupt handlers,
/// kept in the webhooks module's deliveries as <see cref="DeliverySubject.Interrupts"/>.
/// </summary>
internal sealed class InterruptStore(StorageKernel storage) : IInboxInterrupts
{
    /// <summary>
    /// The module's table, written once for both engines. Version 1 is the table the last release with one schema version
    /// left. <c>webhook_id</c> has no reference: retention may purge the webhook that showed the pause.
    /// </summary>
    public static readonly StoreSchema Schema = new("interrupts", Layer: 5, LegacyBaseline: 1,
    [
        d => $"""
            CREATE TABLE interrupts (
                id {d.IdColumn},
                deployment TEXT NOT NULL,
                thread_id TEXT NOT NULL,
                pause_key TEXT NOT NULL,
                run_id TEXT,
                assistant_id TEXT,
                graph_id TEXT,
                webhook_id BIGINT,
                pending TEXT NOT NULL,
                next_nodes TEXT NOT NULL,
                checkpoint_id TEXT,
                seen_at BIGINT NOT NULL,
                state TEXT NOT NULL,
                resumed_at BIGINT,
                resumed_run_id TEXT,
                ended_at BIGINT,
                detail TEXT,
                resume_claim TEXT,
                resume_claimed_until BIGINT,
                resumed_by TEXT,
                UNIQUE (deployment, thread_id, pause_key)
            );
            CREATE INDEX ix_interrupts_state ON interrupts (state, id);
            CREATE INDEX ix_interrupts_thread_id ON interrupts (thread_id);
            CREATE INDEX ix_interrupts_resumed_run_id ON interrupts (resumed_run_id);
            """,
        // Every filter of the list served by an index (issue 31): the graph; the state, thread and deployment have theirs.
        _ => "CREATE INDEX ix_interrupts_graph_id ON interrupts (graph_id);",
    ]);

    // The resumed run's webhook is found by its run_id (unique, indexed) when read: it links itself whenever it arrives.
    private const string InterruptColumns = """
        i.id, i.deployment, i.thread_id, i.pause_key, i.run_id, i.assistant_id, i.graph_id, i.webhook_id, i.pending, i.next_nodes,
        i.checkpoint_id, i.seen_at, i.state, i.resumed_at, i.resumed_run_id,
        (SELECT rw.id FROM webhooks rw WHERE rw.run_id = i.resumed_run_id) AS resumed_webhook_id, i.ended_at, i.detail,
        (SELECT tw.traceparent FROM webhooks tw WHERE tw.id = i.webhook_id) AS traceparent, i.resumed_by
        """;

    public async Task<(long Id, bool Created)> RecordInterruptAsync(NewInterrupt interrupt, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(interrupt);
        await using var connection = await storage.OpenAsync(cancellationToken);
        using var turn = await storage.WaitWriteTurnAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);

        await using var insert = Command(connection, transaction, """
            INSERT INTO interrupts (deployment, thread_id, pause_key, run_id, assistant_id, graph_id, webhook_id, pending, next_nodes,
                                    checkpoint_id, seen_at, state)
            VALUES (@deployment, @thread_id, @pause_key, @run_id, @assistant_id, @graph_id, @webhook_id, @pending, @next_nodes,
                    @checkpoint_id, @seen_at, 'waiting')
            ON CONFLICT (deployment, thread_id, pause_key) DO NOTHING
            RETURNING id
            """);
        Add(insert, "deployment", DbType.String, interrupt.Deployment);
        Add(insert, "thread_id", DbType.String, interrupt.ThreadId);
        Add(insert, "pause_key", DbType.String, interrupt.PauseKey);
        Add(insert, "run_id", DbType.String, interrupt.RunId);
        Add(insert, "assistant_id", DbType.String, interrupt.AssistantId);
        Add(insert, "graph_id", DbType.String, interrupt.GraphId);
        Add(insert, "webhook_id", DbType.Int64, interrupt.WebhookId);
        Add(insert, "pending", DbType.String, interrupt.Pending);
        Add(insert, "next_nodes", DbType.String, interrupt.Next);
        Add(insert, "checkpoint_id", DbType.String, interrupt.CheckpointId);
        Add(insert, "seen_at", DbType.Int64, interrupt.SeenAt.ToUnixTimeMilliseconds());

        long id;
        var created = false;
        if (await insert.ExecuteScalarAsync(cancellationToken) is { } inserted and not DBNull)
        {
            id = Convert.ToInt64(inserted, System.Globalization.CultureInfo.InvariantCulture);
            created = true;
            await using var addDelivery = Command(connection, transaction, """
                INSERT INTO deliveries (interrupt_id, handler, state, next_attempt_at, updated_at)
                VALUES (@interrupt_id, @handler, 'pending', @now, @now)
                """);
            Add(addDelivery, "interrupt_id", DbType.Int64, id);
            Add(addDelivery, "now", DbType.Int64, interrupt.SeenAt.ToUnixTimeMilliseconds());
            var handler = Add(addDelivery, "handler", DbType.String);
            foreach (var name in interrupt.Handlers.Distinct(StringComparer.Ordinal))
            {
                handler.Value = name;
                await addDelivery.ExecuteNonQueryAsync(cancellationToken);
            }
        }
        else
        {
            await using var existing = Command(connection, transaction,
                "SELECT id FROM interrupts WHERE deployment = @deployment AND thread_id = @thread_id AND pause_key = @pause_key");
            Add(existing, "deployment", DbType.String, interrupt.Deployment);
            Add(existing, "thread_id", DbType.String, interrupt.ThreadId);
            Add(existing, "pause_key", DbType.String, interrupt.PauseKey);
            id = Convert.ToInt64(await existing.ExecuteScalarAsync(cancellationToken), System.Globalization.CultureInfo.InvariantCulture);
        }

        await transaction.CommitAsync(cancellationToken);
        return (id, created);
    }

    public async Task<InterruptPage> ListInterruptsAsync(InterruptQuery query, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(query);
        await using var connection = await storage.OpenAsync(cancellationToken);
        await using var list = ListCommand(connection, query);
        var rows = await ReadInterruptsAsync(list, cancellationToken);
        var hasMore = rows.Count > query.Limit;
        if (hasMore)
        {
            rows.RemoveAt(rows.Count - 1);
        }

        var deliveries = await DeliverySubject.Interrupts.ReadDeliveriesAsync(connection, rows.Select(r => r.Id).ToList(), cancellationToken);
        var items = rows.Select(r => r with { Deliveries = deliveries[r.Id].ToList() }).ToList();
        return new InterruptPage(items, hasMore ? items[^1].Id : null);
    }

    /// <summary>The list's statement: only the filters given become terms, each served by an index (see <see cref="Sql.Filter"/>).</summary>
    internal static DbCommand ListCommand(DbConnection connection, InterruptQuery query)
    {
        var list = connection.CreateCommand();
        var filter = new Filter(list)
            .Term("i.state = @state", "state", DbType.String, query.State)
            .Term("i.deployment = @deployment", "deployment", DbType.String, query.Deployment)
            .Term("i.graph_id = @graph_id", "graph_id", DbType.String, query.GraphId)
            .Term("i.thread_id = @thread_id", "thread_id", DbType.String, query.ThreadId)
            .Term("i.id < @before", "before", DbType.Int64, query.Before);
        list.CommandText = $"""
            SELECT {InterruptColumns} FROM interrupts i
            WHERE {filter}
            ORDER BY i.id DESC
            LIMIT @limit
            """;
        Add(list, "limit", DbType.Int32, query.Limit + 1);
        return list;
    }

    public async Task<StoredInterrupt?> GetInterruptAsync(long id, CancellationToken cancellationToken)
    {
        await using var connection = await storage.OpenAsync(cancellationToken);
        await using var read = Command(connection, null, $"SELECT {InterruptColumns} FROM interrupts i WHERE i.id = @id");
        Add(read, "id", DbType.Int64, id);
        if ((await ReadInterruptsAsync(read, cancellationToken)).SingleOrDefault() is not { } interrupt)
        {
            return null;
        }

        var deliveries = await DeliverySubject.Interrupts.ReadDeliveriesAsync(connection, [id], cancellationToken);
        return interrupt with { Deliveries = deliveries[id].ToList() };
    }

    public async Task<bool> ClaimInterruptResumeAsync(long id, string claim, DateTimeOffset now, DateTimeOffset until, CancellationToken cancellationToken)
    {
        await using var connection = await storage.OpenAsync(cancellationToken);
        using var turn = await storage.WaitWriteTurnAsync(cancellationToken);
        // On PostgreSQL a second claim of the row waits for the first's commit, then finds the claim held and updates nothing.
        await using var update = Command(connection, null, """
            UPDATE interrupts SET resume_claim = @claim, resume_claimed_until = @until
            WHERE id = @id AND state = 'waiting' AND (resume_claimed_until IS NULL OR resume_claimed_until <= @now)
            """);
        Add(update, "claim", DbType.String, claim);
        Add(update, "until", DbType.Int64, until.ToUnixTimeMilliseconds());
        Add(update, "now", DbType.Int64, now.ToUnixTimeMilliseconds());
        Add(update, "id", DbType.Int64, id);
        return await update.ExecuteNonQueryAsync(cancellationToken) > 0;
    }

    public async Task ReleaseInterruptResumeAsync(long id, string claim, CancellationToken cancellationToken)
    {
        await using var connection = await storage.OpenAsync(cancellationToken);
        using var turn = await storage.WaitWriteTurnAsync(cancellationToken);
        await using var update = Command(connection, null,
            "UPDATE interrupts SET resume_claim = NULL, resume_claimed_until = NULL WHERE id = @id AND resume_claim = @claim");
        Add(update, "id", DbType.Int64, id);
        Add(update, "claim", DbType.String, claim);
        await update.ExecuteNonQueryAsync(cancellationToken);
    }

    public async Task<bool> MarkInterruptResumedAsync(long id, string runId, DateTimeOffset at, string? resumedBy, CancellationToken cancellationToken)
    {
        await using var connection = await storage.OpenAsync(cancellationToken);
        using var turn = await storage.WaitWriteTurnAsync(cancellationToken);
        await using var update = Command(connection, null,
            "UPDATE interrupts SET state = 'resumed', resumed_at = @at, resumed_run_id = @run_id, resumed_by = @resumed_by WHERE id = @id AND state = 'waiting'");
        Add(update, "resumed_by", DbType.String, resumedBy);
        Add(update, "at", DbType.Int64, at.ToUnixTimeMilliseconds());
        Add(update, "run_id", DbType.String, runId);
        Add(update, "id", DbType.Int64, id);
        return await update.ExecuteNonQueryAsync(cancellationToken) > 0;
    }

    public async Task<bool> MarkInterruptExpiredAsync(long id, string detail, DateTimeOffset at, CancellationToken cancellationToken)
    {
        await using var connection = await storage.OpenAsync(cancellationToken);
        using var turn = await storage.WaitWriteTurnAsync(cancellationToken);
        await using var update = Command(connection, null,
            "UPDATE interrupts SET state = 'expired', ended_at = @at, detail = @detail WHERE id = @id AND state = 'waiting'");
        Add(update, "at", DbType.Int64, at.ToUnixTimeMilliseconds());
        Add(update, "detail", DbType.String, detail);
        Add(update, "id", DbType.Int64, id);
        return await update.ExecuteNonQueryAsync(cancellationToken) > 0;
    }

    public async Task<IReadOnlyList<WaitingInterruptCount>> CountWaitingInterruptsAsync(CancellationToken cancellationToken)
    {
        await using var connection = await storage.OpenAsync(cancellationToken);
        await using var count = Command(connection, null,
            "SELECT deployment, graph_id, COUNT(*) FROM interrupts WHERE state = 'waiting' GROUP BY deployment, graph_id");
        var counts = new List<WaitingInterruptCount>();
        await using var reader = await count.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            counts.Add(new WaitingInterruptCount(reader.GetString(0), NullableString(reader, 1), reader.GetInt64(2)));
        }

        return counts;
    }

    public Task<int?> ReplayInterruptAsync(long interruptId, IReadOnlyCollection<string> handlers, DateTimeOffset now, CancellationToken cancellationToken) =>
        DeliverySubject.Interrupts.ReplayAsync(storage, interruptId, handlers, now, cancellationToken);

    private static async Task<List<StoredInterrupt>> ReadInterruptsAsync(DbCommand command, CancellationToken cancellationToken)
    {
        var rows = new List<StoredInterrupt>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            rows.Add(new StoredInterrupt(
                reader.GetInt64(0),
                reader.GetString(1),
                reader.GetString(2),
                reader.GetString(3),
                NullableString(reader, 4),
                NullableString(reader, 5),
                NullableString(reader, 6),
                reader.IsDBNull(7) ? null : reader.GetInt64(7),
                reader.GetString(8),
                reader.GetString(9),
                NullableString(reader, 10),
                Time(reader.GetInt64(11)),
                reader.GetString(12),
                reader.IsDBNull(13) ? null : Time(reader.GetInt64(13)),
                NullableString(reader, 14),
                reader.IsDBNull(15) ? null : reader.GetInt64(15),
                reader.IsDBNull(16) ? null : Time(reader.GetInt64(16)),
                NullableString(reader, 17),
                Deliveries: [],
                Traceparent: NullableString(reader, 18),
                ResumedBy: NullableString(reader, 19)));
        }

        return rows;
    }
}
