using System.Data;
using System.Data.Common;
using static WebhookReceiver.Kernel.Sql;

namespace WebhookReceiver.Webhooks;

/// <summary>A webhook's deployment and its recorded verification, as the dispatcher reads them before a delivery.</summary>
internal sealed record WebhookVerificationState(string? Deployment, RunVerification? Verification);

/// <summary>Where run verifications are kept: on the stored webhook, so every delivery of it reuses one answer.</summary>
internal interface IRunVerificationStore
{
    /// <summary>The webhook's deployment and recorded verification; null when no webhook has this id.</summary>
    Task<WebhookVerificationState?> ReadVerificationAsync(long webhookId, CancellationToken cancellationToken);

    /// <summary>
    /// Records <paramref name="verification"/> unless another was recorded first (first answer wins; an <c>error</c> is only
    /// a placeholder that any later answer replaces). Returns the verification now stored, and whether it is this one.
    /// </summary>
    Task<(RunVerification Stored, bool Recorded)> RecordVerificationAsync(long webhookId, RunVerification verification, CancellationToken cancellationToken);
}

internal sealed partial class WebhookStore : IRunVerificationStore
{
    /// <summary>The columns <see cref="ReadVerification"/> reads, in order, after the webhook's own.</summary>
    private const string VerificationColumns = "w.deployment, w.verification, w.verification_detail, w.verified_at";

    public async Task<WebhookVerificationState?> ReadVerificationAsync(long webhookId, CancellationToken cancellationToken)
    {
        await using var connection = await storage.OpenAsync(cancellationToken);
        await using var read = Command(connection, null, $"SELECT {VerificationColumns} FROM webhooks w WHERE w.id = @id");
        Add(read, "id", DbType.Int64, webhookId);
        await using var reader = await read.ExecuteReaderAsync(cancellationToken);
        return await reader.ReadAsync(cancellationToken)
            ? new WebhookVerificationState(reader.IsDBNull(0) ? null : reader.GetString(0), ReadVerification(reader, 1))
            : null;
    }

    public async Task<(RunVerification Stored, bool Recorded)> RecordVerificationAsync(long webhookId, RunVerification verification, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(verification);
        await using var connection = await storage.OpenAsync(cancellationToken);
        int updated;
        using (await storage.WaitWriteTurnAsync(cancellationToken))
        {
            // Two workers verifying one webhook at once (two handlers, two replicas): the first answer stands.
            await using var record = Command(connection, null, """
                UPDATE webhooks SET verification = @result, verification_detail = @detail, verified_at = @at
                WHERE id = @id AND (verification IS NULL OR verification = 'error')
                """);
            Add(record, "result", DbType.String, verification.Result);
            Add(record, "detail", DbType.String, verification.Detail);
            Add(record, "at", DbType.Int64, verification.CheckedAt.ToUnixTimeMilliseconds());
            Add(record, "id", DbType.Int64, webhookId);
            updated = await record.ExecuteNonQueryAsync(cancellationToken);
        }

        if (updated > 0)
        {
            return (verification, true);
        }

        var stored = await ReadVerificationAsync(webhookId, cancellationToken);
        return (stored?.Verification ?? verification, false);
    }

    private static RunVerification? ReadVerification(DbDataReader reader, int ordinal) =>
        reader.IsDBNull(ordinal)
            ? null
            : new RunVerification(reader.GetString(ordinal), reader.IsDBNull(ordinal + 1) ? null : reader.GetString(ordinal + 1),
                reader.IsDBNull(ordinal + 2) ? DateTimeOffset.UnixEpoch : Time(reader.GetInt64(ordinal + 2)));
}
