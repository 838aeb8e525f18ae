namespace WebhookReceiver.LangGraph;

/// <summary>What one sweep of every configured deployment found (<c>POST /api/langgraph/sweep</c>).</summary>
/// <param name="Deployments">One report per deployment swept, in configuration order.</param>
/// <param name="CannotRecover">What no sweep can find, whatever its report says: those runs are gone from the server.</param>
internal sealed record SweepReport(IReadOnlyList<DeploymentSweepReport> Deployments, string CannotRecover)
{
    public const string Limits =
        "Stateless runs (POST /runs, /runs/wait, /runs/stream without a thread: kwargs.temporary) have their thread and run deleted "
        + "by the server before it sends the webhook, so a lost one is gone: a sweep counts those it sees while they run as "
        + "unrecoverable and lists them, never the ones that already finished. Runs of threads deleted, expired (TTL) or pruned "
        + "before the sweep, and runs finished before Sweep:Lookback, are not found either.";
}

/// <summary>What one sweep of one LangGraph deployment did; counts are of runs unless they say threads.</summary>
internal sealed class DeploymentSweepReport
{
    /// <summary>The sweep went down to the stored watermark (or the lookback) and moved the watermark.</summary>
    public const string Swept = "swept";

    /// <summary>It stopped at its page or time budget: the next sweep resumes below what this one covered.</summary>
    public const string Partial = "partial";

    /// <summary>Another sweep (another replica, or the background one) holds this deployment's lease: nothing was done.</summary>
    public const string Busy = "busy";

    /// <summary>The server could not be asked (the error says why); what was recovered before stays recovered.</summary>
    public const string Failed = "failed";

    public required string Deployment { get; init; }

    /// <summary><c>swept</c>, <c>partial</c>, <c>busy</c> or <c>failed</c>.</summary>
    public string Status { get; set; } = Swept;

    public DateTimeOffset StartedAt { get; init; }

    /// <summary>Swept from this time (<c>?since=</c>) instead of from the watermark; null for a sweep from the watermark.</summary>
    public DateTimeOffset? Since { get; init; }

    /// <summary>The webhook URL a run must carry to be in scope (<c>LangGraph:PublicUrl</c>, resolved; no token).</summary>
    public required string WebhookUrl { get; init; }

    /// <summary>How long the sweep took, in seconds.</summary>
    public double DurationSeconds { get; set; }

    /// <summary>Threads whose runs were listed.</summary>
    public int ThreadsScanned { get; set; }

    /// <summary>Threads passed over because an earlier, unfinished sweep already covered them.</summary>
    public int ThreadsSkipped { get; set; }

    /// <summary>Threads the search listed that were gone when their runs were asked for.</summary>
    public int ThreadsGone { get; set; }

    /// <summary>Threads waiting for a person (<c>interrupted</c>), each recorded as an interrupt unless it already was (<c>GET /api/interrupts</c>).</summary>
    public int ThreadsInterrupted { get; set; }

    public int RunsSeen { get; set; }

    /// <summary>Finished runs the inbox did not hold, now stored with <c>source: sweep</c> and dispatched.</summary>
    public int Recovered { get; set; }

    /// <summary>Finished runs whose webhook the inbox already holds (it arrived, or an earlier sweep stored it).</summary>
    public int AlreadyHeld { get; set; }

    /// <summary>Runs whose <c>kwargs.webhook</c> does not point at this receiver (<c>Sweep:Scope = ThisReceiver</c>).</summary>
    public int OutOfScope { get; set; }

    /// <summary>The webhook URLs the out-of-scope runs carry (at most 5 different ones; a query is masked), to compare with <see cref="WebhookUrl"/>.</summary>
    public List<string> OutOfScopeWebhooks { get; } = [];

    /// <summary>Runs finished less than <c>Sweep:Grace</c> ago, left to their webhook; looked at again by the next sweep.</summary>
    public int TooRecent { get; set; }

    /// <summary>Runs still pending or running; looked at again once their thread changes.</summary>
    public int NotFinished { get; set; }

    /// <summary>Runs finished before <c>Sweep:Lookback</c>.</summary>
    public int TooOld { get; set; }

    /// <summary>Stateless runs seen (<c>kwargs.temporary</c>): the server deletes them before it sends their webhook, so a lost one cannot be recovered.</summary>
    public int Unrecoverable { get; set; }

    /// <summary>The run ids recovered (at most 100 listed).</summary>
    public List<string> RecoveredRunIds { get; } = [];

    /// <summary>The stateless run ids seen (at most 100 listed): if their webhook is lost, nothing can bring them back.</summary>
    public List<string> UnrecoverableRunIds { get; } = [];

    /// <summary>After this sweep: every thread updated at or before this (the server's time) has been swept.</summary>
    public DateTimeOffset? Watermark { get; set; }

    /// <summary>Why the sweep failed or stopped early; null when it did not.</summary>
    public string? Detail { get; set; }

    internal const int MaxListed = 100;

    internal const int MaxExamples = 5;
}
