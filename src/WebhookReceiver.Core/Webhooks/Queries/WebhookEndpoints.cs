using System.Security.Claims;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using WebhookReceiver.Access;
using WebhookReceiver.Audit;
using WebhookReceiver.Kernel;

namespace WebhookReceiver.Webhooks;

/// <summary>
/// Read what arrived, see every delivery attempt, and replay: under <c>/api</c>, behind an operator's key. Reads need the role
/// viewer (<see cref="ReceiverPolicies.View"/>); what changes state is a command, whose endpoint also requires its policy.
/// </summary>
internal static class QueryApiEndpoints
{
    public const string AdminKeyScheme = "AdminKey";

    /// <summary>A route name (also the OpenAPI operation id): bulk replay answers 202 with a Location built from it. One
    /// webhook's is <see cref="WebhookLocation.RouteName"/>.</summary>
    public const string ListRoute = "ListWebhooks";

    private static string? Path(HttpContext context, string route, object values) =>
        context.RequestServices.GetRequiredService<LinkGenerator>().GetPathByName(context, route, values);

    public static RouteGroupBuilder MapQueryApi(this IEndpointRouteBuilder endpoints)
    {
        // Authorization runs before the endpoint binds anything: without a key every request is 401, whatever it asks; with a
        // key whose role is too low, 403.
        var group = endpoints.MapGroup("/api")
            .RequireAuthorization(ReceiverPolicies.View)
            .WithMetadata(new AdminKeyRequired())
            .ProducesProblem(StatusCodes.Status401Unauthorized)
            .ProducesProblem(StatusCodes.Status403Forbidden);

        // Paths under the API's own resources that no endpoint matches (an id that is not a number, a sub-path that does
        // not exist): 401 without the key like the rest, 404 with it. The host's own /api routes are left alone.
        foreach (var resource in new[] { "webhooks", "runs", "dead-letters", "handlers", "interrupts", "langgraph", "audit" })
        {
            group.Map($"/{resource}/{{**rest}}", () => Problems.NotFound("No query API endpoint answers this method and path.")).ExcludeFromDescription();
        }

        var api = group.MapGroup("").AddEndpointFilterFactory(QueryParameters.RefuseUnknown).AddOpenApiOperationTransformer(WebhookQueryParameters.Describe);
        api.MapGet("/webhooks", ListWebhooksAsync).WithTags("Webhooks").WithName(ListRoute)
            .WithSummary("List received webhooks, newest first")
            .WithDescription("Filter by run status, assistant, graph, thread, time received (`received_from` inclusive, `received_to` exclusive, ISO-8601) " +
                "delivery state (`pending`, `succeeded`, `failed`, `dead`, `rejected`), LangGraph `deployment` and run `verification` " +
                "(`verified`, `mismatch`, `not_found`, `unverifiable`, `error`) and `source` (`webhook`, or `sweep`: recovered from the LangGraph API). Page with `limit` (1-500) and the `next_cursor` of the previous page.")
            .ProducesValidationProblem();
        api.MapGet("/webhooks/{id:long}", GetWebhookAsync).WithTags("Webhooks").WithName(WebhookLocation.RouteName)
            .WithSummary("One webhook with its payload and every delivery attempt")
            .WithDescription("The payload is returned as stored: as received, minus secrets (webhook tokens are redacted before a body is stored), escapes kept.");
        api.MapGet("/runs/{runId}", GetRunAsync).WithTags("Webhooks").WithName("GetRun")
            .WithSummary("The webhook of a LangGraph run, by run_id")
            .WithDescription("The same view as a single webhook, found by the `run_id` LangGraph gave the run.");
        api.MapPost("/webhooks/{id:long}/replay", ReplayWebhookAsync).WithTags("Replay").WithName("ReplayWebhook").RequireAuthorization(ReceiverPolicies.Operate)
            .WithSummary("Deliver a webhook again")
            .WithDescription("Makes the webhook due again for every handler that has a delivery for it or accepts it now, or only for `handler`. " +
                "Handlers that already succeeded run again: replay is an explicit request.");
        api.MapPost("/dead-letters/replay", ReplayDeadLettersAsync).WithTags("Replay").WithName("ReplayDeadLetters").RequireAuthorization(ReceiverPolicies.Operate)
            .WithSummary("Deliver dead letters again, in bulk")
            .WithDescription("Every dead delivery of the webhooks that match the same filters as the list (and of `handler`, if given) is made due now, " +
                "and of the interrupts that match them: by `thread_id`, `assistant_id`, `graph_id`, `deployment` and the time they were seen " +
                "(`received_from`, `received_to`); a filter on `status`, `verification` or `source` matches runs only.")
            .ProducesValidationProblem();
        api.MapGet("/handlers", ListHandlersAsync).WithTags("Handlers").WithName("ListHandlers")
            .WithSummary("Registered handlers, their filters, and their deliveries by state")
            .WithDescription("Built-in handlers (`log`, forward targets) and those registered in code, with the runs each accepts " +
                "(statuses, assistant ids, graph ids, metadata; empty means any) and how many of its deliveries are in each state; then the " +
                "interrupt handlers (`handles`: `interrupts`), which take the pauses of the graphs and assistants they accept.");
        return api;
    }

