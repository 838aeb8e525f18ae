using WebhookReceiver.Webhooks;

namespace WebhookReceiver.Tests.Storage;

/// <summary>One attempt at a time, as the contract tests write them; the dispatcher records them in batches.</summary>
internal static class InboxTestExtensions
{
    public static async Task<bool> CompleteAttemptAsync(this IInboxDeliveries inbox, AttemptResult result, CancellationToken cancellationToken) =>
        (await inbox.CompleteAttemptsAsync([result], cancellationToken))[0];
}
