using Npgsql;

namespace WebhookReceiver.Tests.Infrastructure;

/// <summary>
/// A database of its own for one test on the PostgreSQL server that scripts/test.sh starts, dropped afterwards.
/// Without that server the test fails and says how to get one: a store test that silently passes proves nothing.
/// </summary>
public sealed class PostgresDatabase : IAsyncDisposable
{
    public const string ServerVariable = "WEBHOOKRECEIVER_TEST_POSTGRES";

    private readonly string _server;

    private PostgresDatabase(string server, string name, string connectionString)
    {
        _server = server;
        Name = name;
        ConnectionString = connectionString;
    }

    public string Name { get; }

    /// <summary>Npgsql connection string of the new database.</summary>
    public string ConnectionString { get; }

    public static string Server =>
        Environment.GetEnvironmentVariable(ServerVariable) is { Length: > 0 } server
            ? server
            : throw new InvalidOperationException(
                $"{ServerVariable} is not set, so there is no PostgreSQL server to test against. Run the tests with `bash scripts/test.sh` " +
                $"(it starts a throwaway server), or set {ServerVariable} to an Npgsql connection string of a server where you may create databases.");

    public static async Task<PostgresDatabase> CreateAsync()
    {
        var server = Server;
        var name = $"test_{Guid.NewGuid():N}";
        await using (var connection = new NpgsqlConnection(server))
        {
            await connection.OpenAsync();
            await using var create = new NpgsqlCommand($"CREATE DATABASE {name}", connection);
            await create.ExecuteNonQueryAsync();
        }

        var builder = new NpgsqlConnectionStringBuilder(server) { Database = name };
        return new PostgresDatabase(server, name, builder.ConnectionString);
    }

    public async Task<T> ScalarAsync<T>(string sql)
    {
        await using var connection = new NpgsqlConnection(ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        return (T)Convert.ChangeType((await command.ExecuteScalarAsync())!, typeof(T), System.Globalization.CultureInfo.InvariantCulture);
    }

    public async Task<List<T>> ColumnAsync<T>(string sql)
    {
        await using var connection = new NpgsqlConnection(ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        await using var reader = await command.ExecuteReaderAsync();
        var values = new List<T>();
        while (await reader.ReadAsync())
        {
            values.Add(reader.GetFieldValue<T>(0));
        }

        return values;
    }

    public async ValueTask DisposeAsync()
    {
        // Pooled connections the test left open would keep the database in use: FORCE ends them.
        await using var connection = new NpgsqlConnection(_server);
        await connection.OpenAsync();
        await using var drop = new NpgsqlCommand($"DROP DATABASE IF EXISTS {Name} WITH (FORCE)", connection);
        await drop.ExecuteNonQueryAsync();
    }
}
