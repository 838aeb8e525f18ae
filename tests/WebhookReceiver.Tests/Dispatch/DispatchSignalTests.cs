using Microsoft.Extensions.Time.Testing;
using WebhookReceiver.Webhooks;

namespace WebhookReceiver.Tests.Dispatch;

/// <summary>What the ingest writer tells the dispatcher through the signal (a unit test of logic; the wait's timeout runs on a fake clock).</summary>
public sealed class DispatchSignalTests
{
    [Fact]
    public void A_large_committed_batch_marks_ingest_busy_and_a_small_one_does_not()
    {
        using var quiet = Saturated(new DispatchSignal());
        quiet.Stored(webhooks: 7, deliveries: 7);
        Assert.False(quiet.IngestBusy);

        using var flooded = Saturated(new DispatchSignal());
        flooded.Stored(webhooks: 8, deliveries: 8);
        Assert.True(flooded.IngestBusy);
    }

    [Fact]
    public void Eight_webhook_requests_handled_at_once_mark_ingest_busy_even_while_its_batches_stay_small()
    {
        using var signal = Saturated(new DispatchSignal());
        var inFlight = 7;
        signal.CountIngestsWith(() => inFlight);
        signal.Stored(webhooks: 1, deliveries: 1);
        Assert.False(signal.IngestBusy);

        inFlight = 8;
        Assert.True(signal.IngestBusy);
    }

    [Fact]
    public void Requests_in_flight_and_large_batches_leave_the_dispatcher_alone_while_most_of_the_CPU_is_idle()
    {
        using var signal = new DispatchSignal();
        var cpuShare = 0.3;
        signal.MeasureCpuWith(() => cpuShare);
        signal.CountIngestsWith(() => 20);
        signal.Stored(webhooks: 20, deliveries: 20);
        Assert.False(signal.IngestBusy);

        cpuShare = 0.5;
        Assert.True(signal.IngestBusy);
    }

    [Fact]
    public async Task A_batch_without_deliveries_does_not_wake_the_dispatcher_and_one_with_deliveries_does()
    {
        using var signal = new DispatchSignal();
        var clock = new FakeTimeProvider();
        var wait = signal.WaitAsync(TimeSpan.FromHours(1), clock, CancellationToken.None);

        signal.Stored(webhooks: 3, deliveries: 0);
        await Task.Delay(50);
        Assert.False(wait.IsCompleted);

        signal.Stored(webhooks: 1, deliveries: 1);
        await wait.WaitAsync(TimeSpan.FromSeconds(10));
    }

    /// <summary>The process using all of its cores, as under a flood.</summary>
    private static DispatchSignal Saturated(DispatchSignal signal)
    {
        signal.MeasureCpuWith(() => 1.0);
        return signal;
    }
}
