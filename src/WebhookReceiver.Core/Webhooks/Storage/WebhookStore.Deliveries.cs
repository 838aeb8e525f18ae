using System.Data;
using System.Data.Common;
using static WebhookReceiver.Kernel.Sql;

namespace WebhookReceiver.Webhooks;

// What the dispatcher needs: lease due deliveries, record attempts and outcomes, give leases back.
internal sealed partial class WebhookStore : IInboxDeliveries
{
    /// <summary>
    /// A due delivery that still has a lease owner was left behind: finishing an attempt and giving a lease back both
    /// clear the owner in the statement that records or uncounts the attempt, so an owner still set on an expired lease
    /// means its attempt never got an outcome (the process died, or lost the store until its lease ran out). The value is
    /// when that attempt started (unknown for leases taken before <c>leased_at</c> existed: then now), or NULL. Uses @now.
    /// </summary>
    private const string LeftBehindAt = "CASE WHEN lease_owner IS NOT NULL THEN COALESCE(leased_at, @now) END";

    /// <summary>
    /// A delivery just leased: <c>Attempts</c> counts the attempt about to run; <c>LeftBehindAt</c> as <see cref="LeftBehindAt"/>.
    /// A delivery is of a webhook (<c>WebhookId</c>) or of an interrupt (<c>InterruptId</c>), never both.
    /// </summary>
    private sealed record LeasedRow(long Id, long? WebhookId, string Handler, int Attempts, int RoundStart, DateTimeOffset? LeftBehindAt, long? InterruptId = null);

    /// <summary>Reads rows of <c>id, webhook_id, handler, attempts, round_start, left_behind_at, interrupt_id</c>.</summary>
    private static async Task<List<LeasedRow>> ReadLeasedRowsAsync(DbCommand command, CancellationToken cancellationToken)
    {
        var rows = new List<LeasedRow>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            rows.Add(new LeasedRow(reader.GetInt64(0), reader.IsDBNull(1) ? null : reader.GetInt64(1), reader.GetString(2), reader.GetInt32(3), reader.GetInt32(4),
                reader.IsDBNull(5) ? null : Time(reader.GetInt64(5)), reader.IsDBNull(6) ? null : reader.GetInt64(6)));
        }

