using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using WebhookReceiver.Tests.Infrastructure;
using WebhookReceiver.Webhooks;

namespace WebhookReceiver.Tests.Dispatch;

/// <summary>
/// Issue #27's chaos run on PostgreSQL: with the outcome writer slower than the handlers (a loaded machine), the
/// dispatcher kept claiming as each handler finished, outcomes queued without bound, and leases ran out before they were
/// written, so those deliveries were done again. Claims now wait while more than one slot's worth of outcomes is unwritten.
/// </summary>
public sealed class OutcomeBacklogTests
{
    private const int Concurrency = 2;

    [Fact]
    public async Task Claims_wait_while_outcomes_are_not_written()
    {
        var script = new HandlerScript();
        var gated = new GatedOutcomes();
        await using var app = new TestApp(new Dictionary<string, string?>
        {
            ["WebhookReceiver:Handlers:Log:Enabled"] = "false",
            ["WebhookReceiver:Dispatch:Concurrency"] = Concurrency.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["WebhookReceiver:Dispatch:PollInterval"] = "00:00:00.050",
        }, services =>
        {
            // Registered before the receiver's own (TryAdd): the real inbox, with its outcome writes held at a gate.
            services.AddSingleton<IInboxDeliveries>(sp => gated.Wrap(sp.GetRequiredService<IWebhookInbox>()));
            services.AddWebhookReceiver(new ConfigurationBuilder().Build()).AddHandler("fast", _ => script.CreateHandler());
        });

        for (var i = 0; i < 30; i++)
        {
            await app.PostWebhookAsync(Payloads.Run().ToJsonString());
        }

        await Eventually.MatchAsync(() => Task.FromResult(script.Calls.Count), n => n >= Concurrency);
        await Task.Delay(1000); // Time for claims to run ahead, if they could.
        var claimedWhileGated = script.Calls.Count;
        gated.Open();
        await Eventually.MatchAsync(() => Task.FromResult(script.Calls.Select(c => c.Context.DeliveryId).Distinct().Count()), n => n == 30, timeoutSeconds: 30);

        // Running attempts, plus one slot's worth of outcomes waiting for free: the rest wait for the writer.
        Assert.InRange(claimedWhileGated, Concurrency, 2 * Concurrency + 1);
    }

    /// <summary>Forwards to the real inbox; outcome writes wait until <see cref="Open"/>.</summary>
    private sealed class GatedOutcomes
    {
        private readonly TaskCompletionSource _gate = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public void Open() => _gate.TrySetResult();

        public IInboxDeliveries Wrap(IInboxDeliveries inner) => new Gated(inner, _gate.Task);

        private sealed class Gated(IInboxDeliveries inner, Task gate) : IInboxDeliveries
        {
            public Task<ClaimBatch> ClaimDueAsync(string owner, DateTimeOffset now, DateTimeOffset leaseUntil, int max, int maxAttempts, CancellationToken cancellationToken) =>
                inner.ClaimDueAsync(owner, now, leaseUntil, max, maxAttempts, cancellationToken);

            public async Task<IReadOnlyList<bool>> CompleteAttemptsAsync(IReadOnlyList<AttemptResult> results, CancellationToken cancellationToken)
            {
                await gate.WaitAsync(cancellationToken);
                return await inner.CompleteAttemptsAsync(results, cancellationToken);
            }

            public Task ReleaseAsync(string owner, IReadOnlyCollection<long> deliveryIds, CancellationToken cancellationToken) =>
                inner.ReleaseAsync(owner, deliveryIds, cancellationToken);

            public Task RecoverAsync(CancellationToken cancellationToken) => inner.RecoverAsync(cancellationToken);
        }
    }
}
