using System.Data;
using System.Data.Common;
using WebhookReceiver.Kernel;
using static WebhookReceiver.Kernel.Sql;

namespace WebhookReceiver.Webhooks;

/// <summary>
/// The durable inbox over the storage kernel: received webhooks, one delivery per matching handler, every attempt, and
/// each run's verification. Its tables: <c>webhooks</c>, <c>deliveries</c> (of webhooks, and of the interrupts a module
/// above records through <see cref="DeliverySubject"/>), <c>attempts</c>, <c>pending_jobs</c>.
/// </summary>
internal sealed partial class WebhookStore(StorageKernel storage) : IWebhookInbox, IAsyncDisposable
{
    private const string WebhookColumns = "w.id, w.run_id, w.thread_id, w.assistant_id, w.graph_id, w.status, w.received_at, " + VerificationColumns + ", w.source";

    /// <summary>
    /// The module's tables, written once for both engines. Version 1 is the schema the last release with one version for
    /// every table left (its webhooks, deliveries and attempts with every column they had gained, and the marker table of
    /// the one-off payload redaction). A delivery is of a webhook or of a row of a module above (<c>interrupt_id</c>).
    /// </summary>
    public static readonly StoreSchema Schema = new("webhooks", Layer: 3, LegacyBaseline: 1,
    [
        d => $"""
            CREATE TABLE webhooks (
                id {d.IdColumn},
                run_id TEXT UNIQUE,
                thread_id TEXT,
                assistant_id TEXT,
                graph_id TEXT,
                status TEXT,
                received_at BIGINT NOT NULL,
                payload {d.BlobType} NOT NULL,
                body_hash {d.BlobType} UNIQUE,
                deployment TEXT,
                verification TEXT,
                verification_detail TEXT,
                verified_at BIGINT,
                source TEXT NOT NULL DEFAULT 'webhook',
                traceparent TEXT
            );
            CREATE INDEX ix_webhooks_received_at ON webhooks (received_at);
            CREATE INDEX ix_webhooks_thread_id ON webhooks (thread_id);
            CREATE INDEX ix_webhooks_assistant_id ON webhooks (assistant_id);
            CREATE INDEX ix_webhooks_deployment ON webhooks (deployment) WHERE deployment IS NOT NULL;
            CREATE INDEX ix_webhooks_verification ON webhooks (verification) WHERE verification IS NOT NULL;
            CREATE TABLE deliveries (
                id {d.IdColumn},
                webhook_id BIGINT REFERENCES webhooks (id),
                interrupt_id BIGINT,
                handler TEXT NOT NULL,
                state TEXT NOT NULL,
                attempts INTEGER NOT NULL DEFAULT 0,
                round_start INTEGER NOT NULL DEFAULT 0,
                next_attempt_at BIGINT,
                lease_owner TEXT,
                lease_until BIGINT,
                last_error TEXT,
                updated_at BIGINT NOT NULL,
                leased_at BIGINT,
                UNIQUE (webhook_id, handler),
                UNIQUE (interrupt_id, handler),
                CHECK ((webhook_id IS NULL) <> (interrupt_id IS NULL))
            );
            CREATE INDEX ix_deliveries_due ON deliveries (next_attempt_at) WHERE state IN ('pending', 'failed');
            CREATE INDEX ix_deliveries_state ON deliveries (state, webhook_id);
            CREATE TABLE attempts (
                delivery_id BIGINT NOT NULL REFERENCES deliveries (id),
                attempt INTEGER NOT NULL,
                started_at BIGINT NOT NULL,
                ended_at BIGINT NOT NULL,
                succeeded INTEGER NOT NULL,
                error TEXT,
                abandoned INTEGER NOT NULL DEFAULT 0,
                PRIMARY KEY (delivery_id, attempt)
            );
            CREATE TABLE pending_jobs (name TEXT PRIMARY KEY);
            """,
        // Every filter of the list served by an index (issue 31): the status, graph and source, and a handler's deliveries
        // (in a state). Each costs ingest an index entry per webhook; thread, assistant, time, deployment and verification
        // had theirs, the deliveries' state its own.
        _ => """
            CREATE INDEX ix_webhooks_status ON webhooks (status);
            CREATE INDEX ix_webhooks_graph_id ON webhooks (graph_id);
            CREATE INDEX ix_webhooks_source ON webhooks (source);
            CREATE INDEX ix_deliveries_handler ON deliveries (handler, state);
            """,
    ]);

    /// <summary>
    /// Leases up to <paramref name="max"/> due deliveries to <paramref name="owner"/> (sets <c>lease_owner</c>,
    /// <c>lease_until</c>, <c>leased_at</c> = now, and counts the attempt about to run in <c>attempts</c>) and returns them
    /// as they are now, with <see cref="LeftBehindAt"/> read from the row as it was before.
    /// </summary>
    private Task<List<LeasedRow>> LeaseDueAsync(DbConnection connection, DbTransaction transaction,
        string owner, DateTimeOffset now, DateTimeOffset leaseUntil, int max, CancellationToken cancellationToken) =>
        storage.Dialect.SkipsLockedRows
            ? LeaseSkippingLockedAsync(connection, transaction, owner, now, leaseUntil, max, cancellationToken)
            : LeaseAsOneWriterAsync(connection, transaction, owner, now, leaseUntil, max, cancellationToken);

