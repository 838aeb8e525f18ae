using WebhookReceiver.Webhooks;

namespace WebhookReceiver.Tests.Dispatch;

public sealed class RetryPolicyTests
{
    private static readonly DispatchOptions Options = new()
    {
        InitialRetryDelay = TimeSpan.FromSeconds(5),
        MaxRetryDelay = TimeSpan.FromMinutes(2),
        RetryJitter = 0.2,
        MaxAttempts = 4,
    };

    [Theory]
    [InlineData(1, 5)]
    [InlineData(2, 10)]
    [InlineData(3, 20)]
    [InlineData(4, 40)]
    [InlineData(5, 80)]
    public void Jitter_stays_within_its_bounds_around_the_doubling_delay(int attempt, double seconds)
    {
        var policy = new RetryPolicy(Options, new Random(attempt));
        var delays = Enumerable.Range(0, 2000).Select(_ => policy.DelayAfter(attempt).TotalSeconds).ToList();

        Assert.All(delays, d => Assert.InRange(d, seconds * 0.8, seconds * 1.2));
        Assert.True(delays.Max() - delays.Min() > seconds * 0.3, "the jitter spreads the delays");
    }

    [Fact]
    public void The_delay_never_passes_the_cap()
    {
        var policy = new RetryPolicy(Options, new Random(1));

        Assert.All(Enumerable.Range(6, 40), attempt => Assert.True(policy.DelayAfter(attempt) <= Options.MaxRetryDelay));
        Assert.True(policy.DelayAfter(30) >= Options.MaxRetryDelay * 0.8);
    }

    [Fact]
    public void Attempts_stop_at_the_maximum()
    {
        var policy = new RetryPolicy(Options);

        Assert.True(policy.ShouldRetry(3));
        Assert.False(policy.ShouldRetry(4));
    }
}
