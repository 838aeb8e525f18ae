using System.Data;
using System.Data.Common;
using WebhookReceiver.Interrupts;
using WebhookReceiver.Kernel;
using WebhookReceiver.Webhooks;
using static WebhookReceiver.Kernel.Sql;

namespace WebhookReceiver.Alerts;

/// <summary>Where an alert is in its life: <c>open</c>, <c>acknowledged</c> (a person saw it; the cause is still there), <c>resolved</c>.</summary>
internal static class AlertState
{
    public const string Open = "open";
    public const string Acknowledged = "acknowledged";
    public const string Resolved = "resolved";

    public static readonly IReadOnlyList<string> All = [Open, Acknowledged, Resolved];
}

/// <summary>What an alert says about its cause, as raised (or refreshed) by the evaluator.</summary>
/// <param name="Kind">What went wrong (<c>dead_handler</c>, <c>sweep_recovered</c>, ...): a fixed list, see <c>AlertKinds</c>.</param>
/// <param name="Cause">The one thing it is about, e.g. <c>dead_handler:billing</c>: at most one alert of a cause is open (unresolved) at a time.</param>
/// <param name="Subject">What the cause names: a handler, a deployment, an interrupt id, the store.</param>
/// <param name="Summary">One line for a person, no secret.</param>
/// <param name="Occurrences">How many: dead deliveries, runs recovered, failed sweeps, seconds waited.</param>
/// <param name="FirstError">The earliest error seen for the cause (redacted); null when none.</param>
/// <param name="LastError">The latest one.</param>
/// <param name="RunIds">Run ids it concerns (runs a sweep recovered), at most 100.</param>
internal sealed record NewAlert(
    string Kind,
    string Cause,
    string Subject,
    string Summary,
    long Occurrences,
    string? FirstError,
    string? LastError,
    IReadOnlyList<string> RunIds);

/// <summary>A stored alert.</summary>
internal sealed record StoredAlert(
    long Id,
    string Kind,
    string Cause,
    string Subject,
    string State,
    string Summary,
    long Occurrences,
    string? FirstError,
    string? LastError,
    IReadOnlyList<string> RunIds,
    DateTimeOffset OpenedAt,
    DateTimeOffset UpdatedAt,
    DateTimeOffset? AcknowledgedAt,
    string? AcknowledgedBy,
    DateTimeOffset? ResolvedAt);

/// <summary>A filter and page of <see cref="IInboxAlerts.ListAlertsAsync"/>: newest first, ids below <see cref="Before"/>.</summary>
internal sealed record AlertQuery
{
    public string? State { get; init; }

    public string? Kind { get; init; }

    public long? Before { get; init; }

    public int Limit { get; init; } = 50;
}

/// <param name="NextCursor">The id to pass as <see cref="AlertQuery.Before"/> for the next page; null on the last one.</param>
internal sealed record AlertPage(IReadOnlyList<StoredAlert> Items, long? NextCursor);

/// <summary>A handler's dead deliveries (of webhooks and of interrupts).</summary>
/// <param name="FirstError">The error of the delivery dead the longest.</param>
/// <param name="LastError">The error of the one dead most recently.</param>
internal sealed record DeadHandler(string Handler, long Count, string? FirstError, string? LastError);

/// <summary>An interrupt still waiting for a person.</summary>
internal sealed record WaitingInterrupt(long Id, string Deployment, string ThreadId, string? GraphId, DateTimeOffset SeenAt);

/// <summary>How an acknowledgement went.</summary>
internal enum AcknowledgeOutcome
{
    Acknowledged,
    /// <summary>It was acknowledged before (by the person in the alert): nothing changed.</summary>
    AlreadyAcknowledged,
    /// <summary>It resolved by itself: nothing to acknowledge.</summary>
    Resolved,
    NotFound,
}

