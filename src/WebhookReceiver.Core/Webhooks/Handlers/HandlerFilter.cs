namespace WebhookReceiver.Webhooks;

/// <summary>Which runs a handler wants. Each condition set must hold; a condition lists the accepted values; no condition, every run.</summary>
public sealed class HandlerFilter
{
    private readonly List<string> _statuses = [];
    private readonly List<string> _assistants = [];
    private readonly List<string> _graphs = [];
    private readonly List<KeyValuePair<string, string>> _metadata = [];
    private readonly List<string> _crons = [];

    public IReadOnlyList<string> Statuses => _statuses;
    public IReadOnlyList<string> Assistants => _assistants;
    public IReadOnlyList<string> Graphs => _graphs;
    public IReadOnlyList<KeyValuePair<string, string>> Metadata => _metadata;

    /// <summary>True once <see cref="ForCron"/> was called: only runs a cron fired.</summary>
    public bool CronRunsOnly { get; private set; }

    /// <summary>The cron ids <see cref="ForCron"/> accepts; empty with <see cref="CronRunsOnly"/>, any cron.</summary>
    public IReadOnlyList<string> Crons => _crons;

    /// <summary>
    /// True once <see cref="VerifiedOnly"/> was called: only runs their LangGraph deployment confirmed (<c>verified</c>).
    /// Checked as a delivery is about to run, once the verification is known; a delivery it stops is held as <c>rejected</c>.
    /// </summary>
    public bool VerifiedRunsOnly { get; private set; }

    /// <summary>
    /// Only runs the LangGraph server confirmed: same run, status and assistant (<c>LangGraph:Verify</c> Annotate or Require).
    /// Others (mismatch, not found, unverifiable stateless runs, and every run while Verify is Off) are held as <c>rejected</c>
    /// for this handler; an admin's replay delivers them.
    /// </summary>
    public HandlerFilter VerifiedOnly()
    {
        VerifiedRunsOnly = true;
        return this;
    }

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

    /// <summary>
    /// Only runs a cron fired (<see cref="LangGraphRun.CronId"/>): one of <paramref name="cronIds"/>, or any cron when none is
    /// given. Crons run on the Python server only.
    /// </summary>
    public HandlerFilter ForCron(params string[] cronIds)
    {
        CronRunsOnly = true;
        _crons.AddRange(cronIds);
        return this;
    }

    public bool Matches(LangGraphRun run) =>
        AnyOrNone(_statuses, run.Status)
        && AnyOrNone(_assistants, run.AssistantId)
        && AnyOrNone(_graphs, run.GraphId)
        && _metadata.TrueForAll(m => run.MetadataValue(m.Key) == m.Value)
        && (!CronRunsOnly || (run.CronId is { } cronId && AnyOrNone(_crons, cronId)));

    /// <summary>Whether an interrupt handler with this filter wants a pause: only the graph and assistant conditions apply to pauses.</summary>
    internal bool MatchesPause(string? assistantId, string? graphId) => AnyOrNone(_assistants, assistantId) && AnyOrNone(_graphs, graphId);

    private static bool AnyOrNone(List<string> accepted, string? value) =>
        accepted.Count == 0 || (value is not null && accepted.Contains(value, StringComparer.Ordinal));
}
