using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using WebhookReceiver.Webhooks;

namespace WebhookReceiver.Tests.Ingress;

/// <summary>The group-commit writer's logic over a store that refuses chosen run ids (a unit test of logic: a fake store).</summary>
public sealed class InboxWriterTests
{
    [Fact]
    public async Task One_webhook_the_store_refuses_fails_alone_not_the_others_of_its_batch()
    {
        var store = new RefusingInbox(refused: "poison");
        using var signal = new DispatchSignal();
        var writer = new InboxWriter(store, signal, Options.Create(new IngestOptions()), NullLogger<InboxWriter>.Instance);
        // Queued before the writer runs, so that all three land in its first batch.
        var answers = new[] { "good-1", "poison", "good-2" }.Select(id => writer.AppendAsync(Webhook(id), CancellationToken.None)).ToList();

        await writer.StartAsync(CancellationToken.None);
        await Task.WhenAny(Task.WhenAll(answers), Task.Delay(TimeSpan.FromSeconds(10)));
        await writer.StopAsync(CancellationToken.None);

        Assert.Equal(3, store.BatchSizes[0]);
        Assert.True(answers[0].IsCompletedSuccessfully);
        await Assert.ThrowsAsync<InboxUnavailableException>(() => answers[1]);
        Assert.True(answers[2].IsCompletedSuccessfully);
        Assert.Equal(["good-1", "good-2"], store.Stored);
    }

    [Fact]
    public async Task When_the_store_is_down_the_batch_is_refused_after_one_more_try_not_one_per_webhook()
    {
        var store = new RefusingInbox(refused: null);
        using var signal = new DispatchSignal();
        var writer = new InboxWriter(store, signal, Options.Create(new IngestOptions()), NullLogger<InboxWriter>.Instance);
        var answers = Enumerable.Range(0, 5).Select(i => writer.AppendAsync(Webhook($"run-{i}"), CancellationToken.None)).ToList();

        await writer.StartAsync(CancellationToken.None);
        await Task.WhenAny(Task.WhenAll(answers), Task.Delay(TimeSpan.FromSeconds(10)));
        await writer.StopAsync(CancellationToken.None);

        Assert.All(answers, a => Assert.IsType<InboxUnavailableException>(a.Exception?.InnerException));
        Assert.Equal([5, 1], store.BatchSizes);
    }

    private static NewWebhook Webhook(string runId) =>
        new(runId, null, null, null, "success", DateTimeOffset.UnixEpoch, [], []);

    /// <summary>Refuses any batch holding <c>refused</c>; with null, refuses everything (a store that is down).</summary>
    private sealed class RefusingInbox(string? refused) : IWebhookInbox
    {
        public List<int> BatchSizes { get; } = [];
        public List<string> Stored { get; } = [];

        public Task<IReadOnlyList<AppendResult>> AppendAsync(IReadOnlyList<NewWebhook> batch, CancellationToken cancellationToken)
        {
            BatchSizes.Add(batch.Count);
            if (refused is null || batch.Any(w => w.RunId == refused))
            {
                throw new InvalidOperationException("refused");
            }

            Stored.AddRange(batch.Select(w => w.RunId!));
            return Task.FromResult<IReadOnlyList<AppendResult>>(batch.Select((_, i) => new AppendResult(Stored.Count + i, false)).ToList());
        }

        public Task<int> RedactStoredPayloadsAsync(Func<byte[], byte[]?> redact, CancellationToken cancellationToken) => throw new NotSupportedException();
        public Task RecoverAsync(CancellationToken cancellationToken) => throw new NotSupportedException();
        public Task<ClaimBatch> ClaimDueAsync(string owner, DateTimeOffset now, DateTimeOffset leaseUntil, int max, int maxAttempts, CancellationToken cancellationToken) => throw new NotSupportedException();
        public Task<IReadOnlyList<bool>> CompleteAttemptsAsync(IReadOnlyList<AttemptResult> results, CancellationToken cancellationToken) => throw new NotSupportedException();
        public Task ReleaseAsync(string owner, IReadOnlyCollection<long> deliveryIds, CancellationToken cancellationToken) => throw new NotSupportedException();
        public Task<WebhookPage> ListAsync(WebhookQuery query, CancellationToken cancellationToken) => throw new NotSupportedException();
        public Task<StoredWebhook?> GetAsync(long id, CancellationToken cancellationToken) => throw new NotSupportedException();
        public Task<StoredWebhook?> GetByRunIdAsync(string runId, CancellationToken cancellationToken) => throw new NotSupportedException();
        public Task<int?> ReplayAsync(long webhookId, IReadOnlyCollection<string> handlers, DateTimeOffset now, CancellationToken cancellationToken) => throw new NotSupportedException();
        public Task<int> ReplayDeadAsync(WebhookQuery query, string? handler, DateTimeOffset now, CancellationToken cancellationToken) => throw new NotSupportedException();
        public Task<IReadOnlyList<DeliveryCount>> CountDeliveriesAsync(CancellationToken cancellationToken) => throw new NotSupportedException();
        public Task<OldestWaiting> ReadOldestWaitingAsync(CancellationToken cancellationToken) => throw new NotSupportedException();
        public Task<PurgeCounts> PurgeAsync(DateTimeOffset receivedBefore, DateTimeOffset deadReceivedBefore, int batchSize, CancellationToken cancellationToken) => throw new NotSupportedException();
        public Task PingAsync(CancellationToken cancellationToken) => throw new NotSupportedException();
    }
}