/// <summary>
/// Alerts in the store: at most one unresolved alert per cause, enforced by a unique index on the open alerts' causes, so
/// that replicas evaluating at once never open two for one cause (the second insert does nothing). Also the two reads the
/// evaluator raises alerts from: dead deliveries by handler, interrupts waiting since before a time.
/// </summary>
internal interface IInboxAlerts
{
    /// <summary>
    /// Opens an alert for <see cref="NewAlert.Cause"/>, or refreshes the open (or acknowledged) one of that cause with the
    /// alert's summary, count, errors and run ids (its state and opening time stay). <c>Opened</c> is true only for the call
    /// whose insert created the alert (one of several replicas), so that one sends the notice.
    /// </summary>
    Task<(StoredAlert Alert, bool Opened)> RaiseAlertAsync(NewAlert alert, DateTimeOffset now, CancellationToken cancellationToken);

    /// <summary>Resolves the unresolved alert of <paramref name="cause"/>; returns it when this call resolved it, null when none was unresolved.</summary>
    Task<StoredAlert?> ResolveAlertAsync(string cause, DateTimeOffset now, CancellationToken cancellationToken);

    /// <summary>
    /// Stores an alert that opened and resolved while it could not be stored (the store refused writes): already resolved, with
    /// its own opening time; never collides with an open one.
    /// </summary>
    Task<StoredAlert> RecordResolvedAlertAsync(NewAlert alert, DateTimeOffset openedAt, DateTimeOffset resolvedAt, CancellationToken cancellationToken);

    /// <summary>Unresolved (open or acknowledged) alerts, of <paramref name="kind"/> or all.</summary>
    Task<IReadOnlyList<StoredAlert>> ListUnresolvedAlertsAsync(string? kind, CancellationToken cancellationToken);

    /// <summary>Alerts newest first, filtered by state and kind, paged by id.</summary>
    Task<AlertPage> ListAlertsAsync(AlertQuery query, CancellationToken cancellationToken);

    Task<StoredAlert?> GetAlertAsync(long id, CancellationToken cancellationToken);

    /// <summary>Marks an open alert acknowledged by <paramref name="by"/> (an operator's name).</summary>
    Task<(AcknowledgeOutcome Outcome, StoredAlert? Alert)> AcknowledgeAlertAsync(long id, string by, DateTimeOffset now, CancellationToken cancellationToken);

    /// <summary>Deletes the alerts resolved before <paramref name="resolvedBefore"/>; never an unresolved one. Returns how many.</summary>
    Task<int> PurgeResolvedAlertsAsync(DateTimeOffset resolvedBefore, CancellationToken cancellationToken);

    /// <summary>Every handler with dead deliveries: their count and first and last error.</summary>
    Task<IReadOnlyList<DeadHandler>> ReadDeadHandlersAsync(CancellationToken cancellationToken);

    /// <summary>Interrupts in state <c>waiting</c> seen before <paramref name="seenBefore"/>, oldest first, at most <paramref name="max"/>.</summary>
    Task<IReadOnlyList<WaitingInterrupt>> ReadInterruptsWaitingSinceAsync(DateTimeOffset seenBefore, int max, CancellationToken cancellationToken);
}

/// <summary>Alerts a person acknowledges (table <c>alerts</c>), and the two reads the evaluator raises them from.</summary>
internal sealed class AlertStore(StorageKernel storage) : IInboxAlerts
{
    /// <summary>
    /// The module's table, written once for both engines: at most one unresolved alert per cause (the partial unique index),
    /// so that evaluators raising the same cause at once open one; the state index serves the list's filter. Version 1 is
    /// the table the last release with one schema version left.
    /// </summary>
    public static readonly StoreSchema Schema = new("alerts", Layer: 6, LegacyBaseline: 1,
    [
        d => $"""
            CREATE TABLE alerts (
                id {d.IdColumn},
                kind TEXT NOT NULL,
                cause TEXT NOT NULL,
                subject TEXT NOT NULL,
                state TEXT NOT NULL,
                summary TEXT NOT NULL,
                occurrences BIGINT NOT NULL,
                first_error TEXT,
                last_error TEXT,
                run_ids TEXT,
                opened_at BIGINT NOT NULL,
                updated_at BIGINT NOT NULL,
                acknowledged_at BIGINT,
                acknowledged_by TEXT,
                resolved_at BIGINT
            );
            CREATE UNIQUE INDEX ux_alerts_unresolved_cause ON alerts (cause) WHERE resolved_at IS NULL;
            CREATE INDEX ix_alerts_state ON alerts (state, id);
            """,
        // Every filter of the list served by an index (issue 31): the kind, newest first within it.
        _ => "CREATE INDEX ix_alerts_kind ON alerts (kind, id);",
    ]);

