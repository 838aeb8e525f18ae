using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Routing;
using WebhookReceiver.Audit;
using WebhookReceiver.Interrupts;

namespace WebhookReceiver.Console;

/// <summary>
/// <c>/interrupts</c> (<see cref="Components.InterruptsPage"/>): the paused threads, waiting ones first, each with how long it
/// waited, filtered like <c>GET /api/interrupts</c> and by the same reader (<see cref="InterruptFilter"/>);
/// <c>/interrupts/{id}</c> (<see cref="Components.InterruptDetailPage"/>): what the graph asked, its thread, the run that paused, how it ended (who resumed it, the new run
/// and, once its webhook arrived, a link to it) and, for reviewers while it waits, the resume form
/// (<see cref="InterruptResumeForm"/>); <c>POST /interrupts/{id}/resume</c> answers through <see cref="ResumeInterruptCommand"/>.
/// The form names the interrupt and checkpoint it was rendered for: a page left open while someone else answered cannot
/// answer again (409, nothing sent).
/// </summary>
internal static class InterruptPages
{
    private const int PageSize = 50;

    // A form rendered afresh: nothing posted to keep.
    private static readonly IReadOnlyDictionary<string, string?> NothingPosted = new Dictionary<string, string?>();

    public static void MapInterruptPages(this RouteGroupBuilder pages)
    {
        pages.MapGet("/interrupts", ListAsync);
        pages.MapGet("/interrupts/{id:long}", DetailAsync);
        pages.MapPost("/interrupts/{id:long}/resume", ResumeAsync).DisableAntiforgery(); // the console's own filter checks the token
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

        var user = await ConsoleUser.OfAsync(context);
        var rows = (IReadOnlyList<StoredInterrupt> items) => new InterruptRows(items, time.GetUtcNow(), user.SeesPayloads, ConsolePage.Url(context));
        var page = await inbox.ListInterruptsAsync(filter, cancellationToken);
        InterruptPage? waiting = null;
        if (filter.State is null && filter.Before is null)
        {
            // Waiting first: every waiting pause (up to a page), then the newest answered or expired ones.
            waiting = await inbox.ListInterruptsAsync(filter with { State = InterruptState.Waiting }, cancellationToken);
        }

        var model = new InterruptListModel(ConsolePage.Url(context, "/interrupts"), filter,
            waiting is null ? null : rows(waiting.Items), waiting?.NextCursor,
            rows(waiting is null ? page.Items : page.Items.Where(i => i.State != InterruptState.Waiting).ToList()), page.NextCursor);
        return ConsolePage.Component<Components.InterruptsPage, InterruptListModel>("Interrupts", ConsoleSection.Interrupts, model);
    }

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

        return await PageAsync(context, interrupt, time, resumed: context.Request.Query["resumed"].Count > 0, [], NothingPosted, StatusCodes.Status200OK);
    }

    private static async Task<IResult> PageAsync(
        HttpContext context, StoredInterrupt interrupt, TimeProvider time, bool resumed, IReadOnlyList<string> errors, IReadOnlyDictionary<string, string?> posted, int status)
    {
        var user = await ConsoleUser.OfAsync(context);
        var model = new InterruptDetailModel(interrupt, time.GetUtcNow(), ConsolePage.Url(context), ConsolePage.Url(context, $"/interrupts/{interrupt.Id}/resume"),
            InterruptResumeForm.Questions(InterruptLinks.ReadPending(interrupt.Pending)), JsonSerializer.Deserialize<List<string>>(interrupt.Next) ?? [],
            user.SeesPayloads, user.CanReview, resumed, errors, posted);
        return ConsolePage.Component<Components.InterruptDetailPage, InterruptDetailModel>($"Interrupt #{interrupt.Id}", ConsoleSection.Interrupts, model, status);
    }

    private static async Task<IResult> ResumeAsync(
        long id, HttpContext context, [AsParameters] InterruptResumePost form, IFormCollection fields, IInboxInterrupts inbox, ResumeInterruptCommand resume,
        TimeProvider time, CancellationToken cancellationToken)
    {
        // The answer's fields are named by the questions (InterruptResumeForm), so they are read as the posted collection.
        var posted = fields.ToDictionary(f => f.Key, f => (string?)f.Value.ToString(), StringComparer.Ordinal);
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
        if (form.InterruptId != id.ToString(CultureInfo.InvariantCulture) || form.Pause != interrupt.PauseKey)
        {
            return await PageAsync(context, interrupt, time, resumed: false,
                ["This form was made for another pause of this thread: nothing was sent. Read the question below and answer it again."], NothingPosted, StatusCodes.Status409Conflict);
        }

        if (interrupt.State != InterruptState.Waiting)
        {
            return await PageAsync(context, interrupt, time, resumed: false, [Stale(interrupt)], NothingPosted, StatusCodes.Status409Conflict);
        }

        if (!built.IsValid)
        {
            return await PageAsync(context, interrupt, time, resumed: false, built.Errors, posted, StatusCodes.Status400BadRequest);
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
        return await PageAsync(context, current, time, resumed: false, [message], current.State == InterruptState.Waiting ? posted : NothingPosted, status);
    }

    /// <summary>What a page left open learns when it answers a pause that is over.</summary>
    private static string Stale(StoredInterrupt interrupt) => interrupt.State == InterruptState.Resumed
        ? $"Interrupt #{interrupt.Id} was answered already{(interrupt.ResumedBy is null ? "" : " by " + interrupt.ResumedBy)} at {interrupt.ResumedAt:yyyy-MM-dd HH:mm:ss} UTC (run {interrupt.ResumedRunId}): your answer was not sent."
        : $"Interrupt #{interrupt.Id} no longer waits ({interrupt.Detail}): your answer was not sent.";
}

