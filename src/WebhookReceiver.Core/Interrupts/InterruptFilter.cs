using Microsoft.AspNetCore.Mvc;
using WebhookReceiver.Kernel;

namespace WebhookReceiver.Interrupts;

/// <summary>The interrupt list's filters and paging, as <c>GET /api/interrupts</c> and the console's interrupts page read them.</summary>
internal sealed class InterruptFilter
{
    /// <summary>One of <see cref="InterruptState.All"/>.</summary>
    [FromQuery(Name = "state")]
    public string? State { get; init; }

    /// <summary>The LangGraph deployment's name (<c>WebhookReceiver:LangGraph:Deployments</c>).</summary>
    [FromQuery(Name = "deployment")]
    public string? Deployment { get; init; }

    [FromQuery(Name = "graph_id")]
    public string? GraphId { get; init; }

    [FromQuery(Name = "thread_id")]
    public string? ThreadId { get; init; }

    [FromQuery(Name = "cursor")]
    public string? Cursor { get; init; }

    [FromQuery(Name = "limit")]
    public string? Limit { get; init; }

    /// <summary>The store's query; each value that cannot be used is added to <paramref name="errors"/> under its query name.</summary>
    public InterruptQuery ToQuery(Dictionary<string, string[]> errors)
    {
        var (before, size) = QueryParameters.Paging(Cursor, Limit, errors);
        return new InterruptQuery
        {
            State = QueryParameters.OneOf(State, "state", InterruptState.All, errors),
            Deployment = QueryParameters.Indexable(Deployment, "deployment", errors),
            GraphId = QueryParameters.Indexable(GraphId, "graph_id", errors),
            ThreadId = QueryParameters.Indexable(ThreadId, "thread_id", errors),
            Before = before,
            Limit = size,
        };
    }
}
