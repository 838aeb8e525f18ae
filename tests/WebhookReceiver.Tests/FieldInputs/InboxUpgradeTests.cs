using System.Data.Common;
using System.Reflection;
using System.Text;
using WebhookReceiver.Kernel;
using WebhookReceiver.Tests.Infrastructure;
using WebhookReceiver.Tests.Storage;

namespace WebhookReceiver.Tests.FieldInputs;

/// <summary>
/// A store as the previous release left it (its payloads holding live tokens, run_id required) brought up to date by
/// the service's start-up, on each engine: rows, ids and references kept, tokens redacted once.
/// </summary>
public abstract class InboxUpgradeTests
{
    /// <summary>Schema version of the release before run_id became optional and bodies were redacted on arrival.</summary>
    protected abstract int PreviousReleaseVersion { get; }

    protected abstract Task<DbConnection> OpenAsync();

    /// <summary>Records <paramref name="version"/> the way the engine's migrator does.</summary>
    protected abstract string RecordVersionSql(int version);

    protected abstract Dictionary<string, string?> StoreSettings { get; }

    /// <summary>The engine's stores on this store.</summary>
    private protected abstract TestStores CreateStores();

    /// <summary>Moves the engine's id sequences past ids inserted explicitly, as real inserts would have.</summary>
    protected virtual string AfterExplicitIdsSql => "SELECT 1";

    private static readonly string OldPayload =
        $$$"""{"run_id":"old-run","status":"success","kwargs":{"webhook":"http://127.0.0.1:5080/webhooks/langgraph?token={{{TestApp.Token}}}"}}""";

    [Fact]
    public async Task The_start_up_migrates_a_previous_release_store_keeping_its_rows_and_redacts_their_tokens_once()
    {
        await using (var connection = await OpenAsync())
        {
            var migrations = LegacySteps(CreateStores().Kernel);
            foreach (var sql in migrations.Take(PreviousReleaseVersion).Select((sql, i) => sql + ";\n" + RecordVersionSql(i + 1)))
            {
                await ExecuteAsync(connection, sql);
            }

            await ExecuteAsync(connection, $"""
                INSERT INTO webhooks (id, run_id, status, received_at, payload) VALUES (41, 'purged-run', 'success', 1, @payload);
                INSERT INTO webhooks (id, run_id, status, received_at, payload) VALUES (42, 'old-run', 'success', 2, @payload);
                INSERT INTO deliveries (id, webhook_id, handler, state, attempts, updated_at) VALUES (7, 42, 'log', 'succeeded', 1, 2);
                INSERT INTO attempts (delivery_id, attempt, started_at, ended_at, succeeded) VALUES (7, 1, 2, 3, 1);
                DELETE FROM webhooks WHERE id = 41;
                """, Encoding.UTF8.GetBytes(OldPayload));
            await ExecuteAsync(connection, AfterExplicitIdsSql);
        }

        var settings = new Dictionary<string, string?>(StoreSettings) { ["WebhookReceiver:Handlers:Log:Enabled"] = "false" };
        await using (var app = new TestApp(settings))
        {
            // Started: migrated, and the one-off job has run.
            var newer = await app.PostWebhookAsync("""{"status":"success"}""");
            Assert.Equal(System.Net.HttpStatusCode.Accepted, newer.StatusCode);
            Assert.True((long)(await Json.ReadAsync(newer))["id"]! > 41, "an id of a purged row was handed out again");
        }

        await using (var connection = await OpenAsync())
        {
            await using var read = connection.CreateCommand();
            read.CommandText = "SELECT w.run_id, w.payload, d.id, d.state FROM webhooks w JOIN deliveries d ON d.webhook_id = w.id WHERE w.id = 42";
            await using var reader = await read.ExecuteReaderAsync();
            Assert.True(await reader.ReadAsync());
            Assert.Equal("old-run", reader.GetString(0));
            var payload = Encoding.UTF8.GetString((byte[])reader[1]);
            Assert.Equal(OldPayload.Replace(TestApp.Token, SecretRedactor.Mask, StringComparison.Ordinal), payload);
            Assert.Equal(7, Convert.ToInt64(reader[2], System.Globalization.CultureInfo.InvariantCulture));
            Assert.Equal("succeeded", reader.GetString(3));
        }

        // Its tables became each module's baseline, and every module then went on to this build's version.
        await using (var connection = await OpenAsync())
        {
            await using var read = connection.CreateCommand();
            read.CommandText = "SELECT module, MAX(version) FROM storage_migrations GROUP BY module";
            var versions = new Dictionary<string, int>();
            await using var reader = await read.ExecuteReaderAsync();
            while (await reader.ReadAsync())
            {
                versions[reader.GetString(0)] = Convert.ToInt32(reader.GetValue(1), System.Globalization.CultureInfo.InvariantCulture);
            }

            Assert.Equal(TestStores.Schemas.ToDictionary(s => s.Module, s => s.Steps.Count), versions);
        }

        // Once: the job finds its marker gone and does nothing, whatever it would redact.
        await using var stores = CreateStores();
        Assert.Equal(0, await stores.Webhooks.RedactStoredPayloadsAsync(_ => [1, 2, 3], CancellationToken.None));
    }

