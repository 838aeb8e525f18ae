using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using WebhookReceiver.Access;
using WebhookReceiver.Audit;
using WebhookReceiver.Webhooks;
using WebhookReceiver.Interrupts;
using WebhookReceiver.LangGraph;
using WebhookReceiver.Alerts;

namespace WebhookReceiver.Console;

/// <summary>
/// <c>/interrupts</c>: the paused threads, waiting ones first, each with how long it waited, filtered like
/// <c>GET /api/interrupts</c> (<c>state</c>, <c>deployment</c>, <c>graph_id</c>, <c>thread_id</c>, <c>cursor</c>);
/// <c>/interrupts/{id}</c>: what the graph asked, its thread, the run that paused, how it ended (who resumed it, the new run
/// and, once its webhook arrived, a link to it) and, for reviewers while it waits, the resume form
/// (<see cref="InterruptResumeForm"/>); <c>POST /interrupts/{id}/resume</c> answers through <see cref="ResumeInterruptCommand"/>.
/// The form names the interrupt and checkpoint it was rendered for: a page left open while someone else answered cannot
/// answer again (409, nothing sent).
/// </summary>
internal static class InterruptPages
{
    private const int PageSize = 50;

    public static void MapInterruptPages(this RouteGroupBuilder pages)
    {
        pages.MapGet("/interrupts", ListAsync);
        pages.MapGet("/interrupts/{id:long}", DetailAsync);
        pages.MapPost("/interrupts/{id:long}/resume", ResumeAsync);
    }

    private static async Task<IResult> ListAsync(
        HttpContext context, [AsParameters] InterruptFilter parameters, IInboxInterrupts inbox, TimeProvider time, CancellationToken cancellationToken)
    {
        var errors = new Dictionary<string, string[]>();
        var filter = parameters.ToQuery(errors) with { Limit = PageSize };
        if (errors.Count > 0)
        {
            return ConsolePage.BadRequest(context, string.Join(" ", ConsoleText.ErrorLines(errors)));
        }

        var (state, cursor) = (filter.State, filter.Before);
        var now = time.GetUtcNow();
        var user = await ConsoleUser.OfAsync(context);
        var action = ConsolePage.Url(context, "/interrupts");
        Html tables;
        long? next;
        if (state is null && cursor is null)
        {
            // Waiting first: every waiting pause (up to a page), then the newest answered or expired ones.
            var waiting = await inbox.ListInterruptsAsync(filter with { State = InterruptState.Waiting }, cancellationToken);
            var page = await inbox.ListInterruptsAsync(filter, cancellationToken);
            var others = page.Items.Where(i => i.State != InterruptState.Waiting).ToList();
            tables = Html.Of($"""
                <h2>Waiting</h2>
                {Table(context, waiting.Items, now, user.SeesPayloads)}
                {Html.When(waiting.NextCursor is not null, Html.Of($"<p><a href=\"{action + QueryString(filter with { State = InterruptState.Waiting }, waiting.NextCursor)}\">more waiting</a></p>"))}
                <h2>Answered or expired</h2>
                {Table(context, others, now, user.SeesPayloads)}
                """);
            next = page.NextCursor;
        }
        else
        {
            var page = await inbox.ListInterruptsAsync(filter, cancellationToken);
            tables = Table(context, page.Items, now, user.SeesPayloads);
            next = page.NextCursor;
        }

        var body = Html.Of($"""
            {FilterForm(action, filter)}
            {tables}
            <div class="pager">{Html.When(cursor is not null, Html.Of($"<a href=\"{action + QueryString(filter, null)}\">newest</a>"))}{Html.When(next is not null, Html.Of($"<a rel=\"next\" href=\"{action + QueryString(filter, next)}\">older</a>"))}</div>
            """);
        return ConsolePage.Render(context, "Interrupts", ConsoleSection.Interrupts, body);
    }

    private static Html FilterForm(string action, InterruptQuery filter) => Html.Of($"""
        <form class="filters" method="get" action="{action}">
        <label>State <select name="state"><option value="">any</option>{Html.Join(InterruptState.All.Select(s => Html.Of($"<option value=\"{s}\"{Html.Raw(s == filter.State ? " selected" : "")}>{s}</option>")))}</select></label>
        <label>Deployment <input type="text" name="deployment" value="{filter.Deployment}"></label>
        <label>Graph <input type="text" name="graph_id" value="{filter.GraphId}"></label>
        <label>Thread <input type="text" name="thread_id" value="{filter.ThreadId}"></label>
        <button type="submit">Filter</button>
        </form>
        """);

