using System.Data;
using System.Data.Common;
using System.Security.Cryptography;

namespace WebhookReceiver.Inbox;

/// <summary>
/// The inbox contract in portable SQL over ADO.NET. An engine supplies its connections, its schema migrations and the
/// one statement that differs between engines: how due deliveries are claimed (and, where several processes share the
/// store, how their purges take turns).
/// Times are stored as Unix milliseconds so that both engines compare them the same way.
/// </summary>
public abstract partial class SqlInbox : IWebhookInbox
{
    private const string WebhookColumns = "w.id, w.run_id, w.thread_id, w.assistant_id, w.graph_id, w.status, w.received_at, " + VerificationColumns;
    private const string DeliveryColumns = "d.id, d.webhook_id, d.handler, d.state, d.attempts, d.last_error, d.next_attempt_at, d.updated_at";

    // One filter for listing and for bulk replay; a null parameter means "any".
    private const string WebhookFilter = """
        (@status IS NULL OR w.status = @status)
        AND (@assistant_id IS NULL OR w.assistant_id = @assistant_id)
        AND (@graph_id IS NULL OR w.graph_id = @graph_id)
        AND (@thread_id IS NULL OR w.thread_id = @thread_id)
        AND (@received_from IS NULL OR w.received_at >= @received_from)
        AND (@received_to IS NULL OR w.received_at < @received_to)
        AND (@deployment IS NULL OR w.deployment = @deployment)
        AND (@verification IS NULL OR w.verification = @verification)
        AND (@delivery_state IS NULL OR EXISTS (SELECT 1 FROM deliveries d WHERE d.webhook_id = w.id AND d.state = @delivery_state))
        """;

    /// <summary>Opens a connection ready for use (engine settings applied).</summary>
    protected abstract Task<DbConnection> OpenAsync(CancellationToken cancellationToken);

    public abstract Task MigrateAsync(CancellationToken cancellationToken);

    public abstract Task RecoverAsync(CancellationToken cancellationToken);

    /// <summary>
    /// Leases up to <paramref name="max"/> due deliveries to <paramref name="owner"/> (sets <c>lease_owner</c>,
    /// <c>lease_until</c>, <c>leased_at</c> = now, and counts the attempt about to run in <c>attempts</c>) and returns them
    /// as they are now, with <see cref="LeftBehindAt"/> read from the row as it was before.
    /// </summary>
    protected abstract Task<List<LeasedRow>> LeaseDueAsync(DbConnection connection, DbTransaction transaction,
        string owner, DateTimeOffset now, DateTimeOffset leaseUntil, int max, CancellationToken cancellationToken);

    /// <summary>
    /// A due delivery that still has a lease owner was left behind: finishing an attempt and giving a lease back both
    /// clear the owner in the statement that records or uncounts the attempt, so an owner still set on an expired lease
    /// means its attempt never got an outcome (the process died, or lost the store until its lease ran out). The value is
    /// when that attempt started (unknown for leases taken before <c>leased_at</c> existed: then now), or NULL. Uses @now.
    /// </summary>
    protected const string LeftBehindAt = "CASE WHEN lease_owner IS NOT NULL THEN COALESCE(leased_at, @now) END";

    /// <summary>A delivery just leased: <c>Attempts</c> counts the attempt about to run; <c>LeftBehindAt</c> as <see cref="LeftBehindAt"/>.</summary>
    protected sealed record LeasedRow(long Id, long WebhookId, string Handler, int Attempts, int RoundStart, DateTimeOffset? LeftBehindAt);

    /// <summary>Reads rows of <c>id, webhook_id, handler, attempts, round_start, left_behind_at</c>.</summary>
    protected static async Task<List<LeasedRow>> ReadLeasedRowsAsync(DbCommand command, CancellationToken cancellationToken)
    {
        var rows = new List<LeasedRow>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            rows.Add(new LeasedRow(reader.GetInt64(0), reader.GetInt64(1), reader.GetString(2), reader.GetInt32(3), reader.GetInt32(4),
                reader.IsDBNull(5) ? null : Time(reader.GetInt64(5))));
        }

