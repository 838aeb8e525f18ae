using System.Data.Common;
using System.Globalization;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Options;

namespace WebhookReceiver.Kernel;

/// <summary>The embedded store: one SQLite file in WAL mode, used by one process.</summary>
internal sealed class SqliteStorage : StorageKernel
{
    // The single history of the releases before the modules had their own (PRAGMA user_version): frozen, never edited.
    private static readonly string[] LegacySteps =
    [
        """
        CREATE TABLE webhooks (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            run_id TEXT NOT NULL UNIQUE,
            thread_id TEXT,
            assistant_id TEXT,
            graph_id TEXT,
            status TEXT,
            received_at INTEGER NOT NULL,
            payload BLOB NOT NULL
        );
        CREATE INDEX ix_webhooks_received_at ON webhooks (received_at);
        CREATE INDEX ix_webhooks_thread_id ON webhooks (thread_id);
        CREATE INDEX ix_webhooks_assistant_id ON webhooks (assistant_id);
        CREATE TABLE deliveries (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            webhook_id INTEGER NOT NULL REFERENCES webhooks (id),
            handler TEXT NOT NULL,
            state TEXT NOT NULL,
            attempts INTEGER NOT NULL DEFAULT 0,
            round_start INTEGER NOT NULL DEFAULT 0,
            next_attempt_at INTEGER,
            lease_owner TEXT,
            lease_until INTEGER,
            last_error TEXT,
            updated_at INTEGER NOT NULL,
            UNIQUE (webhook_id, handler)
        );
        CREATE INDEX ix_deliveries_due ON deliveries (next_attempt_at) WHERE state IN ('pending', 'failed');
        CREATE INDEX ix_deliveries_state ON deliveries (state, webhook_id);
        CREATE TABLE attempts (
            delivery_id INTEGER NOT NULL REFERENCES deliveries (id),
            attempt INTEGER NOT NULL,
            started_at INTEGER NOT NULL,
            ended_at INTEGER NOT NULL,
            succeeded INTEGER NOT NULL,
            error TEXT,
            PRIMARY KEY (delivery_id, attempt)
        );
        """,
        """
        CREATE TABLE readiness_probe (
            id INTEGER PRIMARY KEY CHECK (id = 1),
            probes INTEGER NOT NULL
        );
        """,
        // leased_at: when the attempt holding the lease started; abandoned: the attempt's owner stopped before its outcome.
        """
        ALTER TABLE deliveries ADD COLUMN leased_at INTEGER;
        ALTER TABLE attempts ADD COLUMN abandoned INTEGER NOT NULL DEFAULT 0;
        """,
        // A body without a run_id is stored too (run_id NULL), known by the SHA-256 of its bytes. SQLite cannot make a
        // column nullable in place, so the table is rebuilt with its ids, rows and id sequence (MigrateAsync turns foreign
        // keys off around it, as SQLite's own procedure for this requires). Payloads stored before bodies were redacted on
        // arrival are rewritten once at start-up (pending_jobs).
        """
        CREATE TABLE webhooks_rebuilt (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            run_id TEXT UNIQUE,
            thread_id TEXT,
            assistant_id TEXT,
            graph_id TEXT,
            status TEXT,
            received_at INTEGER NOT NULL,
            payload BLOB NOT NULL,
            body_hash BLOB UNIQUE
        );
        INSERT INTO webhooks_rebuilt (id, run_id, thread_id, assistant_id, graph_id, status, received_at, payload)
            SELECT id, run_id, thread_id, assistant_id, graph_id, status, received_at, payload FROM webhooks;
        DELETE FROM sqlite_sequence WHERE name = 'webhooks_rebuilt';
        INSERT INTO sqlite_sequence (name, seq) SELECT 'webhooks_rebuilt', seq FROM sqlite_sequence WHERE name = 'webhooks';
        DROP TABLE webhooks;
        ALTER TABLE webhooks_rebuilt RENAME TO webhooks;
        CREATE INDEX ix_webhooks_received_at ON webhooks (received_at);
        CREATE INDEX ix_webhooks_thread_id ON webhooks (thread_id);
        CREATE INDEX ix_webhooks_assistant_id ON webhooks (assistant_id);
        CREATE TABLE pending_jobs (name TEXT PRIMARY KEY);
        INSERT INTO pending_jobs (name) VALUES ('redact_payloads');
        """,
        // The LangGraph deployment a webhook came from, and what that deployment said about its run (LangGraph:Verify).
        """
        ALTER TABLE webhooks ADD COLUMN deployment TEXT;
        ALTER TABLE webhooks ADD COLUMN verification TEXT;
        ALTER TABLE webhooks ADD COLUMN verification_detail TEXT;
        ALTER TABLE webhooks ADD COLUMN verified_at INTEGER;
        CREATE INDEX ix_webhooks_deployment ON webhooks (deployment);
        CREATE INDEX ix_webhooks_verification ON webhooks (verification);
        """,
        // How each webhook arrived (posted by LangGraph, or recovered by a sweep of its API), and each deployment's sweep:
        // the updated_at (server ms) down to which every thread was swept, the range an unfinished sweep already covered
        // above it, and the lease that lets one replica sweep at a time.
        """
        ALTER TABLE webhooks ADD COLUMN source TEXT NOT NULL DEFAULT 'webhook';
        CREATE TABLE sweeps (
            deployment TEXT PRIMARY KEY,
            watermark INTEGER,
            covered_from INTEGER,
            covered_to INTEGER,
            lease_owner TEXT,
            lease_until INTEGER NOT NULL DEFAULT 0,
            swept_at INTEGER
        );
        """,
        // Human in the loop: the threads found waiting at interrupt() or a breakpoint, one row per pause (deployment,
        // thread, pause_key = the interrupt ids or the checkpoint). A delivery is now of a webhook or of an interrupt, so
        // deliveries.webhook_id becomes nullable: SQLite rebuilds the table with its ids and id sequence, as for webhooks.
        // interrupts.webhook_id has no reference: retention may purge the webhook that showed the pause.
        """
        CREATE TABLE interrupts (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            deployment TEXT NOT NULL,
            thread_id TEXT NOT NULL,
            pause_key TEXT NOT NULL,
            run_id TEXT,
            assistant_id TEXT,
            graph_id TEXT,
            webhook_id INTEGER,
            pending TEXT NOT NULL,
            next_nodes TEXT NOT NULL,
            checkpoint_id TEXT,
            seen_at INTEGER NOT NULL,
            state TEXT NOT NULL,
            resumed_at INTEGER,
            resumed_run_id TEXT,
            ended_at INTEGER,
            detail TEXT,
            UNIQUE (deployment, thread_id, pause_key)
        );
        CREATE INDEX ix_interrupts_state ON interrupts (state, id);
        CREATE INDEX ix_interrupts_thread_id ON interrupts (thread_id);
        CREATE INDEX ix_interrupts_resumed_run_id ON interrupts (resumed_run_id);
        CREATE TABLE deliveries_rebuilt (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            webhook_id INTEGER REFERENCES webhooks (id),
            interrupt_id INTEGER REFERENCES interrupts (id),
            handler TEXT NOT NULL,
            state TEXT NOT NULL,
            attempts INTEGER NOT NULL DEFAULT 0,
            round_start INTEGER NOT NULL DEFAULT 0,
            next_attempt_at INTEGER,
            lease_owner TEXT,
            lease_until INTEGER,
            last_error TEXT,
            updated_at INTEGER NOT NULL,
            leased_at INTEGER,
            UNIQUE (webhook_id, handler),
            UNIQUE (interrupt_id, handler),
            CHECK ((webhook_id IS NULL) <> (interrupt_id IS NULL))
        );
        INSERT INTO deliveries_rebuilt (id, webhook_id, handler, state, attempts, round_start, next_attempt_at, lease_owner, lease_until, last_error, updated_at, leased_at)
            SELECT id, webhook_id, handler, state, attempts, round_start, next_attempt_at, lease_owner, lease_until, last_error, updated_at, leased_at FROM deliveries;
        DELETE FROM sqlite_sequence WHERE name = 'deliveries_rebuilt';
        INSERT INTO sqlite_sequence (name, seq) SELECT 'deliveries_rebuilt', seq FROM sqlite_sequence WHERE name = 'deliveries';
        DROP TABLE deliveries;
        ALTER TABLE deliveries_rebuilt RENAME TO deliveries;
        CREATE INDEX ix_deliveries_due ON deliveries (next_attempt_at) WHERE state IN ('pending', 'failed');
        CREATE INDEX ix_deliveries_state ON deliveries (state, webhook_id);
        """,
        // Ingest writes every index of a webhook; deployment and verification are NULL unless deployments are configured,
        // so their indexes keep only the rows that have one (a filter `column = value` still uses them). With two fewer
        // index pages rewritten per committed batch, a 2 KB webhook costs 15 KB of WAL instead of 30 (issue #15).
        """
        DROP INDEX ix_webhooks_deployment;
        DROP INDEX ix_webhooks_verification;
        CREATE INDEX ix_webhooks_deployment ON webhooks (deployment) WHERE deployment IS NOT NULL;
        CREATE INDEX ix_webhooks_verification ON webhooks (verification) WHERE verification IS NOT NULL;
        """,
        // The W3C trace context of the span that received each webhook (NULL while tracing is off), so that its attempts join
        // that trace after a restart or on another replica. A nullable column without a default: no row is rewritten.
        """
        ALTER TABLE webhooks ADD COLUMN traceparent TEXT;
        """,
        // A resume in progress: the claim that lets one request at a time (of any replica) ask LangGraph to resume an
        // interrupt, and when it lapses should its process die holding it.
        """
        ALTER TABLE interrupts ADD COLUMN resume_claim TEXT;
        ALTER TABLE interrupts ADD COLUMN resume_claimed_until INTEGER;
        """,
        // Issue #24: the audit trail (who did what, when, to what, how it ended), kept for Audit:MaxAge; and who resumed an interrupt.
        """
        CREATE TABLE audit_records (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            at INTEGER NOT NULL,
            actor TEXT NOT NULL,
            action TEXT NOT NULL,
            target TEXT NOT NULL,
            outcome TEXT NOT NULL,
            detail TEXT
        );
        CREATE INDEX ix_audit_records_at ON audit_records (at);
        CREATE INDEX ix_audit_records_target ON audit_records (target, action);
        ALTER TABLE interrupts ADD COLUMN resumed_by TEXT;
        """,
        // Alerts a person acknowledges (Alerts/): at most one unresolved alert per cause (the partial unique index), so that
        // evaluators raising the same cause at once open one; the state index serves the list's filter.
        """
        CREATE TABLE alerts (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            kind TEXT NOT NULL,
            cause TEXT NOT NULL,
            subject TEXT NOT NULL,
            state TEXT NOT NULL,
            summary TEXT NOT NULL,
            occurrences INTEGER NOT NULL,
            first_error TEXT,
            last_error TEXT,
            run_ids TEXT,
            opened_at INTEGER NOT NULL,
            updated_at INTEGER NOT NULL,
            acknowledged_at INTEGER,
            acknowledged_by TEXT,
            resolved_at INTEGER
        );
        CREATE UNIQUE INDEX ux_alerts_unresolved_cause ON alerts (cause) WHERE resolved_at IS NULL;
        CREATE INDEX ix_alerts_state ON alerts (state, id);
        """,
    ];