    private static string QueryString(InterruptQuery filter, long? cursor)
    {
        var parts = new List<string>();
        void Add(string name, string? value)
        {
            if (!string.IsNullOrEmpty(value))
            {
                parts.Add(name + "=" + Uri.EscapeDataString(value));
            }
        }

        Add("state", filter.State);
        Add("deployment", filter.Deployment);
        Add("graph_id", filter.GraphId);
        Add("thread_id", filter.ThreadId);
        Add("cursor", cursor?.ToString(CultureInfo.InvariantCulture));
        return parts.Count == 0 ? "" : "?" + string.Join('&', parts);
    }

    /// <summary>The list's table; <paramref name="seesValues"/> false (a viewer under <c>Access:HidePayloadsFromViewers</c>): no "Asks" column.</summary>
    private static Html Table(HttpContext context, IReadOnlyList<StoredInterrupt> interrupts, DateTimeOffset now, bool seesValues)
    {
        if (interrupts.Count == 0)
        {
            return Html.Of($"<p class=\"muted\">Nothing matches.</p>");
        }

        var rows = Html.Join(interrupts.Select(i => Html.Of($"""
            <tr data-interrupt="{i.Id}">
            <td><a href="{ConsolePage.Url(context, $"/interrupts/{i.Id}")}">#{i.Id}</a></td>
            <td>{State(i.State)}</td>
            <td>{Waited(i, now)}</td>
            <td>{i.GraphId}</td>
            <td>{i.Deployment}</td>
            <td><code>{i.ThreadId}</code></td>
            {(seesValues ? Html.Of($"<td>{Summary(i)}</td>") : Html.Empty)}
            <td>{i.ResumedBy}</td>
            </tr>
            """)));
        return Html.Of($"""
            <table class="interrupts">
            <thead><tr><th>Id</th><th>State</th><th>Waited</th><th>Graph</th><th>Deployment</th><th>Thread</th>{Html.When(seesValues, Html.Of($"<th>Asks</th>"))}<th>Resumed by</th></tr></thead>
            <tbody>{rows}</tbody>
            </table>
            """);
    }

    private static string Summary(StoredInterrupt interrupt)
    {
        var pending = InterruptLinks.ReadPending(interrupt.Pending);
        return pending.Count == 0
            ? "breakpoint before " + string.Join(", ", JsonSerializer.Deserialize<List<string>>(interrupt.Next) ?? [])
            : string.Join("; ", pending.Select(p => InterruptQuestionHtml.Summary(InterruptQuestion.Read(p))));
    }

    private static Html State(string state) => Html.Of($"<span class=\"state state-{state}\">{state}</span>");

    /// <summary>How long it waited: until now while waiting, else until it was resumed or found expired.</summary>
    internal static string Waited(StoredInterrupt interrupt, DateTimeOffset now)
    {
        var until = interrupt.State switch
        {
            InterruptState.Resumed => interrupt.ResumedAt ?? now,
            InterruptState.Expired => interrupt.EndedAt ?? now,
            _ => now,
        };
        var waited = until - interrupt.SeenAt;
        var text = Duration(waited < TimeSpan.Zero ? TimeSpan.Zero : waited);
        return interrupt.State == InterruptState.Waiting ? text : text + " (until " + interrupt.State + ")";
    }

    /// <summary>A duration for people: <c>45 s</c>, <c>12 min</c>, <c>3 h 5 min</c>, <c>2 d 4 h</c>.</summary>
    internal static string Duration(TimeSpan span) => span switch
    {
        { TotalMinutes: < 1 } => $"{(int)span.TotalSeconds} s",
        { TotalHours: < 1 } => $"{(int)span.TotalMinutes} min",
        { TotalDays: < 2 } => $"{(int)span.TotalHours} h {span.Minutes} min",
        _ => $"{(int)span.TotalDays} d {span.Hours} h",
    };

    private static async Task<IResult> DetailAsync(long id, HttpContext context, IInboxInterrupts inbox, TimeProvider time, CancellationToken cancellationToken)
    {
        if (await inbox.GetInterruptAsync(id, cancellationToken) is not { } interrupt)
        {
            return ConsolePage.NotFound(context, $"No interrupt has id {id}.");
        }

        var notice = context.Request.Query["resumed"].Count > 0
            ? Html.Of($"<p class=\"notice\" role=\"status\">Resumed: the thread runs on as run <code>{interrupt.ResumedRunId}</code>.</p>")
            : Html.Empty;
        return await PageAsync(context, interrupt, time, notice, new Dictionary<string, string?>(), StatusCodes.Status200OK);
    }

