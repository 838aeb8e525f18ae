using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using WebhookReceiver.Kernel;
using WebhookReceiver.Webhooks;

namespace WebhookReceiver.Inbox;

/// <summary>
/// Brings the schema up to date before anything else starts: registered first, started first. Then, once, it redacts
/// the payloads stored before bodies were redacted on arrival, so that no backup made from now on holds a live token.
/// </summary>
internal sealed partial class InboxMigrator(IInboxMaintenance inbox, SecretRedactor redactor, ILogger<InboxMigrator> logger) : IHostedService
{
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        await inbox.MigrateAsync(cancellationToken);
        if (await inbox.RedactStoredPayloadsAsync(redactor.RedactPayload, cancellationToken) is > 0 and var rewritten)
        {
            LogRedacted(logger, rewritten);
        }
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    [LoggerMessage(Level = LogLevel.Information, Message = "Redacted webhook tokens from {Count} payloads stored before bodies were redacted on arrival")]
    private static partial void LogRedacted(ILogger logger, int count);
}
