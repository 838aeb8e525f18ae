using System.Collections.Concurrent;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace WebhookReceiver.Webhooks;

/// <summary>
/// Runs due deliveries: leases them from the inbox, has the <see cref="HandlerInvoker"/> make each attempt and the
/// <see cref="OutcomeRecorder"/> record how it ended (retries with backoff until a delivery is dead-lettered). On
/// shutdown it stops claiming, lets running attempts finish within the grace period, and gives back the leases of
/// those that did not. Its handler catalog is built as the host starts, so that two handlers with one name stop the start-up.
/// </summary>
internal sealed partial class Dispatcher(
    IInboxDeliveries inbox,
    DispatchSignal signal,
    HandlerInvoker invoker,
    OutcomeRecorder recorder,
    ReceiverMetrics metrics,
    TimeProvider time,
    IOptions<DispatchOptions> options,
    ILogger<Dispatcher> logger) : BackgroundService
{
    private readonly DispatchOptions _options = options.Value;
    private readonly string _owner = $"{Environment.MachineName}/{Environment.ProcessId}/{Guid.NewGuid():N}";
    private readonly ConcurrentDictionary<long, Task> _running = new();
    private readonly CancellationTokenSource _abort = new();

    // While ingest is busy (DispatchSignal.IngestBusy), one claim of at most a quarter of the slots per this long (40
    // deliveries/s by default): attempts start at a trickle instead of taking the CPU that acknowledging senders needs;
    // the backlog is durable and drains at full speed once the flood passes. The cap is on starts, not on attempts
    // running: slow (I/O-bound) handlers still fill every slot, so a long busy spell cannot starve them.
    private static readonly TimeSpan BusyClaimInterval = TimeSpan.FromMilliseconds(100);

    /// <summary>An attempt's span outcome when shutdown cut it short (or its outcome could not be queued): its lease is given back, and it does not count.</summary>
    private const string ReleasedOutcome = "released";

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        recorder.Start();
        await inbox.RecoverAsync(stoppingToken);
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                var busy = signal.IngestBusy;
                // An attempt's slot frees when its handler is done, before its outcome is written, so that claiming and
                // writing overlap; but outcomes waiting beyond one slot's worth each hold a slot again. Otherwise a writer
                // slower than the handlers (a loaded store, a starved CPU) let claims run ahead of it without bound, and
                // leases ran out before their outcomes were written: each such delivery was done again elsewhere (the
                // chaos run of issue #27 on PostgreSQL counted thousands).
                var backlog = Math.Max(0, recorder.Waiting - _options.Concurrency);
                var free = Math.Min(_options.Concurrency - _running.Count - backlog, busy ? Math.Max(1, _options.Concurrency / 4) : int.MaxValue);
                var claimed = free > 0 ? await ClaimAsync(free, stoppingToken) : [];
                foreach (var delivery in claimed)
                {
                    // Tracked before it starts, so that a fast attempt cannot finish before it is counted.
                    var attempt = new Task<Task>(() => RunAttemptAsync(delivery));
                    _running[delivery.DeliveryId] = attempt.Unwrap();
                    attempt.Start(TaskScheduler.Default);
                }

                if (busy)
                {
                    await Task.Delay(BusyClaimInterval, time, stoppingToken);
                    continue;
                }

                if (claimed.Count > 0 && claimed.Count == free)
                {
                    continue; // Probably more due: claim again as soon as a slot frees.
                }
            }
            catch (Exception ex) when (!stoppingToken.IsCancellationRequested)
            {
                LogClaimFailed(logger, ex);
            }

            await signal.WaitAsync(_options.PollInterval, time, stoppingToken);
        }
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken);

        // Running attempts get the grace period; then they are cancelled and their deliveries given back.
        var running = _running.Values.ToArray();
        await Task.WhenAny(Task.WhenAll(running), Task.Delay(_options.ShutdownGrace, time, cancellationToken));
        var unfinished = _running.Keys.ToArray();
        if (unfinished.Length > 0)
        {
            await _abort.CancelAsync();
            await Task.WhenAll(_running.Values.ToArray());
            await inbox.ReleaseAsync(_owner, unfinished, CancellationToken.None);
            LogReleased(logger, unfinished.Length);
        }

        // Every attempt has finished or been given back: nothing is left to record.
        await recorder.StopAsync();
    }

    public override void Dispose()
    {
        _abort.Dispose();
        base.Dispose();
    }

    private async Task<IReadOnlyList<ClaimedDelivery>> ClaimAsync(int max, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        // The lease outlives the attempt's timeout and the shutdown grace, so only a crashed owner loses it.
        var leaseUntil = now + _options.AttemptTimeout + _options.ShutdownGrace + _options.LeaseMargin;
        var batch = await inbox.ClaimDueAsync(_owner, now, leaseUntil, max, _options.MaxAttempts, cancellationToken);
        // The store decided; counted here, as a finished attempt is, so the metrics of every engine agree.
        foreach (var abandoned in batch.Abandoned)
        {
            metrics.AttemptAbandoned(abandoned.Handler, abandoned.State);
            LogAttemptAbandoned(logger, abandoned.Handler, abandoned.DeliveryId, abandoned.Attempt, abandoned.State);
        }

        return batch.Claimed;
    }

    private async Task RunAttemptAsync(ClaimedDelivery delivery)
    {
        var startedAt = time.GetUtcNow();
        metrics.AttemptStarted(delivery.Handler, delivery.Attempt, delivery.ReceivedAt, startedAt);
        // The attempt's span is current while the handler runs, so its calls (the forward handler's POST, LangGraph's API)
        // are its children and carry its traceparent; its parent is the span that received the webhook, wherever that ran.
        using var span = ReceiverTracing.StartAttempt(delivery.Handler, delivery.DeliveryId, delivery.WebhookId, delivery.Attempt,
            delivery.Traceparent, delivery.InterruptId);
        OutcomeRecorder.PendingOutcome? outcome = null;
        try
        {
            var (finished, error, held) = await invoker.InvokeAsync(delivery, _abort.Token);
            // Not finished: shutdown cut it short, StopAsync gives the delivery back and the attempt does not count.
            outcome = finished ? recorder.Queue(delivery, _owner, startedAt, error, held) : null;
            ReceiverTracing.AttemptEnded(span, outcome?.Result.NextState ?? ReleasedOutcome, outcome?.Result.Error);
        }
        finally
        {
            // The slot frees as soon as the handler is done, not once its outcome is committed: the next claim then runs
            // while outcomes are written, instead of after them. The delivery keeps its lease until its outcome is written.
            _running.TryRemove(delivery.DeliveryId, out _);
            signal.Notify();
        }

        if (outcome is not null)
        {
            await recorder.ConfirmRecordedAsync(outcome);
            signal.Notify(); // A slot held by the backlog of outcomes may be free now.
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Handler {Handler}'s attempt {Attempt} at delivery {DeliveryId} was abandoned: the process running it stopped before it finished; now {State}")]
    private static partial void LogAttemptAbandoned(ILogger logger, string handler, long deliveryId, int attempt, string state);

    [LoggerMessage(Level = LogLevel.Error, Message = "Claiming due deliveries failed; trying again at the next poll")]
    private static partial void LogClaimFailed(ILogger logger, Exception exception);

    [LoggerMessage(Level = LogLevel.Information, Message = "Shutdown: gave back {Count} deliveries whose attempts did not finish in the grace period")]
    private static partial void LogReleased(ILogger logger, int count);
}
