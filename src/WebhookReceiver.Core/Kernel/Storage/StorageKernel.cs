using System.Data;
using System.Data.Common;
using System.Globalization;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace WebhookReceiver.Kernel;

/// <summary>
/// The storage kernel: connections to the configured engine (its settings applied), the write turn, the engine's
/// dialect, and the migration runner that brings every module's schema up to date. Feature modules own their tables,
/// SQL and migrations (a <see cref="StoreSchema"/> each) and get this injected. Times are stored as Unix milliseconds,
/// so that both engines compare them the same way.
/// </summary>
internal abstract class StorageKernel : IAsyncDisposable, IDisposable
{
    /// <summary>Where each module's schema version is recorded: one row per step applied.</summary>
    private const string MigrationsTable = "storage_migrations";

    /// <summary>What differs between engines in the SQL the modules write.</summary>
    public abstract StorageDialect Dialect { get; }

    /// <summary>Opens a connection ready for use (engine settings applied).</summary>
    public abstract Task<DbConnection> OpenAsync(CancellationToken cancellationToken);

    /// <summary>
    /// Waits for this process's turn to write, where the engine lets one writer in at a time; dispose the result to pass
    /// the turn on. Null where writers need no turns. Taken by the writers so that they queue here, without a thread,
    /// instead of in the engine's lock, whose waiters sleep and retry.
    /// </summary>
    public virtual ValueTask<IDisposable?> WaitWriteTurnAsync(CancellationToken cancellationToken) => ValueTask.FromResult<IDisposable?>(null);

    /// <summary>The kernel, for the configured engine; options are validated first, so an unknown name never gets here.</summary>
    public static StorageKernel Create(IServiceProvider services)
    {
        var provider = services.GetRequiredService<IOptions<StorageOptions>>().Value.Provider;
        return provider switch
        {
            StorageProvider.Sqlite => ActivatorUtilities.CreateInstance<SqliteStorage>(services),
            StorageProvider.Postgres => ActivatorUtilities.CreateInstance<PostgresStorage>(services),
            _ => throw new InvalidOperationException($"WebhookReceiver:Storage:Provider '{provider}' is not one of {string.Join(", ", Enum.GetNames<StorageProvider>())}."),
        };
    }

    /// <summary>The kernel's own table: the row the SQLite readiness probe rewrites (unused, and harmless, on PostgreSQL).</summary>
    public static readonly StoreSchema Schema = new("kernel", Layer: 0, LegacyBaseline: 0,
    [
        _ => """
            CREATE TABLE IF NOT EXISTS readiness_probe (
                id INTEGER PRIMARY KEY CHECK (id = 1),
                probes INTEGER NOT NULL
            );
            """,
    ]);

    /// <summary>
    /// The single schema history of the releases before the modules had their own (entry i upgrades version i to i + 1),
    /// frozen: it only brings a store made by such a release up to the tables that are each module's baseline.
    /// </summary>
    protected abstract IReadOnlyList<string> LegacyMigrations { get; }

    /// <summary>The single schema version a release before the modules had their own recorded; 0 when none did.</summary>
    protected abstract Task<int> ReadLegacyVersionAsync(DbConnection connection, DbTransaction transaction, CancellationToken cancellationToken);

    /// <summary>The statement, run with a legacy step, that records <paramref name="version"/> the way those releases did.</summary>
    protected abstract string RecordLegacyVersionSql(int version);

    /// <summary>
    /// Prepares <paramref name="connection"/> for migrating and begins the one transaction every step runs in, holding
    /// whatever keeps migrations one at a time.
    /// </summary>
    protected abstract Task<DbTransaction> BeginMigrationAsync(DbConnection connection, CancellationToken cancellationToken);

    /// <summary>Checks, before the commit, what the steps run this time left behind; throws to roll them all back.</summary>
    protected virtual Task CheckMigrationAsync(DbConnection connection, DbTransaction transaction, CancellationToken cancellationToken) =>
        Task.CompletedTask;

    /// <summary>Undoes on <paramref name="connection"/> what <see cref="BeginMigrationAsync"/> set for migrating.</summary>
    protected virtual Task EndMigrationAsync(DbConnection connection, CancellationToken cancellationToken) => Task.CompletedTask;

