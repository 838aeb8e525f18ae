namespace WebhookReceiver.Tests.Infrastructure;

/// <summary>Waits for background work (the dispatcher) to reach a state, failing with the last value seen.</summary>
public static class Eventually
{
    public static async Task<T> MatchAsync<T>(Func<Task<T>> read, Func<T, bool> done, int timeoutSeconds = 20)
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
                throw new TimeoutException($"The condition did not hold within {timeoutSeconds} s; last value: {value}");
            }

            await Task.Delay(50);
        }
    }
}
