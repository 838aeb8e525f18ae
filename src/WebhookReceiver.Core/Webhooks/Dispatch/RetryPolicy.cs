
namespace WebhookReceiver.Webhooks;

/// <summary>Exponential backoff with jitter, capped, until the attempt limit dead-letters the delivery.</summary>
internal sealed class RetryPolicy(DispatchOptions options, Random? random = null)
{
    private readonly Random _random = random ?? Random.Shared;

    /// <summary>True when a delivery that just failed its <paramref name="attemptInRound"/>-th attempt gets another.</summary>
    public bool ShouldRetry(int attemptInRound) => attemptInRound < options.MaxAttempts;

    /// <summary>The wait after the <paramref name="attemptInRound"/>-th failed attempt: initial × 2^(n-1), capped, ± jitter.</summary>
    public TimeSpan DelayAfter(int attemptInRound)
    {
        var exponential = options.InitialRetryDelay.TotalMilliseconds * Math.Pow(2, Math.Max(0, attemptInRound - 1));
        var capped = Math.Min(exponential, options.MaxRetryDelay.TotalMilliseconds);
        var jitter = 1 + (options.RetryJitter * ((_random.NextDouble() * 2) - 1));
        return TimeSpan.FromMilliseconds(Math.Min(capped * jitter, options.MaxRetryDelay.TotalMilliseconds));
    }
}
