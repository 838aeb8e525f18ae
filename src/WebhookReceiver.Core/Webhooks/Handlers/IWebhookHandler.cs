namespace WebhookReceiver.Webhooks;

/// <summary>
/// Acts on a finished LangGraph run. Resolved from DI in a fresh scope for every attempt, so it may take scoped services.
/// Throwing (or running past the attempt timeout) fails the attempt; it is retried with backoff until it is dead-lettered.
/// Delivery is at least once: use <see cref="DeliveryContext.DeliveryId"/> to make the work idempotent.
/// </summary>
public interface IWebhookHandler
{
    Task HandleAsync(LangGraphRun run, DeliveryContext context, CancellationToken cancellationToken);
}

/// <param name="DeliveryId">Stable across the retries of this handler for this webhook: an idempotency key.</param>
/// <param name="WebhookId">The stored webhook's id, as shown by the query API.</param>
/// <param name="Handler">The name the handler was registered under.</param>
/// <param name="Attempt">1 for the first attempt, counted over the delivery's life including replays.</param>
/// <param name="ReceivedAt">When the webhook was stored.</param>
/// <param name="Deployment">The LangGraph deployment the webhook is attributed to; null without one.</param>
/// <param name="Verification">What that deployment said about the run (<c>LangGraph:Verify</c>); null when verification is off.</param>
public sealed record DeliveryContext(long DeliveryId, long WebhookId, string Handler, int Attempt, DateTimeOffset ReceivedAt,
    string? Deployment = null, RunVerification? Verification = null);
