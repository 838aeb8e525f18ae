using System.Globalization;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using WebhookReceiver.Alerts;
using WebhookReceiver.Access;
using WebhookReceiver.Webhooks;
using WebhookReceiver.Interrupts;
using WebhookReceiver.LangGraph;
using WebhookReceiver.Inbox;

namespace WebhookReceiver.Console;

/// <summary>
/// <c>/alerts</c>: the receiver's alerts newest first (by default the unresolved ones), filtered by state and kind, a page at a
/// time, each with what it carries (count, first and last error, run ids); an operator acknowledges an open one with its
/// button, which posts <see cref="AcknowledgeAlertCommand"/> (audited). The overview shows how many are open.
/// </summary>
internal static class AlertPages
{
    private const int PageSize = 50;

    public static void MapAlertPages(this RouteGroupBuilder pages)
    {
        pages.MapGet("/alerts", ListAsync);
        pages.MapPost("/alerts/{id:long}/acknowledge", AcknowledgeAsync);
    }

    private static async Task<IResult> ListAsync(HttpContext context, IInboxAlerts alerts, CancellationToken cancellationToken)
    {
        var q = context.Request.Query;
        string? Text(string name) => q[name].ToString() is { Length: > 0 } value ? value.Trim() : null;
        var state = Text("state") is { } s && AlertState.All.Contains(s) ? s : null;
        var kind = Text("kind") is { } k && AlertKinds.All.Contains(k) ? k : null;
        var query = new AlertQuery
        {
            State = state,
            Kind = kind,
            Before = long.TryParse(Text("cursor"), NumberStyles.None, CultureInfo.InvariantCulture, out var c) ? c : null,
            Limit = PageSize,
        };
        var page = await alerts.ListAlertsAsync(query, cancellationToken);
        var user = await ConsoleUser.OfAsync(context);
        var action = ConsolePage.Url(context, "/alerts");
        Html Options(IEnumerable<string> values, string? selected) => Html.Join(values.Prepend("").Select(v =>
            Html.Of($"<option value=\"{v}\"{Html.Raw(v == (selected ?? "") ? " selected" : "")}>{(v.Length == 0 ? "any" : v)}</option>")));
        var rows = Html.Join(page.Items.Select(a => Row(context, a, user.CanOperate)));
        var next = QueryString.Create(new Dictionary<string, string?>
        {
            ["state"] = state, ["kind"] = kind, ["cursor"] = page.NextCursor?.ToString(CultureInfo.InvariantCulture),
        }.Where(p => p.Value is not null));
        var acknowledged = Text("acknowledged");
        var body = Html.Of($"""
            {Html.When(acknowledged is not null, () => Html.Of($"<p class=\"notice\" role=\"status\">Alert {acknowledged} acknowledged: it resolves by itself when its cause goes.</p>"))}
            <form class="filters" method="get" action="{action}">
            <label>State<select name="state">{Options(AlertState.All, state)}</select></label>
            <label>Kind<select name="kind">{Options(AlertKinds.All, kind)}</select></label>
            <button type="submit">Filter</button> <a href="{action}">clear</a>
            </form>
            {(page.Items.Count == 0 ? Html.Of($"<p class=\"muted\">No alert matches.</p>") : Html.Of($"""
                <table><thead><tr><th>Opened</th><th>Kind</th><th>Subject</th><th>State</th><th>What</th><th>Count</th><th>Errors</th><th></th></tr></thead><tbody>{rows}</tbody></table>
                """))}
            <div class="pager">{Html.When(page.NextCursor is not null, Html.Of($"<a rel=\"next\" href=\"{action + next.Value}\">older</a>"))}</div>
            """);
        return ConsolePage.Render(context, "Alerts", ConsoleSection.Alerts, body);
    }

    private static Html Row(HttpContext context, StoredAlert a, bool canOperate)
    {
        var errors = Html.Join(new[] { ("first", a.FirstError), ("last", a.LastError) }
            .Where(e => e.Item2 is not null && (e.Item1 == "first" || a.LastError != a.FirstError))
            .Select(e => Html.Of($"<div><span class=\"muted\">{e.Item1}:</span> {e.Item2}</div>")));
        var runs = Html.When(a.RunIds.Count > 0, () => Html.Of($"<div class=\"muted\">runs: {string.Join(", ", a.RunIds.Take(10))}{(a.RunIds.Count > 10 ? ", …" : "")}</div>"));
        var who = a.State switch
        {
            AlertState.Acknowledged => Html.Of($"<div class=\"muted\">by {a.AcknowledgedBy}, {a.AcknowledgedAt}</div>"),
            AlertState.Resolved => Html.Of($"<div class=\"muted\">{a.ResolvedAt}{Html.When(a.AcknowledgedBy is not null, () => Html.Of($"; acknowledged by {a.AcknowledgedBy}"))}</div>"),
            _ => Html.Empty,
        };
        var button = Html.When(canOperate && a.State == AlertState.Open, () => Html.Of($"""
            <form method="post" action="{ConsolePage.Url(context, $"/alerts/{a.Id.ToString(CultureInfo.InvariantCulture)}/acknowledge")}">{ConsolePage.Antiforgery(context)}<button type="submit">Acknowledge</button></form>
            """));
        return Html.Of($"""
            <tr data-alert="{a.Id}" data-kind="{a.Kind}" data-state="{a.State}"><td>{a.OpenedAt}</td><td>{a.Kind}</td><td><code>{a.Subject}</code></td><td>{WebhookPages.State(a.State)}{who}</td><td>{a.Summary}{runs}</td><td>{a.Occurrences}</td><td>{errors}</td><td>{button}</td></tr>
            """);
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

    /// <summary>The overview's slot: how many alerts are open (not acknowledged) and acknowledged, linking to the list.</summary>
    public static async Task<Html> OpenCountAsync(HttpContext context, IInboxAlerts alerts, CancellationToken cancellationToken)
    {
        var unresolved = await alerts.ListUnresolvedAlertsAsync(null, cancellationToken);
        var open = unresolved.Count(a => a.State == AlertState.Open);
        var seen = unresolved.Count - open;
        return Html.Of($"""
            <h2>Alerts</h2>
            <div class="cards">
            <div class="card"><div class="label">Open alerts</div><div class="value" data-open-alerts="{open}">{open}</div><a href="{ConsolePage.Url(context, "/alerts?state=open")}">see</a></div>
            <div class="card"><div class="label">Acknowledged</div><div class="value">{seen}</div><a href="{ConsolePage.Url(context, "/alerts?state=acknowledged")}">see</a></div>
            </div>
            """);
    }
}
