using System.Globalization;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Routing;
using WebhookReceiver.Alerts;
using WebhookReceiver.Audit;
using WebhookReceiver.Console.Components;
using WebhookReceiver.Kernel;

namespace WebhookReceiver.Console;

/// <summary>
/// <c>/alerts</c>: the receiver's alerts newest first (by default the unresolved ones), filtered by state and kind, a page at a
/// time, each with what it carries (count, first and last error, run ids); an operator acknowledges an open one with its
/// button, which posts <see cref="AcknowledgeAlertCommand"/> (audited). The overview shows how many are open
/// (<see cref="Components.OverviewPage"/>).
/// </summary>
internal static class AlertPages
{
    public static void MapAlertPages(this RouteGroupBuilder pages)
    {
        pages.MapGet("/alerts", ListAsync);
        pages.MapPost("/alerts/{id:long}/acknowledge", AcknowledgeAsync);
    }

    private static async Task<IResult> ListAsync(
        HttpContext context, [AsParameters] AlertFilter filter, [FromQuery(Name = "acknowledged")] string? acknowledged, IInboxAlerts alerts,
        CancellationToken cancellationToken)
    {
        var errors = new Dictionary<string, string[]>();
        var query = filter.ToQuery(errors);
        var page = await alerts.ListAlertsAsync(query, cancellationToken);
        var user = await ConsoleUser.OfAsync(context);
        var model = new AlertsModel(ConsolePage.Url(context, "/alerts"), query, page, user.CanOperate, QueryParameters.Text(acknowledged),
            ConsoleText.ErrorLines(errors));
        return ConsolePage.Component<AlertsPage, AlertsModel>("Alerts", ConsoleSection.Alerts, model);
    }

    private static async Task<IResult> AcknowledgeAsync(long id, HttpContext context, AcknowledgeAlertCommand acknowledge, CancellationToken cancellationToken)
    {
        var result = await acknowledge.ExecuteAsync(context.User, id, cancellationToken);
        return result.Status switch
        {
            CommandStatus.Done => ConsolePage.SeeOther(context, $"/alerts?acknowledged={id.ToString(CultureInfo.InvariantCulture)}"),
            CommandStatus.Forbidden => ConsolePage.Forbidden(context, "Acknowledging alerts needs the operator role."),
            CommandStatus.NotFound => ConsolePage.NotFound(context, result.Detail ?? "No such alert."),
            _ => ConsolePage.BadRequest(context, result.Detail ?? "The alert cannot be acknowledged."),
        };
    }
}

/// <summary>What <see cref="AlertsPage"/> shows: the filter as read, a page of alerts, who may acknowledge, and the filter's errors.</summary>
internal sealed record AlertsModel(string Action, AlertQuery Query, AlertPage Page, bool CanOperate, string? Acknowledged, IReadOnlyList<string> Errors)
{
    /// <summary>The query string of the next (older) page: these filters and <paramref name="cursor"/>.</summary>
    public string Next(long cursor) => QueryString.Create(new Dictionary<string, string?>
    {
        ["state"] = Query.State, ["kind"] = Query.Kind, ["cursor"] = cursor.ToString(CultureInfo.InvariantCulture),
    }.Where(p => p.Value is not null)).Value ?? "";
}