        return rows;
    }

    /// <summary>
    /// Run first in a purge's transaction where several processes share the store, so that their purges take turns:
    /// its statements pick the same expired rows again and again, and two purges interleaved would deadlock.
    /// </summary>
    protected virtual string? PurgeLockSql => null;

    /// <summary>
    /// Waits for this process's turn to write, where the engine lets one writer in at a time; dispose the result to pass
    /// the turn on. Null where writers need no turns. Taken by the busy writers (append, claim, complete) so that they
    /// queue here, without a thread, instead of in the engine's lock, whose waiters sleep and retry.
    /// </summary>
    protected virtual ValueTask<IDisposable?> WaitWriteTurnAsync(CancellationToken cancellationToken) => ValueTask.FromResult<IDisposable?>(null);

    public async Task<IReadOnlyList<AppendResult>> AppendAsync(IReadOnlyList<NewWebhook> batch, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken);
        using var turn = await WaitWriteTurnAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);

        await using var insert = Command(connection, transaction, """
            INSERT INTO webhooks (run_id, thread_id, assistant_id, graph_id, status, received_at, payload, body_hash, deployment)
            VALUES (@run_id, @thread_id, @assistant_id, @graph_id, @status, @received_at, @payload, @body_hash, @deployment)
            ON CONFLICT DO NOTHING
            RETURNING id
            """);
        var runId = Add(insert, "run_id", DbType.String);
        var threadId = Add(insert, "thread_id", DbType.String);
        var assistantId = Add(insert, "assistant_id", DbType.String);
        var graphId = Add(insert, "graph_id", DbType.String);
        var status = Add(insert, "status", DbType.String);
        var receivedAt = Add(insert, "received_at", DbType.Int64);
        var payload = Add(insert, "payload", DbType.Binary);
        var bodyHash = Add(insert, "body_hash", DbType.Binary);
        var deployment = Add(insert, "deployment", DbType.String);

        // A body without a run_id is known by its bytes: LangGraph's retries resend them unchanged.
        await using var findExisting = Command(connection, transaction, "SELECT id FROM webhooks WHERE run_id = @run_id OR body_hash = @body_hash");
        var existingRunId = Add(findExisting, "run_id", DbType.String);
        var existingHash = Add(findExisting, "body_hash", DbType.Binary);

        await using var addDelivery = Command(connection, transaction, """
            INSERT INTO deliveries (webhook_id, handler, state, next_attempt_at, updated_at)
            VALUES (@webhook_id, @handler, 'pending', @now, @now)
            """);
        var deliveryWebhookId = Add(addDelivery, "webhook_id", DbType.Int64);
        var handler = Add(addDelivery, "handler", DbType.String);
        var deliveryNow = Add(addDelivery, "now", DbType.Int64);

        var results = new AppendResult[batch.Count];
        // Inserted in run_id order: two replicas storing overlapping batches then wait on each other's rows in the same
        // order and never deadlock (PostgreSQL would abort one batch and its senders would be answered 503).
        var hashes = batch.Select(w => w.RunId is null ? SHA256.HashData(w.Payload) : null).ToArray();
        foreach (var i in Enumerable.Range(0, batch.Count).OrderBy(i => batch[i].RunId ?? Convert.ToHexString(hashes[i]!), StringComparer.Ordinal))
        {
            var webhook = batch[i];
            runId.Value = (object?)webhook.RunId ?? DBNull.Value;
            bodyHash.Value = (object?)hashes[i] ?? DBNull.Value;
            threadId.Value = (object?)webhook.ThreadId ?? DBNull.Value;
            assistantId.Value = (object?)webhook.AssistantId ?? DBNull.Value;
            graphId.Value = (object?)webhook.GraphId ?? DBNull.Value;
            status.Value = (object?)webhook.Status ?? DBNull.Value;
            receivedAt.Value = webhook.ReceivedAt.ToUnixTimeMilliseconds();
            payload.Value = webhook.Payload;
            deployment.Value = (object?)webhook.Deployment ?? DBNull.Value;

            if (await insert.ExecuteScalarAsync(cancellationToken) is { } id and not DBNull)
            {
                var webhookId = Convert.ToInt64(id, System.Globalization.CultureInfo.InvariantCulture);
                results[i] = new AppendResult(webhookId, Duplicate: false);
                foreach (var name in webhook.Handlers)
                {
                    deliveryWebhookId.Value = webhookId;
                    handler.Value = name;
                    deliveryNow.Value = webhook.ReceivedAt.ToUnixTimeMilliseconds();
                    await addDelivery.ExecuteNonQueryAsync(cancellationToken);
                }
            }
            else
            {
                existingRunId.Value = (object?)webhook.RunId ?? DBNull.Value;
                existingHash.Value = (object?)hashes[i] ?? DBNull.Value;
                // Gone only if purged between the two statements: then it is not stored, and the sender must be told so.
                var existing = await findExisting.ExecuteScalarAsync(cancellationToken)
                    ?? throw new InvalidOperationException("The stored webhook with this run_id (or body) was purged while a repeat arrived.");
                results[i] = new AppendResult(Convert.ToInt64(existing, System.Globalization.CultureInfo.InvariantCulture), Duplicate: true);
            }
        }

        await transaction.CommitAsync(cancellationToken);
        return results;
    }

    public async Task<ClaimBatch> ClaimDueAsync(
        string owner, DateTimeOffset now, DateTimeOffset leaseUntil, int max, int maxAttempts, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken);
        using var turn = await WaitWriteTurnAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);

        var leased = await LeaseDueAsync(connection, transaction, owner, now, leaseUntil, max, cancellationToken);
        var abandoned = await RecordAbandonedAsync(connection, transaction, leased, now, maxAttempts, cancellationToken);
        var claimed = leased.Where(row => !abandoned.Any(a => a.DeliveryId == row.Id && a.State == DeliveryState.Dead)).ToList();

        var webhooks = new Dictionary<long, (DateTimeOffset ReceivedAt, byte[] Payload)>();
        if (claimed.Count > 0)
        {
            await using var load = Command(connection, transaction, "SELECT id, received_at, payload FROM webhooks WHERE id IN (" +
                InList(claimed.Select(c => c.WebhookId).Distinct().ToList()) + ")");
            await using var reader = await load.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                webhooks[reader.GetInt64(0)] = (Time(reader.GetInt64(1)), reader.GetFieldValue<byte[]>(2));
            }
        }

        await transaction.CommitAsync(cancellationToken);
        return new ClaimBatch(
            claimed.Select(c => new ClaimedDelivery(c.Id, c.WebhookId, c.Handler, c.Attempts, c.Attempts - c.RoundStart,
                webhooks[c.WebhookId].ReceivedAt, webhooks[c.WebhookId].Payload)).ToList(),
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

    public async Task<bool> CompleteAttemptAsync(AttemptResult result, CancellationToken cancellationToken) =>
        (await CompleteAttemptsAsync([result], cancellationToken))[0];

    public async Task<IReadOnlyList<bool>> CompleteAttemptsAsync(IReadOnlyList<AttemptResult> results, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken);
        using var turn = await WaitWriteTurnAsync(cancellationToken);
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

        await using var connection = await OpenAsync(cancellationToken);
        // The attempt never ran to an outcome, so it does not count.
        await using var release = Command(connection, null, $"""
            UPDATE deliveries SET lease_owner = NULL, lease_until = NULL, attempts = attempts - 1
            WHERE lease_owner = @owner AND id IN ({InList(deliveryIds)})
            """);
        Add(release, "owner", DbType.String, owner);
        await release.ExecuteNonQueryAsync(cancellationToken);
    }

    public async Task<WebhookPage> ListAsync(WebhookQuery query, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken);
        await using var list = Command(connection, null, $"""
            SELECT {WebhookColumns} FROM webhooks w
            WHERE {WebhookFilter} AND (@before IS NULL OR w.id < @before)
            ORDER BY w.id DESC
            LIMIT @limit
            """);
        AddFilter(list, query);
        Add(list, "before", DbType.Int64, query.Before);
        Add(list, "limit", DbType.Int32, query.Limit + 1);

        var rows = await ReadWebhooksAsync(list, withPayload: false, cancellationToken);
        var hasMore = rows.Count > query.Limit;
        if (hasMore)
        {
            rows.RemoveAt(rows.Count - 1);
        }

        var deliveries = await ReadDeliveriesAsync(connection, rows.Select(r => r.Id).ToList(), cancellationToken);
        var items = rows.Select(r => r with { Deliveries = deliveries[r.Id].ToList() }).ToList();
        return new WebhookPage(items, hasMore ? items[^1].Id : null);
    }

    public Task<StoredWebhook?> GetAsync(long id, CancellationToken cancellationToken) =>
        GetOneAsync("w.id = @key", DbType.Int64, id, cancellationToken);

    public Task<StoredWebhook?> GetByRunIdAsync(string runId, CancellationToken cancellationToken) =>
        GetOneAsync("w.run_id = @key", DbType.String, runId, cancellationToken);

    public async Task<int?> ReplayAsync(long webhookId, IReadOnlyCollection<string> handlers, DateTimeOffset now, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);

        await using var exists = Command(connection, transaction, "SELECT COUNT(*) FROM webhooks WHERE id = @id");
        Add(exists, "id", DbType.Int64, webhookId);
        if (Convert.ToInt64(await exists.ExecuteScalarAsync(cancellationToken), System.Globalization.CultureInfo.InvariantCulture) == 0)
        {
            return null;
        }

        await using var upsert = Command(connection, transaction, """
            INSERT INTO deliveries (webhook_id, handler, state, next_attempt_at, updated_at)
            VALUES (@id, @handler, 'pending', @now, @now)
            ON CONFLICT (webhook_id, handler) DO UPDATE
            SET state = 'pending', next_attempt_at = @now, round_start = deliveries.attempts, updated_at = @now
            """);
        Add(upsert, "id", DbType.Int64, webhookId);
        Add(upsert, "now", DbType.Int64, now.ToUnixTimeMilliseconds());
        var handler = Add(upsert, "handler", DbType.String);
        foreach (var name in handlers)
        {
            handler.Value = name;
            await upsert.ExecuteNonQueryAsync(cancellationToken);
        }

        await transaction.CommitAsync(cancellationToken);
        return handlers.Count;
    }

    public async Task<int> ReplayDeadAsync(WebhookQuery query, string? handler, DateTimeOffset now, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken);
        await using var replay = Command(connection, null, $"""
            UPDATE deliveries
            SET state = 'pending', next_attempt_at = @now, round_start = attempts, updated_at = @now
            WHERE state = 'dead' AND (@handler IS NULL OR handler = @handler)
              AND webhook_id IN (SELECT w.id FROM webhooks w WHERE {WebhookFilter})
            """);
        AddFilter(replay, query with { DeliveryState = null });
        Add(replay, "handler", DbType.String, handler);
        Add(replay, "now", DbType.Int64, now.ToUnixTimeMilliseconds());
        return await replay.ExecuteNonQueryAsync(cancellationToken);
    }

    public async Task<IReadOnlyList<DeliveryCount>> CountDeliveriesAsync(CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken);
        await using var count = Command(connection, null, "SELECT handler, state, COUNT(*) FROM deliveries GROUP BY handler, state");
        await using var reader = await count.ExecuteReaderAsync(cancellationToken);
        var counts = new List<DeliveryCount>();
        while (await reader.ReadAsync(cancellationToken))
        {
            counts.Add(new DeliveryCount(reader.GetString(0), reader.GetString(1), reader.GetInt64(2)));
        }

        return counts;
    }

    public async Task<int> PurgeAsync(DateTimeOffset receivedBefore, DateTimeOffset deadReceivedBefore, int batchSize, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        if (PurgeLockSql is { } purgeLock)
        {
            await using var takeTurn = Command(connection, transaction, purgeLock);
            await takeTurn.ExecuteNonQueryAsync(cancellationToken);
        }

        // Webhooks still being retried are never purged; those with dead letters wait for the dead-letter cutoff.
        const string Expired = """
            SELECT w.id FROM webhooks w
            WHERE w.received_at < @before
              AND NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.webhook_id = w.id
                              AND (d.state IN ('pending', 'failed') OR (d.state = 'dead' AND w.received_at >= @dead_before)))
            ORDER BY w.id
            LIMIT @batch
            """;
        var total = 0;
        foreach (var sql in new[]
                 {
                     $"DELETE FROM attempts WHERE delivery_id IN (SELECT id FROM deliveries WHERE webhook_id IN ({Expired}))",
                     $"DELETE FROM deliveries WHERE webhook_id IN ({Expired})",
                     $"DELETE FROM webhooks WHERE id IN ({Expired})",
                 })
        {
            await using var purge = Command(connection, transaction, sql);
            Add(purge, "before", DbType.Int64, receivedBefore.ToUnixTimeMilliseconds());
            Add(purge, "dead_before", DbType.Int64, deadReceivedBefore.ToUnixTimeMilliseconds());
            Add(purge, "batch", DbType.Int32, batchSize);
            total = await purge.ExecuteNonQueryAsync(cancellationToken);
        }

        await transaction.CommitAsync(cancellationToken);
        return total;
    }

    /// <summary>The marker a migration leaves for <see cref="RedactStoredPayloadsAsync"/>, in table <c>pending_jobs</c>.</summary>
    protected const string RedactPayloadsJob = "redact_payloads";

    public async Task<int> RedactStoredPayloadsAsync(Func<byte[], byte[]?> redact, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken);
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
                using var turn = await WaitWriteTurnAsync(cancellationToken);
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

    public virtual async Task PingAsync(CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken);
        await using var ping = Command(connection, null, "SELECT COUNT(*) FROM webhooks WHERE id = 0");
        await ping.ExecuteScalarAsync(cancellationToken);
    }

    protected static DbCommand Command(DbConnection connection, DbTransaction? transaction, string sql)
    {
        var command = connection.CreateCommand();
        command.CommandText = sql;
        command.Transaction = transaction;
        return command;
    }

    protected static DbParameter Add(DbCommand command, string name, DbType type, object? value = null)
    {
        var parameter = command.CreateParameter();
        parameter.ParameterName = name;
        parameter.DbType = type;
        parameter.Value = value ?? DBNull.Value;
        command.Parameters.Add(parameter);
        return parameter;
    }

    protected static DateTimeOffset Time(long unixMilliseconds) => DateTimeOffset.FromUnixTimeMilliseconds(unixMilliseconds);

    // Ids are numbers the store produced, never user text, so they are safe to inline.
    protected static string InList(IEnumerable<long> ids) =>
        string.Join(',', ids.Select(id => id.ToString(System.Globalization.CultureInfo.InvariantCulture)));

    private static void AddFilter(DbCommand command, WebhookQuery query)
    {
        Add(command, "status", DbType.String, query.Status);
        Add(command, "assistant_id", DbType.String, query.AssistantId);
        Add(command, "graph_id", DbType.String, query.GraphId);
        Add(command, "thread_id", DbType.String, query.ThreadId);
        Add(command, "received_from", DbType.Int64, query.ReceivedFrom?.ToUnixTimeMilliseconds());
        Add(command, "received_to", DbType.Int64, query.ReceivedTo?.ToUnixTimeMilliseconds());
        Add(command, "delivery_state", DbType.String, query.DeliveryState);
        Add(command, "deployment", DbType.String, query.Deployment);
        Add(command, "verification", DbType.String, query.Verification);
    }

    private async Task<StoredWebhook?> GetOneAsync(string where, DbType keyType, object key, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken);
        await using var get = Command(connection, null, $"SELECT {WebhookColumns}, w.payload FROM webhooks w WHERE {where}");
        Add(get, "key", keyType, key);
        if ((await ReadWebhooksAsync(get, withPayload: true, cancellationToken)).SingleOrDefault() is not { } webhook)
        {
            return null;
        }

        var deliveries = await ReadDeliveriesAsync(connection, [webhook.Id], cancellationToken);
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
                Verification: ReadVerification(reader, 8)));
        }

        return rows;
    }

    private static async Task<ILookup<long, StoredDelivery>> ReadDeliveriesAsync(DbConnection connection, List<long> webhookIds, CancellationToken cancellationToken)
    {
        var rows = new List<(long WebhookId, StoredDelivery Delivery)>();
        if (webhookIds.Count > 0)
        {
            await using var command = Command(connection, null,
                $"SELECT {DeliveryColumns} FROM deliveries d WHERE d.webhook_id IN ({InList(webhookIds)}) ORDER BY d.id");
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                rows.Add((reader.GetInt64(1), new StoredDelivery(
                    reader.GetInt64(0),
                    reader.GetString(2),
                    reader.GetString(3),
                    reader.GetInt32(4),
                    NullableString(reader, 5),
                    reader.IsDBNull(6) ? null : Time(reader.GetInt64(6)),
                    Time(reader.GetInt64(7)))));
            }
        }

        return rows.ToLookup(r => r.WebhookId, r => r.Delivery);
    }

    private static string? NullableString(DbDataReader reader, int ordinal) => reader.IsDBNull(ordinal) ? null : reader.GetString(ordinal);
}