    private const string AlertColumns = "id, kind, cause, subject, state, summary, occurrences, first_error, last_error, run_ids, " +
        "opened_at, updated_at, acknowledged_at, acknowledged_by, resolved_at";

    public async Task<(StoredAlert Alert, bool Opened)> RaiseAlertAsync(NewAlert alert, DateTimeOffset now, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(alert);
        await using var connection = await storage.OpenAsync(cancellationToken);
        using var turn = await storage.WaitWriteTurnAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        // The index target names the partial index (open causes): a replica that inserted first makes this one do nothing.
        await using (var insert = Command(connection, transaction, $"""
            INSERT INTO alerts (kind, cause, subject, state, summary, occurrences, first_error, last_error, run_ids, opened_at, updated_at)
            VALUES (@kind, @cause, @subject, '{AlertState.Open}', @summary, @occurrences, @first_error, @last_error, @run_ids, @now, @now)
            ON CONFLICT (cause) WHERE resolved_at IS NULL DO NOTHING
            RETURNING {AlertColumns}
            """))
        {
            AddAlert(insert, alert, now);
            if ((await ReadAlertsAsync(insert, cancellationToken)).SingleOrDefault() is { } opened)
            {
                await transaction.CommitAsync(cancellationToken);
                return (opened, true);
            }
        }

        await using var refresh = Command(connection, transaction, $"""
            UPDATE alerts SET summary = @summary, occurrences = @occurrences, first_error = COALESCE(first_error, @first_error),
                last_error = @last_error, run_ids = @run_ids, updated_at = @now
            WHERE cause = @cause AND resolved_at IS NULL
            RETURNING {AlertColumns}
            """);
        AddAlert(refresh, alert, now);
        var refreshed = (await ReadAlertsAsync(refresh, cancellationToken)).SingleOrDefault();
        await transaction.CommitAsync(cancellationToken);
        // Null: another replica resolved it between the two statements; the cause is back, so it opens a new one.
        return refreshed is not null ? (refreshed, false) : await RaiseAlertAsync(alert, now, cancellationToken);
    }

    public async Task<StoredAlert?> ResolveAlertAsync(string cause, DateTimeOffset now, CancellationToken cancellationToken)
    {
        await using var connection = await storage.OpenAsync(cancellationToken);
        using var turn = await storage.WaitWriteTurnAsync(cancellationToken);
        await using var resolve = Command(connection, null, $"""
            UPDATE alerts SET state = '{AlertState.Resolved}', resolved_at = @now, updated_at = @now
            WHERE cause = @cause AND resolved_at IS NULL
            RETURNING {AlertColumns}
            """);
        Add(resolve, "cause", DbType.String, cause);
        Add(resolve, "now", DbType.Int64, now.ToUnixTimeMilliseconds());
        return (await ReadAlertsAsync(resolve, cancellationToken)).SingleOrDefault();
    }

    public async Task<StoredAlert> RecordResolvedAlertAsync(NewAlert alert, DateTimeOffset openedAt, DateTimeOffset resolvedAt, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(alert);
        await using var connection = await storage.OpenAsync(cancellationToken);
        using var turn = await storage.WaitWriteTurnAsync(cancellationToken);
        await using var insert = Command(connection, null, $"""
            INSERT INTO alerts (kind, cause, subject, state, summary, occurrences, first_error, last_error, run_ids, opened_at, updated_at, resolved_at)
            VALUES (@kind, @cause, @subject, '{AlertState.Resolved}', @summary, @occurrences, @first_error, @last_error, @run_ids, @opened_at, @now, @now)
            RETURNING {AlertColumns}
            """);
        AddAlert(insert, alert, resolvedAt);
        Add(insert, "opened_at", DbType.Int64, openedAt.ToUnixTimeMilliseconds());
        return (await ReadAlertsAsync(insert, cancellationToken)).Single();
    }

    public async Task<IReadOnlyList<StoredAlert>> ListUnresolvedAlertsAsync(string? kind, CancellationToken cancellationToken)
    {
        await using var connection = await storage.OpenAsync(cancellationToken);
        await using var list = UnresolvedCommand(connection, storage.Dialect, kind);
        return await ReadAlertsAsync(list, cancellationToken);
    }

