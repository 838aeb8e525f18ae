using System.Diagnostics;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using WebhookReceiver.Kernel;
using WebhookReceiver.Webhooks;

namespace WebhookReceiver.LangGraph;

/// <summary>
/// Recovers runs whose webhook never reached the receiver, by asking the LangGraph server (docs/langgraph-api.md): threads by
/// <c>POST /threads/search</c>, newest <c>updated_at</c> first, page by page (offset paging, until a short page: both servers
/// page threads correctly, neither's paging headers are trusted), down to the stored watermark less <see cref="Overlap"/>;
/// then each thread's runs (<c>GET /threads/{id}/runs</c>, one large page, as the JS server's offset bug requires). A finished
/// run in scope, finished more than <c>Sweep:Grace</c> ago, that the inbox does not hold is stored as a webhook with
/// <c>source: sweep</c> (the run record, plus the thread's <c>values</c> when it is the thread's latest run) and dispatched
/// like any other; dedup by <c>run_id</c> makes it idempotent with the real webhook, whichever comes first.
/// One sweeper per deployment at a time (a lease in the inbox); bounded by <c>Sweep:MaxPages</c> and <c>Sweep:TimeBudget</c>;
/// progress is saved after every page, so a sweep stopped by its budget or a crash resumes where it stopped.
/// </summary>
internal sealed partial class RunSweeper
{
    /// <summary>How far below the watermark a sweep looks again: threads updated in the same instant as the last one swept.</summary>
    internal static readonly TimeSpan Overlap = TimeSpan.FromMinutes(1);

    private readonly ILangGraphClients _clients;
    private readonly RecentSweeps _recent;
    private readonly IInboxSweeps _sweeps;
    private readonly IInboxIngest _ingest;
    private readonly DispatchSignal _dispatch;
    private readonly SweptWebhooks _swept;
    private readonly ReceiverMetrics _metrics;
    private readonly TimeProvider _time;
    private readonly LangGraphOptions _options;
    private readonly PublicWebhookUrl _publicUrl;
    private readonly IPauseRecorder? _pauses;
    private readonly IEnumerable<ISweepObserver> _observers;
    private readonly ILogger<RunSweeper> _logger;

    public RunSweeper(ILangGraphClients clients, RecentSweeps recent, IInboxSweeps sweeps, IInboxIngest ingest, SweptWebhooks swept, DispatchSignal dispatch,
        ReceiverMetrics metrics, TimeProvider time, IOptions<LangGraphOptions> langGraph, PublicWebhookUrl publicUrl,
        IEnumerable<ISweepObserver> observers, ILogger<RunSweeper> logger, IPauseRecorder? pauses = null)
    {
        _clients = clients;
        _recent = recent;
        _sweeps = sweeps;
        _ingest = ingest;
        _dispatch = dispatch;
        _swept = swept;
        _metrics = metrics;
        _time = time;
        _options = langGraph.Value;
        _publicUrl = publicUrl;
        _pauses = pauses;
        _observers = observers;
        _logger = logger;
    }

    private SweepOptions Settings => _options.Sweep;

    /// <summary>The configured deployments' names; empty when none is (then nothing is ever swept).</summary>
    public IReadOnlyList<string> Deployments => _options.Deployments.Select(d => d.Name).ToList();

    /// <summary>Sweeps every configured deployment once, one after the other (from <paramref name="since"/>, as <see cref="SweepAsync"/>).</summary>
    public async Task<SweepReport> SweepAllAsync(DateTimeOffset? since, CancellationToken cancellationToken)
    {
        var reports = new List<DeploymentSweepReport>();
        foreach (var deployment in Deployments)
        {
            reports.Add(await SweepAsync(deployment, since, cancellationToken));
        }

        return new SweepReport(reports, SweepReport.Limits);
    }

