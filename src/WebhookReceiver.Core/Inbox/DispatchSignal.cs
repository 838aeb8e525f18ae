namespace WebhookReceiver.Inbox;

/// <summary>Wakes the dispatcher when new deliveries are stored or a slot frees, instead of waiting for the next poll.</summary>
internal sealed class DispatchSignal : IDisposable
{
    private readonly SemaphoreSlim _signal = new(0, 1);

    public void Notify()
    {
        // Already signalled: one wake-up serves every notification since the last wait. Checked first because this runs
        // for every stored batch and finished attempt, where an exception each time would cost more than the work.
        if (_signal.CurrentCount > 0)
        {
            return;
        }

        try
        {
            _signal.Release();
        }
        catch (SemaphoreFullException)
        {
            // Another thread signalled between the check and the release.
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
