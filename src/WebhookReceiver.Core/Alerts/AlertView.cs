namespace WebhookReceiver.Alerts;

/// <summary>An alert as <c>GET /api/alerts</c> lists it and the operational webhook posts it (snake_case; times ISO-8601 UTC).</summary>
/// <param name="Id">The stored alert's id; 0 for a <c>store_unavailable</c> alert not stored yet (the store refused writes).</param>
/// <param name="Kind"><c>dead_handler</c>, <c>sweep_recovered</c>, <c>sweep_failed</c>, <c>interrupt_waiting</c> or <c>store_unavailable</c>.</param>
/// <param name="Cause"><c>kind:subject</c>: at most one alert of a cause is unresolved at a time; a cause back after resolution opens a new alert.</param>
/// <param name="Subject">What it is about: the handler, the deployment, the interrupt id, <c>store</c>.</param>
/// <param name="State"><c>open</c>, <c>acknowledged</c> or <c>resolved</c>.</param>
/// <param name="Occurrences">Dead deliveries (dead_handler), runs recovered since it opened (sweep_recovered), failed sweeps (sweep_failed), seconds waited when last evaluated (interrupt_waiting), refused writes seen (store_unavailable).</param>
/// <param name="FirstError">The first error seen for the cause (secrets redacted); null when none.</param>
/// <param name="LastError">The latest one.</param>
/// <param name="RunIds">Run ids concerned: the runs a sweep recovered (at most 100).</param>
/// <param name="AcknowledgedBy">The operator who acknowledged it.</param>
internal sealed record AlertView(
    long Id,
    string Kind,
    string Cause,
    string Subject,
    string State,
    string Summary,
    long Occurrences,
    string? FirstError,
    string? LastError,
    IReadOnlyList<string> RunIds,
    DateTimeOffset OpenedAt,
    DateTimeOffset UpdatedAt,
    DateTimeOffset? AcknowledgedAt,
    string? AcknowledgedBy,
    DateTimeOffset? ResolvedAt)
{
    public static AlertView From(StoredAlert a) => new(a.Id, a.Kind, a.Cause, a.Subject, a.State, a.Summary, a.Occurrences, a.FirstError, a.LastError,
        a.RunIds, a.OpenedAt, a.UpdatedAt, a.AcknowledgedAt, a.AcknowledgedBy, a.ResolvedAt);
}

/// <param name="NextCursor">Pass as <c>cursor</c> for the next (older) page; null on the last page.</param>
internal sealed record AlertList(IReadOnlyList<AlertView> Items, long? NextCursor);