    /// <summary>
    /// Sweeps <paramref name="deployment"/> once, unless another sweep holds its lease (<see cref="DeploymentSweepReport.Busy"/>).
    /// Never throws for the server's sake: a failed call ends the sweep as <see cref="DeploymentSweepReport.Failed"/>.
    /// With <paramref name="since"/> it sweeps threads updated from then on (no earlier than <c>Sweep:Lookback</c>) whatever
    /// the watermark says: runs an earlier sweep passed over (out of scope before a setting was fixed) are looked at again.
    /// </summary>
    public async Task<DeploymentSweepReport> SweepAsync(string deployment, DateTimeOffset? since, CancellationToken cancellationToken)
    {
        var startedAt = _time.GetUtcNow();
        var report = new DeploymentSweepReport { Deployment = deployment, StartedAt = startedAt, Since = since, WebhookUrl = _publicUrl.Description };
        // One span per sweep, with its counts; its calls to the server are its children, and the runs it recovers keep its
        // trace context, so their deliveries join this trace as a webhook's join its receive span.
        using var span = ReceiverTracing.StartInternal("sweep");
        span?.SetTag("langgraph.deployment", deployment);
        try
        {
            await SweepLeasedAsync(report, since, cancellationToken);
        }
        finally
        {
            TagSweep(span, report);
            _recent.Add(report);
        }

        return report;
    }

    private async Task SweepLeasedAsync(DeploymentSweepReport report, DateTimeOffset? since, CancellationToken cancellationToken)
    {
        var deployment = report.Deployment;
        var startedAt = report.StartedAt;
        var clock = _time.GetTimestamp();
        // Each sweep is its own owner: a manual sweep and the background one in the same process also take turns.
        var owner = $"{Environment.MachineName}/{Environment.ProcessId}/{Guid.NewGuid():N}";
        var progress = await _sweeps.TryLeaseSweepAsync(deployment, owner, startedAt, startedAt + Settings.TimeBudget + _options.RequestTimeout + Overlap, cancellationToken);
        if (progress is null)
        {
            report.Status = DeploymentSweepReport.Busy;
            report.Detail = "Another sweep of this deployment is running (another replica, or the background sweep); this one did nothing.";
            return;
        }

        // A sweep that threw (the store failed) counts as failed; one stopped by the host's shutdown is not counted.
        string? ended = DeploymentSweepReport.Failed;
        try
        {
            report.Watermark = progress.Watermark;
            var client = _clients.ForDeployment(deployment);
            // From a given time, the watermark and an unfinished sweep's covered range are set aside (and kept).
            await SweepThreadsAsync(client, owner, since is null ? progress : progress with { CoveredFrom = null, CoveredTo = null }, report, cancellationToken);
            ended = report.Status;
        }
        catch (LangGraphApiException ex)
        {
            report.Status = ended = DeploymentSweepReport.Failed;
            report.Detail = ex.Message;
            LogSweepFailed(_logger, deployment, ex.Message);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            ended = null;
            throw;
        }
        finally
        {
            report.DurationSeconds = _time.GetElapsedTime(clock).TotalSeconds;
            Count(report);
            if (ended is not null)
            {
                _metrics.SweepEnded(deployment, ended);
            }

            await _sweeps.ReleaseSweepAsync(deployment, owner, CancellationToken.None);
            if (ended is not null)
            {
                await TellObserversAsync(report, ended);
            }
        }

        if (report.Recovered > 0)
        {
            LogRecovered(_logger, report.Recovered, deployment, report.ThreadsScanned);
        }

        if (report.OutOfScope > 0 && report.Recovered + report.AlreadyHeld + report.TooRecent == 0)
        {
            LogAllOutOfScope(_logger, deployment, report.OutOfScope, report.WebhookUrl, string.Join(", ", report.OutOfScopeWebhooks));
        }
    }

    private async Task TellObserversAsync(DeploymentSweepReport report, string ended)
    {
        foreach (var observer in _observers)
        {
            try
            {
                await observer.SweepEndedAsync(report, ended, CancellationToken.None);
            }
            catch (Exception ex)
            {
                LogObserverFailed(_logger, ex, report.Deployment);
            }
        }
    }

