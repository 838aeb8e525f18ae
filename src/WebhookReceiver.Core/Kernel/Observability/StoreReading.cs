namespace WebhookReceiver.Kernel;

/// <summary>
/// A value a gauge shows, read from the store in the background at most once per interval: gauges are read synchronously at
/// every collection, so a scrape never waits on the store and a busy scraper cannot turn into a load on it. A scrape may see
/// the value of the previous read (null before the first one ends). When a read fails (the store is unreachable) the last
/// value stays, and /health/ready says why.
/// </summary>
internal sealed class StoreReading<T>(Func<T?, CancellationToken, Task<T>> read, TimeProvider time, TimeSpan interval)
    where T : class
{
    private T? _value;
    private long _readAt;
    private int _reading;

    /// <summary>The last value read; starts a read in the background when it is older than the interval.</summary>
    public T? Current
    {
        get
        {
            if (time.GetElapsedTime(Interlocked.Read(ref _readAt)) >= interval && Interlocked.CompareExchange(ref _reading, 1, 0) == 0)
            {
                _ = RefreshAsync();
            }

            return Volatile.Read(ref _value);
        }
    }

    private async Task RefreshAsync()
    {
        try
        {
            Volatile.Write(ref _value, await read(Volatile.Read(ref _value), CancellationToken.None));
        }
        catch (Exception)
        {
            // Kept: see the summary.
        }
        finally
        {
            Interlocked.Exchange(ref _readAt, time.GetTimestamp());
            Volatile.Write(ref _reading, 0);
        }
    }
}
