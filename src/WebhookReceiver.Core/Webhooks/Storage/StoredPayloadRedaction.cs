using Microsoft.Extensions.Logging;
using WebhookReceiver.Kernel;

namespace WebhookReceiver.Webhooks;

/// <summary>
/// Once, at start-up after the schema is current: redacts the payloads stored before bodies were redacted on arrival
/// (the migration that introduced it left a marker), so that no backup made from now on holds a live token.
/// </summary>
internal sealed partial class StoredPayloadRedaction(IInboxMaintenance inbox, SecretRedactor redactor, ILogger<StoredPayloadRedaction> logger) : IStoreStartupJob
{
    public async Task RunAsync(CancellationToken cancellationToken)
    {
        if (await inbox.RedactStoredPayloadsAsync(redactor.RedactPayload, cancellationToken) is > 0 and var rewritten)
        {
            LogRedacted(logger, rewritten);
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Redacted webhook tokens from {Count} payloads stored before bodies were redacted on arrival")]
    private static partial void LogRedacted(ILogger logger, int count);
}
