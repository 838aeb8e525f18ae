using System.Text.Json.Serialization;

namespace WebhookReceiver.Webhooks;

/// <summary>A stored webhook as listed: what arrived, when, and how far each handler got with it.</summary>
/// <param name="RunId">Null for a body that had no usable <c>run_id</c>.</param>
/// <param name="Deployment">The LangGraph deployment it is attributed to (by its token, or the only one configured); left out without one.</param>
/// <param name="Verification">What that deployment said about the run; left out until it was asked (or when verification is off).</param>
/// <param name="Source">How it reached the receiver: <c>webhook</c> (LangGraph posted it) or <c>sweep</c> (recovered from the LangGraph API after its webhook never arrived).</param>
internal sealed record WebhookSummary(
    long Id,
    string? RunId,
    string? ThreadId,
    string? AssistantId,
    string? GraphId,
    string? Status,
    DateTimeOffset ReceivedAt,
    IReadOnlyList<DeliveryView> Deliveries,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Deployment = null,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] VerificationView? Verification = null,
    string Source = "webhook");

/// <param name="NextCursor">Pass as <c>cursor</c> for the next (older) page; null on the last page.</param>
internal sealed record WebhookList(IReadOnlyList<WebhookSummary> Items, long? NextCursor);

/// <summary>One stored webhook with its payload and every delivery attempt.</summary>
/// <param name="RunId">Null for a body that had no usable <c>run_id</c>.</param>
/// <param name="Deployment">The LangGraph deployment it is attributed to; left out without one.</param>
/// <param name="Verification">What that deployment said about the run; left out until it was asked (or when verification is off).</param>
/// <param name="Payload">The body as stored: as received, minus secrets (tokens were redacted before it was stored), escapes kept.
/// Left out for a viewer when <c>Access:HidePayloadsFromViewers</c> is on.
/// A swept webhook's body is the server's run record (<c>GET /threads/{thread_id}/runs</c>), plus the thread's <c>values</c> when it was the thread's latest run.</param>
/// <param name="Source">How it reached the receiver: <c>webhook</c> (LangGraph posted it) or <c>sweep</c> (recovered from the LangGraph API).</param>
internal sealed record WebhookDetail(
    long Id,
    string? RunId,
    string? ThreadId,
    string? AssistantId,
    string? GraphId,
    string? Status,
    DateTimeOffset ReceivedAt,
    IReadOnlyList<DeliveryView> Deliveries,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] JsonPayload? Payload,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Deployment = null,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] VerificationView? Verification = null,
    string Source = "webhook");

/// <param name="State"><c>pending</c>, <c>succeeded</c>, <c>failed</c> (retrying), <c>dead</c>, or <c>rejected</c> (held after its run's verification; a replay delivers it).</param>
/// <param name="Attempts">Attempts made so far; listed one by one in <c>history</c> on a single webhook.</param>
internal sealed record DeliveryView(
    long Id,
    string Handler,
    string State,
    int Attempts,
    string? LastError,
    DateTimeOffset? NextAttemptAt,
    DateTimeOffset UpdatedAt,
    IReadOnlyList<AttemptView>? History)
{
    internal static DeliveryView From(StoredDelivery delivery, IEnumerable<StoredAttempt>? history = null) => new(
        delivery.Id, delivery.Handler, delivery.State, delivery.Attempts, delivery.LastError, delivery.NextAttemptAt, delivery.UpdatedAt,
        history?.Where(a => a.DeliveryId == delivery.Id).Select(a => new AttemptView(a.Attempt, a.StartedAt, a.EndedAt, a.Succeeded, a.Error, a.Outcome)).ToList());
}

/// <param name="EndedAt">When it ended; for an abandoned attempt, when another worker found it abandoned.</param>
/// <param name="Outcome"><c>succeeded</c>, <c>failed</c>, or <c>abandoned</c> (its process stopped before it finished; counted as failed).</param>
internal sealed record AttemptView(int Attempt, DateTimeOffset StartedAt, DateTimeOffset EndedAt, bool Succeeded, string? Error, string Outcome);

internal sealed record ReplayResult(int Replayed);

/// <summary>A registered handler, what it accepts, and its deliveries by state.</summary>
/// <param name="Handles"><c>runs</c> (a webhook handler) or <c>interrupts</c> (an interrupt handler: only its graph and assistant filters apply).
/// A forward target with <c>Events</c> <c>Both</c> is listed twice, once for each.</param>
internal sealed record HandlerView(string Name, string Type, HandlerFilterView Filter, IReadOnlyDictionary<string, long> Deliveries, string Handles);

internal sealed record HandlerFilterView(
    IReadOnlyList<string> Statuses,
    IReadOnlyList<string> AssistantIds,
    IReadOnlyList<string> GraphIds,
    IReadOnlyDictionary<string, string> Metadata,
    bool VerifiedOnly = false)
{
    public static HandlerFilterView From(HandlerFilter filter) => new(filter.Statuses, filter.Assistants, filter.Graphs,
        filter.Metadata.ToDictionary(m => m.Key, m => m.Value), filter.VerifiedRunsOnly);
}

/// <summary>A run's verification against its LangGraph deployment (<c>LangGraph:Verify</c>).</summary>
/// <param name="Result"><c>verified</c>, <c>mismatch</c>, <c>not_found</c>, <c>unverifiable</c>, or <c>error</c> (not answered yet; retried).</param>
/// <param name="Detail">Why: which field differs, why it cannot be checked, or the server's error; null when verified.</param>
/// <param name="CheckedAt">When the server was asked.</param>
internal sealed record VerificationView(string Result, string? Detail, DateTimeOffset CheckedAt)
{
    public static VerificationView? From(RunVerification? verification) =>
        verification is null ? null : new(verification.Result, verification.Detail, verification.CheckedAt);
}