    private static readonly StorageDialect SqliteDialect = new(StorageProvider.Sqlite, "INTEGER PRIMARY KEY AUTOINCREMENT", "BLOB",
        index => $"INDEXED BY {index}", PurgeTurnSql: null);

    private readonly string _connectionString;
    private readonly string _openPragmas;

    // SQLite lets one writer in at a time, and only this process writes to the file.
    private readonly SemaphoreSlim _writeTurn = new(1, 1);

    public SqliteStorage(IOptions<StorageOptions> options)
    {
        var storage = options.Value;
        var builder = new SqliteConnectionStringBuilder(storage.ConnectionString) { Pooling = true };
        if (builder.DataSource is { Length: > 0 } path && path != ":memory:" && Path.GetDirectoryName(Path.GetFullPath(path)) is { } folder)
        {
            Directory.CreateDirectory(folder);
        }

        _connectionString = builder.ToString();
        // wal_autocheckpoint = 0: the commit that fills 1,000 pages of log no longer copies them into the file, with its
        // fsyncs, while the webhooks of its batch wait; SqliteCheckpointer does that beside the writer.
        _openPragmas = $"PRAGMA synchronous = {storage.Synchronous.ToString().ToUpperInvariant()}; PRAGMA foreign_keys = ON; " +
            "PRAGMA busy_timeout = 30000; PRAGMA wal_autocheckpoint = 0;";
    }

