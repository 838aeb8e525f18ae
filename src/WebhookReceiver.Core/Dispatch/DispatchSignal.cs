namespace WebhookReceiver.Dispatch;

/// <summary>Wakes the dispatcher when new deliveries are stored or a slot frees, instead of waiting for the next poll.</summary>
public sealed class DispatchSignal : IDisposable
{
    private readonly SemaphoreSlim _signal = new(0, 1);

    public void Notify()
    {
        try
        {
            _signal.Release();
        }
        catch (SemaphoreFullException)
        {
            // Already signalled: one wake-up serves every notification since the last wait.
        }
    }

    /// <summary>Returns when notified, or after <paramref name="timeout"/> on <paramref name="time"/>'s clock.</summary>
    public async Task WaitAsync(TimeSpan timeout, TimeProvider time, CancellationToken cancellationToken)
    {
        using var timer = new CancellationTokenSource(timeout, time);
        using var wait = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timer.Token);
        try
        {
            await _signal.WaitAsync(wait.Token);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            // The poll interval passed: time to look for due retries.
        }
    }

    public void Dispose() => _signal.Dispose();
}
