using System.Data;
using System.Data.Common;

namespace WebhookReceiver.Inbox;

/// <summary>
/// The inbox contract in portable SQL over ADO.NET. An engine supplies its connections, its schema migrations and the
/// one statement that differs between engines: how due deliveries are claimed (and, where several processes share the
/// store, how their purges take turns).
/// Times are stored as Unix milliseconds so that both engines compare them the same way.
/// </summary>
internal abstract partial class SqlInbox : IWebhookInbox
{
    private const string WebhookColumns = "w.id, w.run_id, w.thread_id, w.assistant_id, w.graph_id, w.status, w.received_at, " + VerificationColumns + ", w.source";
    private const string DeliveryColumns = "d.id, d.webhook_id, d.handler, d.state, d.attempts, d.last_error, d.next_attempt_at, d.updated_at";

    /// <summary>Opens a connection ready for use (engine settings applied).</summary>
    protected abstract Task<DbConnection> OpenAsync(CancellationToken cancellationToken);

    public abstract Task RecoverAsync(CancellationToken cancellationToken);

    /// <summary>
    /// Waits for this process's turn to write, where the engine lets one writer in at a time; dispose the result to pass
    /// the turn on. Null where writers need no turns. Taken by the busy writers (append, claim, complete) so that they
    /// queue here, without a thread, instead of in the engine's lock, whose waiters sleep and retry.
    /// </summary>
    protected virtual ValueTask<IDisposable?> WaitWriteTurnAsync(CancellationToken cancellationToken) => ValueTask.FromResult<IDisposable?>(null);

    /// <summary>Written after <c>FROM deliveries</c> where the engine must be told to read the due index in order (SQLite).</summary>
    protected virtual string DueIndexHint => "";

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
        // Named with its '@', as the SQL writes it: Microsoft.Data.Sqlite then finds it with one lookup, where a bare name
        // made it build a prefixed copy at every execution (12% of the bytes allocated under a flood of webhooks, issue #26).
        parameter.ParameterName = name.StartsWith('@') ? name : "@" + name;
        parameter.DbType = type;
        parameter.Value = value ?? DBNull.Value;
        command.Parameters.Add(parameter);
        return parameter;
    }

    protected static DateTimeOffset Time(long unixMilliseconds) => DateTimeOffset.FromUnixTimeMilliseconds(unixMilliseconds);

    // Ids are numbers the store produced, never user text, so they are safe to inline.
    protected static string InList(IEnumerable<long> ids) =>
        string.Join(',', ids.Select(id => id.ToString(System.Globalization.CultureInfo.InvariantCulture)));

    private static string? NullableString(DbDataReader reader, int ordinal) => reader.IsDBNull(ordinal) ? null : reader.GetString(ordinal);
}