    private static async Task<IResult> PageAsync(HttpContext context, StoredInterrupt interrupt, TimeProvider time, Html notice, IReadOnlyDictionary<string, string?> posted, int status)
    {
        var user = await ConsoleUser.OfAsync(context);
        var pending = InterruptLinks.ReadPending(interrupt.Pending);
        var questions = InterruptResumeForm.Questions(pending);
        var next = JsonSerializer.Deserialize<List<string>>(interrupt.Next) ?? [];
        var asked = !user.SeesPayloads
            ? Html.Of($"<p class=\"muted\">What interrupts ask is hidden from viewers (Access:HidePayloadsFromViewers).</p>")
            : questions.Count == 0
            ? Html.Of($"<p>A static breakpoint: the thread stopped before <strong>{string.Join(", ", next)}</strong>. Resuming runs it on (no value).</p>")
            : Html.Join(questions.Select((q, i) => Html.Of($"""
                <section class="question" data-question="{i}">{Html.When(questions.Count > 1, Html.Of($"<h3>Interrupt <code>{q.InterruptId}</code></h3>"))}{InterruptQuestionHtml.Asked(q)}</section>
                """)));

        var form = Html.Empty;
        if (interrupt.State == InterruptState.Waiting && user.CanReview)
        {
            var soleInboxItem = questions is [AgentInboxQuestion { Items.Count: 1 }];
            var fields = Html.Join(questions.Select((q, i) => InterruptQuestionHtml.Fields(i, q, posted, soleInboxItem)));
            var submit = soleInboxItem
                ? Html.Empty
                : Html.Of($"<div class=\"actions\"><button type=\"submit\" name=\"resume\">{(questions is [HitlRequestQuestion] ? "Send decisions" : "Resume")}</button></div>");
            form = Html.Of($"""
                <h2>Answer</h2>
                <form class="resume" method="post" action="{ConsolePage.Url(context, $"/interrupts/{interrupt.Id}/resume")}">
                {ConsolePage.Antiforgery(context)}
                <input type="hidden" name="{InterruptResumeForm.InterruptIdField}" value="{interrupt.Id}">
                <input type="hidden" name="{InterruptResumeForm.PauseField}" value="{interrupt.PauseKey}">
                {fields}
                {submit}
                </form>
                """);
        }
        else if (interrupt.State == InterruptState.Waiting)
        {
            form = Html.Of($"<p class=\"muted\">Answering needs the reviewer role.</p>");
        }

        var body = Html.Of($"""
            {notice}
            <dl class="facts">
            <dt>State</dt><dd>{State(interrupt.State)}</dd>
            <dt>Waited</dt><dd>{Waited(interrupt, time.GetUtcNow())}</dd>
            <dt>Seen</dt><dd>{interrupt.SeenAt}</dd>
            <dt>Deployment</dt><dd>{interrupt.Deployment}</dd>
            <dt>Graph</dt><dd>{interrupt.GraphId}</dd>
            <dt>Assistant</dt><dd><code>{interrupt.AssistantId}</code></dd>
            <dt>Thread</dt><dd><code>{interrupt.ThreadId}</code> <a href="{ConsolePage.Url(context, "/interrupts?thread_id=" + Uri.EscapeDataString(interrupt.ThreadId))}">its pauses</a> · <a href="{ConsolePage.Url(context, "/webhooks?thread_id=" + Uri.EscapeDataString(interrupt.ThreadId))}">its webhooks</a></dd>
            <dt>Run that paused</dt><dd><code>{interrupt.RunId}</code>{Html.When(interrupt.WebhookId is not null, Html.Of($" <a href=\"{ConsolePage.Url(context, $"/webhooks/{interrupt.WebhookId}")}\">webhook #{interrupt.WebhookId}</a>"))}{Html.When(interrupt.WebhookId is null, Html.Of($" <span class=\"muted\">(found by the sweep)</span>"))}</dd>
            <dt>Checkpoint</dt><dd><code>{interrupt.CheckpointId}</code></dd>
            </dl>
            <h2>How it ended</h2>
            {Ended(context, interrupt)}
            <h2>What the graph asked</h2>
            {asked}
            {form}
            """);
        return ConsolePage.Render(context, $"Interrupt #{interrupt.Id}", ConsoleSection.Interrupts, body, status);
    }

    private static Html Ended(HttpContext context, StoredInterrupt interrupt) => interrupt.State switch
    {
        InterruptState.Resumed => Html.Of($"""
            <p class="resumed">Resumed{Html.When(interrupt.ResumedBy is not null, Html.Of($" by <strong class=\"resumed-by\">{interrupt.ResumedBy}</strong>"))} at {interrupt.ResumedAt}: the thread runs on as run <code class="resumed-run">{interrupt.ResumedRunId}</code>.
            {(interrupt.ResumedWebhookId is { } webhook
                ? Html.Of($"Its webhook: <a class=\"resumed-webhook\" href=\"{ConsolePage.Url(context, $"/webhooks/{webhook}")}\">webhook #{webhook}</a>.")
                : Html.Of($"<span class=\"muted\">Its webhook has not arrived yet (it comes when the run ends): <a href=\"{ConsolePage.Url(context, $"/interrupts/{interrupt.Id}")}\">reload</a>.</span>"))}</p>
            """),
        InterruptState.Expired => Html.Of($"<p>Expired at {interrupt.EndedAt}: {interrupt.Detail}</p>"),
        _ => Html.Of($"<p>Waiting for a person.</p>"),
    };