        return rows;
    }

    public async Task<ClaimBatch> ClaimDueAsync(
        string owner, DateTimeOffset now, DateTimeOffset leaseUntil, int max, int maxAttempts, CancellationToken cancellationToken)
    {
        await using var connection = await storage.OpenAsync(cancellationToken);
        using var turn = await storage.WaitWriteTurnAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);

        var leased = await LeaseDueAsync(connection, transaction, owner, now, leaseUntil, max, cancellationToken);
        var abandoned = await RecordAbandonedAsync(connection, transaction, leased, now, maxAttempts, cancellationToken);
        var claimed = leased.Where(row => !abandoned.Any(a => a.DeliveryId == row.Id && a.State == DeliveryState.Dead)).ToList();

        var webhooks = new Dictionary<long, (DateTimeOffset ReceivedAt, byte[] Payload, string Source, string? Traceparent)>();
        if (claimed.Any(c => c.WebhookId is not null))
        {
            await using var load = Command(connection, transaction, "SELECT id, received_at, payload, source, traceparent FROM webhooks WHERE id IN (" +
                InList(claimed.Where(c => c.WebhookId is not null).Select(c => c.WebhookId!.Value).Distinct().ToList()) + ")");
            await using var reader = await load.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                webhooks[reader.GetInt64(0)] = (Time(reader.GetInt64(1)), reader.GetFieldValue<byte[]>(2), reader.GetString(3), NullableString(reader, 4));
            }
        }

        // An interrupt's delivery: the handler reads the interrupt itself; here only when it was seen, and its webhook if any.
        var interrupts = new Dictionary<long, (DateTimeOffset SeenAt, long? WebhookId, string? Traceparent)>();
        if (claimed.Any(c => c.InterruptId is not null))
        {
            await using var load = Command(connection, transaction, "SELECT i.id, i.seen_at, i.webhook_id, (SELECT w.traceparent FROM webhooks w WHERE w.id = i.webhook_id) FROM interrupts i WHERE i.id IN (" +
                InList(claimed.Where(c => c.InterruptId is not null).Select(c => c.InterruptId!.Value).Distinct().ToList()) + ")");
            await using var reader = await load.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                interrupts[reader.GetInt64(0)] = (Time(reader.GetInt64(1)), reader.IsDBNull(2) ? null : reader.GetInt64(2), NullableString(reader, 3));
            }
        }

        await transaction.CommitAsync(cancellationToken);
        return new ClaimBatch(
            claimed.Select(c => c.InterruptId is { } interruptId
                ? new ClaimedDelivery(c.Id, interrupts[interruptId].WebhookId ?? 0, c.Handler, c.Attempts, c.Attempts - c.RoundStart,
                    interrupts[interruptId].SeenAt, [], InterruptId: interruptId, Traceparent: interrupts[interruptId].Traceparent)
                : new ClaimedDelivery(c.Id, c.WebhookId!.Value, c.Handler, c.Attempts, c.Attempts - c.RoundStart,
                    webhooks[c.WebhookId.Value].ReceivedAt, webhooks[c.WebhookId.Value].Payload, WebhookSources.Parse(webhooks[c.WebhookId.Value].Source),
                    Traceparent: webhooks[c.WebhookId.Value].Traceparent)).ToList(),
            abandoned);
    }

    /// <summary>
    /// Records the attempts the claim found left behind as abandoned, each as the attempt before the one just leased. One
    /// that was its round's last allowed attempt dead-letters its delivery, in this transaction, instead of leasing it:
    /// the claim's count of the attempt about to run is taken back and the lease cleared.
    /// </summary>
    private static async Task<List<AbandonedAttempt>> RecordAbandonedAsync(DbConnection connection, DbTransaction transaction,
        List<LeasedRow> leased, DateTimeOffset now, int maxAttempts, CancellationToken cancellationToken)
    {
        var abandoned = new List<AbandonedAttempt>();
        var leftBehind = leased.Where(row => row.LeftBehindAt is not null).OrderBy(row => row.Id).ToList();
        if (leftBehind.Count == 0)
        {
            return abandoned;
        }

        // ON CONFLICT: a row for that attempt would mean it was recorded after all; never let it stop every claim.
        await using var record = Command(connection, transaction, """
            INSERT INTO attempts (delivery_id, attempt, started_at, ended_at, succeeded, error, abandoned)
            VALUES (@id, @attempt, @started_at, @now, 0, @error, 1)
            ON CONFLICT (delivery_id, attempt) DO NOTHING
            """);
        var recordId = Add(record, "id", DbType.Int64);
        var recordAttempt = Add(record, "attempt", DbType.Int32);
        var startedAt = Add(record, "started_at", DbType.Int64);
        Add(record, "now", DbType.Int64, now.ToUnixTimeMilliseconds());
        Add(record, "error", DbType.String, AbandonedAttempt.Error);

        // An abandoned attempt of the current round is a failure of it; one from before a replay leaves the replay standing.
        await using var update = Command(connection, transaction, """
            UPDATE deliveries
            SET state = CASE WHEN @dead = 1 THEN 'dead' WHEN @attempt > round_start THEN 'failed' ELSE state END,
                attempts = CASE WHEN @dead = 1 THEN @attempt ELSE attempts END,
                lease_owner = CASE WHEN @dead = 1 THEN NULL ELSE lease_owner END,
                lease_until = CASE WHEN @dead = 1 THEN NULL ELSE lease_until END,
                last_error = @error, updated_at = @now
            WHERE id = @id
            """);
        var dead = Add(update, "dead", DbType.Int32);
        var updateAttempt = Add(update, "attempt", DbType.Int32);
        Add(update, "error", DbType.String, AbandonedAttempt.Error);
        Add(update, "now", DbType.Int64, now.ToUnixTimeMilliseconds());
        var updateId = Add(update, "id", DbType.Int64);

        foreach (var row in leftBehind)
        {
            var attempt = row.Attempts - 1;
            var spent = attempt - row.RoundStart >= maxAttempts;
            recordId.Value = row.Id;
            recordAttempt.Value = attempt;
            startedAt.Value = row.LeftBehindAt!.Value.ToUnixTimeMilliseconds();
            await record.ExecuteNonQueryAsync(cancellationToken);

            dead.Value = spent ? 1 : 0;
            updateAttempt.Value = attempt;
            updateId.Value = row.Id;
            await update.ExecuteNonQueryAsync(cancellationToken);
            var state = spent ? DeliveryState.Dead : attempt > row.RoundStart ? DeliveryState.Failed : DeliveryState.Pending;
            abandoned.Add(new AbandonedAttempt(row.Id, row.Handler, attempt, state));
        }

        return abandoned;
    }

    public async Task<IReadOnlyList<bool>> CompleteAttemptsAsync(IReadOnlyList<AttemptResult> results, CancellationToken cancellationToken)
    {
        await using var connection = await storage.OpenAsync(cancellationToken);
        using var turn = await storage.WaitWriteTurnAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);

        // A replay while the attempt ran started a new round: the attempt is recorded, but the delivery stays due.
        await using var update = Command(connection, transaction, """
            UPDATE deliveries
            SET state = CASE WHEN round_start = @round_start THEN @state ELSE 'pending' END,
                next_attempt_at = CASE WHEN round_start = @round_start THEN @next_attempt_at ELSE next_attempt_at END,
                last_error = @error, updated_at = @ended_at, lease_owner = NULL, lease_until = NULL
            WHERE id = @id AND lease_owner = @owner AND attempts = @attempt
            """);
        var roundStart = Add(update, "round_start", DbType.Int32);
        var state = Add(update, "state", DbType.String);
        var nextAttemptAt = Add(update, "next_attempt_at", DbType.Int64);
        var updateError = Add(update, "error", DbType.String);
        var updateEndedAt = Add(update, "ended_at", DbType.Int64);
        var updateId = Add(update, "id", DbType.Int64);
        var owner = Add(update, "owner", DbType.String);
        var updateAttempt = Add(update, "attempt", DbType.Int32);

        await using var record = Command(connection, transaction, """
            INSERT INTO attempts (delivery_id, attempt, started_at, ended_at, succeeded, error)
            VALUES (@id, @attempt, @started_at, @ended_at, @succeeded, @error)
            """);
        var recordId = Add(record, "id", DbType.Int64);
        var recordAttempt = Add(record, "attempt", DbType.Int32);
        var startedAt = Add(record, "started_at", DbType.Int64);
        var recordEndedAt = Add(record, "ended_at", DbType.Int64);
        var succeeded = Add(record, "succeeded", DbType.Int32);
        var recordError = Add(record, "error", DbType.String);

        var recorded = new bool[results.Count];
        // In delivery order, so that two processes completing overlapping batches lock rows in the same order.
        foreach (var i in Enumerable.Range(0, results.Count).OrderBy(i => results[i].DeliveryId))
        {
            var result = results[i];
            roundStart.Value = result.RoundStart;
            state.Value = result.NextState;
            nextAttemptAt.Value = (object?)result.NextAttemptAt?.ToUnixTimeMilliseconds() ?? DBNull.Value;
            updateError.Value = (object?)result.Error ?? DBNull.Value;
            updateEndedAt.Value = result.EndedAt.ToUnixTimeMilliseconds();
            updateId.Value = result.DeliveryId;
            owner.Value = result.Owner;
            updateAttempt.Value = result.Attempt;
            if (await update.ExecuteNonQueryAsync(cancellationToken) == 0)
            {
                continue; // The lease expired and another worker owns the delivery now.
            }

            recordId.Value = result.DeliveryId;
            recordAttempt.Value = result.Attempt;
            startedAt.Value = result.StartedAt.ToUnixTimeMilliseconds();
            recordEndedAt.Value = result.EndedAt.ToUnixTimeMilliseconds();
            succeeded.Value = result.Succeeded ? 1 : 0;
            recordError.Value = (object?)result.Error ?? DBNull.Value;
            await record.ExecuteNonQueryAsync(cancellationToken);
            recorded[i] = true;
        }

        await transaction.CommitAsync(cancellationToken);
        return recorded;
    }

    public async Task ReleaseAsync(string owner, IReadOnlyCollection<long> deliveryIds, CancellationToken cancellationToken)
    {
        if (deliveryIds.Count == 0)
        {
            return;
        }

        await using var connection = await storage.OpenAsync(cancellationToken);
        // The attempt never ran to an outcome, so it does not count.
        await using var release = Command(connection, null, $"""
            UPDATE deliveries SET lease_owner = NULL, lease_until = NULL, attempts = attempts - 1
            WHERE lease_owner = @owner AND id IN ({InList(deliveryIds)})
            """);
        Add(release, "owner", DbType.String, owner);
        await release.ExecuteNonQueryAsync(cancellationToken);
    }
}
