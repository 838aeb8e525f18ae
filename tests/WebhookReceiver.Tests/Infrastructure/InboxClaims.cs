using WebhookReceiver.Webhooks;

namespace WebhookReceiver.Tests;

/// <summary>
/// The contract tests' short claim: no attempt limit (an abandoned attempt is recorded, nothing is dead-lettered), only
/// the leased deliveries. The production interface has one claim, with the limit; this keeps the tests as they read.
/// </summary>
internal static class InboxClaims
{
    public static async Task<IReadOnlyList<ClaimedDelivery>> ClaimDueAsync(
        this IWebhookInbox inbox, string owner, DateTimeOffset now, DateTimeOffset leaseUntil, int max, CancellationToken cancellationToken) =>
        (await inbox.ClaimDueAsync(owner, now, leaseUntil, max, int.MaxValue, cancellationToken)).Claimed;
}