    public override StorageDialect Dialect => SqliteDialect;

    public override async ValueTask<IDisposable?> WaitWriteTurnAsync(CancellationToken cancellationToken)
    {
        await _writeTurn.WaitAsync(cancellationToken);
        return new WriteTurn(_writeTurn);
    }

    public override ValueTask DisposeAsync()
    {
        _writeTurn.Dispose();
        return ValueTask.CompletedTask;
    }

    private sealed class WriteTurn(SemaphoreSlim turn) : IDisposable
    {
        private int _released;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _released, 1) == 0)
            {
                turn.Release();
            }
        }
    }

    public override async Task<DbConnection> OpenAsync(CancellationToken cancellationToken)
    {
        var connection = new SqliteConnection(_connectionString);
        try
        {
            await connection.OpenAsync(cancellationToken);
            await using var pragmas = Sql.Command(connection, null, _openPragmas);
            await pragmas.ExecuteNonQueryAsync(cancellationToken);
            return connection;
        }
        catch
        {
            await connection.DisposeAsync();
            throw;
        }
    }

    /// <summary>
    /// How long the log may grow before a checkpoint makes it start over (64 MiB). A passive checkpoint copies pages but
    /// never waits for readers, and the log only starts again from its beginning at a moment when no reader uses it: under
    /// a steady load, with the dispatcher's and the queries' short reads always overlapping, that moment never came, and
    /// the log grew by ~20 MB/s at 300 webhooks/s (the soak of issue #27 found it: 2.2 GB in two minutes).
    /// </summary>
    internal long WalRestartBytes { get; init; } = 64L << 20;

    /// <summary>
    /// Copies the write-ahead log's committed pages into the database file: a passive checkpoint, which waits for no
    /// reader and does not hold the write turn, so ingest goes on meanwhile (sqlite.org/wal.html#ckpt).
    /// </summary>
    public async Task CheckpointAsync(CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken);
        long logFrames;
        await using (var checkpoint = Sql.Command(connection, null, "PRAGMA wal_checkpoint(PASSIVE);"))
        await using (var result = await checkpoint.ExecuteReaderAsync(cancellationToken))
        {
            // (busy, frames in the log, frames copied); -1 frames when the file is not in WAL mode.
            logFrames = await result.ReadAsync(cancellationToken) ? result.GetInt64(1) : 0;
        }

        if (logFrames <= 0 || logFrames * await PageSizeAsync(connection, cancellationToken) < WalRestartBytes)
        {
            return;
        }

        // TRUNCATE waits for the readers of the log to finish (short reads: milliseconds), copies the rest, and empties
        // the file, so that the next commit writes from its start. The write turn keeps this process's writers waiting
        // on it rather than in SQLite's busy loop; a reader that does not finish within the second leaves it for the next
        // round.
        using var turn = await WaitWriteTurnAsync(cancellationToken);
        await using var shortWait = Sql.Command(connection, null, "PRAGMA busy_timeout = 1000;");
        await shortWait.ExecuteNonQueryAsync(cancellationToken);
        try
        {
            await using var restart = Sql.Command(connection, null, "PRAGMA wal_checkpoint(TRUNCATE);");
            await restart.ExecuteNonQueryAsync(cancellationToken);
        }
        finally
        {
            await using var usualWait = Sql.Command(connection, null, "PRAGMA busy_timeout = 30000;");
            await usualWait.ExecuteNonQueryAsync(CancellationToken.None);
        }
    }

    private static async Task<long> PageSizeAsync(DbConnection connection, CancellationToken cancellationToken)
    {
        await using var pageSize = Sql.Command(connection, null, "PRAGMA page_size;");
        return Convert.ToInt64(await pageSize.ExecuteScalarAsync(cancellationToken), CultureInfo.InvariantCulture);
    }

    protected override IReadOnlyList<string> LegacyMigrations => LegacySteps;

    protected override async Task<DbTransaction> BeginMigrationAsync(DbConnection connection, CancellationToken cancellationToken)
    {
        await using (var wal = Sql.Command(connection, null, "PRAGMA journal_mode = WAL;"))
        {
            await wal.ExecuteNonQueryAsync(cancellationToken);
        }

        // Off outside the transaction (it cannot change inside one), so that a migration may rebuild a referenced table;
        // the references are checked before the commit instead.
        await using (var foreignKeysOff = Sql.Command(connection, null, "PRAGMA foreign_keys = OFF;"))
        {
            await foreignKeysOff.ExecuteNonQueryAsync(cancellationToken);
        }

        return await connection.BeginTransactionAsync(cancellationToken);
    }

    protected override async Task<int> ReadLegacyVersionAsync(DbConnection connection, DbTransaction transaction, CancellationToken cancellationToken)
    {
        await using var version = Sql.Command(connection, transaction, "PRAGMA user_version;");
        return Convert.ToInt32(await version.ExecuteScalarAsync(cancellationToken), CultureInfo.InvariantCulture);
    }

    protected override string RecordLegacyVersionSql(int version) => $"PRAGMA user_version = {version};";

    protected override async Task CheckMigrationAsync(DbConnection connection, DbTransaction transaction, CancellationToken cancellationToken)
    {
        await using var check = Sql.Command(connection, transaction, "PRAGMA foreign_key_check;");
        if (await check.ExecuteScalarAsync(cancellationToken) is not null)
        {
            throw new InvalidOperationException("The inbox migration left rows whose references are broken; nothing was changed.");
        }
    }

    protected override async Task EndMigrationAsync(DbConnection connection, CancellationToken cancellationToken)
    {
        await using var foreignKeysOn = Sql.Command(connection, null, "PRAGMA foreign_keys = ON;");
        await foreignKeysOn.ExecuteNonQueryAsync(cancellationToken);
    }

    /// <summary>
    /// Ready means writable, and only a committed write shows it: a read-only file fails as soon as a write begins, but a
    /// full disk only when the write-ahead log must grow, which happens at commit. So the probe commits one small row
    /// (a page in the log, reused once the log is checkpointed).
    /// </summary>
    public override async Task PingAsync(CancellationToken cancellationToken)
    {
        await base.PingAsync(cancellationToken);
        await using var connection = await OpenAsync(cancellationToken);
        await using var probe = Sql.Command(connection, null, """
            INSERT INTO readiness_probe (id, probes) VALUES (1, 1)
            ON CONFLICT (id) DO UPDATE SET probes = probes + 1
            """);
        await probe.ExecuteNonQueryAsync(cancellationToken);
    }
}
