using WebhookReceiver.Console;
using WebhookReceiver.Interrupts;

namespace WebhookReceiver.Tests.Console;

/// <summary>How long a pause waited, as the interrupt list shows it: until now while waiting, else until it ended.</summary>
public sealed class InterruptWaitTests
{
    private static readonly DateTimeOffset Seen = new(2026, 12, 7, 8, 0, 0, TimeSpan.Zero);

    [Theory]
    [InlineData(45, "45 s")]
    [InlineData(12 * 60 + 30, "12 min")]
    [InlineData(3 * 3600 + 5 * 60, "3 h 5 min")]
    [InlineData(50 * 3600, "2 d 2 h")]
    public void A_duration_reads_in_the_unit_people_use(int seconds, string expected) =>
        Assert.Equal(expected, InterruptPages.Duration(TimeSpan.FromSeconds(seconds)));

    [Fact]
    public void A_waiting_pause_waited_until_now_and_an_answered_one_until_it_was_resumed()
    {
        var now = Seen.AddMinutes(90);
        var waiting = Pause(InterruptState.Waiting);
        var resumed = Pause(InterruptState.Resumed) with { ResumedAt = Seen.AddMinutes(7) };
        var expired = Pause(InterruptState.Expired) with { EndedAt = Seen.AddSeconds(30) };

        Assert.Equal("1 h 30 min", InterruptPages.Waited(waiting, now));
        Assert.Equal("7 min (until resumed)", InterruptPages.Waited(resumed, now));
        Assert.Equal("30 s (until expired)", InterruptPages.Waited(expired, now));
    }

    private static StoredInterrupt Pause(string state) =>
        new(1, "local", "t-1", "interrupts:a", "r-1", "ask", "ask", null, "[]", "[]", null, Seen, state, null, null, null, null, null, []);
}
