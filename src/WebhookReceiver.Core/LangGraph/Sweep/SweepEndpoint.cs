using System.Globalization;
using System.Security.Claims;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Routing;
using WebhookReceiver.Access;
using WebhookReceiver.Audit;
using WebhookReceiver.Kernel;

namespace WebhookReceiver.LangGraph;

/// <summary><c>POST /api/langgraph/sweep</c>: run one sweep now (role operator) and answer what it found; a caller of <see cref="SweepCommand"/>.</summary>
internal static class SweepEndpoint
{
    public static RouteHandlerBuilder MapSweepEndpoint(this IEndpointRouteBuilder api) =>
        api.MapPost("/langgraph/sweep", SweepAsync).WithTags("LangGraph").WithName("SweepLangGraph").RequireAuthorization(ReceiverPolicies.Operate)
            .WithSummary("Recover missed runs now: sweep the LangGraph deployments")
            .WithDescription("Asks each configured LangGraph deployment (or only `deployment`) for its threads updated since the last sweep and " +
                "their runs, and stores every finished run whose webhook never arrived (`source: sweep`), as the background sweep does every " +
                "`LangGraph:Sweep:Interval`. Answers, per deployment, what it found: threads scanned, runs seen, recovered (with their run ids), " +
                "already held, out of scope, too recent (within `Sweep:Grace`), not finished, too old, and unrecoverable (stateless runs, whose " +
                "thread the server deletes before it sends the webhook). Each report names the webhook URL a run must carry to be in scope " +
                "and shows a few of the URLs the out-of-scope runs carry. `busy`: another sweep of that deployment is running. " +
                "`since` (ISO 8601, e.g. `2026-12-01T00:00:00Z`) sweeps threads updated from then on (no earlier than `Sweep:Lookback`) whatever " +
                "the last sweep covered: use it after changing `LangGraph:PublicUrl` or `Sweep:Scope`, to recover runs earlier sweeps skipped. " +
                "Role operator. 409 when no deployment is configured; 404 for an unknown `deployment`; 400 for a `since` that is not a time.")
            .Produces<SweepReport>()
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status409Conflict);

    public static async Task<Results<Ok<SweepReport>, ProblemHttpResult>> SweepAsync(
        SweepCommand sweep, ClaimsPrincipal user, [FromQuery(Name = "deployment")] string? deployment, [FromQuery(Name = "since")] string? since,
        CancellationToken cancellationToken)
    {
        DateTimeOffset? from = null;
        if (since is not null)
        {
            if (!DateTimeOffset.TryParse(since, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var parsed))
            {
                return Problems.BadRequest("since must be an ISO 8601 time such as 2026-12-01T00:00:00Z.");
            }

            from = parsed;
        }

        var result = await sweep.ExecuteAsync(user, deployment, from, cancellationToken);
        return result.Status == CommandStatus.Done ? TypedResults.Ok(result.Value!) : CommandProblems.From(result);
    }
}
