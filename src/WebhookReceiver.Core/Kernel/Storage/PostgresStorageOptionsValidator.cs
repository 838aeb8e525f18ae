using Microsoft.Extensions.Options;
using Npgsql;

namespace WebhookReceiver.Kernel;

/// <summary>
/// With <c>Provider = Postgres</c> the connection string must name a PostgreSQL server. Switching the provider but keeping
/// the SQLite one (<c>Data Source=data/webhooks.db</c>) is stopped here with a message that says what to set.
/// </summary>
internal sealed class PostgresStorageOptionsValidator : IValidateOptions<StorageOptions>
{
    private const string NotPostgres = "WebhookReceiver:Storage:Provider is Postgres but WebhookReceiver:Storage:ConnectionString is not a PostgreSQL " +
                                       "connection string: set it (env WebhookReceiver__Storage__ConnectionString) to one such as " +
                                       "Host=db;Database=webhooks;Username=webhooks;Password=…";

    public ValidateOptionsResult Validate(string? name, StorageOptions options)
    {
        var storage = options;
        if (storage.Provider != StorageProvider.Postgres)
        {
            return ValidateOptionsResult.Skip;
        }

        try
        {
            return string.IsNullOrWhiteSpace(new NpgsqlConnectionStringBuilder(storage.ConnectionString).Host)
                ? ValidateOptionsResult.Fail(NotPostgres)
                : ValidateOptionsResult.Success;
        }
        catch (ArgumentException)
        {
            // Our message, not the parser's: that one may quote the connection string, password and all.
            return ValidateOptionsResult.Fail(NotPostgres);
        }
    }
}
