using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using WebhookReceiver.Dispatch;
using WebhookReceiver.Handlers;
using WebhookReceiver.Inbox;
using WebhookReceiver.Ingress;
using WebhookReceiver.Operations;
using WebhookReceiver.Runs;
using WebhookReceiver.Security;

namespace WebhookReceiver.QueryApi;

/// <summary>Read what arrived, see every delivery attempt, and replay: under <c>/api</c>, behind the admin key.</summary>
public static class QueryApiEndpoints
{
    public const string AdminKeyScheme = "AdminKey";

    public static RouteGroupBuilder MapQueryApi(this IEndpointRouteBuilder endpoints)
    {
        var api = endpoints.MapGroup("/api")
            .AddEndpointFilter(RequireAdminKey)
            .WithMetadata(new AdminKeyRequired())
            .ProducesProblem(StatusCodes.Status401Unauthorized);

        api.MapGet("/webhooks", ListWebhooksAsync).WithTags("Webhooks").WithName("ListWebhooks")
            .WithSummary("List received webhooks, newest first")
            .WithDescription("Filter by run status, assistant, thread, time received (`received_from` inclusive, `received_to` exclusive, ISO-8601) " +
                "and delivery state (`pending`, `succeeded`, `failed`, `dead`). Page with `limit` (1-500) and the `next_cursor` of the previous page.")
            .ProducesValidationProblem();
        api.MapGet("/webhooks/{id:long}", GetWebhookAsync).WithTags("Webhooks").WithName("GetWebhook")
            .WithSummary("One webhook with its payload and every delivery attempt")
            .WithDescription("The payload is returned as stored: as received, minus secrets (webhook tokens are redacted before a body is stored), escapes kept.");
        api.MapGet("/runs/{runId}", GetRunAsync).WithTags("Webhooks").WithName("GetRun")
            .WithSummary("The webhook of a LangGraph run, by run_id")
            .WithDescription("The same view as a single webhook, found by the `run_id` LangGraph gave the run.");
        api.MapPost("/webhooks/{id:long}/replay", ReplayWebhookAsync).WithTags("Replay").WithName("ReplayWebhook")
            .WithSummary("Deliver a webhook again")
            .WithDescription("Makes the webhook due again for every handler that has a delivery for it or accepts it now, or only for `handler`. " +
                "Handlers that already succeeded run again: replay is an explicit request.");
        api.MapPost("/dead-letters/replay", ReplayDeadLettersAsync).WithTags("Replay").WithName("ReplayDeadLetters")
            .WithSummary("Deliver dead letters again, in bulk")
            .WithDescription("Every dead delivery of the webhooks that match the same filters as the list (and of `handler`, if given) is made due now.")
            .ProducesValidationProblem();
        api.MapGet("/handlers", ListHandlersAsync).WithTags("Handlers").WithName("ListHandlers")
            .WithSummary("Registered handlers, their filters, and their deliveries by state")
            .WithDescription("Built-in handlers (`log`, forward targets) and those registered in code, with the runs each accepts " +
                "(statuses, assistant ids, graph ids, metadata; empty means any) and how many of its deliveries are in each state.");
        return api;
    }

    public static async Task<Results<Ok<WebhookList>, ValidationProblem>> ListWebhooksAsync(
        IWebhookInbox inbox,
        [AsParameters] WebhookFilter filter,
        [FromQuery(Name = "delivery_state")] string? deliveryState,
        long? cursor,
        int? limit,
        CancellationToken cancellationToken)
    {
        var query = filter.ToQuery() with { DeliveryState = deliveryState, Before = cursor, Limit = limit ?? 50 };
        if (Validate(query) is { } invalid)
        {
            return invalid;
        }

        var page = await inbox.ListAsync(query, cancellationToken);
        var items = page.Items.Select(w => new WebhookSummary(w.Id, w.RunId, w.ThreadId, w.AssistantId, w.GraphId, w.Status, w.ReceivedAt,
            w.Deliveries.Select(d => DeliveryView.From(d)).ToList())).ToList();
        return TypedResults.Ok(new WebhookList(items, page.NextCursor));
    }

    public static async Task<Results<Ok<WebhookDetail>, ProblemHttpResult>> GetWebhookAsync(
        long id, IWebhookInbox inbox, CancellationToken cancellationToken) =>
        await inbox.GetAsync(id, cancellationToken) is { } webhook
            ? TypedResults.Ok(Detail(webhook))
            : Problems.NotFound($"No webhook has id {id}.");

    public static async Task<Results<Ok<WebhookDetail>, ProblemHttpResult>> GetRunAsync(
        string runId, IWebhookInbox inbox, CancellationToken cancellationToken) =>
        runId.Length <= WebhookEndpoint.MaxIndexedLength && !runId.Contains('\0', StringComparison.Ordinal)
            && await inbox.GetByRunIdAsync(runId, cancellationToken) is { } webhook
            ? TypedResults.Ok(Detail(webhook))
            : Problems.NotFound("No webhook has been received for that run_id.");

