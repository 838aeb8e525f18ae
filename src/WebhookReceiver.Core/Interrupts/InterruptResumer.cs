using System.Diagnostics;
using System.Net;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using WebhookReceiver.Kernel;
using WebhookReceiver.LangGraph;
using WebhookReceiver.Webhooks;

namespace WebhookReceiver.Interrupts;

/// <summary>How a resume ended: the HTTP answer follows from <see cref="Kind"/>.</summary>
/// <param name="RunId">The resumed run (new run id, same thread) when <see cref="Kind"/> is <see cref="ResumeOutcome.Resumed"/>.</param>
/// <param name="Detail">Why it was refused, for the problem's <c>detail</c>; never holds a token.</param>
internal sealed record ResumeResult(ResumeOutcome Kind, string? Detail = null, string? RunId = null, StoredInterrupt? Interrupt = null);

internal enum ResumeOutcome
{
    Resumed,
    NotFound,
    /// <summary>The body does not fit the pause (400).</summary>
    Invalid,
    /// <summary>Resumed already, or expired (409).</summary>
    Conflict,
    /// <summary>The thread no longer waits at this pause: now expired (409).</summary>
    Expired,
    /// <summary>LangGraph refused the resume (422).</summary>
    Rejected,
    /// <summary>LangGraph did not answer usably (502).</summary>
    Unreachable,
    /// <summary><c>LangGraph:PublicUrl</c> is not set, or the deployment no longer configured (409, naming the setting).</summary>
    NotConfigured,
}