    // SKIP LOCKED: a row another replica is claiming right now is passed over instead of waited for, and its claim
    // re-checks the lease on the row it finally locks, so a delivery is never leased to two owners at once. The lease a
    // row had is read in the same statement (due), so a lease left behind by a dead replica is seen as it was.
    private static async Task<List<LeasedRow>> LeaseSkippingLockedAsync(DbConnection connection, DbTransaction transaction,
        string owner, DateTimeOffset now, DateTimeOffset leaseUntil, int max, CancellationToken cancellationToken)
    {
        await using var claim = Command(connection, transaction, $"""
            WITH due AS (
                SELECT id, {LeftBehindAt} AS left_behind_at FROM deliveries
                WHERE state IN ('pending', 'failed') AND next_attempt_at <= @now
                  AND (lease_until IS NULL OR lease_until <= @now)
                ORDER BY next_attempt_at
                LIMIT @max
                FOR UPDATE SKIP LOCKED)
            UPDATE deliveries d
            SET lease_owner = @owner, lease_until = @lease_until, leased_at = @now, attempts = d.attempts + 1
            FROM due
            WHERE d.id = due.id
            RETURNING d.id, d.webhook_id, d.handler, d.attempts, d.round_start, due.left_behind_at, d.interrupt_id
            """);
        Add(claim, "owner", DbType.String, owner);
        Add(claim, "now", DbType.Int64, now.ToUnixTimeMilliseconds());
        Add(claim, "lease_until", DbType.Int64, leaseUntil.ToUnixTimeMilliseconds());
        Add(claim, "max", DbType.Int32, max);
        return await ReadLeasedRowsAsync(claim, cancellationToken);
    }

    // INDEXED BY: without statistics SQLite picked ix_deliveries_state and sorted every waiting delivery for each claim,
    // so a claim cost as much as the backlog was long; the due index hands out the first few in order.
    // Two statements, because SQLite's RETURNING sees only the new row, and a lease left behind must be seen as it was;
    // only this process writes, and it holds its write turn, so the rows chosen are the rows leased.
    private async Task<List<LeasedRow>> LeaseAsOneWriterAsync(DbConnection connection, DbTransaction transaction,
        string owner, DateTimeOffset now, DateTimeOffset leaseUntil, int max, CancellationToken cancellationToken)
    {
        await using var due = Command(connection, transaction, $"""
            SELECT id, webhook_id, handler, attempts + 1, round_start, {LeftBehindAt}, interrupt_id
            FROM deliveries {storage.Dialect.DueIndexHint("ix_deliveries_due")}
            WHERE state IN ('pending', 'failed') AND next_attempt_at <= @now
              AND (lease_until IS NULL OR lease_until <= @now)
            ORDER BY next_attempt_at
            LIMIT @max
            """);
        Add(due, "now", DbType.Int64, now.ToUnixTimeMilliseconds());
        Add(due, "max", DbType.Int32, max);
        var rows = await ReadLeasedRowsAsync(due, cancellationToken);
        if (rows.Count > 0)
        {
            await using var lease = Command(connection, transaction, $"""
                UPDATE deliveries SET lease_owner = @owner, lease_until = @lease_until, leased_at = @now, attempts = attempts + 1
                WHERE id IN ({InList(rows.Select(r => r.Id))})
                """);
            Add(lease, "owner", DbType.String, owner);
            Add(lease, "lease_until", DbType.Int64, leaseUntil.ToUnixTimeMilliseconds());
            Add(lease, "now", DbType.Int64, now.ToUnixTimeMilliseconds());
            await lease.ExecuteNonQueryAsync(cancellationToken);
        }

        return rows;
    }

    /// <summary>
    /// Where only this process uses the store (SQLite), any lease in it was left by a previous run that stopped
    /// mid-attempt: it is expired at once, and the next claim takes it over, recording that attempt as abandoned. Elsewhere
    /// (PostgreSQL) nothing: other replicas' leases are live work, and this process's own from a previous run cannot be
    /// told apart from them (a restarted container has a new name); every lease is reclaimed when it expires.
    /// </summary>
    public async Task RecoverAsync(CancellationToken cancellationToken)
    {
        if (!storage.Dialect.OneProcess)
        {
            return;
        }

        await using var connection = await storage.OpenAsync(cancellationToken);
        await using var recover = Command(connection, null, "UPDATE deliveries SET lease_until = 0 WHERE lease_owner IS NOT NULL");
        await recover.ExecuteNonQueryAsync(cancellationToken);
    }
}
