using System.Security.Claims;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Routing;
using Microsoft.OpenApi;
using WebhookReceiver.Access;
using WebhookReceiver.Audit;
using WebhookReceiver.Kernel;

namespace WebhookReceiver.Alerts;

/// <summary>Alerts under <c>/api/alerts</c>: list them (role viewer, the <c>/api</c> group's), and acknowledge one (role operator, a command).</summary>
internal static class AlertEndpoints
{
    public const string ListRoute = "ListAlerts";

    /// <summary>Maps the alert endpoints into the query API's <c>/api</c> group (its authorization and parameter checks apply).</summary>
    public static RouteGroupBuilder MapAlerts(this RouteGroupBuilder api)
    {
        api.MapGet("/alerts", ListAlertsAsync).WithTags("Alerts").WithName(ListRoute)
            .WithSummary("Alerts, newest first")
            .WithDescription("Records a person acknowledges, raised from what the receiver observes: `dead_handler` (a handler's deliveries went dead: " +
                "count, first and last error), `sweep_recovered` (a sweep recovered runs whose webhook never arrived: the run ids), `sweep_failed`, " +
                "`interrupt_waiting` (longer than `Alerts:InterruptWaitingThreshold`) and `store_unavailable` (stored once the store takes writes " +
                "again). Each is `open`, then `acknowledged` by an operator, and `resolved` by itself when its cause goes; a cause that comes back " +
                "opens a new alert. Filter by `state` and `kind`; page with `limit` (1-500) and the `next_cursor` of the previous page.")
            .ProducesValidationProblem()
            .AddOpenApiOperationTransformer((operation, _, _) =>
            {
                foreach (var parameter in (operation.Parameters ?? []).OfType<OpenApiParameter>())
                {
                    var values = parameter.Name switch { "state" => AlertState.All, "kind" => AlertKinds.All, _ => null };
                    if (values is not null)
                    {
                        parameter.Schema = new OpenApiSchema { Type = JsonSchemaType.String, Enum = values.Select(v => (JsonNode)v).ToList() };
                    }
                }

                return Task.CompletedTask;
            });
        api.MapPost("/alerts/{id:long}/acknowledge", AcknowledgeAlertAsync).WithTags("Alerts").WithName("AcknowledgeAlert")
            .RequireAuthorization(ReceiverPolicies.Operate)
            .WithSummary("Acknowledge an open alert")
            .WithDescription("Marks the alert seen by the caller (the operator's name is kept); it stays until its cause goes, then resolves by itself. " +
                "Acknowledging one already acknowledged answers it unchanged. Role operator; audited as `acknowledge_alert`. " +
                "404: no such alert. 409: it has resolved already.")
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status409Conflict);
        return api;
    }

    public static async Task<Results<Ok<AlertList>, ValidationProblem>> ListAlertsAsync(
        IInboxAlerts store, [AsParameters] AlertFilter filter, CancellationToken cancellationToken)
    {
        var errors = new Dictionary<string, string[]>();
        var query = filter.ToQuery(errors);
        if (errors.Count > 0)
        {
            return TypedResults.ValidationProblem(errors);
        }

        var page = await store.ListAlertsAsync(query, cancellationToken);
        return TypedResults.Ok(new AlertList(page.Items.Select(AlertView.From).ToList(), page.NextCursor));
    }

    public static async Task<Results<Ok<AlertView>, ProblemHttpResult>> AcknowledgeAlertAsync(
        long id, ClaimsPrincipal user, AcknowledgeAlertCommand command, CancellationToken cancellationToken)
    {
        var result = await command.ExecuteAsync(user, id, cancellationToken);
        return result.Status == CommandStatus.Done ? TypedResults.Ok(AlertView.From(result.Value!)) : CommandProblems.From(result);
    }
}

/// <summary>The alert list's filters and paging, as <c>GET /api/alerts</c> and the console's alerts page read them.</summary>
internal sealed class AlertFilter
{
    /// <summary>One of <see cref="AlertState.All"/>; absent: the unresolved ones.</summary>
    [FromQuery(Name = "state")]
    public string? State { get; init; }

    /// <summary>One of <see cref="AlertKinds.All"/>.</summary>
    [FromQuery(Name = "kind")]
    public string? Kind { get; init; }

    [FromQuery(Name = "cursor")]
    public string? Cursor { get; init; }

    [FromQuery(Name = "limit")]
    public string? Limit { get; init; }

    /// <summary>The store's query; each value that cannot be used is added to <paramref name="errors"/> under its query name.</summary>
    public AlertQuery ToQuery(Dictionary<string, string[]> errors)
    {
        var (before, size) = QueryParameters.Paging(Cursor, Limit, errors);
        return new AlertQuery
        {
            State = QueryParameters.OneOf(State, "state", AlertState.All, errors),
            Kind = QueryParameters.OneOf(Kind, "kind", AlertKinds.All, errors),
            Before = before,
            Limit = size,
        };
    }
}
