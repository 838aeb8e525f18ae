using System.Diagnostics;
using System.Threading.Channels;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace WebhookReceiver.Webhooks;

/// <summary>The store cannot take the webhook now: answered 503 with Retry-After, so the sender tries again.</summary>
internal sealed class InboxUnavailableException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>
/// Group commit: concurrent requests hand their webhooks to one writer, which stores whatever has gathered in a single
/// transaction and completes each request once that transaction has committed. A bounded queue is the backpressure:
/// when the store falls behind, requests wait up to <see cref="IngestOptions.MaxQueueWait"/> and are then refused.
/// </summary>
internal sealed partial class InboxWriter(
    IInboxIngest inbox,
    DispatchSignal dispatchSignal,
    IOptions<IngestOptions> options,
    ILogger<InboxWriter> logger) : BackgroundService
{
    private readonly IngestOptions _options = options.Value;
    private readonly Channel<PendingAppend> _queue = Channel.CreateBounded<PendingAppend>(
        new BoundedChannelOptions(options.Value.QueueCapacity) { SingleReader = true, FullMode = BoundedChannelFullMode.Wait });

    /// <summary>Completes once the webhook is durably stored; throws <see cref="InboxUnavailableException"/> when it could not be.</summary>
    public async Task<AppendResult> AppendAsync(NewWebhook webhook, CancellationToken cancellationToken)
    {
        var pending = new PendingAppend(webhook);
        var queuedAt = Stopwatch.GetTimestamp();
        try
        {
            if (!_queue.Writer.TryWrite(pending))
            {
                // The queue is full: only then is a deadline needed to wait for room (most requests never get here).
                using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
                deadline.CancelAfter(_options.MaxQueueWait);
                await _queue.Writer.WriteAsync(pending, deadline.Token);
            }

            var left = _options.MaxQueueWait - Stopwatch.GetElapsedTime(queuedAt);
            return await pending.Stored.Task.WaitAsync(left > TimeSpan.Zero ? left : TimeSpan.Zero, cancellationToken);
        }
        catch (Exception ex) when (ex is TimeoutException || (ex is OperationCanceledException && !cancellationToken.IsCancellationRequested))
        {
            throw new InboxUnavailableException("The store did not take the webhook in time.");
        }
        catch (ChannelClosedException)
        {
            throw new InboxUnavailableException("The service is shutting down.");
        }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        // Reads until the queue is completed at shutdown, so that every request already queued gets its answer.
        var batch = new List<PendingAppend>(_options.MaxBatchSize);
        while (await _queue.Reader.WaitToReadAsync(CancellationToken.None))
        {
            batch.Clear();
            while (batch.Count < _options.MaxBatchSize && _queue.Reader.TryRead(out var pending))
            {
                batch.Add(pending);
            }

            if (await StoreAsync(batch) is not { } failure)
            {
                continue;
            }

            // A webhook the store refuses fails its whole batch. If the store takes the first one alone, it is working:
            // store the rest one by one too, so that only the refused webhook is answered 503.
            if (batch.Count > 1 && await StoreAsync(batch[..1]) is null)
            {
                foreach (var pending in batch[1..])
                {
                    if (await StoreAsync([pending]) is { } refused)
                    {
                        Refuse([pending], refused);
                    }
                }
            }
            else
            {
                Refuse(batch, failure);
            }
        }
    }

    /// <summary>Stores the webhooks in one transaction and answers their requests; on failure, returns why and answers none.</summary>
    private async Task<Exception?> StoreAsync(List<PendingAppend> batch)
    {
        try
        {
            var results = await inbox.AppendAsync(batch.ConvertAll(p => p.Webhook), CancellationToken.None);
            for (var i = 0; i < batch.Count; i++)
            {
                batch[i].Stored.TrySetResult(results[i]);
            }

            dispatchSignal.Stored(batch.Count, batch.Sum(p => p.Webhook.Handlers.Count));
            return null;
        }
        catch (Exception ex)
        {
            LogStoreFailed(logger, ex, batch.Count);
            return ex;
        }
    }

    private static void Refuse(List<PendingAppend> batch, Exception failure)
    {
        var unavailable = new InboxUnavailableException("The store could not take the webhook.", failure);
        batch.ForEach(pending => pending.Stored.TrySetException(unavailable));
    }

    public override Task StopAsync(CancellationToken cancellationToken)
    {
        _queue.Writer.TryComplete();
        return base.StopAsync(cancellationToken);
    }

    private sealed record PendingAppend(NewWebhook Webhook)
    {
        public TaskCompletionSource<AppendResult> Stored { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "Storing {Count} webhooks in one transaction failed")]
    private static partial void LogStoreFailed(ILogger logger, Exception exception, int count);
}
