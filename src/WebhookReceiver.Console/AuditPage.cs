using System.Globalization;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using WebhookReceiver.Access;
using WebhookReceiver.Audit;

namespace WebhookReceiver.Console;

/// <summary><c>/audit</c> (operator role): the audit trail newest first, filtered by action, actor, target and time, a page at a time.</summary>
internal static class AuditPage
{
    private const int PageSize = 50;

    public static void MapAuditPage(this RouteGroupBuilder pages) =>
        pages.MapGet("/audit", RenderAsync).RequireAuthorization(ReceiverPolicies.Operate);

    private static async Task<IResult> RenderAsync(HttpContext context, IAuditLog audit, CancellationToken cancellationToken)
    {
        var q = context.Request.Query;
        string? Text(string name) => q[name].ToString() is { Length: > 0 } value ? value.Trim() : null;
        DateTimeOffset? Time(string name) =>
            DateTimeOffset.TryParse(Text(name), CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var t) ? t : null;
        var query = new AuditQuery
        {
            Action = Text("action"),
            Actor = Text("actor"),
            Target = Text("target"),
            From = Time("from"),
            To = Time("to"),
            Before = long.TryParse(Text("cursor"), NumberStyles.None, CultureInfo.InvariantCulture, out var c) ? c : null,
            Limit = PageSize,
        };
        var page = await audit.ListAsync(query, cancellationToken);
        var action = ConsolePage.Url(context, "/audit");
        var actions = Html.Join(AuditActions.All.Prepend("").Select(a =>
            Html.Of($"<option value=\"{a}\"{Html.Raw(a == (query.Action ?? "") ? " selected" : "")}>{(a.Length == 0 ? "any" : a)}</option>")));
        var rows = Html.Join(page.Items.Select(r => Html.Of($"""
            <tr data-audit="{r.Id}"><td>{r.At}</td><td>{r.Actor}</td><td>{r.Action}</td><td><code>{r.Target}</code></td><td>{WebhookPages.State(r.Outcome)}</td><td>{r.Detail}</td></tr>
            """)));
        var next = QueryString.Create(new Dictionary<string, string?>
        {
            ["action"] = query.Action, ["actor"] = query.Actor, ["target"] = query.Target, ["from"] = Text("from"), ["to"] = Text("to"),
            ["cursor"] = page.NextCursor?.ToString(CultureInfo.InvariantCulture),
        }.Where(p => p.Value is not null));
        var body = Html.Of($"""
            <form class="filters" method="get" action="{action}">
            <label>Action<select name="action">{actions}</select></label>
            <label>Actor<input name="actor" value="{query.Actor}"></label>
            <label>Target<input name="target" value="{query.Target}" placeholder="webhook:42"></label>
            <label>From (UTC)<input type="datetime-local" name="from" value="{Text("from")}"></label>
            <label>Before (UTC)<input type="datetime-local" name="to" value="{Text("to")}"></label>
            <button type="submit">Filter</button> <a href="{action}">clear</a>
            </form>
            {(page.Items.Count == 0 ? Html.Of($"<p class=\"muted\">Nothing matches.</p>") : Html.Of($"""
                <table><thead><tr><th>When</th><th>Who</th><th>Action</th><th>Target</th><th>Outcome</th><th>Detail</th></tr></thead><tbody>{rows}</tbody></table>
                """))}
            <div class="pager">{Html.When(page.NextCursor is not null, Html.Of($"<a rel=\"next\" href=\"{action + next.Value}\">older</a>"))}</div>
            """);
        return ConsolePage.Render(context, "Audit", ConsoleSection.Audit, body);
    }
}
