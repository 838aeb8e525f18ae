namespace WebhookReceiver.Alerts;

/// <summary>What an alert is about: the fixed list of kinds (also the <c>kind</c> label of the <c>alerts.open</c> gauge).</summary>
internal static class AlertKinds
{
    /// <summary>A handler has dead deliveries (one alert per handler); resolved when none is left dead (replayed, or purged).</summary>
    public const string DeadHandler = "dead_handler";

    /// <summary>A sweep of a deployment recovered runs whose webhook never arrived: the pipe in front is losing webhooks. Resolved by the next sweep that recovers nothing.</summary>
    public const string SweepRecovered = "sweep_recovered";

    /// <summary>A sweep of a deployment failed (the server or the store); resolved by the next one that does not.</summary>
    public const string SweepFailed = "sweep_failed";

    /// <summary>An interrupt waits for a person longer than <c>Alerts:InterruptWaitingThreshold</c> (one alert per interrupt); resolved when it is resumed or expires.</summary>
    public const string InterruptWaiting = "interrupt_waiting";

    /// <summary>The store refused a write; resolved when it takes one again (see <see cref="AlertRecorder"/> for how it is kept meanwhile).</summary>
    public const string StoreUnavailable = "store_unavailable";

    public static readonly IReadOnlyList<string> All = [DeadHandler, SweepRecovered, SweepFailed, InterruptWaiting, StoreUnavailable];

    /// <summary>The cause key: at most one unresolved alert per cause.</summary>
    public static string Cause(string kind, string subject) => $"{kind}:{subject}";
}
