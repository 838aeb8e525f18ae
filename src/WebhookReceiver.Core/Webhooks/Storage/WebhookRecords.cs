
using WebhookReceiver.Kernel;

namespace WebhookReceiver.Webhooks;

/// <summary>A webhook ready to store: its index columns, the body as received (minus secrets), and the handlers it is for.</summary>
/// <param name="RunId">Null when the body has no usable <c>run_id</c>: it is then a duplicate of a stored body with the same bytes.</param>
/// <param name="Deployment">The configured LangGraph deployment it is attributed to (by its token, or the only one); null without one.</param>
/// <param name="Source">How it reached the receiver: posted by LangGraph, or recovered by a sweep of the LangGraph API.</param>
/// <param name="Traceparent">The W3C trace context of the span that received it, kept so that every later attempt joins that
/// trace; null while tracing is off.</param>
internal sealed record NewWebhook(
    string? RunId,
    string? ThreadId,
    string? AssistantId,
    string? GraphId,
    string? Status,
    DateTimeOffset ReceivedAt,
    byte[] Payload,
    IReadOnlyList<string> Handlers,
    string? Deployment = null,
    WebhookSource Source = WebhookSource.Webhook,
    string? Traceparent = null)
{
    /// <summary>
    /// The one way a received or recovered run becomes a webhook to store: its index columns from <paramref name="run"/>
    /// (each only when fit for an index, <see cref="IndexableText"/>), <paramref name="payload"/> as the stored body.
    /// </summary>
    public static NewWebhook Of(LangGraphRun run, byte[] payload, DateTimeOffset receivedAt, IReadOnlyList<string> handlers, string? deployment,
        WebhookSource source, string? traceparent)
    {
        ArgumentNullException.ThrowIfNull(run);
        return new(IndexableText.IndexValue(run.RunId), IndexableText.IndexValue(run.ThreadId), IndexableText.IndexValue(run.AssistantId),
            IndexableText.IndexValue(run.GraphId), IndexableText.IndexValue(run.Status), receivedAt, payload, handlers, deployment, source, traceparent);
    }
}

/// <param name="Id">The stored webhook's id (the earlier one's for a duplicate).</param>
internal readonly record struct AppendResult(long Id, bool Duplicate);

internal static class DeliveryState
{
    public const string Pending = "pending";
    public const string Succeeded = "succeeded";
    /// <summary>Failed at least once and waiting for its next attempt.</summary>
    public const string Failed = "failed";
    public const string Dead = "dead";
    /// <summary>Held, not handed to its handler: the run's verification failed under <c>LangGraph:Verify = Require</c>, or the handler takes verified runs only. A replay delivers it.</summary>
    public const string Rejected = "rejected";

    public static readonly IReadOnlyList<string> All = [Pending, Succeeded, Failed, Dead, Rejected];
}

/// <param name="Attempt">Number of the attempt about to run, counted over the delivery's life (1-based).</param>
/// <param name="AttemptInRound">Number of the attempt since the delivery was created or last replayed; what the retry limit counts.</param>
/// <param name="InterruptId">Set for the delivery of an interrupt to an interrupt handler: then <see cref="ReceivedAt"/> is when the pause was
/// seen, <see cref="WebhookId"/> the webhook that showed it (0 when none did) and <see cref="Payload"/> empty.</param>
/// <param name="Traceparent">The trace context stored with its webhook (for an interrupt, the webhook that showed it); null when none was.</param>
internal sealed record ClaimedDelivery(
    long DeliveryId,
    long WebhookId,
    string Handler,
    int Attempt,
    int AttemptInRound,
    DateTimeOffset ReceivedAt,
    byte[] Payload,
    WebhookSource Source = WebhookSource.Webhook,
    long? InterruptId = null,
    string? Traceparent = null);

/// <summary>What one claim leased, and the attempts it found abandoned on the way.</summary>
internal sealed record ClaimBatch(IReadOnlyList<ClaimedDelivery> Claimed, IReadOnlyList<AbandonedAttempt> Abandoned);

/// <summary>
/// An attempt that never got an outcome: the process running it stopped (killed, crashed, out of memory) or lost the
/// store until its lease expired. It counts like a failed attempt and is recorded in the history with <see cref="Error"/>.
/// </summary>
/// <param name="Attempt">The abandoned attempt's number over the delivery's life (1-based).</param>
/// <param name="State">The delivery's state after it (a <see cref="DeliveryState"/>): <c>dead</c> when it was the round's last allowed attempt.</param>
internal sealed record AbandonedAttempt(long DeliveryId, string Handler, int Attempt, string State)
{
    /// <summary>The error recorded for an abandoned attempt, in its history row and the delivery's <c>last_error</c>.</summary>
    public const string Error = "abandoned: the process running the attempt stopped before it finished";
}

