using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Routing;
using WebhookReceiver.Http;

namespace WebhookReceiver.Sweep;

/// <summary><c>POST /api/langgraph/sweep</c>: run one sweep now and answer what it found; mapped inside the admin-key API group.</summary>
internal static class SweepEndpoint
{
    public static RouteHandlerBuilder MapSweepEndpoint(this IEndpointRouteBuilder api) =>
        api.MapPost("/langgraph/sweep", SweepAsync).WithTags("LangGraph").WithName("SweepLangGraph")
            .WithSummary("Recover missed runs now: sweep the LangGraph deployments")
            .WithDescription("Asks each configured LangGraph deployment (or only `deployment`) for its threads updated since the last sweep and " +
                "their runs, and stores every finished run whose webhook never arrived (`source: sweep`), as the background sweep does every " +
                "`LangGraph:Sweep:Interval`. Answers, per deployment, what it found: threads scanned, runs seen, recovered (with their run ids), " +
                "already held, out of scope, too recent (within `Sweep:Grace`), not finished, too old, and unrecoverable (stateless runs, whose " +
                "thread the server deletes before it sends the webhook). `busy`: another sweep of that deployment is running. " +
                "409 when no deployment is configured; 404 for an unknown `deployment`.")
            .Produces<SweepReport>()
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status409Conflict);

    public static async Task<Results<Ok<SweepReport>, ProblemHttpResult>> SweepAsync(
        RunSweeper sweeper, [FromQuery(Name = "deployment")] string? deployment, CancellationToken cancellationToken)
    {
        if (sweeper.Deployments.Count == 0)
        {
            return TypedResults.Problem(statusCode: StatusCodes.Status409Conflict,
                detail: "No LangGraph deployment is configured (WebhookReceiver:LangGraph:Deployments): there is nothing to sweep.");
        }

        if (deployment is null)
        {
            return TypedResults.Ok(await sweeper.SweepAllAsync(cancellationToken));
        }

        var name = sweeper.Deployments.FirstOrDefault(d => string.Equals(d, deployment, StringComparison.OrdinalIgnoreCase));
        return name is null
            ? Problems.NotFound("No LangGraph deployment has that name (WebhookReceiver:LangGraph:Deployments).")
            : TypedResults.Ok(new SweepReport([await sweeper.SweepAsync(name, cancellationToken)], SweepReport.Limits));
    }
}
