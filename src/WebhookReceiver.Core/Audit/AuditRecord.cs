namespace WebhookReceiver.Audit;

/// <summary>
/// One state-changing action, as stored: when, who (an operator's name or the host user's name), what
/// (<see cref="AuditActions"/>), on what (<c>webhook:42</c>, <c>interrupt:7</c>, <c>dead-letters</c>, <c>sweep</c>), how it
/// ended (<see cref="AuditOutcomes"/>) and its detail (a count, the resume value as sent: secrets redacted).
/// </summary>
internal sealed record AuditRecord(long Id, DateTimeOffset At, string Actor, string Action, string Target, string Outcome, string? Detail);

/// <summary>An action to record: the store gives it its id.</summary>
internal sealed record AuditEntry(DateTimeOffset At, string Actor, string Action, string Target, string Outcome, string? Detail = null);

/// <summary>Which records to list, newest first: every filter is optional (equality; <c>From</c> inclusive, <c>To</c> exclusive).</summary>
internal sealed record AuditQuery
{
    public string? Action { get; init; }
    public string? Actor { get; init; }
    public string? Target { get; init; }
    public DateTimeOffset? From { get; init; }
    public DateTimeOffset? To { get; init; }

    /// <summary>Only records with an id below this: the <c>next_cursor</c> of the previous page.</summary>
    public long? Before { get; init; }

    public int Limit { get; init; } = 50;
}

/// <summary>One page of records, newest first; <see cref="NextCursor"/> is null on the last page.</summary>
internal sealed record AuditPage(IReadOnlyList<AuditRecord> Items, long? NextCursor);

/// <summary>The actions an audit record names.</summary>
internal static class AuditActions
{
    public const string Replay = "replay";
    public const string BulkReplay = "bulk_replay";
    public const string Resume = "resume";
    public const string Sweep = "sweep";
    public const string SignIn = "sign_in";
    public const string SignInFailed = "sign_in_failed";
    public const string SignOut = "sign_out";
    public const string AcknowledgeAlert = "acknowledge_alert";

    public static readonly IReadOnlyList<string> All = [Replay, BulkReplay, Resume, Sweep, SignIn, SignInFailed, SignOut, AcknowledgeAlert];
}

/// <summary>How an audited action ended.</summary>
internal static class AuditOutcomes
{
    /// <summary>Done as asked.</summary>
    public const string Succeeded = "succeeded";

    /// <summary>The actor's role does not allow it: nothing was done.</summary>
    public const string Forbidden = "forbidden";

    /// <summary>Its target does not exist.</summary>
    public const string NotFound = "not_found";

    /// <summary>Refused as asked (bad input, not in a state that allows it, refused by LangGraph...): nothing was done.</summary>
    public const string Refused = "refused";

    /// <summary>Tried and failed (a server did not answer).</summary>
    public const string Failed = "failed";
}