/// <summary>
/// Resumes a waiting interrupt on its deployment: checks the body against the pause, claims the resume in the store, checks
/// that the thread still waits at it (else the interrupt expires), then <c>POST /threads/{thread_id}/runs</c> with the paused
/// run's assistant, <c>command.resume</c> (none for a breakpoint) and this receiver's webhook URL, and records the new run.
/// The claim lets one request at a time, of any replica, ask LangGraph for one interrupt: a second gets 409. In this process
/// the resumes of one thread take turns (the second then finds the first's outcome); other threads' go on meanwhile.
/// </summary>
internal sealed partial class InterruptResumer(
    ILangGraphClients clients,
    IInboxInterrupts inbox,
    InterruptLinks links,
    ReceiverMetrics metrics,
    SecretRedactor redactor,
    IOptions<LangGraphOptions> options,
    TimeProvider time,
    ILogger<InterruptResumer> logger)
{
    private readonly ThreadTurns _threadTurns = new();

    /// <summary>
    /// How long a claim holds: longer than the two reads and the create can take with every retry (each call up to
    /// <c>MaxRetries + 1</c> tries of <c>RequestTimeout</c>, with backoff from <c>RetryDelay</c>). It only lapses early when the
    /// process holding it died, which leaves the interrupt refused (409) this long.
    /// </summary>
    private readonly TimeSpan _claimFor = 3 * ((options.Value.MaxRetries + 1) * options.Value.RequestTimeout
        + options.Value.RetryDelay * Math.Pow(2, options.Value.MaxRetries + 1));

    /// <summary>
    /// Resumes interrupt <paramref name="id"/> with <paramref name="body"/>: <c>{"resume": value}</c>, <c>{"resume": {"&lt;interrupt id&gt;": value}}</c>
    /// or <c>{}</c>; <paramref name="resumedBy"/> (the person's name) is stored with the resume.
    /// </summary>
    public async Task<ResumeResult> ResumeAsync(long id, JsonObject body, string? resumedBy, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(body);
        if (await inbox.GetInterruptAsync(id, cancellationToken) is not { } interrupt)
        {
            return new(ResumeOutcome.NotFound, $"No interrupt has id {id}.");
        }

        // Linked to the span that received the webhook showing the pause: a person's answer, maybe days later, is its own
        // trace (the request's), and the link leads back to the run that asked.
        using var span = ReceiverTracing.StartInternal("resume interrupt", ReceiverTracing.Parse(interrupt.Traceparent));
        ResumeResult result;
        using (await _threadTurns.WaitAsync(interrupt.Deployment, interrupt.ThreadId, cancellationToken))
        {
            result = await ResumeOneAsync(interrupt, body, resumedBy, cancellationToken);
        }

        if (span is { IsAllDataRequested: true })
        {
            span.SetTag("webhookreceiver.interrupt.id", id);
            span.SetTag("langgraph.deployment", interrupt.Deployment);
            span.SetTag("langgraph.thread.id", interrupt.ThreadId);
            span.SetTag("webhookreceiver.resume.outcome", result.Kind.ToString());
            span.SetTag("langgraph.run.id", result.RunId);
            if (result.Kind is ResumeOutcome.Rejected or ResumeOutcome.Unreachable)
            {
                span.SetStatus(ActivityStatusCode.Error, result.Detail);
            }
        }

        return result;
    }

    private async Task<ResumeResult> ResumeOneAsync(StoredInterrupt interrupt, JsonObject body, string? resumedBy, CancellationToken cancellationToken)
    {
        var id = interrupt.Id;
        if (NotWaiting(interrupt) is { } over)
        {
            return over;
        }

        var pending = InterruptLinks.ReadPending(interrupt.Pending);
        if (Check(body, pending) is { } invalid)
        {
            return new(ResumeOutcome.Invalid, invalid, Interrupt: interrupt);
        }

        if (!links.CanResume)
        {
            return new(ResumeOutcome.NotConfigured,
                "Resuming needs WebhookReceiver:LangGraph:PublicUrl: the URL LangGraph posts the resumed run's webhook to (this receiver's webhook URL as LangGraph sees it).",
                Interrupt: interrupt);
        }

        if ((interrupt.AssistantId ?? interrupt.GraphId) is not { } assistantId)
        {
            return new(ResumeOutcome.Conflict, $"Interrupt {id} has neither an assistant nor a graph to resume on: resume its thread {interrupt.ThreadId} on the deployment itself.", Interrupt: interrupt);
        }

        LangGraphClient client;
        try
        {
            client = clients.ForDeployment(interrupt.Deployment);
        }
        catch (KeyNotFoundException)
        {
            return new(ResumeOutcome.NotConfigured, $"LangGraph deployment '{interrupt.Deployment}' is no longer configured (WebhookReceiver:LangGraph:Deployments).", Interrupt: interrupt);
        }

        var claim = Guid.NewGuid().ToString("N");
        var now = time.GetUtcNow();
        if (!await inbox.ClaimInterruptResumeAsync(id, claim, now, now + _claimFor, cancellationToken))
        {
            // Resumed (or expired) meanwhile, here or by another replica; or another replica is resuming it right now.
            var current = await inbox.GetInterruptAsync(id, cancellationToken);
            return (current is null ? new(ResumeOutcome.NotFound, $"No interrupt has id {id}.") : NotWaiting(current))
                ?? new(ResumeOutcome.Conflict, $"Interrupt {id} is being resumed by another request right now (on this or another replica).", Interrupt: current);
        }

        try
        {
            return await ResumeClaimedAsync(client, interrupt, assistantId, body, resumedBy, cancellationToken);
        }
        finally
        {
            await inbox.ReleaseInterruptResumeAsync(id, claim, CancellationToken.None);
        }
    }

    private async Task<ResumeResult> ResumeClaimedAsync(
        LangGraphClient client, StoredInterrupt interrupt, string assistantId, JsonObject body, string? resumedBy, CancellationToken cancellationToken)
    {
        var id = interrupt.Id;
        try
        {
            // Resumed elsewhere (Studio, the SDK), or a new pause since: this one is over.
            if (await StillWaitingAsync(client, interrupt, cancellationToken) is { } gone)
            {
                await inbox.MarkInterruptExpiredAsync(id, gone, time.GetUtcNow(), cancellationToken);
                return new(ResumeOutcome.Expired, $"Interrupt {id} has expired: {gone}", Interrupt: interrupt);
            }

            var request = new LangGraphRunRequest
            {
                AssistantId = assistantId,
                Command = body.TryGetPropertyValue("resume", out var answer) ? LangGraphRunRequest.Resume(answer?.DeepClone()) : null,
                Webhook = links.WebhookUrl(interrupt.Deployment),
            };
            var run = await client.CreateRunAsync(interrupt.ThreadId, request, cancellationToken);
            // From here on LangGraph has acted: what it did is recorded even if the caller has gone away.
            if (run?.RunId is not { } runId)
            {
                const string Deleted = "the thread is gone from the deployment (deleted, or expired by its TTL)";
                await inbox.MarkInterruptExpiredAsync(id, Deleted, time.GetUtcNow(), CancellationToken.None);
                return new(ResumeOutcome.Expired, $"Interrupt {id} has expired: {Deleted}.", Interrupt: interrupt);
            }

            var resumedAt = time.GetUtcNow();
            if (!await inbox.MarkInterruptResumedAsync(id, runId, resumedAt, resumedBy, CancellationToken.None))
            {
                return new(ResumeOutcome.Conflict, $"Interrupt {id} was resumed or expired by another replica meanwhile; run {runId} was started too.", runId, interrupt);
            }

            metrics.InterruptResumed(interrupt.Deployment, interrupt.GraphId, resumedAt - interrupt.SeenAt);
            LogResumed(logger, id, interrupt.ThreadId, runId, interrupt.Deployment);
            return new(ResumeOutcome.Resumed, null, runId, interrupt);
        }
        catch (LangGraphApiException ex) when (ex.StatusCode is { } status && (int)status is >= 400 and < 500 && status != HttpStatusCode.TooManyRequests)
        {
            return new(ResumeOutcome.Rejected, redactor.Redact(ex.Message), Interrupt: interrupt);
        }
        catch (LangGraphApiException ex)
        {
            return new(ResumeOutcome.Unreachable, redactor.Redact(ex.Message), Interrupt: interrupt);
        }
    }

    /// <summary>The 409 of an interrupt resumed or expired already; null while it waits.</summary>
    private static ResumeResult? NotWaiting(StoredInterrupt interrupt) => interrupt.State switch
    {
        InterruptState.Resumed => new(ResumeOutcome.Conflict, $"Interrupt {interrupt.Id} was resumed already, at {interrupt.ResumedAt:O}, as run {interrupt.ResumedRunId}.", Interrupt: interrupt),
        InterruptState.Expired => new(ResumeOutcome.Conflict, $"Interrupt {interrupt.Id} expired at {interrupt.EndedAt:O}: {interrupt.Detail}", Interrupt: interrupt),
        _ => null,
    };

    /// <summary>Why the body does not fit the pause; null when it does.</summary>
    private static string? Check(JsonObject body, IReadOnlyList<PendingInterrupt> pending)
    {
        if (body.Select(p => p.Key).FirstOrDefault(k => k != "resume") is { } unknown)
        {
            return $"Unknown field '{unknown}': the body is {{\"resume\": value}}, {{\"resume\": {{\"<interrupt id>\": value}}}} or {{}}.";
        }

        var hasResume = body.TryGetPropertyValue("resume", out var resume);
        if (pending.Count == 0)
        {
            return hasResume ? "This thread stopped at a static breakpoint, not at interrupt(): resume it with {} (no resume value)." : null;
        }

        if (!hasResume)
        {
            return pending.Count == 1
                ? "Give the answer to the pending interrupt: {\"resume\": value}."
                : $"Give an answer to each pending interrupt: {{\"resume\": {{\"<interrupt id>\": value}}}} with the ids {string.Join(", ", pending.Select(p => p.Id))}.";
        }

        if (pending.Count > 1)
        {
            var ids = pending.Select(p => p.Id ?? "").ToHashSet(StringComparer.Ordinal);
            if (resume is not JsonObject answers || !answers.Select(a => a.Key).ToHashSet(StringComparer.Ordinal).SetEquals(ids))
            {
                return $"{pending.Count} interrupts are pending: resume with {{\"resume\": {{\"<interrupt id>\": value}}}} answering exactly the ids {string.Join(", ", ids.Order(StringComparer.Ordinal))}.";
            }
        }

        return null;
    }

    /// <summary>Null when the thread still waits at this pause; else why not.</summary>
    private static async Task<string?> StillWaitingAsync(LangGraphClient client, StoredInterrupt interrupt, CancellationToken cancellationToken)
    {
        var thread = await client.GetThreadAsync(interrupt.ThreadId, cancellationToken);
        if (thread is null)
        {
            return "the thread is gone from the deployment (deleted, or expired by its TTL)";
        }

        if (thread.Status != "interrupted")
        {
            return $"the thread is {thread.Status} now, no longer interrupted (resumed elsewhere?)";
        }

        var state = await client.GetThreadStateAsync(interrupt.ThreadId, cancellationToken);
        if (state is null)
        {
            return "the thread is gone from the deployment (deleted, or expired by its TTL)";
        }

        var pending = state.Interrupts.Count > 0 ? state.Interrupts : thread.Interrupts.Values.SelectMany(i => i).ToList();
        return InterruptRecorder.PauseKey(pending, state) == interrupt.PauseKey
            ? null
            : "the thread waits at another pause now (resumed elsewhere and paused again)";
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Interrupt {InterruptId} resumed: thread {ThreadId} of deployment {Deployment} runs on as run {RunId}")]
    private static partial void LogResumed(ILogger logger, long interruptId, string threadId, string runId, string deployment);
}
