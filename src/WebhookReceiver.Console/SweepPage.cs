using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using WebhookReceiver.Audit;
using WebhookReceiver.LangGraph;

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
        var model = new SweepModel(ConsolePage.Url(context, "/sweep"), sweeps.Newest(), sweeper.Deployments.Count > 0, user.CanOperate);
        return ConsolePage.Component<Components.SweepPage, SweepModel>("Sweep", ConsoleSection.Sweep, model);
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

/// <summary>What <see cref="Components.SweepPage"/> shows: the reports, and whether this person may run a sweep now.</summary>
internal sealed record SweepModel(string Action, IReadOnlyList<DeploymentSweepReport> Reports, bool HasDeployments, bool CanOperate);