    public static async Task<Results<Ok<WebhookList>, ValidationProblem>> ListWebhooksAsync(
        IInboxQueries inbox,
        [AsParameters] WebhookFilter filter,
        [FromQuery(Name = "delivery_state")] string? deliveryState,
        [FromQuery(Name = "cursor")] string? cursor,
        [FromQuery(Name = "limit")] string? limit,
        CancellationToken cancellationToken)
    {
        var errors = new Dictionary<string, string[]>();
        var (before, size) = QueryParameters.Paging(cursor, limit, errors);
        var query = filter.ToQuery(errors) with
        {
            DeliveryState = deliveryState,
            Before = before,
            Limit = size,
        };
        if (WebhookQueryParameters.Validate(query, errors) is { } invalid)
        {
            return invalid;
        }

        var page = await inbox.ListAsync(query, cancellationToken);
        var items = page.Items.Select(w => new WebhookSummary(w.Id, w.RunId, w.ThreadId, w.AssistantId, w.GraphId, w.Status, w.ReceivedAt,
            w.Deliveries.Select(d => DeliveryView.From(d)).ToList(), w.Deployment, VerificationView.From(w.Verification), WebhookSources.Name(w.Source))).ToList();
        return TypedResults.Ok(new WebhookList(items, page.NextCursor));
    }

    public static async Task<Results<Ok<WebhookDetail>, ProblemHttpResult>> GetWebhookAsync(
        long id, IInboxQueries inbox, PayloadVisibility visibility, ClaimsPrincipal user, CancellationToken cancellationToken) =>
        await inbox.GetAsync(id, cancellationToken) is { } webhook
            ? TypedResults.Ok(Detail(webhook, await visibility.HidesFromAsync(user)))
            : Problems.NotFound($"No webhook has id {id}.");

    public static async Task<Results<Ok<WebhookDetail>, ProblemHttpResult>> GetRunAsync(
        string runId, IInboxQueries inbox, PayloadVisibility visibility, ClaimsPrincipal user, CancellationToken cancellationToken) =>
        IndexableText.CanMatch(runId)
            && await inbox.GetByRunIdAsync(runId, cancellationToken) is { } webhook
            ? TypedResults.Ok(Detail(webhook, await visibility.HidesFromAsync(user)))
            : Problems.NotFound("No webhook has been received for that run_id.");

    public static async Task<Results<Accepted<ReplayResult>, ProblemHttpResult>> ReplayWebhookAsync(
        long id, [FromQuery(Name = "handler")] string? handler, ReplayWebhookCommand replay, ClaimsPrincipal user, HttpContext context,
        CancellationToken cancellationToken)
    {
        var result = await replay.ExecuteAsync(user, id, handler, cancellationToken);
        return result.Status == CommandStatus.Done
            ? TypedResults.Accepted(WebhookLocation.Path(context, id), new ReplayResult(result.Value))
            : CommandProblems.From(result);
    }

    public static async Task<Results<Accepted<ReplayResult>, ValidationProblem, ProblemHttpResult>> ReplayDeadLettersAsync(
        ReplayDeadLettersCommand replay, [AsParameters] WebhookFilter filter, [FromQuery(Name = "handler")] string? handler, ClaimsPrincipal user,
        HttpContext context, CancellationToken cancellationToken)
    {
        var errors = new Dictionary<string, string[]>();
        var query = filter.ToQuery(errors);
        if (WebhookQueryParameters.Validate(query, errors) is { } invalid)
        {
            return invalid;
        }

        var result = await replay.ExecuteAsync(user, query, handler, cancellationToken);
        return result.Status == CommandStatus.Done
            ? TypedResults.Accepted(Path(context, ListRoute, new { delivery_state = DeliveryState.Pending }), new ReplayResult(result.Value))
            : CommandProblems.From(result);
    }

    public static async Task<Ok<List<HandlerView>>> ListHandlersAsync(IInboxQueries inbox, HandlerCatalog catalog, CancellationToken cancellationToken)
    {
        var counts = await inbox.CountDeliveriesAsync(cancellationToken);
        HandlerView View(string name, Type type, HandlerFilter filter, bool ofInterrupts) => new(
            name,
            type.Name,
            HandlerFilterView.From(filter),
            DeliveryState.All.ToDictionary(s => s, s => counts.Where(c => c.Handler == name && c.State == s && c.OfInterrupts == ofInterrupts).Sum(c => c.Count)),
            ofInterrupts ? "interrupts" : "runs");
        return TypedResults.Ok(catalog.Handlers.Select(h => View(h.Name, h.HandlerType, h.Filter, ofInterrupts: false))
            .Concat(catalog.InterruptHandlers.Select(h => View(h.Name, h.HandlerType, h.Filter, ofInterrupts: true)))
            .ToList());
    }

    // The payload goes out as its stored bytes (redacted before they were stored): never decoded, so never refused; or not at all.
    private static WebhookDetail Detail(StoredWebhook webhook, bool hidePayload) => new(
        webhook.Id, webhook.RunId, webhook.ThreadId, webhook.AssistantId, webhook.GraphId, webhook.Status, webhook.ReceivedAt,
        webhook.Deliveries.Select(d => DeliveryView.From(d, webhook.Attempts ?? [])).ToList(),
        hidePayload ? null : new JsonPayload(webhook.Payload!), webhook.Deployment, VerificationView.From(webhook.Verification), WebhookSources.Name(webhook.Source));
}

/// <summary>Marks endpoints that need an operator's key, so that the OpenAPI document asks for it.</summary>
internal sealed class AdminKeyRequired;
