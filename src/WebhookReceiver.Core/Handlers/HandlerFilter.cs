using WebhookReceiver.Runs;

namespace WebhookReceiver.Handlers;

/// <summary>Which runs a handler wants. Each condition set must hold; a condition lists the accepted values; no condition, every run.</summary>
public sealed class HandlerFilter
{
    private readonly List<string> _statuses = [];
    private readonly List<string> _assistants = [];
    private readonly List<string> _graphs = [];
    private readonly List<KeyValuePair<string, string>> _metadata = [];

    public IReadOnlyList<string> Statuses => _statuses;
    public IReadOnlyList<string> Assistants => _assistants;
    public IReadOnlyList<string> Graphs => _graphs;
    public IReadOnlyList<KeyValuePair<string, string>> Metadata => _metadata;

    /// <summary>Only runs that ended with one of these statuses (<c>success</c>, <c>error</c>, ...).</summary>
    public HandlerFilter OnStatus(params string[] statuses)
    {
        _statuses.AddRange(statuses);
        return this;
    }

    /// <summary>Only runs of one of these assistants (<c>assistant_id</c>).</summary>
    public HandlerFilter ForAssistant(params string[] assistantIds)
    {
        _assistants.AddRange(assistantIds);
        return this;
    }

    /// <summary>Only runs of one of these graphs (<c>metadata.graph_id</c>).</summary>
    public HandlerFilter ForGraph(params string[] graphIds)
    {
        _graphs.AddRange(graphIds);
        return this;
    }

    /// <summary>Only runs whose <c>metadata[key]</c> is the string <paramref name="value"/>; several calls must all hold.</summary>
    public HandlerFilter WithMetadata(string key, string value)
    {
        if (_metadata.Exists(m => m.Key == key))
        {
            throw new ArgumentException($"The filter already asks for metadata '{key}'; a run has one value for it.", nameof(key));
        }

        _metadata.Add(new(key, value));
        return this;
    }

    public bool Matches(LangGraphRun run) =>
        AnyOrNone(_statuses, run.Status)
        && AnyOrNone(_assistants, run.AssistantId)
        && AnyOrNone(_graphs, run.GraphId)
        && _metadata.TrueForAll(m => run.MetadataValue(m.Key) == m.Value);

    private static bool AnyOrNone(List<string> accepted, string? value) =>
        accepted.Count == 0 || (value is not null && accepted.Contains(value, StringComparer.Ordinal));
}
