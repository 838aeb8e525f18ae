namespace WebhookReceiver.Interrupts;

/// <summary>
/// One turn at a time per thread (deployment and thread id), and none between threads: what is awaited is one thread's
/// turn, never the process's. A thread's entry is dropped once nobody holds or waits for its turn.
/// </summary>
internal sealed class ThreadTurns
{
    private readonly Dictionary<(string Deployment, string ThreadId), (SemaphoreSlim Turn, int Users)> _threads = [];

    /// <summary>Waits for the thread's turn; dispose the result to pass it on.</summary>
    public async Task<IDisposable> WaitAsync(string deployment, string threadId, CancellationToken cancellationToken)
    {
        var key = (deployment, threadId);
        SemaphoreSlim turn;
        lock (_threads)
        {
            var (existing, users) = _threads.GetValueOrDefault(key);
            turn = existing ?? new SemaphoreSlim(1, 1);
            _threads[key] = (turn, users + 1);
        }

        try
        {
            await turn.WaitAsync(cancellationToken);
        }
        catch
        {
            Leave(key);
            throw;
        }

        return new Turn(this, key, turn);
    }

    private void Leave((string, string) key)
    {
        lock (_threads)
        {
            var (turn, users) = _threads[key];
            if (users == 1)
            {
                _threads.Remove(key);
                turn.Dispose();
            }
            else
            {
                _threads[key] = (turn, users - 1);
            }
        }
    }

    private sealed class Turn(ThreadTurns turns, (string, string) key, SemaphoreSlim turn) : IDisposable
    {
        private int _released;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _released, 1) == 0)
            {
                turn.Release();
                turns.Leave(key);
            }
        }
    }
}