/// <summary>The resume form's own fields: the interrupt and the pause (<see cref="StoredInterrupt.PauseKey"/>) it was rendered for.</summary>
internal sealed class InterruptResumePost
{
    [FromForm(Name = InterruptResumeForm.InterruptIdField)]
    public string? InterruptId { get; init; }

    [FromForm(Name = InterruptResumeForm.PauseField)]
    public string? Pause { get; init; }
}

/// <summary>What <see cref="Components.InterruptsPage"/> shows: the filter as read; unfiltered, the waiting pauses apart (<paramref name="Waiting"/>, with their next cursor).</summary>
internal sealed record InterruptListModel(string Action, InterruptQuery Filter, InterruptRows? Waiting, long? WaitingNext, InterruptRows Rows, long? Next)
{
    /// <summary>The query string of <paramref name="filter"/> and <paramref name="cursor"/>, for the pager's links.</summary>
    public static string QueryString(InterruptQuery filter, long? cursor) => Microsoft.AspNetCore.Http.QueryString.Create(new Dictionary<string, string?>
    {
        ["state"] = filter.State, ["deployment"] = filter.Deployment, ["graph_id"] = filter.GraphId, ["thread_id"] = filter.ThreadId,
        ["cursor"] = cursor?.ToString(CultureInfo.InvariantCulture),
    }.Where(p => p.Value is not null)).Value ?? "";
}

/// <summary>What <see cref="Components.InterruptTable"/> lists; <paramref name="SeesValues"/> false: no "Asks" column; <paramref name="Console"/>: the console's path.</summary>
internal sealed record InterruptRows(IReadOnlyList<StoredInterrupt> Items, DateTimeOffset Now, bool SeesValues, string Console);

/// <summary>
/// What <see cref="Components.InterruptDetailPage"/> shows: the pause, its questions (<see cref="InterruptQuestion"/>) and next nodes,
/// what this person may see and do, whether it was just resumed, what went wrong with the last post, and what was posted (kept to fix).
/// </summary>
internal sealed record InterruptDetailModel(
    StoredInterrupt Interrupt, DateTimeOffset Now, string Console, string ResumeAction, IReadOnlyList<InterruptQuestion> Questions, IReadOnlyList<string> Next,
    bool SeesPayloads, bool CanReview, bool Resumed, IReadOnlyList<string> Errors, IReadOnlyDictionary<string, string?> Posted);

/// <summary>What <see cref="Components.InterruptAnswer"/> renders: question <paramref name="Index"/> of the page, the values posted, and
/// whether it is the page's one Agent Inbox item (its answers are then submit buttons).</summary>
internal sealed record InterruptAnswerModel(int Index, InterruptQuestion Question, IReadOnlyDictionary<string, string?> Posted, bool SoleInboxItem);