    private static async Task<IResult> ResumeAsync(
        long id, HttpContext context, IInboxInterrupts inbox, ResumeInterruptCommand resume, TimeProvider time, CancellationToken cancellationToken)
    {
        var form = await context.Request.ReadFormAsync(cancellationToken);
        var posted = form.ToDictionary(f => f.Key, f => (string?)f.Value.ToString(), StringComparer.Ordinal);
        if (await inbox.GetInterruptAsync(id, cancellationToken) is not { } interrupt)
        {
            return ConsolePage.NotFound(context, $"No interrupt has id {id}.");
        }

        var questions = InterruptResumeForm.Questions(InterruptLinks.ReadPending(interrupt.Pending));
        var built = InterruptResumeForm.Build(questions, posted);
        var user = await ConsoleUser.OfAsync(context);
        if (!user.CanReview)
        {
            // The command refuses it and records the refusal.
            var refused = await resume.ExecuteAsync(context.User, id, built.Body ?? new JsonObject(), cancellationToken);
            return refused.Status == CommandStatus.Forbidden
                ? ConsolePage.Forbidden(context, "Resuming an interrupt needs the reviewer role.")
                : ConsolePage.BadRequest(context, refused.Detail ?? "The resume was refused.");
        }

        // The page was rendered for this pause: answered or replaced since, it must not answer again.
        if (Posted(posted, InterruptResumeForm.InterruptIdField) != id.ToString(CultureInfo.InvariantCulture)
            || Posted(posted, InterruptResumeForm.PauseField) != interrupt.PauseKey)
        {
            return await PageAsync(context, interrupt, time, Error("This form was made for another pause of this thread: nothing was sent. Read the question below and answer it again."),
                new Dictionary<string, string?>(), StatusCodes.Status409Conflict);
        }

        if (interrupt.State != InterruptState.Waiting)
        {
            return await PageAsync(context, interrupt, time, Error(Stale(interrupt)), new Dictionary<string, string?>(), StatusCodes.Status409Conflict);
        }

        if (!built.IsValid)
        {
            return await PageAsync(context, interrupt, time, Html.Join(built.Errors.Select(Error)), posted, StatusCodes.Status400BadRequest);
        }

        var result = await resume.ExecuteAsync(context.User, id, built.Body!, cancellationToken);
        if (result.Status == CommandStatus.Forbidden)
        {
            return ConsolePage.Forbidden(context, "Resuming an interrupt needs the reviewer role.");
        }

        if (result.Value is not { } outcome)
        {
            return ConsolePage.NotFound(context, result.Detail ?? $"No interrupt has id {id}.");
        }

        if (outcome.Kind == ResumeOutcome.Resumed)
        {
            return ConsolePage.SeeOther(context, $"/interrupts/{id}?resumed=1");
        }

        var current = await inbox.GetInterruptAsync(id, cancellationToken) ?? interrupt;
        var message = outcome.Kind == ResumeOutcome.Conflict && current.State != InterruptState.Waiting ? Stale(current) : outcome.Detail ?? "The resume was refused.";
        var status = outcome.Kind switch
        {
            ResumeOutcome.NotFound => StatusCodes.Status404NotFound,
            ResumeOutcome.Invalid => StatusCodes.Status400BadRequest,
            ResumeOutcome.Rejected => StatusCodes.Status422UnprocessableEntity,
            ResumeOutcome.Unreachable => StatusCodes.Status502BadGateway,
            _ => StatusCodes.Status409Conflict,
        };
        return await PageAsync(context, current, time, Error(message), current.State == InterruptState.Waiting ? posted : new Dictionary<string, string?>(), status);
    }

    /// <summary>What a page left open learns when it answers a pause that is over.</summary>
    private static string Stale(StoredInterrupt interrupt) => interrupt.State == InterruptState.Resumed
        ? $"Interrupt #{interrupt.Id} was answered already{(interrupt.ResumedBy is null ? "" : " by " + interrupt.ResumedBy)} at {interrupt.ResumedAt:yyyy-MM-dd HH:mm:ss} UTC (run {interrupt.ResumedRunId}): your answer was not sent."
        : $"Interrupt #{interrupt.Id} no longer waits ({interrupt.Detail}): your answer was not sent.";

    private static Html Error(string message) => Html.Of($"<p class=\"error\" role=\"alert\">{message}</p>");

    private static string? Posted(Dictionary<string, string?> posted, string name) =>
        posted.TryGetValue(name, out var value) ? value : null;
}
