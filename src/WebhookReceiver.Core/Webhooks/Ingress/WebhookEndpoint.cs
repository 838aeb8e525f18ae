using System.Diagnostics;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using WebhookReceiver.Kernel;

namespace WebhookReceiver.Webhooks;

/// <param name="Id">The stored webhook's id (for a duplicate, the id stored the first time).</param>
/// <param name="RunId">The run the webhook reports; null when the body has no usable <c>run_id</c>.</param>
/// <param name="Duplicate">True when this run_id (or, without one, these exact bytes) was stored before; it is not stored or dispatched again.</param>
internal sealed record IngestResponse(long Id, string? RunId, bool Duplicate);

/// <summary>The webhook LangGraph posts when a run finishes: authenticate, read, store durably, acknowledge.</summary>
internal static class WebhookEndpoint
{
    /// <summary>The route's name (and OpenAPI operation id); the host's request log knows the route by it.</summary>
    public const string Name = "ReceiveWebhook";

    public static RouteHandlerBuilder MapWebhookEndpoint(this IEndpointRouteBuilder endpoints)
    {
        var options = endpoints.ServiceProvider.GetRequiredService<IOptions<WebhookReceiverOptions>>().Value;
        // The token is the sender's only credential, checked here: a host's fallback authorization policy must not answer
        // LangGraph 401, which it never retries.
        return endpoints.MapPost(options.Path, ReceiveAsync)
            .AllowAnonymous()
            .AddEndpointFilter(IngestOutcomeFilter.RecordAsync)
            .RequireRateLimiting(IngressLimits.RatePolicy)
            .WithName(Name)
            .WithTags("Webhooks")
            .WithSummary("Receive a LangGraph run webhook")
            .WithDescription(
                "Point a LangGraph run at this URL with `webhook=\"https://host" + options.Path + "?token=...\"`, or send the token as " +
                $"`{options.TokenHeader}: Bearer ...` (LangGraph's `webhooks.headers`). The body is read as JSON whatever its Content-Type " +
                "(the JS server sends text/plain). The webhook is stored before the answer: 202 for a new run, 200 with `duplicate: true` " +
                "for a run_id already stored. 503 with Retry-After means it was not acknowledged: send it again (a repeat of one that was " +
                "in fact stored is answered 200 duplicate).")
            .Produces<IngestResponse>(StatusCodes.Status202Accepted)
            .Produces<IngestResponse>(StatusCodes.Status200OK)
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status401Unauthorized)
            .ProducesProblem(StatusCodes.Status408RequestTimeout)
            .ProducesProblem(StatusCodes.Status413PayloadTooLarge)
            .ProducesProblem(StatusCodes.Status429TooManyRequests)
            .ProducesProblem(StatusCodes.Status503ServiceUnavailable);
    }

    public static async Task<Results<Accepted<IngestResponse>, Ok<IngestResponse>, ProblemHttpResult>> ReceiveAsync(
        HttpContext context,
        WebhookTokens tokens,
        IWebhookAttribution deployments,
        SecretRedactor redactor,
        MissingRunIdWarning missingRunId,
        HandlerCatalog handlers,
        InboxWriter inbox,
        IngestConcurrency inFlight,
        TimeProvider time,
        IOptions<WebhookReceiverOptions> options,
        IOptions<IngestOptions> ingest,
        CancellationToken cancellationToken)
    {
        var settings = options.Value;
        var retryAfterSeconds = ingest.Value.RetryAfterSeconds;
        if (!tokens.Authenticate(context.Request, out var token))
        {
            return Problems.Unauthorized();
        }

        using var slot = inFlight.AttemptAcquire();
        if (!slot.IsAcquired)
        {
            return Problems.Unavailable(context, retryAfterSeconds, "Too many webhooks are being received at once; send again after Retry-After.");
        }

        byte[]? body;
        try
        {
            body = await RequestBody.ReadAsync(context.Request, settings.MaxBodyBytes, cancellationToken);
        }
        catch (BadHttpRequestException ex)
        {
            // Kestrel's own limits: a body sent too slowly (408), or cut short (400).
            return TypedResults.Problem(statusCode: ex.StatusCode, detail: "The request body could not be read.");
        }

        if (body is null)
        {
            return TypedResults.Problem(statusCode: StatusCodes.Status413PayloadTooLarge,
                detail: $"The body is larger than the {settings.MaxBodyBytes} bytes this receiver accepts (WebhookReceiver:MaxBodyBytes; raise it to accept larger runs).");
        }

        // JSON text may start with a UTF-8 byte order mark, which RFC 8259 lets parsers ignore: it is not part of the run.
        if (body.AsSpan().StartsWith("\uFEFF"u8))
        {
            body = body[3..];
        }

        if (!System.Text.Unicode.Utf8.IsValid(body))
        {
            return TypedResults.Problem(statusCode: StatusCodes.Status400BadRequest, detail: "The body is not valid UTF-8, which JSON requires.");
        }

        // Stored as received, minus secrets: the token LangGraph echoes in kwargs.webhook never reaches the database.
        body = redactor.RedactPayload(body) ?? body;

        NewWebhook webhook;
        try
        {
            using var document = JsonDocument.Parse(body, new JsonDocumentOptions { MaxDepth = settings.MaxJsonDepth });
            if (LangGraphRun.FromJson(document.RootElement) is not { } run)
            {
                return TypedResults.Problem(statusCode: StatusCodes.Status400BadRequest,
                    detail: "The body is JSON but not a LangGraph run: a run is a JSON object.");
            }

            webhook = NewWebhook.Of(run, body, time.GetUtcNow(), handlers.Match(run), deployments.DeploymentFor(token), WebhookSource.Webhook,
                ReceiverTracing.CurrentTraceparent());
            // Without a usable run_id (trimmed by webhooks.allowed_fields, or unfit for an index) it is still a webhook.
            if (webhook.RunId is null)
            {
                missingRunId.Report();
            }
            ReceiverTracing.Describe(Activity.Current, webhook);
        }
        catch (JsonException ex) when (ex.Message.Contains("maximum configured depth", StringComparison.Ordinal))
        {
            // System.Text.Json's own words for a body nested deeper than MaxDepth.
            return TypedResults.Problem(statusCode: StatusCodes.Status400BadRequest,
                detail: $"The body is nested deeper than the {settings.MaxJsonDepth} levels this receiver accepts (WebhookReceiver:MaxJsonDepth; raise it, up to {LangGraphRun.MaxSupportedDepth}, to accept deeper runs).");
        }
        catch (JsonException ex)
        {
            return TypedResults.Problem(statusCode: StatusCodes.Status400BadRequest,
                detail: $"The body is not valid JSON: {ex.Message}");
        }

        try
        {
            var stored = await inbox.AppendAsync(webhook, cancellationToken);
            var response = new IngestResponse(stored.Id, webhook.RunId, stored.Duplicate);
            return stored.Duplicate ? TypedResults.Ok(response) : TypedResults.Accepted(WebhookLocation.Path(context, stored.Id), response);
        }
        catch (InboxUnavailableException ex)
        {
            return Problems.Unavailable(context, retryAfterSeconds, ex.Message);
        }
    }
}