    [Fact]
    public async Task A_store_of_a_single_schema_version_newer_than_the_build_is_refused_with_a_message_naming_both_versions()
    {
        await using var stores = CreateStores();
        var known = LegacySteps(stores.Kernel).Length;
        await using (var connection = await OpenAsync())
        {
            await ExecuteAsync(connection, RecordVersionSql(known + 1));
        }

        var failure = await Assert.ThrowsAsync<InvalidOperationException>(() => stores.MigrateAsync());

        Assert.Equal($"The inbox schema is version {known + 1}, newer than this build's {known}: run a newer release, or restore a backup.",
            failure.Message);
    }

    /// <summary>The frozen single-version history the engine keeps for stores made before the modules had their own.</summary>
    private static string[] LegacySteps(StorageKernel kernel) =>
        (string[])kernel.GetType().GetField("LegacySteps", BindingFlags.NonPublic | BindingFlags.Static)!.GetValue(null)!;

    private static async Task ExecuteAsync(DbConnection connection, string sql, byte[]? payload = null)
    {
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        if (payload is not null)
        {
            var parameter = command.CreateParameter();
            parameter.ParameterName = "payload";
            parameter.Value = payload;
            command.Parameters.Add(parameter);
        }

        await command.ExecuteNonQueryAsync();
    }
}

public sealed class SqliteInboxUpgradeTests : InboxUpgradeTests, IDisposable
{
    private readonly TempDirectory _directory = new();

    private string ConnectionString => $"Data Source={Path.Combine(_directory.Path, "webhooks.db")}";

    protected override int PreviousReleaseVersion => 2;

    protected override async Task<DbConnection> OpenAsync()
    {
        var connection = new Microsoft.Data.Sqlite.SqliteConnection(ConnectionString);
        await connection.OpenAsync();
        return connection;
    }

    protected override string RecordVersionSql(int version) => $"PRAGMA user_version = {version};";

    protected override Dictionary<string, string?> StoreSettings => new() { ["WebhookReceiver:Storage:ConnectionString"] = ConnectionString };

    private protected override TestStores CreateStores() => TestStores.Sqlite(ConnectionString);

    public void Dispose()
    {
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        _directory.Dispose();
    }
}

[Trait("Category", "System")]
public sealed class PostgresInboxUpgradeTests : InboxUpgradeTests, IAsyncLifetime
{
    private PostgresDatabase _database = null!;

    public async Task InitializeAsync() => _database = await PostgresDatabase.CreateAsync();

    public async Task DisposeAsync() => await _database.DisposeAsync();

    protected override int PreviousReleaseVersion => 1;

    protected override async Task<DbConnection> OpenAsync()
    {
        var connection = new Npgsql.NpgsqlConnection(_database.ConnectionString);
        await connection.OpenAsync();
        return connection;
    }

    protected override string RecordVersionSql(int version) => $"""
        CREATE TABLE IF NOT EXISTS webhook_receiver_schema (version INTEGER PRIMARY KEY, applied_at TIMESTAMPTZ NOT NULL DEFAULT now());
        INSERT INTO webhook_receiver_schema (version) VALUES ({version});
        """;

    protected override Dictionary<string, string?> StoreSettings => new()
    {
        ["WebhookReceiver:Storage:Provider"] = "Postgres",
        ["WebhookReceiver:Storage:ConnectionString"] = _database.ConnectionString,
    };

    private protected override TestStores CreateStores() => TestStores.Postgres(_database.ConnectionString);

    protected override string AfterExplicitIdsSql => """
        SELECT setval(pg_get_serial_sequence('webhooks', 'id'), 42);
        SELECT setval(pg_get_serial_sequence('deliveries', 'id'), 7);
        """;
}
