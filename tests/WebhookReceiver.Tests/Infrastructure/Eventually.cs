namespace WebhookReceiver.Tests.Infrastructure;

/// <summary>
/// Waits for background work (the dispatcher, the checkpointer, a process) to reach a state: reads it again and again
/// until it holds or the deadline passes, then fails with what was awaited and the last value seen. A test of background
/// work waits with this instead of sleeping and sampling once.
/// </summary>
public static class Eventually
{
    public static async Task<T> MatchAsync<T>(Func<Task<T>> read, Func<T, bool> done, int timeoutSeconds = 20, string what = "The condition")
    {
        var deadline = DateTime.UtcNow.AddSeconds(timeoutSeconds);
        while (true)
        {
            var value = await read();
            if (done(value))
            {
                return value;
            }

            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"{what} did not hold within {timeoutSeconds} s; last value: {value}");
            }

            await Task.Delay(50);
        }
    }
}
