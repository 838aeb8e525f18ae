namespace WebhookReceiver.Webhooks;

/// <summary>
/// Wakes the dispatcher when new deliveries are stored or a slot frees, instead of waiting for the next poll; and tells it
/// when ingest is busy, so that acknowledging senders comes first.
/// </summary>
internal sealed class DispatchSignal : IDisposable
{
    // A batch this large means senders are queuing for the store: the CPU is theirs for the next moment. Measured on two
    // cores, a 64-connection flood commits batches of tens; a steady 1,000/s, batches of one or two.
    private const int BusyBatchSize = 8;
    private const long BusyForMilliseconds = 250;

    // Only while the process uses at least half of the cores it may use: bursts at a moderate rate put 8 requests in
    // flight now and then with most of the CPU idle, and holding handlers back then only made them lag (~900 webhooks/s
    // from 32 connections kept the log handler 5-10 s behind; issue #15).
    private const double BusyCpuShare = 0.5;

    private readonly SemaphoreSlim _signal = new(0, 1);
    private long _ingestBusyUntil;
    private Func<int>? _ingestsInFlight;
    private Func<double> _cpuShare = new CpuShare().Recent;

    /// <summary>
    /// True while 8 or more webhook requests are being handled at once, or for a moment (250 ms) after the ingest writer
    /// committed a batch of 8 or more, and the process is using at least half of its cores: the dispatcher then claims
    /// less often, since the backlog is durable and drains once the flood passes. Requests in flight and batch sizes
    /// both, because a flood that starves the CPU slows requests before they reach the writer, whose batches then stay
    /// small. Wall-clock time, not a schedule.
    /// </summary>
    public bool IngestBusy =>
        (Environment.TickCount64 < Volatile.Read(ref _ingestBusyUntil) || _ingestsInFlight?.Invoke() >= BusyBatchSize)
        && _cpuShare() >= BusyCpuShare;

    /// <summary>Tells the signal how to count the webhook requests being handled now (the ingress's concurrency cap does).</summary>
    public void CountIngestsWith(Func<int> inFlight) => _ingestsInFlight = inFlight;

    /// <summary>Replaces how the process's CPU use is read (a share of its cores, 0 to 1): for tests.</summary>
    internal void MeasureCpuWith(Func<double> share) => _cpuShare = share;

    /// <summary>The ingest writer committed <paramref name="webhooks"/> webhooks, <paramref name="deliveries"/> deliveries among them.</summary>
    public void Stored(int webhooks, int deliveries)
    {
        if (webhooks >= BusyBatchSize)
        {
            Volatile.Write(ref _ingestBusyUntil, Environment.TickCount64 + BusyForMilliseconds);
        }

        // Nothing new to deliver (no handler wanted these): no reason to wake the dispatcher for a claim that finds nothing.
        if (deliveries > 0)
        {
            Notify();
        }
    }

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

    /// <summary>The share of its cores (0 to 1) the process used over the last quarter second or so, from its CPU time.</summary>
    private sealed class CpuShare
    {
        private const long WindowMilliseconds = 250;
        private readonly Lock _lock = new();
        private long _sampledAt = Environment.TickCount64;
        private TimeSpan _cpuAtSample = Environment.CpuUsage.TotalTime;
        private double _share;

        public double Recent()
        {
            lock (_lock)
            {
                var now = Environment.TickCount64;
                if (now - _sampledAt >= WindowMilliseconds)
                {
                    var cpu = Environment.CpuUsage.TotalTime;
                    _share = (cpu - _cpuAtSample).TotalMilliseconds / ((now - _sampledAt) * (double)Environment.ProcessorCount);
                    (_sampledAt, _cpuAtSample) = (now, cpu);
                }

                return _share;
            }
        }
    }
}