    /// <summary>The unresolved alerts' statement: the partial unique index holds exactly them, the kind index serves a kind.</summary>
    internal static DbCommand UnresolvedCommand(DbConnection connection, StorageDialect dialect, string? kind)
    {
        var list = connection.CreateCommand();
        var filter = new Filter(list).Always("resolved_at IS NULL").Term("kind = @kind", "kind", DbType.String, kind);
        list.CommandText = $"SELECT {AlertColumns} FROM alerts WHERE {filter} ORDER BY {dialect.SortedKey("id")}";
        return list;
    }

    /// <summary>The list's statement: only the filters given become terms, each served by an index (see <see cref="Sql.Filter"/>).</summary>
    internal static DbCommand ListCommand(DbConnection connection, AlertQuery query)
    {
        var list = connection.CreateCommand();
        var filter = new Filter(list)
            .Term("state = @state", "state", DbType.String, query.State)
            .Term("kind = @kind", "kind", DbType.String, query.Kind)
            .Term("id < @before", "before", DbType.Int64, query.Before);
        list.CommandText = $"""
            SELECT {AlertColumns} FROM alerts
            WHERE {filter}
            ORDER BY id DESC
            LIMIT @limit
            """;
        Add(list, "limit", DbType.Int32, query.Limit + 1);
        return list;
    }

    public async Task<AlertPage> ListAlertsAsync(AlertQuery query, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(query);
        await using var connection = await storage.OpenAsync(cancellationToken);
        await using var list = ListCommand(connection, query);
        var rows = await ReadAlertsAsync(list, cancellationToken);
        var hasMore = rows.Count > query.Limit;
        if (hasMore)
        {
            rows.RemoveAt(rows.Count - 1);
        }

        return new AlertPage(rows, hasMore ? rows[^1].Id : null);
    }

    public async Task<StoredAlert?> GetAlertAsync(long id, CancellationToken cancellationToken)
    {
        await using var connection = await storage.OpenAsync(cancellationToken);
        await using var read = Command(connection, null, $"SELECT {AlertColumns} FROM alerts WHERE id = @id");
        Add(read, "id", DbType.Int64, id);
        return (await ReadAlertsAsync(read, cancellationToken)).SingleOrDefault();
    }

    public async Task<(AcknowledgeOutcome Outcome, StoredAlert? Alert)> AcknowledgeAlertAsync(long id, string by, DateTimeOffset now, CancellationToken cancellationToken)
    {
        await using var connection = await storage.OpenAsync(cancellationToken);
        using var turn = await storage.WaitWriteTurnAsync(cancellationToken);
        await using var acknowledge = Command(connection, null, $"""
            UPDATE alerts SET state = '{AlertState.Acknowledged}', acknowledged_at = @now, acknowledged_by = @by, updated_at = @now
            WHERE id = @id AND state = '{AlertState.Open}'
            RETURNING {AlertColumns}
            """);
        Add(acknowledge, "id", DbType.Int64, id);
        Add(acknowledge, "by", DbType.String, by);
        Add(acknowledge, "now", DbType.Int64, now.ToUnixTimeMilliseconds());
        if ((await ReadAlertsAsync(acknowledge, cancellationToken)).SingleOrDefault() is { } acknowledged)
        {
            return (AcknowledgeOutcome.Acknowledged, acknowledged);
        }

        await using var read = Command(connection, null, $"SELECT {AlertColumns} FROM alerts WHERE id = @id");
        Add(read, "id", DbType.Int64, id);
        return (await ReadAlertsAsync(read, cancellationToken)).SingleOrDefault() is { } alert
            ? (alert.State == AlertState.Resolved ? AcknowledgeOutcome.Resolved : AcknowledgeOutcome.AlreadyAcknowledged, alert)
            : (AcknowledgeOutcome.NotFound, null);
    }

