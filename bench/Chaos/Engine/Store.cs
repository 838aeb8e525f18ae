using System.Data.Common;
using Microsoft.Data.Sqlite;
using Npgsql;

namespace WebhookReceiver.Chaos;

/// <summary>One stored delivery: its id (the forward handler's <c>webhook-id</c> is <c>delivery_{id}</c>), handler, state, attempts.</summary>
public sealed record StoredDelivery(long Id, string Handler, string State, int Attempts, int Abandoned);

/// <summary>What the store holds at the end: run ids (how many rows each) and every delivery.</summary>
public sealed record StoreContents(IReadOnlyDictionary<string, int> Runs, IReadOnlyDictionary<string, List<StoredDelivery>> Deliveries, int WebhooksWithoutRunId);

/// <summary>The store read directly (not through the API: tens of thousands of rows), on either engine.</summary>
public sealed class Store(string provider, string connectionString)
{
    public bool IsSqlite => provider == "Sqlite";

    public async Task<long> UnfinishedDeliveriesAsync() =>
        Convert.ToInt64(await ScalarAsync("SELECT COUNT(*) FROM deliveries WHERE state IN ('pending', 'failed')"), System.Globalization.CultureInfo.InvariantCulture);

    public async Task<long> CountAsync(string table) =>
        Convert.ToInt64(await ScalarAsync($"SELECT COUNT(*) FROM {table}"), System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>Which of <paramref name="runIds"/> the store holds.</summary>
    public async Task<HashSet<string>> HeldAsync(IReadOnlyCollection<string> runIds)
    {
        var wanted = runIds.ToHashSet();
        return (await RunIdsAsync("SELECT run_id FROM webhooks WHERE run_id IS NOT NULL")).Where(wanted.Contains).ToHashSet();
    }

    /// <summary>The runs the sweep stored (their webhook never came).</summary>
    public async Task<HashSet<string>> SweptAsync() => (await RunIdsAsync("SELECT run_id FROM webhooks WHERE source = 'sweep' AND run_id IS NOT NULL")).ToHashSet();

    /// <summary>The state of the pause a run made, as the receiver recorded it ("none" when it recorded none).</summary>
    public async Task<string> InterruptStateAsync(string runId)
    {
        await using var connection = await OpenAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = $"SELECT state FROM interrupts WHERE run_id = '{runId.Replace("'", "", StringComparison.Ordinal)}'";
        return await command.ExecuteScalarAsync() as string ?? "none";
    }

    private async Task<List<string>> RunIdsAsync(string sql)
    {
        var ids = new List<string>();
        await using var connection = await OpenAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync())
        {
            ids.Add(reader.GetString(0));
        }

        return ids;
    }

    public async Task<StoreContents> ReadAsync()
    {
        var runs = new Dictionary<string, int>();
        var deliveries = new Dictionary<string, List<StoredDelivery>>();
        var withoutRunId = 0;
        await using var connection = await OpenAsync();
        await using (var command = connection.CreateCommand())
        {
            command.CommandText = "SELECT run_id, COUNT(*) FROM webhooks GROUP BY run_id";
            await using var reader = await command.ExecuteReaderAsync();
            while (await reader.ReadAsync())
            {
                if (reader.IsDBNull(0))
                {
                    withoutRunId += reader.GetInt32(1);
                }
                else
                {
                    runs[reader.GetString(0)] = Convert.ToInt32(reader.GetValue(1), System.Globalization.CultureInfo.InvariantCulture);
                }
            }
        }

        await using (var command = connection.CreateCommand())
        {
            command.CommandText = """
                SELECT w.run_id, d.id, d.handler, d.state, d.attempts,
                       (SELECT COUNT(*) FROM attempts a WHERE a.delivery_id = d.id AND a.abandoned = 1)
                FROM deliveries d JOIN webhooks w ON w.id = d.webhook_id WHERE w.run_id IS NOT NULL
                """;
            await using var reader = await command.ExecuteReaderAsync();
            while (await reader.ReadAsync())
            {
                var runId = reader.GetString(0);
                if (!deliveries.TryGetValue(runId, out var list))
                {
                    deliveries[runId] = list = [];
                }

                list.Add(new StoredDelivery(reader.GetInt64(1), reader.GetString(2), reader.GetString(3),
                    Convert.ToInt32(reader.GetValue(4), System.Globalization.CultureInfo.InvariantCulture),
                    Convert.ToInt32(reader.GetValue(5), System.Globalization.CultureInfo.InvariantCulture)));
            }
        }

        return new StoreContents(runs, deliveries, withoutRunId);
    }

    /// <summary>
    /// SQLite: <c>PRAGMA integrity_check</c> and <c>foreign_key_check</c> ("ok" when both are clean). PostgreSQL:
    /// amcheck's <c>bt_index_check</c> on every index of the receiver's tables, and no orphan rows ("ok" when clean).
    /// </summary>
    public async Task<string> IntegrityAsync()
    {
        await using var connection = await OpenAsync();
        var problems = new List<string>();
        if (IsSqlite)
        {
            var integrity = (string)(await ScalarAsync(connection, "PRAGMA integrity_check"))!;
            if (integrity != "ok")
            {
                problems.Add($"integrity_check: {integrity}");
            }

            if (await ScalarAsync(connection, "PRAGMA foreign_key_check") is { } row)
            {
                problems.Add($"foreign_key_check: {row}");
            }
        }
        else
        {
            await ScalarAsync(connection, "CREATE EXTENSION IF NOT EXISTS amcheck");
            var indexes = Convert.ToInt64(await ScalarAsync(connection, """
                SELECT COUNT(bt_index_check(c.oid, true)) FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
                JOIN pg_class t ON t.oid = i.indrelid JOIN pg_am am ON am.oid = c.relam
                WHERE am.amname = 'btree' AND t.relname IN ('webhooks', 'deliveries', 'attempts', 'interrupts', 'sweeps')
                """), System.Globalization.CultureInfo.InvariantCulture);
            if (indexes == 0)
            {
                problems.Add("no index checked");
            }
        }

        var orphans = Convert.ToInt64(await ScalarAsync(connection, """
            SELECT (SELECT COUNT(*) FROM deliveries d WHERE NOT EXISTS (SELECT 1 FROM webhooks w WHERE w.id = d.webhook_id))
                 + (SELECT COUNT(*) FROM attempts a WHERE NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.id = a.delivery_id))
            """), System.Globalization.CultureInfo.InvariantCulture);
        if (orphans != 0)
        {
            problems.Add($"{orphans} orphan rows");
        }

        return problems.Count == 0 ? "ok" : string.Join("; ", problems);
    }

    private async Task<object?> ScalarAsync(string sql)
    {
        await using var connection = await OpenAsync();
        return await ScalarAsync(connection, sql);
    }

    private static async Task<object?> ScalarAsync(DbConnection connection, string sql)
    {
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        command.CommandTimeout = 300;
        return await command.ExecuteScalarAsync();
    }

    private async Task<DbConnection> OpenAsync()
    {
        DbConnection connection = IsSqlite
            ? new SqliteConnection(new SqliteConnectionStringBuilder(connectionString) { Pooling = false }.ToString())
            : new NpgsqlConnection(new NpgsqlConnectionStringBuilder(connectionString) { Pooling = false }.ToString());
        await connection.OpenAsync();
        if (IsSqlite)
        {
            await ScalarAsync(connection, "PRAGMA busy_timeout = 30000");
        }

        return connection;
    }
}
