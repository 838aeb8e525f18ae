using System.Diagnostics;

namespace WebhookReceiver.Chaos;

/// <summary>Milliseconds since the run started: one clock for the sender's log, the target's hits and the fault timeline.</summary>
public static class Clock
{
    private static readonly Stopwatch Started = Stopwatch.StartNew();

    public static long Ms => Started.ElapsedMilliseconds;
}

/// <summary>One fault the run made: a kill (a moment) or a store outage (a span), to explain repeated deliveries with.</summary>
public sealed record Fault(string Kind, string Target, long StartMs, long EndMs);