    public async Task<int> PurgeResolvedAlertsAsync(DateTimeOffset resolvedBefore, CancellationToken cancellationToken)
    {
        await using var connection = await storage.OpenAsync(cancellationToken);
        using var turn = await storage.WaitWriteTurnAsync(cancellationToken);
        await using var purge = Command(connection, null, $"DELETE FROM alerts WHERE state = '{AlertState.Resolved}' AND resolved_at < @before");
        Add(purge, "before", DbType.Int64, resolvedBefore.ToUnixTimeMilliseconds());
        return await purge.ExecuteNonQueryAsync(cancellationToken);
    }

    public async Task<IReadOnlyList<DeadHandler>> ReadDeadHandlersAsync(CancellationToken cancellationToken)
    {
        await using var connection = await storage.OpenAsync(cancellationToken);
        await using var read = Command(connection, null, $"""
            SELECT d.handler, COUNT(*),
                (SELECT f.last_error FROM deliveries f WHERE f.handler = d.handler AND f.state = '{DeliveryState.Dead}' ORDER BY f.updated_at, f.id LIMIT 1),
                (SELECT l.last_error FROM deliveries l WHERE l.handler = d.handler AND l.state = '{DeliveryState.Dead}' ORDER BY l.updated_at DESC, l.id DESC LIMIT 1)
            FROM deliveries d
            WHERE d.state = '{DeliveryState.Dead}'
            GROUP BY d.handler
            ORDER BY d.handler
            """);
        var handlers = new List<DeadHandler>();
        await using var reader = await read.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            handlers.Add(new DeadHandler(reader.GetString(0), reader.GetInt64(1), NullableString(reader, 2), NullableString(reader, 3)));
        }

        return handlers;
    }

    public async Task<IReadOnlyList<WaitingInterrupt>> ReadInterruptsWaitingSinceAsync(DateTimeOffset seenBefore, int max, CancellationToken cancellationToken)
    {
        await using var connection = await storage.OpenAsync(cancellationToken);
        await using var read = Command(connection, null, $"""
            SELECT id, deployment, thread_id, graph_id, seen_at FROM interrupts
            WHERE state = '{InterruptState.Waiting}' AND seen_at < @before
            ORDER BY seen_at, id
            LIMIT @max
            """);
        Add(read, "before", DbType.Int64, seenBefore.ToUnixTimeMilliseconds());
        Add(read, "max", DbType.Int32, max);
        var waiting = new List<WaitingInterrupt>();
        await using var reader = await read.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            waiting.Add(new WaitingInterrupt(reader.GetInt64(0), reader.GetString(1), reader.GetString(2), NullableString(reader, 3), Time(reader.GetInt64(4))));
        }

        return waiting;
    }

    private static void AddAlert(DbCommand command, NewAlert alert, DateTimeOffset now)
    {
        Add(command, "kind", DbType.String, alert.Kind);
        Add(command, "cause", DbType.String, alert.Cause);
        Add(command, "subject", DbType.String, alert.Subject);
        Add(command, "summary", DbType.String, alert.Summary);
        Add(command, "occurrences", DbType.Int64, alert.Occurrences);
        Add(command, "first_error", DbType.String, alert.FirstError);
        Add(command, "last_error", DbType.String, alert.LastError);
        Add(command, "run_ids", DbType.String, alert.RunIds.Count == 0 ? null : System.Text.Json.JsonSerializer.Serialize(alert.RunIds.Take(100).ToList()));
        Add(command, "now", DbType.Int64, now.ToUnixTimeMilliseconds());
    }

    private static async Task<List<StoredAlert>> ReadAlertsAsync(DbCommand command, CancellationToken cancellationToken)
    {
        var alerts = new List<StoredAlert>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            alerts.Add(new StoredAlert(
                reader.GetInt64(0), reader.GetString(1), reader.GetString(2), reader.GetString(3), reader.GetString(4), reader.GetString(5),
                reader.GetInt64(6), NullableString(reader, 7), NullableString(reader, 8),
                reader.IsDBNull(9) ? [] : System.Text.Json.JsonSerializer.Deserialize<List<string>>(reader.GetString(9)) ?? [],
                Time(reader.GetInt64(10)), Time(reader.GetInt64(11)),
                reader.IsDBNull(12) ? null : Time(reader.GetInt64(12)), NullableString(reader, 13),
                reader.IsDBNull(14) ? null : Time(reader.GetInt64(14))));
        }

        return alerts;
    }
}
