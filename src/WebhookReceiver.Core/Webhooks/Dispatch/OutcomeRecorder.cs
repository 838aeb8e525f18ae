using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using WebhookReceiver.Kernel;

namespace WebhookReceiver.Webhooks;

/// <summary>
/// Records the outcomes of attempts: decides each delivery's next state (succeeded, retried after a backoff, dead,
/// or held as rejected), counts and logs it, and writes the outcomes to the inbox in batches by one writer.
/// The dispatcher starts it before its first claim and stops it once no attempt is left to record.
/// </summary>
internal sealed partial class OutcomeRecorder(
    IInboxDeliveries inbox,
    SecretRedactor redactor,
    ReceiverMetrics metrics,
    TimeProvider time,
    IOptions<DispatchOptions> options,
    ILogger<OutcomeRecorder> logger)
{
    private const int MaxErrorLength = 2000;

    private readonly DispatchOptions _options = options.Value;
    private readonly RetryPolicy _retry = new(options.Value);

    // Outcomes are recorded by one writer, several per transaction: one transaction per attempt made the attempts queue
    // for the store's write lock, and each other. Few wait here: each transaction takes all that are waiting.
    private readonly Channel<PendingOutcome> _outcomes = Channel.CreateUnbounded<PendingOutcome>(new UnboundedChannelOptions { SingleReader = true });
    private Task _recorder = Task.CompletedTask;
    private int _waiting;

    /// <summary>Outcomes handed to the writer and not yet written (or failed to be).</summary>
    public int Waiting => Volatile.Read(ref _waiting);

    /// <summary>Starts the writer.</summary>
    public void Start() => _recorder = Task.Run(RecordOutcomesAsync, CancellationToken.None);

    /// <summary>Takes no more outcomes and waits until those queued are written.</summary>
    public async Task StopAsync()
    {
        _outcomes.Writer.TryComplete();
        await _recorder;
    }

    /// <summary>Hands the attempt's outcome to the writer; null when it cannot take it any more.</summary>
    public PendingOutcome? Queue(ClaimedDelivery delivery, string owner, DateTimeOffset startedAt, string? error, bool held)
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

        var outcome = new PendingOutcome(new AttemptResult(delivery.DeliveryId, owner, delivery.Attempt,
            delivery.Attempt - delivery.AttemptInRound, startedAt, endedAt, error is null, error, state, next));
        Interlocked.Increment(ref _waiting);
        if (_outcomes.Writer.TryWrite(outcome))
        {
            return outcome;
        }

        Interlocked.Decrement(ref _waiting);
        LogRecordFailed(logger, new InvalidOperationException("The dispatcher has stopped recording outcomes."), delivery.DeliveryId);
        return null;
    }

    /// <summary>Waits until the outcome is written; logs, never throws, when it was not.</summary>
    public async Task ConfirmRecordedAsync(PendingOutcome outcome)
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
                Interlocked.Add(ref _waiting, -batch.Count);
                for (var i = 0; i < batch.Count; i++)
                {
                    batch[i].Recorded.TrySetResult(recorded[i]);
                }
            }
            catch (Exception ex)
            {
                Interlocked.Add(ref _waiting, -batch.Count);
                batch.ForEach(o => o.Recorded.TrySetException(ex));
            }
        }
    }

    /// <summary>An outcome waiting for the writer; <see cref="Recorded"/> is false when the lease was lost.</summary>
    internal sealed record PendingOutcome(AttemptResult Result)
    {
        public TaskCompletionSource<bool> Recorded { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Handler {Handler} failed delivery {DeliveryId} on attempt {Attempt}; now {State}: {Error}")]
    private static partial void LogAttemptFailed(ILogger logger, string handler, long deliveryId, int attempt, string state, string error);

    [LoggerMessage(Level = LogLevel.Error, Message = "Recording the outcome of delivery {DeliveryId} failed; it will be attempted again when its lease expires")]
    private static partial void LogRecordFailed(ILogger logger, Exception exception, long deliveryId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Delivery {DeliveryId} was taken over by another worker before its outcome was recorded")]
    private static partial void LogLeaseLost(ILogger logger, long deliveryId);
}
