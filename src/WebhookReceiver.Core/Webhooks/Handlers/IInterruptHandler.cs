using System.Text.Json;

namespace WebhookReceiver.Webhooks;

/// <summary>
/// Acts on a LangGraph thread that stopped for a person (an <c>interrupt()</c> or a static breakpoint): for example, posts
/// the question to a chat with a link to resume it. Registered with <c>.AddInterruptHandler&lt;T&gt;(name, filter)</c>;
/// delivered like webhooks (its own scope per attempt, the attempt timeout, retries with backoff, then a dead letter), once
/// per pause. Throwing fails the attempt. Use <see cref="DeliveryContext.DeliveryId"/> to make the work idempotent. In the
/// context, <see cref="DeliveryContext.WebhookId"/> is the webhook that showed the pause, or 0 when the sweep found it
/// (its webhook was lost), and <see cref="DeliveryContext.ReceivedAt"/> is when the pause was seen.
/// </summary>
public interface IInterruptHandler
{
    Task HandleAsync(Interrupt interrupt, DeliveryContext context, CancellationToken cancellationToken);
}

/// <summary>
/// A thread waiting for a person, as the receiver recorded it from <c>GET /threads/{thread_id}</c> and its state. Either
/// <see cref="Pending"/> holds the interrupts the graph raised, or it is empty and <see cref="Next"/> names the nodes a
/// static breakpoint (<c>interrupt_before</c>/<c>interrupt_after</c>) stopped before.
/// </summary>
public sealed class Interrupt
{
    /// <summary>The receiver's id of this pause: <c>GET /api/interrupts/{id}</c>, <c>POST /api/interrupts/{id}/resume</c>.</summary>
    public required long Id { get; init; }

    /// <summary>The configured LangGraph deployment (<c>WebhookReceiver:LangGraph:Deployments</c> name) the thread lives on.</summary>
    public required string Deployment { get; init; }

    public required string ThreadId { get; init; }

    /// <summary>The run that paused; null when it could not be told (a thread found by the sweep with no runs listed).</summary>
    public string? RunId { get; init; }

    /// <summary>The assistant of the paused run; the resume runs on it.</summary>
    public string? AssistantId { get; init; }

    /// <summary>The graph (<c>metadata.graph_id</c> of the paused run).</summary>
    public string? GraphId { get; init; }

    /// <summary>The pending interrupts, in the order the server listed them; empty at a static breakpoint.</summary>
    public required IReadOnlyList<PendingInterrupt> Pending { get; init; }

    /// <summary>The nodes that run next (the state's <c>next</c>).</summary>
    public required IReadOnlyList<string> Next { get; init; }

    /// <summary>The checkpoint the thread waits at.</summary>
    public string? CheckpointId { get; init; }

    /// <summary>True when the thread stopped at a static breakpoint: no interrupt pending, a node next. Resume it with <c>{}</c>.</summary>
    public bool IsBreakpoint => Pending.Count == 0;

    /// <summary>When the receiver found the pause.</summary>
    public required DateTimeOffset SeenAt { get; init; }

    /// <summary>
    /// Where to resume it: <c>POST</c> with the admin key and <c>{"resume": value}</c> (one interrupt), <c>{"resume": {"&lt;interrupt id&gt;": value}}</c>
    /// (several) or <c>{}</c> (a breakpoint). Absolute when <c>WebhookReceiver:LangGraph:PublicUrl</c> is set, else a path on this receiver.
    /// </summary>
    public required string ResumeUrl { get; init; }

    /// <summary>
    /// The interrupt's page in the operator console, where a reviewer signs in and answers it: the link to put in a chat
    /// message or an email. Absolute (<c>https://host/console/interrupts/42</c>: the origin and path base of
    /// <c>WebhookReceiver:LangGraph:PublicUrl</c>, then <c>WebhookReceiver:Console:Path</c>); null when no public URL is set or
    /// the console is not added.
    /// </summary>
    public string? ConsoleUrl { get; init; }
}

/// <summary>One <c>interrupt(value)</c> a graph is waiting at.</summary>
public sealed class PendingInterrupt
{
    /// <summary>The interrupt's id: the key of its answer when several are resumed at once. Null on servers that send none.</summary>
    public string? Id { get; init; }

    /// <summary>Exactly what the graph passed to <c>interrupt()</c>.</summary>
    public JsonElement Value { get; init; }

    /// <summary>The schema of the expected answer, on servers that send one; null otherwise.</summary>
    public JsonElement? ResponseSchema { get; init; }
}
