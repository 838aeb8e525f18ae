using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using WebhookReceiver.Configuration;
using WebhookReceiver.Handlers;
using WebhookReceiver.Inbox;
using WebhookReceiver.Operations;
using WebhookReceiver.Runs;
using WebhookReceiver.Security;

namespace WebhookReceiver.Ingress;

/// <param name="Id">The stored webhook's id (for a duplicate, the id stored the first time).</param>
/// <param name="RunId">The run the webhook reports.</param>
/// <param name="Duplicate">True when this run_id was stored before; it is not stored or dispatched again.</param>
public sealed record IngestResponse(long Id, string RunId, bool Duplicate);

/// <summary>The webhook LangGraph posts when a run finishes: authenticate, read, store durably, acknowledge.</summary>
public static class WebhookEndpoint
{
    public const string TokenQueryParameter = "token";

    public static RouteHandlerBuilder MapWebhookEndpoint(this IEndpointRouteBuilder endpoints)
    {
        var options = endpoints.ServiceProvider.GetRequiredService<IOptions<WebhookReceiverOptions>>().Value;
        return endpoints.MapPost(options.Path, ReceiveAsync)
            .WithName("ReceiveWebhook")
            .WithTags("Webhooks")
            .WithSummary("Receive a LangGraph run webhook")
            .WithDescription(
                "Point a LangGraph run at this URL with `webhook=\"https://host" + options.Path + "?token=...\"`, or send the token as " +
                $"`{options.TokenHeader}: Bearer ...` (LangGraph's `webhooks.headers`). The body is read as JSON whatever its Content-Type " +
                "(the JS server sends text/plain). The webhook is stored before the answer: 202 for a new run, 200 with `duplicate: true` " +
                "for a run_id already stored. 503 with Retry-After means it was not stored and should be sent again.")
            .Produces<IngestResponse>(StatusCodes.Status202Accepted)
            .Produces<IngestResponse>(StatusCodes.Status200OK)
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status401Unauthorized)
            .ProducesProblem(StatusCodes.Status413PayloadTooLarge)
            .ProducesProblem(StatusCodes.Status429TooManyRequests)
            .ProducesProblem(StatusCodes.Status503ServiceUnavailable);
    }

    public static async Task<Results<Accepted<IngestResponse>, Ok<IngestResponse>, ProblemHttpResult>> ReceiveAsync(
        HttpContext context,
        WebhookTokens tokens,
        HandlerCatalog handlers,
        InboxWriter queue,
        TimeProvider time,
        IOptions<WebhookReceiverOptions> options,
        ReceiverMetrics metrics,
        CancellationToken cancellationToken)
    {
        var settings = options.Value;
        var started = metrics.StartIngest();
        if (!tokens.Authenticate(context.Request))
        {
            metrics.WebhookReceived(IngestOutcome.Unauthorized, started);
            return Problems.Unauthorized();
        }

        if (await RequestBody.ReadAsync(context.Request, settings.MaxBodyBytes, cancellationToken) is not { } body)
        {
            metrics.WebhookReceived(IngestOutcome.TooLarge, started);
            return TypedResults.Problem(statusCode: StatusCodes.Status413PayloadTooLarge,
                detail: $"The body is larger than the {settings.MaxBodyBytes} bytes this receiver accepts.");
        }

        NewWebhook webhook;
        try
        {
            using var document = JsonDocument.Parse(body, new JsonDocumentOptions { MaxDepth = settings.MaxJsonDepth });
            if (LangGraphRun.FromJson(document.RootElement) is not { } run)
            {
                metrics.WebhookReceived(IngestOutcome.Invalid, started);
                return TypedResults.Problem(statusCode: StatusCodes.Status400BadRequest,
                    detail: "The body is JSON but not a LangGraph run: it needs a non-empty string \"run_id\".");
            }

            webhook = new NewWebhook(run.RunId, run.ThreadId, run.AssistantId, run.GraphId, run.Status, time.GetUtcNow(), body, handlers.Match(run));
        }
        catch (JsonException ex)
        {
            metrics.WebhookReceived(IngestOutcome.Invalid, started);
            return TypedResults.Problem(statusCode: StatusCodes.Status400BadRequest,
                detail: $"The body is not valid JSON: {ex.Message}");
        }

        try
        {
            var stored = await queue.AppendAsync(webhook, cancellationToken);
            var response = new IngestResponse(stored.Id, webhook.RunId, stored.Duplicate);
            metrics.WebhookReceived(stored.Duplicate ? IngestOutcome.Duplicate : IngestOutcome.Accepted, started);
            return stored.Duplicate ? TypedResults.Ok(response) : TypedResults.Accepted($"/api/webhooks/{stored.Id}", response);
        }
        catch (InboxUnavailableException ex)
        {
            metrics.WebhookReceived(IngestOutcome.StoreUnavailable, started);
            return Problems.Unavailable(context, settings.Ingest.RetryAfterSeconds, ex.Message);
        }
    }
}
