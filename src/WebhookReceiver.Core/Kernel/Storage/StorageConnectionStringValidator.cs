using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Options;
using Npgsql;

namespace WebhookReceiver.Kernel;

/// <summary>
/// The connection string must be one of the chosen provider: the SQLite one kept after switching to <c>Postgres</c>
/// (<c>Data Source=data/webhooks.db</c>), or a PostgreSQL one given while <c>Provider</c> is left at its default
/// <c>Sqlite</c>, is stopped here with one line that says what to set (the parser's own error would be a stack trace, and
/// may quote the connection string, password and all).
/// </summary>
internal sealed class StorageConnectionStringValidator : IValidateOptions<StorageOptions>
{
    private const string NotPostgres = "WebhookReceiver:Storage:Provider is Postgres but WebhookReceiver:Storage:ConnectionString is not a PostgreSQL " +
                                       "connection string: set it (env WebhookReceiver__Storage__ConnectionString) to one such as " +
                                       "Host=db;Database=webhooks;Username=webhooks;Password=…";

    private const string PostgresForSqlite = "WebhookReceiver:Storage:ConnectionString is a PostgreSQL connection string but " +
                                             "WebhookReceiver:Storage:Provider is Sqlite (its default): set WebhookReceiver__Storage__Provider=Postgres, " +
                                             "or give a SQLite connection string such as Data Source=data/webhooks.db";

    private const string NotSqlite = "WebhookReceiver:Storage:ConnectionString is not a SQLite connection string (WebhookReceiver:Storage:Provider " +
                                     "is Sqlite): set it (env WebhookReceiver__Storage__ConnectionString) to one such as Data Source=data/webhooks.db";

    public ValidateOptionsResult Validate(string? name, StorageOptions options) => options.Provider == StorageProvider.Postgres
        ? IsPostgres(options.ConnectionString) ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(NotPostgres)
        : IsSqlite(options.ConnectionString) ? ValidateOptionsResult.Success
        : ValidateOptionsResult.Fail(IsPostgres(options.ConnectionString) ? PostgresForSqlite : NotSqlite);

    private static bool IsPostgres(string connectionString)
    {
        try
        {
            return !string.IsNullOrWhiteSpace(new NpgsqlConnectionStringBuilder(connectionString).Host);
        }
        catch (ArgumentException)
        {
            return false;
        }
    }

    private static bool IsSqlite(string connectionString)
    {
        try
        {
            _ = new SqliteConnectionStringBuilder(connectionString);
            return true;
        }
        catch (ArgumentException)
        {
            return false;
        }
    }
}
