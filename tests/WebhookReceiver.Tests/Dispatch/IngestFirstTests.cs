using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using WebhookReceiver.Tests.Infrastructure;
using WebhookReceiver.Webhooks;

namespace WebhookReceiver.Tests.Dispatch;

/// <summary>Acknowledging senders comes first: while ingest is busy the dispatcher claims at a trickle, and catches up after.</summary>
public sealed class IngestFirstTests
{
    [Fact]
    public async Task While_ingest_is_busy_the_dispatcher_claims_once_per_interval_instead_of_at_every_stored_batch()
    {
        var clock = new FakeTimeProvider(new DateTimeOffset(2026, 3, 1, 9, 0, 0, TimeSpan.Zero));
        var script = new HandlerScript(clock);
        await using var app = new TestApp(
            new Dictionary<string, string?> { ["WebhookReceiver:Handlers:Log:Enabled"] = "false" },
            services =>
            {
                services.AddSingleton<TimeProvider>(clock);
                services.AddWebhookReceiver(new ConfigurationBuilder().Build()).AddHandler("recorder", _ => script.CreateHandler());
            });
        var signal = app.Services.GetRequiredService<DispatchSignal>();
        signal.MeasureCpuWith(() => 1.0); // a flood uses every core

        // A flood as the ingest writer reports it: large batches committed, again and again, for as long as the test runs.
        // On a thread of its own, not the thread pool's: a batch counts as busy for 250 ms, and on a loaded machine a
        // starved thread pool could leave a gap that long, in which the dispatcher would find ingest quiet.
        using var flood = new CancellationTokenSource();
        var flooding = new Thread(() =>
        {
            while (!flood.IsCancellationRequested)
            {
                signal.Stored(webhooks: 64, deliveries: 0);
                Thread.Sleep(20);
            }
        }) { IsBackground = true, Name = "flood" };
        flooding.Start();

        try
        {
            await app.PostWebhookAsync(Payloads.Run().ToJsonString());
            await AdvanceUntilCalledAsync(clock, script, calls: 1); // a trickle still runs

            // Having claimed, the dispatcher waits for the interval (on the fake clock, which now stands still) before it
            // claims again: a webhook stored meanwhile waits too, where a quiet dispatcher would be woken for it at once.
            await app.PostWebhookAsync(Payloads.Run().ToJsonString());
            await Task.Delay(500);
            Assert.Single(script.Calls);

            await AdvanceUntilCalledAsync(clock, script, calls: 2);
        }
        finally
        {
            await flood.CancelAsync();
            flooding.Join();
        }
    }

    private static async Task AdvanceUntilCalledAsync(FakeTimeProvider clock, HandlerScript script, int calls)
    {
        for (var step = 0; script.Calls.Count < calls && step < 400; step++)
        {
            clock.Advance(TimeSpan.FromMilliseconds(50));
            await Task.Delay(50);
        }

        await script.WaitForCallsAsync(calls);
    }
}
