using System.Diagnostics.Metrics;
using Microsoft.Extensions.Options;
using WebhookReceiver.Kernel;
using WebhookReceiver.LangGraph;
using WebhookReceiver.Webhooks;

namespace WebhookReceiver.Interrupts;

/// <summary>The interrupts' gauges on the receiver's meter: threads waiting for a person, and how long the oldest has waited.</summary>
internal sealed class InterruptGauges(IInboxInterrupts interrupts, IInboxQueries inbox, TimeProvider time, IOptions<MetricsOptions> options,
    IOptions<LangGraphOptions> langGraph) : IMetricSource
{
    public void CreateInstruments(Meter meter)
    {
        var interval = options.Value.PendingRefreshInterval;
        var waiting = new StoreReading<Measurement<long>[]>(async (previous, cancellationToken) =>
        {
            var counts = await interrupts.CountWaitingInterruptsAsync(cancellationToken);
            // A series that drained reads 0 until the next refresh shows it no more: kept for every pair seen before.
            var before = (previous ?? []).Select(m => (Deployment: (string)m.Tags[0].Value!, Graph: (string)m.Tags[1].Value!));
            // Each configured deployment has a series from the first read on (graph ""), at 0 while none of its threads waits.
            before = before.Union(langGraph.Value.Deployments.Select(d => (Deployment: d.Name, Graph: "")));
            var now = counts.ToDictionary(c => (c.Deployment, Graph: c.GraphId ?? ""), c => c.Count);
            return [.. now.Keys.Union(before)
                .Select(key => new Measurement<long>(now.GetValueOrDefault(key), new KeyValuePair<string, object?>("deployment", key.Deployment),
                    new KeyValuePair<string, object?>("graph", key.Graph)))];
        }, time, interval);
        var oldest = new StoreReading<OldestWaiting>((_, cancellationToken) => inbox.ReadOldestWaitingAsync(cancellationToken), time, interval);

        _ = waiting.Current; // the first read starts now, so the first scrape finds the series
        _ = oldest.Current;
        meter.CreateObservableGauge("webhookreceiver.interrupts.waiting", () => waiting.Current ?? [], "{interrupt}",
            "Threads waiting for a person (interrupts in state waiting), by deployment and graph; counted at most every PendingRefreshInterval.");
        // The age grows between two reads of the store (it is now minus a stored time); nothing is reported before the first read.
        meter.CreateObservableGauge("webhookreceiver.interrupts.oldest_waiting_age", () => oldest.Current is not { } read ? []
                : new[] { new Measurement<double>(read.InterruptSeenAt is { } at ? Math.Max(0, (time.GetUtcNow() - at).TotalSeconds) : 0) },
            "s", "Seconds since the oldest interrupt still waiting for a person was found, 0 when none waits; read at most every PendingRefreshInterval.");
    }
}