/// <summary>How an attempt ended, as the query API shows it.</summary>
internal static class AttemptOutcome
{
    public const string Succeeded = "succeeded";
    public const string Failed = "failed";
    /// <summary>The attempt's process stopped before it finished (see <see cref="AbandonedAttempt"/>).</summary>
    public const string Abandoned = "abandoned";
}

/// <param name="RoundStart">The delivery's round when it was claimed (Attempt - AttemptInRound); a replay since starts a new one.</param>
internal sealed record AttemptResult(
    long DeliveryId,
    string Owner,
    int Attempt,
    int RoundStart,
    DateTimeOffset StartedAt,
    DateTimeOffset EndedAt,
    bool Succeeded,
    string? Error,
    string NextState,
    DateTimeOffset? NextAttemptAt);

internal sealed record WebhookQuery
{
    public string? Status { get; init; }
    public string? AssistantId { get; init; }
    /// <summary>The graph the run's assistant belongs to (<c>metadata.graph_id</c>).</summary>
    public string? GraphId { get; init; }
    public string? ThreadId { get; init; }
    public DateTimeOffset? ReceivedFrom { get; init; }
    public DateTimeOffset? ReceivedTo { get; init; }
    /// <summary>Only webhooks with at least one delivery in this state.</summary>
    public string? DeliveryState { get; init; }
    /// <summary>Only webhooks with a delivery to this handler (in <see cref="DeliveryState"/>, when that is given too).</summary>
    public string? DeliveryHandler { get; init; }
    /// <summary>Only webhooks attributed to this LangGraph deployment.</summary>
    public string? Deployment { get; init; }
    /// <summary>Only webhooks whose run verification recorded this result (a <see cref="VerificationResult"/>).</summary>
    public string? Verification { get; init; }
    /// <summary>Only webhooks that reached the receiver this way.</summary>
    public WebhookSource? Source { get; init; }
    /// <summary>Only webhooks older than this id (the cursor from the previous page).</summary>
    public long? Before { get; init; }
    public int Limit { get; init; } = 50;
}

internal sealed record WebhookPage(IReadOnlyList<StoredWebhook> Items, long? NextCursor);

/// <param name="RunId">Null for a body that had no usable <c>run_id</c>.</param>
/// <param name="Deployment">The LangGraph deployment it is attributed to; null when none.</param>
/// <param name="Verification">What the deployment said about the run; null until asked (or when never asked).</param>
internal sealed record StoredWebhook(
    long Id,
    string? RunId,
    string? ThreadId,
    string? AssistantId,
    string? GraphId,
    string? Status,
    DateTimeOffset ReceivedAt,
    IReadOnlyList<StoredDelivery> Deliveries,
    byte[]? Payload = null,
    IReadOnlyList<StoredAttempt>? Attempts = null,
    string? Deployment = null,
    RunVerification? Verification = null,
    WebhookSource Source = WebhookSource.Webhook);

internal sealed record StoredDelivery(
    long Id,
    string Handler,
    string State,
    int Attempts,
    string? LastError,
    DateTimeOffset? NextAttemptAt,
    DateTimeOffset UpdatedAt);

/// <param name="EndedAt">When it ended; for an abandoned attempt, when it was found abandoned (its lease taken over).</param>
/// <param name="Abandoned">Its process stopped before it finished; it counted as failed.</param>
internal sealed record StoredAttempt(
    long DeliveryId,
    int Attempt,
    DateTimeOffset StartedAt,
    DateTimeOffset EndedAt,
    bool Succeeded,
    string? Error,
    bool Abandoned = false)
{
    /// <summary>An <see cref="AttemptOutcome"/>.</summary>
    public string Outcome => Succeeded ? AttemptOutcome.Succeeded : Abandoned ? AttemptOutcome.Abandoned : AttemptOutcome.Failed;
}

/// <param name="OfInterrupts">Deliveries of interrupts (to an interrupt handler), not of webhooks: a forward target can have both.</param>
internal sealed record DeliveryCount(string Handler, string State, long Count, bool OfInterrupts = false);

/// <summary>What one purge deleted: each at most the batch size.</summary>
internal readonly record struct PurgeCounts(int Webhooks, int Interrupts);

/// <summary>
/// What waits longest: when the earliest-due unfinished delivery (pending or failed) became due, and when the oldest
/// interrupt still waiting for a person was found; null when there is none.
/// </summary>
internal sealed record OldestWaiting(DateTimeOffset? DeliveryDueAt, DateTimeOffset? InterruptSeenAt);

/// <summary>How a stored webhook's <c>source</c> column spells a <see cref="WebhookSource"/>.</summary>
internal static class WebhookSources
{
    public const string Webhook = "webhook";
    public const string Sweep = "sweep";

    public static readonly IReadOnlyList<string> All = [Webhook, Sweep];

    public static string Name(WebhookSource source) => source == WebhookSource.Sweep ? Sweep : Webhook;

    public static WebhookSource Parse(string? name) => name == Sweep ? WebhookSource.Sweep : WebhookSource.Webhook;
}
