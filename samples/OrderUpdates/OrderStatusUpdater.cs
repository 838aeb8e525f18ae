using WebhookReceiver.Webhooks;

namespace OrderUpdates;

/// <summary>Moves an order along when the agent run that worked on it finishes. The order id rides in the run's metadata.</summary>
public sealed class OrderStatusUpdater(OrderBook orders) : IWebhookHandler
{
    public Task HandleAsync(LangGraphRun run, DeliveryContext context, CancellationToken cancellationToken)
    {
        if (run.MetadataValue("order_id") is not { } orderId)
        {
            return Task.CompletedTask; // Not a run about an order.
        }

        var state = run.Status == "success" ? "answered" : "needs_attention";
        // Idempotent: a retried or replayed delivery of this run records the same state again, harmlessly.
        // A body trimmed without run_id (webhooks.allowed_fields) is still a run: the stored webhook's id stands in for it.
        orders.Record(orderId, run.RunId ?? $"webhook-{context.WebhookId}", state, run.ErrorMessage);
        return Task.CompletedTask;
    }
}