    /// <summary>A sweep's span: how it ended and what it counted (the report's figures, not its lists of run ids).</summary>
    private static void TagSweep(Activity? span, DeploymentSweepReport report)
    {
        if (span is not { IsAllDataRequested: true })
        {
            return;
        }

        span.SetTag("webhookreceiver.sweep.status", report.Status);
        span.SetTag("webhookreceiver.sweep.threads_scanned", report.ThreadsScanned);
        span.SetTag("webhookreceiver.sweep.threads_skipped", report.ThreadsSkipped);
        span.SetTag("webhookreceiver.sweep.threads_interrupted", report.ThreadsInterrupted);
        span.SetTag("webhookreceiver.sweep.runs_seen", report.RunsSeen);
        span.SetTag("webhookreceiver.sweep.recovered", report.Recovered);
        span.SetTag("webhookreceiver.sweep.already_held", report.AlreadyHeld);
        span.SetTag("webhookreceiver.sweep.out_of_scope", report.OutOfScope);
        span.SetTag("webhookreceiver.sweep.too_recent", report.TooRecent);
        span.SetTag("webhookreceiver.sweep.not_finished", report.NotFinished);
        span.SetTag("webhookreceiver.sweep.too_old", report.TooOld);
        span.SetTag("webhookreceiver.sweep.unrecoverable", report.Unrecoverable);
        if (report.Status == DeploymentSweepReport.Failed)
        {
            // The report's detail is the client's message: the deployment's name and the server's words, redacted.
            span.SetStatus(ActivityStatusCode.Error, report.Detail);
        }
    }

    /// <summary>Pages through the threads, newest first, and sweeps each one not covered yet; saves progress after every page.</summary>
    private async Task SweepThreadsAsync(LangGraphClient client, string owner, SweepProgress progress, DeploymentSweepReport report, CancellationToken cancellationToken)
    {
        var startedAt = report.StartedAt;
        var began = _time.GetTimestamp();
        var floor = Max(report.Since ?? progress.Watermark - Overlap, startedAt - Settings.Lookback);
        DateTimeOffset? top = null, lowest = null, lowestDeferred = null;
        var reachedFloor = false;
        string? stoppedBecause = null;
        // Pages whose threads were all covered by an earlier sweep cost a search call only: they do not count.
        var pagesWorked = 0;
        for (var page = 0; !reachedFloor && stoppedBecause is null; page++)
        {
            if (pagesWorked >= Settings.MaxPages)
            {
                stoppedBecause = $"stopped after Sweep:MaxPages ({Settings.MaxPages}) pages of {Settings.PageSize} threads";
                break;
            }

            var threads = await client.SearchThreadsAsync(
                new LangGraphThreadSearch { Limit = Settings.PageSize, Offset = page * Settings.PageSize, SortBy = "updated_at", SortOrder = "desc" },
                cancellationToken);
            var worked = false;
            foreach (var thread in threads)
            {
                var updatedAt = thread.UpdatedAt ?? thread.CreatedAt ?? startedAt;
                if (updatedAt < floor)
                {
                    reachedFloor = true;
                    break;
                }

                if (_time.GetElapsedTime(began) > Settings.TimeBudget)
                {
                    stoppedBecause = $"stopped after Sweep:TimeBudget ({Settings.TimeBudget})";
                    break;
                }

                top ??= updatedAt;
                if (updatedAt >= progress.CoveredFrom && updatedAt <= progress.CoveredTo)
                {
                    report.ThreadsSkipped++; // An earlier sweep that stopped part-way swept it, and it has not changed since.
                }
                else
                {
                    worked = true;
                    if (await SweepThreadAsync(client, thread, report, cancellationToken))
                    {
                        lowestDeferred = updatedAt; // Newest first: the last one seen is the lowest.
                    }
                }

                lowest = updatedAt;
            }

            pagesWorked += worked ? 1 : 0;
            reachedFloor |= stoppedBecause is null && threads.Count < Settings.PageSize;
            // Everything from lowest up to top is swept, except threads with runs to look at again (and all above them).
            var sweptUpTo = lowestDeferred is { } deferred ? Min(top, deferred - TimeSpan.FromMilliseconds(1)) : top;
            var next = reachedFloor
                ? new SweepProgress(sweptUpTo ?? progress.Watermark, null, null)
                : lowest is not null && sweptUpTo >= lowest ? progress with { CoveredFrom = lowest, CoveredTo = sweptUpTo } : progress;
            if (!await _sweeps.SaveSweepAsync(report.Deployment, owner, next, _time.GetUtcNow(), cancellationToken))
            {
                stoppedBecause = "stopped: its lease ran out and another sweep took this deployment over";
                break;
            }

            report.Watermark = next.Watermark;
        }

        if (stoppedBecause is not null)
        {
            report.Status = DeploymentSweepReport.Partial;
            report.Detail = stoppedBecause + "; the next sweep resumes below the threads this one covered.";
        }
    }