    /// <summary>
    /// Brings every module's schema up to this build's version in one transaction, modules in layer order: every step,
    /// or none. A store made by a release before the modules had their own versions is first brought to the last single
    /// version, and its tables then count as each module's baseline (<see cref="StoreSchema.LegacyBaseline"/>). A store
    /// with a module (or single) version newer than this build knows is refused (<see cref="InvalidOperationException"/>)
    /// and left as it is, since this build would misread it.
    /// </summary>
    public async Task MigrateAsync(IEnumerable<StoreSchema> schemas, CancellationToken cancellationToken)
    {
        var ordered = schemas.DistinctBy(s => s.Module).OrderBy(s => s.Layer).ToList();
        await using var connection = await OpenAsync(cancellationToken);
        await using (var transaction = await BeginMigrationAsync(connection, cancellationToken))
        {
            await using (var table = Sql.Command(connection, transaction, $"""
                CREATE TABLE IF NOT EXISTS {MigrationsTable} (
                    module TEXT NOT NULL,
                    version INTEGER NOT NULL,
                    applied_at BIGINT NOT NULL,
                    PRIMARY KEY (module, version)
                );
                """))
            {
                await table.ExecuteNonQueryAsync(cancellationToken);
            }

            var versions = new Dictionary<string, int>(StringComparer.Ordinal);
            await using (var read = Sql.Command(connection, transaction, $"SELECT module, MAX(version) FROM {MigrationsTable} GROUP BY module"))
            await using (var reader = await read.ExecuteReaderAsync(cancellationToken))
            {
                while (await reader.ReadAsync(cancellationToken))
                {
                    versions[reader.GetString(0)] = Convert.ToInt32(reader.GetValue(1), CultureInfo.InvariantCulture);
                }
            }

            var changed = false;
            if (versions.Count == 0 && await ReadLegacyVersionAsync(connection, transaction, cancellationToken) is > 0 and var legacy)
            {
                await UpgradeLegacyAsync(connection, transaction, legacy, cancellationToken);
                foreach (var schema in ordered.Where(s => s.LegacyBaseline > 0))
                {
                    await RecordAsync(connection, transaction, schema.Module, schema.LegacyBaseline, cancellationToken);
                    versions[schema.Module] = schema.LegacyBaseline;
                }

                changed = true;
            }

            foreach (var schema in ordered)
            {
                var current = versions.GetValueOrDefault(schema.Module);
                var known = schema.Steps.Count;
                if (current > known)
                {
                    throw new InvalidOperationException(
                        $"The store's {schema.Module} schema is version {current}, newer than this build's {known}: run a newer release, or restore a backup.");
                }

                for (var next = current; next < known; next++)
                {
                    await using (var step = Sql.Command(connection, transaction, schema.Steps[next](Dialect)))
                    {
                        await step.ExecuteNonQueryAsync(cancellationToken);
                    }

                    await RecordAsync(connection, transaction, schema.Module, next + 1, cancellationToken);
                    changed = true;
                }
            }

            if (changed)
            {
                await CheckMigrationAsync(connection, transaction, cancellationToken);
            }

            await transaction.CommitAsync(cancellationToken);
        }

        await EndMigrationAsync(connection, cancellationToken);
    }

    private async Task UpgradeLegacyAsync(DbConnection connection, DbTransaction transaction, int current, CancellationToken cancellationToken)
    {
        var known = LegacyMigrations.Count;
        if (current > known)
        {
            throw new InvalidOperationException(
                $"The inbox schema is version {current}, newer than this build's {known}: run a newer release, or restore a backup.");
        }

        for (var next = current; next < known; next++)
        {
            await using var migrate = Sql.Command(connection, transaction, LegacyMigrations[next] + "\n" + RecordLegacyVersionSql(next + 1));
            await migrate.ExecuteNonQueryAsync(cancellationToken);
        }
    }

    private static async Task RecordAsync(DbConnection connection, DbTransaction transaction, string module, int version, CancellationToken cancellationToken)
    {
        await using var record = Sql.Command(connection, transaction,
            $"INSERT INTO {MigrationsTable} (module, version, applied_at) VALUES (@module, @version, @at)");
        Sql.Add(record, "module", DbType.String, module);
        Sql.Add(record, "version", DbType.Int32, version);
        Sql.Add(record, "at", DbType.Int64, DateTimeOffset.UtcNow.ToUnixTimeMilliseconds());
        await record.ExecuteNonQueryAsync(cancellationToken);
    }

    /// <summary>Throws when the store cannot be reached, has no schema, or cannot be written.</summary>
    public virtual async Task PingAsync(CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken);
        await using var ping = Sql.Command(connection, null, $"SELECT COUNT(*) FROM {MigrationsTable} WHERE version = 0");
        await ping.ExecuteScalarAsync(cancellationToken);
    }

    public abstract ValueTask DisposeAsync();

    public void Dispose() => DisposeAsync().AsTask().GetAwaiter().GetResult();
}

