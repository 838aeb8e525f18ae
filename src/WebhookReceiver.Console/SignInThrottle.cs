using System.Collections.Concurrent;
using Microsoft.Extensions.Options;

namespace WebhookReceiver.Console;

/// <summary>
/// Failed console sign-ins per client address (as the host's forwarded-headers settings resolve it) within
/// <c>Console:SignInFailureWindow</c>: each failure waits a growing delay, and past <c>Console:SignInFailureLimit</c> the
/// address is refused until its oldest failure leaves the window. Per process: each replica counts its own.
/// </summary>
internal sealed class SignInThrottle(IOptions<ConsoleOptions> options, TimeProvider time)
{
    // Bounded so a flood of addresses cannot grow it without end: the oldest entries go first.
    private const int MaxAddresses = 10_000;
    private readonly ConcurrentDictionary<string, List<DateTimeOffset>> _failures = new(StringComparer.Ordinal);

    /// <summary>How long the address must wait before it may try again; null when it may try now.</summary>
    public TimeSpan? RetryAfter(string address)
    {
        var now = time.GetUtcNow();
        if (!_failures.TryGetValue(address, out var failures))
        {
            return null;
        }

        lock (failures)
        {
            var window = options.Value.SignInFailureWindow;
            failures.RemoveAll(at => at <= now - window);
            return failures.Count >= options.Value.SignInFailureLimit ? failures[0] + window - now : null;
        }
    }

    /// <summary>Counts a failure and returns how long to hold the answer: 0.5 s per failure in the window, at most 3 s.</summary>
    public TimeSpan Fail(string address)
    {
        var now = time.GetUtcNow();
        if (_failures.Count >= MaxAddresses)
        {
            foreach (var stale in _failures.Where(f => f.Value.Count == 0 || f.Value[^1] <= now - options.Value.SignInFailureWindow).Select(f => f.Key).ToList())
            {
                _failures.TryRemove(stale, out _);
            }
        }

        var failures = _failures.GetOrAdd(address, _ => []);
        lock (failures)
        {
            failures.Add(now);
            return TimeSpan.FromMilliseconds(Math.Min(3000, 500 * failures.Count));
        }
    }

    /// <summary>A successful sign-in clears the address's failures.</summary>
    public void Succeed(string address) => _failures.TryRemove(address, out _);
}