    /// <summary>
    /// Sweeps one thread the search returned: lists its runs and recovers each finished one the inbox lacks. Returns true
    /// when some run must be looked at again by a later sweep (too recent, or not finished), so the watermark stays below
    /// this thread. A thread waiting for a person is recorded as an interrupt (its pausing webhook may be the lost one).
    /// </summary>
    private async Task<bool> SweepThreadAsync(LangGraphClient client, LangGraphThread thread, DeploymentSweepReport report, CancellationToken cancellationToken)
    {
        if (thread.ThreadId is not { } threadId)
        {
            return false;
        }

        report.ThreadsScanned++;
        if (await client.ListRunsAsync(threadId, cancellationToken: cancellationToken) is not { } runs)
        {
            report.ThreadsGone++; // Deleted (a stateless run's thread, a TTL) between the search and now.
            return false;
        }

        var now = report.StartedAt;
        var latest = runs.Count > 0 ? runs[0] : null; // Newest first.
        var lookAgain = false;
        var candidates = new List<LangGraphRun>();
        foreach (var run in runs)
        {
            report.RunsSeen++;
            if (run.RunId is not { } runId)
            {
                continue;
            }

            var finishedAt = run.UpdatedAt ?? run.CreatedAt ?? now;
            if (run.IsTemporary)
            {
                // Its thread goes before its webhook is sent: if that webhook is lost, no sweep will ever see the run again.
                report.Unrecoverable++;
                AddListed(report.UnrecoverableRunIds, runId);
                LogUnrecoverable(_logger, runId, report.Deployment);
            }
            else if (run.Status is null or "pending" or "running")
            {
                report.NotFinished++;
                lookAgain = true;
            }
            else if (finishedAt < now - Settings.Lookback)
            {
                report.TooOld++;
            }
            else if (!InScope(run))
            {
                report.OutOfScope++;
                AddExample(report.OutOfScopeWebhooks, WebhookOf(run));
            }
            else if (now - finishedAt < Settings.Grace)
            {
                report.TooRecent++;
                lookAgain = true;
            }
            else
            {
                candidates.Add(run);
            }
        }

        // A pause is a state of the thread now, not a finished run: no grace, and the pause key keeps it recorded once.
        if (thread.Status == "interrupted" && _options.DetectInterrupts && _pauses is not null && latest is not null && InScope(latest)
            && await _pauses.RecordPauseAsync(report.Deployment, thread, latest, cancellationToken))
        {
            report.ThreadsInterrupted++;
        }

        var held = await _sweeps.HeldRunIdsAsync(candidates.Select(r => r.RunId!).ToList(), cancellationToken);
        var recover = candidates.Where(r => !held.Contains(r.RunId!)).ToList();
        report.AlreadyHeld += candidates.Count - recover.Count;
        if (recover.Count == 0)
        {
            return lookAgain;
        }

        var stored = await _ingest.AppendAsync(
            recover.Select(r => _swept.Webhook(r, ReferenceEquals(r, latest) ? thread.Values : null, report.Deployment)).ToList(), cancellationToken);
        for (var i = 0; i < recover.Count; i++)
        {
            if (stored[i].Duplicate)
            {
                report.AlreadyHeld++; // Its webhook arrived in the meantime.
            }
            else
            {
                report.Recovered++;
                AddListed(report.RecoveredRunIds, recover[i].RunId!);
            }
        }

        _dispatch.Notify();
        return lookAgain;
    }

