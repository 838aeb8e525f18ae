using System.Globalization;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using WebhookReceiver.Access;
using WebhookReceiver.Audit;
using WebhookReceiver.Console.Components;
using WebhookReceiver.Kernel;

namespace WebhookReceiver.Console;

/// <summary>
/// <c>/audit</c> (operator role): the audit trail newest first, filtered by action, actor, target and time, a page at a time
/// (<see cref="AuditTrailPage"/>). The filters are read by the API's own parser (<see cref="AuditFilter"/>): what it cannot use
/// is shown as an error line, and the rest still filters.
/// </summary>
internal static class AuditPage
{
    public static void MapAuditPage(this RouteGroupBuilder pages) =>
        pages.MapGet("/audit", RenderAsync).RequireAuthorization(ReceiverPolicies.Operate);

    private static async Task<IResult> RenderAsync(HttpContext context, [AsParameters] AuditFilter filter, IAuditLog audit, CancellationToken cancellationToken)
    {
        var errors = new Dictionary<string, string[]>();
        var query = filter.ToQuery(errors);
        var page = await audit.ListAsync(query, cancellationToken);
        var model = new AuditTrailModel(ConsolePage.Url(context, "/audit"), filter, page, ConsoleText.ErrorLines(errors));
        return ConsolePage.Component<AuditTrailPage, AuditTrailModel>("Audit", ConsoleSection.Audit, model);
    }
}

/// <summary>What <see cref="AuditTrailPage"/> shows: the filter as read, the page of records, and the filter's errors.</summary>
internal sealed record AuditTrailModel(string Action, AuditFilter Filter, Audit.AuditPage Page, IReadOnlyList<string> Errors)
{
    /// <summary>The query string of the next (older) page: these filters and <paramref name="cursor"/>.</summary>
    public string Next(long cursor) => QueryString.Create(new Dictionary<string, string?>
    {
        ["action"] = Filter.Action, ["actor"] = Filter.Actor, ["target"] = Filter.Target, ["from"] = Filter.From, ["to"] = Filter.To,
        ["cursor"] = cursor.ToString(CultureInfo.InvariantCulture),
    }.Select(p => KeyValuePair.Create(p.Key, QueryParameters.Text(p.Value))).Where(p => p.Value is not null)).Value ?? "";
}
