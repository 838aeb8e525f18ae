using System.Collections.Concurrent;
using System.Threading.Channels;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using WebhookReceiver.Configuration;
using WebhookReceiver.Handlers;
using WebhookReceiver.Inbox;
using WebhookReceiver.LangGraphApi;
using WebhookReceiver.Runs;
using WebhookReceiver.Security;
using WebhookReceiver.Observability;

namespace WebhookReceiver.Dispatch;

/// <summary>
/// Runs due deliveries: leases them from the inbox, invokes each handler in its own DI scope with a timeout, records
/// the outcome, and schedules retries with backoff until a delivery is dead-lettered. On shutdown it stops claiming,
/// lets running attempts finish within the grace period, and gives back the leases of those that did not.
/// Its handler catalog is built as the host starts, so that two handlers with one name stop the start-up.
/// </summary>
internal sealed partial class Dispatcher(
    IInboxDeliveries inbox,
    IServiceScopeFactory scopes,
    DispatchSignal signal,
    HandlerCatalog catalog,
    SecretRedactor redactor,
    ReceiverMetrics metrics,
    RunVerifier verifier,
    TimeProvider time,
    IOptions<WebhookReceiverOptions> options,
    ILogger<Dispatcher> logger) : BackgroundService
{
    private const int MaxErrorLength = 2000;

    private readonly DispatchOptions _options = options.Value.Dispatch;
    private readonly RetryPolicy _retry = new(options.Value.Dispatch);
    private readonly string _owner = $"{Environment.MachineName}/{Environment.ProcessId}/{Guid.NewGuid():N}";
    private readonly ConcurrentDictionary<long, Task> _running = new();
    private readonly CancellationTokenSource _abort = new();

    // Outcomes are recorded by one writer, several per transaction: one transaction per attempt made the attempts queue
    // for the store's write lock, and each other. Few wait here: each transaction takes all that are waiting.
    private readonly Channel<PendingOutcome> _outcomes = Channel.CreateUnbounded<PendingOutcome>(new UnboundedChannelOptions { SingleReader = true });
    private Task _recorder = Task.CompletedTask;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        _recorder = Task.Run(RecordOutcomesAsync, CancellationToken.None);
        await inbox.RecoverAsync(stoppingToken);
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                var free = _options.Concurrency - _running.Count;
                var claimed = free > 0 ? await ClaimAsync(free, stoppingToken) : [];
                foreach (var delivery in claimed)
                {
                    // Tracked before it starts, so that a fast attempt cannot finish before it is counted.
                    var attempt = new Task<Task>(() => RunAttemptAsync(delivery));
                    _running[delivery.DeliveryId] = attempt.Unwrap();
                    attempt.Start(TaskScheduler.Default);
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
        _outcomes.Writer.TryComplete();
        await _recorder;
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
        PendingOutcome? outcome = null;
        try
        {
            var (finished, error, held) = await InvokeHandlerAsync(delivery);
            // Not finished: shutdown cut it short, StopAsync gives the delivery back and the attempt does not count.
            outcome = finished ? QueueOutcome(delivery, startedAt, error, held) : null;
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
            await ConfirmRecordedAsync(outcome);
        }
    }

    /// <summary>Runs the handler: finished with no error, finished with the reason it failed or was held (not run), or cut short by shutdown.</summary>
    private async Task<(bool Finished, string? Error, bool Held)> InvokeHandlerAsync(ClaimedDelivery delivery)
    {
        using var timeout = new CancellationTokenSource(_options.AttemptTimeout, time);
        using var attempt = CancellationTokenSource.CreateLinkedTokenSource(timeout.Token, _abort.Token);
        try
        {
            await using var scope = scopes.CreateAsyncScope();
            var registration = catalog.Find(delivery.Handler)
                ?? throw new InvalidOperationException($"No handler is registered as '{delivery.Handler}' any more.");
            // Stored minus secrets already (redacted on arrival, older rows by a migration).
            var run = LangGraphRun.Parse(System.Text.Encoding.UTF8.GetString(delivery.Payload))
                ?? throw new InvalidOperationException("The stored payload is not a JSON object.");
            // The run is checked with its LangGraph deployment (once per webhook) before any handler sees it.
            var verdict = await verifier.CheckAsync(delivery, run, registration.Filter, attempt.Token);
            if (verdict.HoldReason is { } hold)
            {
                return (true, hold, true);
            }

            var handler = registration.Create(scope.ServiceProvider);
            var context = new DeliveryContext(delivery.DeliveryId, delivery.WebhookId, delivery.Handler, delivery.Attempt, delivery.ReceivedAt,
                verdict.Deployment, verdict.Verification);
            // Waits no longer than the token allows, even for a handler that ignores it: the attempt ends on time, its
            // lease is never outlived, and the same delivery never runs twice at once here.
            await handler.HandleAsync(run, context, attempt.Token).WaitAsync(attempt.Token);
            return (true, null, false);
        }
        catch (OperationCanceledException) when (_abort.IsCancellationRequested)
        {
            return (false, null, false);
        }
        catch (OperationCanceledException) when (timeout.IsCancellationRequested)
        {
            return (true, $"Timed out after {_options.AttemptTimeout.TotalSeconds:0.###} s.", false);
        }
        catch (Exception ex)
        {
            return (true, $"{ex.GetType().Name}: {ex.Message}", false);
        }
    }

    /// <summary>Hands the attempt's outcome to the recorder; null when it cannot take it any more.</summary>
    private PendingOutcome? QueueOutcome(ClaimedDelivery delivery, DateTimeOffset startedAt, string? error, bool held)
    {
        var endedAt = time.GetUtcNow();
        string state;
        DateTimeOffset? next = null;
        if (held)
        {
            state = DeliveryState.Rejected; // Not retried: it waits for an admin's replay.
        }
        else if (error is null)
        {
            state = DeliveryState.Succeeded;
        }
        else if (_retry.ShouldRetry(delivery.AttemptInRound))
        {
            state = DeliveryState.Failed;
            next = endedAt + _retry.DelayAfter(delivery.AttemptInRound);
        }
        else
        {
            state = DeliveryState.Dead;
        }

        metrics.AttemptFinished(delivery.Handler, state, endedAt - startedAt);
        if (error is not null)
        {
            error = redactor.Redact(error.Length > MaxErrorLength ? error[..MaxErrorLength] : error);
            LogAttemptFailed(logger, delivery.Handler, delivery.DeliveryId, delivery.Attempt, state, error);
        }

        var outcome = new PendingOutcome(new AttemptResult(delivery.DeliveryId, _owner, delivery.Attempt,
            delivery.Attempt - delivery.AttemptInRound, startedAt, endedAt, error is null, error, state, next));
        if (_outcomes.Writer.TryWrite(outcome))
        {
            return outcome;
        }

        LogRecordFailed(logger, new InvalidOperationException("The dispatcher has stopped recording outcomes."), delivery.DeliveryId);
        return null;
    }

    private async Task ConfirmRecordedAsync(PendingOutcome outcome)
    {
        try
        {
            if (!await outcome.Recorded.Task)
            {
                LogLeaseLost(logger, outcome.Result.DeliveryId);
            }
        }
        catch (Exception ex)
        {
            // The lease runs out and the delivery is attempted again: at least once, never lost.
            LogRecordFailed(logger, ex, outcome.Result.DeliveryId);
        }
    }

    private async Task RecordOutcomesAsync()
    {
        var batch = new List<PendingOutcome>(_options.Concurrency);
        while (await _outcomes.Reader.WaitToReadAsync(CancellationToken.None))
        {
            batch.Clear();
            while (_outcomes.Reader.TryRead(out var outcome))
            {
                batch.Add(outcome);
            }

            try
            {
                var recorded = await inbox.CompleteAttemptsAsync(batch.ConvertAll(o => o.Result), CancellationToken.None);
                for (var i = 0; i < batch.Count; i++)
                {
                    batch[i].Recorded.TrySetResult(recorded[i]);
                }
            }
            catch (Exception ex)
            {
                batch.ForEach(o => o.Recorded.TrySetException(ex));
            }
        }
    }

    private sealed record PendingOutcome(AttemptResult Result)
    {
        public TaskCompletionSource<bool> Recorded { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Handler {Handler} failed delivery {DeliveryId} on attempt {Attempt}; now {State}: {Error}")]
    private static partial void LogAttemptFailed(ILogger logger, string handler, long deliveryId, int attempt, string state, string error);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Handler {Handler}'s attempt {Attempt} at delivery {DeliveryId} was abandoned: the process running it stopped before it finished; now {State}")]
    private static partial void LogAttemptAbandoned(ILogger logger, string handler, long deliveryId, int attempt, string state);

    [LoggerMessage(Level = LogLevel.Error, Message = "Claiming due deliveries failed; trying again at the next poll")]
    private static partial void LogClaimFailed(ILogger logger, Exception exception);

    [LoggerMessage(Level = LogLevel.Error, Message = "Recording the outcome of delivery {DeliveryId} failed; it will be attempted again when its lease expires")]
    private static partial void LogRecordFailed(ILogger logger, Exception exception, long deliveryId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Delivery {DeliveryId} was taken over by another worker before its outcome was recorded")]
    private static partial void LogLeaseLost(ILogger logger, long deliveryId);

    [LoggerMessage(Level = LogLevel.Information, Message = "Shutdown: gave back {Count} deliveries whose attempts did not finish in the grace period")]
    private static partial void LogReleased(ILogger logger, int count);
}