    /// <summary>
    /// Whether the run asked for a webhook to this receiver (<see cref="PublicWebhookUrl.Matches"/>). Always with
    /// <c>Sweep:Scope = AllRuns</c>.
    /// </summary>
    private bool InScope(LangGraphRun run) =>
        Settings.Scope == SweepScope.AllRuns || (Uri.TryCreate(WebhookOf(run), UriKind.Absolute, out var url) && _publicUrl.Matches(url));

    private static string? WebhookOf(LangGraphRun run) =>
        run.Kwargs is { ValueKind: JsonValueKind.Object } kwargs && kwargs.TryGetProperty("webhook", out var webhook) && webhook.ValueKind == JsonValueKind.String
            ? webhook.GetString()
            : null;

    /// <summary>A webhook URL as a report may show it: scheme, host, port and path; a query (it holds the token) is masked.</summary>
    private static void AddExample(List<string> examples, string? webhook)
    {
        var shown = webhook is null ? "(no webhook)"
            : !Uri.TryCreate(webhook, UriKind.Absolute, out var url) ? "(not an absolute URL)"
            : url.GetLeftPart(UriPartial.Path) + (url.Query.Length > 0 ? "?" + SecretRedactor.Mask : "");
        if (examples.Count < DeploymentSweepReport.MaxExamples && !examples.Contains(shown))
        {
            examples.Add(shown);
        }
    }

    private void Count(DeploymentSweepReport report)
    {
        foreach (var (outcome, count) in new[]
                 {
                     (SweepOutcome.Recovered, report.Recovered), (SweepOutcome.AlreadyHeld, report.AlreadyHeld), (SweepOutcome.OutOfScope, report.OutOfScope),
                     (SweepOutcome.TooRecent, report.TooRecent), (SweepOutcome.NotFinished, report.NotFinished), (SweepOutcome.TooOld, report.TooOld),
                     (SweepOutcome.Unrecoverable, report.Unrecoverable),
                 })
        {
            _metrics.SweepRuns(report.Deployment, outcome, count);
        }
    }

    private static void AddListed(List<string> list, string runId)
    {
        if (list.Count < DeploymentSweepReport.MaxListed)
        {
            list.Add(runId);
        }
    }

    private static DateTimeOffset Max(DateTimeOffset? a, DateTimeOffset b) => a is { } value && value > b ? value : b;

    private static DateTimeOffset? Min(DateTimeOffset? a, DateTimeOffset b) => a is { } value && value < b ? value : b;

    [LoggerMessage(Level = LogLevel.Warning, Message = "An observer of the sweep of LangGraph deployment {Deployment} failed; the sweep's outcome stands")]
    private static partial void LogObserverFailed(ILogger logger, Exception exception, string deployment);

    [LoggerMessage(Level = LogLevel.Information, Message = "Recovered {Count} runs from LangGraph deployment {Deployment} whose webhook never arrived ({Threads} threads swept)")]
    private static partial void LogRecovered(ILogger logger, int count, string deployment, int threads);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Sweep of LangGraph deployment {Deployment} recovered nothing: all {Count} finished runs it saw " +
        "ask for their webhook at another URL than this receiver's, {WebhookUrl}; they ask for {Examples}. If that is this receiver, set " +
        "WebhookReceiver:LangGraph:PublicUrl to it (or Sweep:Scope to AllRuns), then POST /api/langgraph/sweep?since=<ISO 8601 time> to sweep those runs again")]
    private static partial void LogAllOutOfScope(ILogger logger, string deployment, int count, string webhookUrl, string examples);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Sweep of LangGraph deployment {Deployment} failed: {Reason}")]
    private static partial void LogSweepFailed(ILogger logger, string deployment, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Run {RunId} of LangGraph deployment {Deployment} is stateless (kwargs.temporary): the server deletes it before it sends the webhook, so if that webhook is lost no sweep can recover it")]
    private static partial void LogUnrecoverable(ILogger logger, string runId, string deployment);
}