    public static async Task<Results<Accepted<ReplayResult>, ProblemHttpResult>> ReplayWebhookAsync(
        long id, string? handler, IWebhookInbox inbox, HandlerCatalog catalog, DispatchSignal dispatch, TimeProvider time,
        CancellationToken cancellationToken)
    {
        if (handler is not null && !catalog.Contains(handler))
        {
            return Problems.NotFound($"No handler is registered as '{handler}'.");
        }

        if (await inbox.GetAsync(id, cancellationToken) is not { } webhook)
        {
            return Problems.NotFound($"No webhook has id {id}.");
        }

        IReadOnlyCollection<string> handlers = handler is not null
            ? [handler]
            : webhook.Deliveries.Select(d => d.Handler)
                .Union(LangGraphRun.Parse(Encoding.UTF8.GetString(webhook.Payload!)) is { } run ? catalog.Match(run) : [])
                .Where(catalog.Contains)
                .ToList();
        var replayed = await inbox.ReplayAsync(id, handlers, time.GetUtcNow(), cancellationToken) ?? 0;
        dispatch.Notify();
        return TypedResults.Accepted($"/api/webhooks/{id}", new ReplayResult(replayed));
    }

    public static async Task<Results<Accepted<ReplayResult>, ValidationProblem, ProblemHttpResult>> ReplayDeadLettersAsync(
        IWebhookInbox inbox, HandlerCatalog catalog, DispatchSignal dispatch, TimeProvider time,
        [AsParameters] WebhookFilter filter, string? handler, CancellationToken cancellationToken)
    {
        if (handler is not null && !catalog.Contains(handler))
        {
            return Problems.NotFound($"No handler is registered as '{handler}'.");
        }

        var query = filter.ToQuery();
        if (Validate(query) is { } invalid)
        {
            return invalid;
        }

        var replayed = await inbox.ReplayDeadAsync(query, handler, time.GetUtcNow(), cancellationToken);
        dispatch.Notify();
        return TypedResults.Accepted("/api/webhooks?delivery_state=pending", new ReplayResult(replayed));
    }

    public static async Task<Ok<List<HandlerView>>> ListHandlersAsync(IWebhookInbox inbox, HandlerCatalog catalog, CancellationToken cancellationToken)
    {
        var counts = await inbox.CountDeliveriesAsync(cancellationToken);
        return TypedResults.Ok(catalog.Handlers.Select(h => new HandlerView(
            h.Name,
            h.HandlerType.Name,
            HandlerFilterView.From(h.Filter),
            DeliveryState.All.ToDictionary(s => s, s => counts.Where(c => c.Handler == h.Name && c.State == s).Sum(c => c.Count))))
            .ToList());
    }

    // The payload goes out as its stored bytes (redacted before they were stored): never decoded, so never refused.
    private static WebhookDetail Detail(StoredWebhook webhook) => new(
        webhook.Id, webhook.RunId, webhook.ThreadId, webhook.AssistantId, webhook.GraphId, webhook.Status, webhook.ReceivedAt,
        webhook.Deliveries.Select(d => DeliveryView.From(d, webhook.Attempts ?? [])).ToList(),
        new JsonPayload(webhook.Payload!));

    private static ValidationProblem? Validate(WebhookQuery query)
    {
        var errors = new Dictionary<string, string[]>();
        if (query.Limit is < 1 or > 500)
        {
            errors["limit"] = ["Between 1 and 500."];
        }

        if (query.DeliveryState is { } state && !DeliveryState.All.Contains(state))
        {
            errors["delivery_state"] = [$"One of: {string.Join(", ", DeliveryState.All)}."];
        }

        foreach (var (name, value) in new[] { ("status", query.Status), ("assistant_id", query.AssistantId), ("thread_id", query.ThreadId) })
        {
            if (value is { Length: > WebhookEndpoint.MaxIndexedLength } || (value?.Contains('\0', StringComparison.Ordinal) ?? false))
            {
                errors[name] = [$"At most {WebhookEndpoint.MaxIndexedLength} characters, with no NUL."];
            }
        }

        if (query.ReceivedFrom > query.ReceivedTo)
        {
            errors["received_from"] = ["Must not be after received_to."];
        }

        return errors.Count == 0 ? null : TypedResults.ValidationProblem(errors);
    }

    private static async ValueTask<object?> RequireAdminKey(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        var keys = context.HttpContext.RequestServices.GetRequiredService<AdminKeys>();
        return keys.Authenticate(context.HttpContext.Request) ? await next(context) : Problems.Unauthorized();
    }
}

/// <summary>Marks endpoints that need the admin key, so that the OpenAPI document asks for it.</summary>
public sealed class AdminKeyRequired;

/// <summary>The filters shared by the list and the bulk replay, named in snake_case like LangGraph's own fields.</summary>
public sealed class WebhookFilter
{
    /// <summary>Run status as sent: success, error, timeout, interrupted, rollback, ...</summary>
    [FromQuery(Name = "status")]
    public string? Status { get; init; }

    [FromQuery(Name = "assistant_id")]
    public string? AssistantId { get; init; }

    [FromQuery(Name = "thread_id")]
    public string? ThreadId { get; init; }

    /// <summary>Received at or after this time (ISO-8601).</summary>
    [FromQuery(Name = "received_from")]
    public DateTimeOffset? ReceivedFrom { get; init; }

    /// <summary>Received before this time (ISO-8601).</summary>
    [FromQuery(Name = "received_to")]
    public DateTimeOffset? ReceivedTo { get; init; }

    public WebhookQuery ToQuery() =>
        new() { Status = Status, AssistantId = AssistantId, ThreadId = ThreadId, ReceivedFrom = ReceivedFrom, ReceivedTo = ReceivedTo };
}
