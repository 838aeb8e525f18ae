using System.Data;
using static WebhookReceiver.Kernel.Sql;

namespace WebhookReceiver.Webhooks;

/// <summary>How much arrived and was delivered since a time: the console's overview rates.</summary>
/// <param name="Received">Webhooks stored (received or recovered by a sweep) since then.</param>
/// <param name="AttemptsSucceeded">Delivery attempts that ended since then and succeeded.</param>
/// <param name="AttemptsFailed">Delivery attempts that ended since then and failed (or were abandoned).</param>
internal sealed record InboxActivity(long Received, long AttemptsSucceeded, long AttemptsFailed);

/// <summary>What the console's overview reads besides the query API's counts: the activity of a recent window.</summary>
internal interface IInboxActivity
{
    Task<InboxActivity> ReadActivityAsync(DateTimeOffset since, CancellationToken cancellationToken);
}

internal sealed partial class WebhookStore : IInboxActivity
{
    // Webhooks by the received_at index; attempts have no time index, so the console reads this at most every few seconds (cached).
    public async Task<InboxActivity> ReadActivityAsync(DateTimeOffset since, CancellationToken cancellationToken)
    {
        await using var connection = await storage.OpenAsync(cancellationToken);
        await using var read = Command(connection, null, """
            SELECT (SELECT COUNT(*) FROM webhooks WHERE received_at >= @since),
                   (SELECT COUNT(*) FROM attempts WHERE ended_at >= @since AND succeeded <> 0),
                   (SELECT COUNT(*) FROM attempts WHERE ended_at >= @since AND succeeded = 0)
            """);
        Add(read, "since", DbType.Int64, since.ToUnixTimeMilliseconds());
        await using var reader = await read.ExecuteReaderAsync(cancellationToken);
        await reader.ReadAsync(cancellationToken);
        return new InboxActivity(reader.GetInt64(0), reader.GetInt64(1), reader.GetInt64(2));
    }
}
