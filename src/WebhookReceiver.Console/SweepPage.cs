using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using WebhookReceiver.Access;
using WebhookReceiver.Webhooks;
using WebhookReceiver.Interrupts;
using WebhookReceiver.LangGraph;
using WebhookReceiver.Alerts;

namespace WebhookReceiver.Console;

/// <summary><c>/sweep</c>: this process's recent sweep reports (background and manual), and <b>Run sweep now</b> for operators.</summary>
internal static class SweepPage
{
    public static void MapSweepPage(this RouteGroupBuilder pages)
    {
        pages.MapGet("/sweep", RenderAsync);
        pages.MapPost("/sweep", RunAsync);
    }

    private static async Task<IResult> RenderAsync(HttpContext context, RecentSweeps sweeps, RunSweeper sweeper)
    {
        var user = await ConsoleUser.OfAsync(context);
        var reports = sweeps.Newest();
        var rows = Html.Join(reports.Select(r => Html.Of($"""
            <tr><td>{r.StartedAt}</td><td>{r.Deployment}</td><td>{WebhookPages.State(r.Status)}</td><td class="num">{r.DurationSeconds:0.0}</td>
            <td class="num">{r.ThreadsScanned}</td><td class="num">{r.RunsSeen}</td><td class="num">{r.Recovered}</td><td class="num">{r.AlreadyHeld}</td>
            <td class="num">{r.OutOfScope}</td><td class="num">{r.Unrecoverable}</td><td>{r.Detail}</td></tr>
            """)));
        var run = sweeper.Deployments.Count == 0
            ? Html.Of($"<p class=\"muted\">No LangGraph deployment is configured (WebhookReceiver:LangGraph:Deployments): there is nothing to sweep.</p>")
            : Html.When(user.CanOperate, Html.Of($"""
                <form method="post" action="{ConsolePage.Url(context, "/sweep")}">{ConsolePage.Antiforgery(context)}<button type="submit">Run sweep now</button></form>
                """));
        var body = Html.Of($"""
            <p class="muted">A sweep asks each LangGraph deployment for the runs whose webhook never arrived and stores them. Reports of this process since it started, newest first.</p>
            {run}
            {(reports.Count == 0 ? Html.Of($"<p class=\"muted\">No sweep has run yet.</p>") : Html.Of($"""
                <table><thead><tr><th>Started</th><th>Deployment</th><th>Outcome</th><th class="num">Seconds</th><th class="num">Threads</th><th class="num">Runs seen</th>
                <th class="num">Recovered</th><th class="num">Already held</th><th class="num">Out of scope</th><th class="num">Unrecoverable</th><th>Detail</th></tr></thead>
                <tbody>{rows}</tbody></table>
                """))}
            """);
        return ConsolePage.Render(context, "Sweep", ConsoleSection.Sweep, body);
    }

    private static async Task<IResult> RunAsync(HttpContext context, SweepCommand sweep, CancellationToken cancellationToken)
    {
        var result = await sweep.ExecuteAsync(context.User, deployment: null, since: null, cancellationToken);
        return result.Status switch
        {
            CommandStatus.Done => ConsolePage.SeeOther(context, "/sweep"),
            CommandStatus.Forbidden => ConsolePage.Forbidden(context, "Running a sweep needs the operator role."),
            CommandStatus.NotFound => ConsolePage.NotFound(context, result.Detail ?? "No such deployment."),
            _ => ConsolePage.BadRequest(context, result.Detail ?? "The sweep was refused."),
        };
    }
}