/// <summary>
/// A module's schema history: step i upgrades the module's tables from version i to i + 1; append, never edit. Each step
/// is written once for both engines, with <see cref="StorageDialect"/> naming what differs.
/// </summary>
/// <param name="Module">The name its versions are recorded under.</param>
/// <param name="Layer">Where the module sits in the layering: lower layers migrate first, so a step may use the tables below it.</param>
/// <param name="LegacyBaseline">The version the module's tables are at in a store made by a release with one schema version
/// for every table (they were created there): 0 when that release had none of them.</param>
internal sealed record StoreSchema(string Module, int Layer, int LegacyBaseline, IReadOnlyList<Func<StorageDialect, string>> Steps);

/// <summary>The few types and statements that differ between the engines.</summary>
/// <param name="Provider">The engine.</param>
/// <param name="IdColumn">The type of a table's own id column, with its key: an increasing number never handed out twice.</param>
/// <param name="BlobType">The type of a column of bytes.</param>
/// <param name="DueIndexHint">Written after a table name where the engine must be told to read an index in order (SQLite's <c>INDEXED BY</c>): pass the index name.</param>
/// <param name="PurgeTurnSql">Run first in a purge's transaction where several processes share the store, so that their purges
/// take turns (their statements pick the same expired rows, and two interleaved would deadlock); null where one process writes.</param>
internal sealed record StorageDialect(StorageProvider Provider, string IdColumn, string BlobType, Func<string, string> DueIndexHint, string? PurgeTurnSql)
{
    /// <summary>
    /// An ORDER BY key the engine is to sort by, not read in the table's order: without statistics SQLite walks a table
    /// in id order until the page is full whenever a list is ordered by id, and so reads every row when a range filter
    /// (a time window) matches few; written <c>+id</c> it searches the range's index instead and sorts what it found.
    /// </summary>
    public string SortedKey(string column) => Provider == StorageProvider.Sqlite ? "+" + column : column;

    /// <summary>Only this process writes to the store (SQLite): a lease left in it was left by a previous run of this process.</summary>
    public bool OneProcess => Provider == StorageProvider.Sqlite;

    /// <summary>Rows can be claimed with <c>FOR UPDATE SKIP LOCKED</c>, so that processes claiming at once pass each other's rows over.</summary>
    public bool SkipsLockedRows => Provider == StorageProvider.Postgres;
}

/// <summary>The ADO.NET helpers every store uses.</summary>
internal static class Sql
{
    public static DbCommand Command(DbConnection connection, DbTransaction? transaction, string sql)
    {
        var command = connection.CreateCommand();
        command.CommandText = sql;
        command.Transaction = transaction;
        return command;
    }

    public static DbParameter Add(DbCommand command, string name, DbType type, object? value = null)
    {
        var parameter = command.CreateParameter();
        // Named with its '@', as the SQL writes it: Microsoft.Data.Sqlite then finds it with one lookup, where a bare name
        // made it build a prefixed copy at every execution (12% of the bytes allocated under a flood of webhooks, issue #26).
        parameter.ParameterName = name.StartsWith('@') ? name : "@" + name;
        parameter.DbType = type;
        parameter.Value = value ?? DBNull.Value;
        command.Parameters.Add(parameter);
        return parameter;
    }

    public static DateTimeOffset Time(long unixMilliseconds) => DateTimeOffset.FromUnixTimeMilliseconds(unixMilliseconds);

    // Ids are numbers the store produced, never user text, so they are safe to inline.
    public static string InList(IEnumerable<long> ids) =>
        string.Join(',', ids.Select(id => id.ToString(CultureInfo.InvariantCulture)));

    public static string? NullableString(DbDataReader reader, int ordinal) => reader.IsDBNull(ordinal) ? null : reader.GetString(ordinal);

    /// <summary>
    /// The WHERE of a list: only the filters given become terms, each a plain comparison, so the engine can use an index
    /// that serves them (a term written as <c>@x IS NULL OR col = @x</c> made SQLite scan the table whatever was given).
    /// </summary>
    public sealed class Filter(DbCommand command)
    {
        private readonly List<string> _terms = [];

        /// <summary>Adds <paramref name="condition"/> (which names <paramref name="name"/>) and its parameter, when <paramref name="value"/> is given.</summary>
        public Filter Term(string condition, string name, DbType type, object? value)
        {
            if (value is not null)
            {
                _terms.Add(condition);
                Add(command, name, type, value);
            }

            return this;
        }

        /// <summary>Adds a condition with no parameter of its own.</summary>
        public Filter Always(string condition)
        {
            _terms.Add(condition);
            return this;
        }

        public override string ToString() => _terms.Count == 0 ? "TRUE" : string.Join(" AND ", _terms);
    }
}
