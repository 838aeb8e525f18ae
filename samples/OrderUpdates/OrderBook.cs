using System.Collections.Concurrent;

namespace OrderUpdates;

/// <summary>Where the sample keeps order states; a real app would use its own database here.</summary>
public sealed class OrderBook
{
    private readonly ConcurrentDictionary<string, OrderState> _orders = new();

    public void Record(string orderId, string runId, string state, string? error) =>
        _orders[orderId] = new OrderState(orderId, state, runId, error);

    public OrderState? Find(string orderId) => _orders.GetValueOrDefault(orderId);
}

public sealed record OrderState(string OrderId, string State, string LastRunId, string? Error);
