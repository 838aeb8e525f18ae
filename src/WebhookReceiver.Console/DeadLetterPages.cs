using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using WebhookReceiver.Audit;
using WebhookReceiver.Kernel;
using WebhookReceiver.Webhooks;

namespace WebhookReceiver.Console;

/// <summary>
/// <c>/dead-letters</c>: the webhooks with a dead delivery (filters as the list's, without run id and delivery state), and
/// <b>Replay all</b> for the current filter: <c>/dead-letters/replay?…</c> shows how many dead deliveries it would make due,
/// and its form (operators) posts the bulk replay command. Works without script; with it, the button asks once more.
/// </summary>
internal static class DeadLetterPages
{
    private const int PageSize = 50;

    // The confirmation counts at most this many webhooks' dead deliveries; past it the page says "at least".
    private const int MaxCounted = 10_000;

    public static void MapDeadLetterPages(this RouteGroupBuilder pages)
    {
        pages.MapGet("/dead-letters", ListAsync);
        pages.MapGet("/dead-letters/replay", ConfirmAsync);
        pages.MapPost("/dead-letters/replay", ReplayAsync);
    }

    private static ConsoleFilters Filters(WebhookFilter filter, WebhookListParameters parameters) =>
        ConsoleFilters.From(filter, parameters) with { DeliveryState = DeliveryState.Dead, RunId = null };

    private static async Task<IResult> ListAsync(
        HttpContext context, [AsParameters] WebhookFilter filter, [AsParameters] WebhookListParameters parameters, IInboxQueries inbox,
        CancellationToken cancellationToken)
    {
        var filters = Filters(filter, parameters);
        var page = await inbox.ListAsync(filters.ToQuery(PageSize), cancellationToken);
        var user = await ConsoleUser.OfAsync(context);
        var replayed = QueryParameters.Text(context.Request.Query["replayed"].ToString());
        var model = new DeadLettersModel(ConsolePage.Url(context), ConsolePage.Url(context, "/dead-letters"), filters with { DeliveryState = null }, page,
            user.CanOperate, replayed);
        return ConsolePage.Component<Components.DeadLettersPage, DeadLettersModel>("Dead letters", ConsoleSection.DeadLetters, model);
    }

    private static async Task<IResult> ConfirmAsync(
        HttpContext context, [AsParameters] WebhookFilter filter, [AsParameters] WebhookListParameters parameters, IInboxQueries inbox,
        CancellationToken cancellationToken)
    {
        var filters = Filters(filter, parameters);
        var (count, more) = await CountDeadAsync(inbox, filters, cancellationToken);
        var shared = filters with { DeliveryState = null };
        var model = new ReplayDeadLettersModel(count, $"{(more ? "at least " : "")}{count} dead deliveries", shared.Handler,
            ConsolePage.Url(context, "/dead-letters/replay") + shared.QueryString(), ConsolePage.Url(context, "/dead-letters") + shared.QueryString());
        return ConsolePage.Component<Components.ReplayDeadLettersPage, ReplayDeadLettersModel>("Replay dead letters?", ConsoleSection.DeadLetters, model);
    }

    private static async Task<(int Count, bool More)> CountDeadAsync(IInboxQueries inbox, ConsoleFilters filters, CancellationToken cancellationToken)
    {
        var query = filters.ToQuery(500) with { Before = null };
        var count = 0;
        var seen = 0;
        while (true)
        {
            var page = await inbox.ListAsync(query, cancellationToken);
            count += page.Items.Sum(w => w.Deliveries.Count(d => d.State == DeliveryState.Dead && (filters.Handler is null || d.Handler == filters.Handler)));
            seen += page.Items.Count;
            if (page.NextCursor is null)
            {
                return (count, false);
            }

            if (seen >= MaxCounted)
            {
                return (count, true);
            }

            query = query with { Before = page.NextCursor };
        }
    }

    private static async Task<IResult> ReplayAsync(
        HttpContext context, [AsParameters] WebhookFilter filter, [AsParameters] WebhookListParameters parameters, ReplayDeadLettersCommand replay,
        CancellationToken cancellationToken)
    {
        var filters = Filters(filter, parameters);
        if (filters.Errors.Count > 0)
        {
            return ConsolePage.BadRequest(context, string.Join(" ", filters.Errors));
        }

        var result = await replay.ExecuteAsync(context.User, filters.ToQuery(50) with { DeliveryState = null, DeliveryHandler = null, Before = null }, filters.Handler, cancellationToken);
        return result.Status switch
        {
            CommandStatus.Done => ConsolePage.SeeOther(context, $"/dead-letters{(filters with { DeliveryState = null }).QueryString()}{((filters with { DeliveryState = null }).QueryString().Length == 0 ? "?" : "&")}replayed={result.Value}"),
            CommandStatus.Forbidden => ConsolePage.Forbidden(context, "Replaying dead letters needs the operator role."),
            CommandStatus.NotFound => ConsolePage.NotFound(context, result.Detail ?? "No such handler."),
            _ => ConsolePage.BadRequest(context, result.Detail ?? "The replay was refused."),
        };
    }
}

/// <summary>What <see cref="Components.DeadLettersPage"/> shows: the filters as read (without the dead state itself), a page of
/// webhooks, whether this person may replay, and how many deliveries the last replay made due.</summary>
internal sealed record DeadLettersModel(string Console, string Action, ConsoleFilters Filters, WebhookPage Page, bool CanOperate, string? Replayed);

/// <summary>What <see cref="Components.ReplayDeadLettersPage"/> says: how many (<paramref name="What"/>, e.g. "at least 10000 dead
/// deliveries"), of which handler, where the form posts and where cancel goes.</summary>
internal sealed record ReplayDeadLettersModel(int Count, string What, string? Handler, string ReplayAction, string CancelHref);
