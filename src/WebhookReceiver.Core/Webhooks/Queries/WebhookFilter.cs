using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;
using WebhookReceiver.Kernel;

namespace WebhookReceiver.Webhooks;

/// <summary>The webhook list's own checks, and what the OpenAPI document says the <c>/api</c> lists' parameters hold.</summary>
internal static class WebhookQueryParameters
{
    public static ValidationProblem? Validate(WebhookQuery query, Dictionary<string, string[]> errors)
    {
        QueryParameters.OneOf(query.DeliveryState, "delivery_state", DeliveryState.All, errors);
        QueryParameters.OneOf(query.Verification, "verification", VerificationResult.All, errors);
        foreach (var (name, value) in new[] { ("status", query.Status), ("assistant_id", query.AssistantId), ("graph_id", query.GraphId), ("thread_id", query.ThreadId), ("deployment", query.Deployment) })
        {
            QueryParameters.Indexable(value, name, errors);
        }

        if (query.ReceivedFrom > query.ReceivedTo)
        {
            errors["received_from"] = ["Must not be after received_to."];
        }

        return errors.Count == 0 ? null : TypedResults.ValidationProblem(errors);
    }

    // The parameters are bound as text (parsed by the endpoints): the document still says what they hold.
    public static Task Describe(OpenApiOperation operation, OpenApiOperationTransformerContext context, CancellationToken cancellationToken)
    {
        foreach (var parameter in (operation.Parameters ?? []).OfType<OpenApiParameter>())
        {
            parameter.Schema = parameter.Name switch
            {
                "limit" => new OpenApiSchema { Type = JsonSchemaType.Integer, Format = "int32", Minimum = "1", Maximum = "500", Default = 50 },
                "cursor" => new OpenApiSchema { Type = JsonSchemaType.Integer, Format = "int64" },
                "received_from" or "received_to" => new OpenApiSchema { Type = JsonSchemaType.String, Format = "date-time" },
                "delivery_state" => new OpenApiSchema { Type = JsonSchemaType.String, Enum = DeliveryState.All.Select(s => (JsonNode)s).ToList() },
                "verification" => new OpenApiSchema { Type = JsonSchemaType.String, Enum = VerificationResult.All.Select(s => (JsonNode)s).ToList() },
                "source" => new OpenApiSchema { Type = JsonSchemaType.String, Enum = WebhookSources.All.Select(s => (JsonNode)s).ToList() },
                _ => parameter.Schema,
            };
        }

        return Task.CompletedTask;
    }
}

/// <summary>The filters shared by the list and the bulk replay, named in snake_case like LangGraph's own fields.</summary>
internal sealed class WebhookFilter
{
    /// <summary>Run status as sent: success, error, timeout, interrupted, rollback, ...</summary>
    [FromQuery(Name = "status")]
    public string? Status { get; init; }

    [FromQuery(Name = "assistant_id")]
    public string? AssistantId { get; init; }

    /// <summary>The graph of the run's assistant (<c>metadata.graph_id</c>), as listed in <c>graph_id</c>.</summary>
    [FromQuery(Name = "graph_id")]
    public string? GraphId { get; init; }

    [FromQuery(Name = "thread_id")]
    public string? ThreadId { get; init; }

    /// <summary>The LangGraph deployment the webhook is attributed to (<c>WebhookReceiver:LangGraph:Deployments</c> name).</summary>
    [FromQuery(Name = "deployment")]
    public string? Deployment { get; init; }

    /// <summary>The run's verification result: verified, mismatch, not_found, unverifiable or error.</summary>
    [FromQuery(Name = "verification")]
    public string? Verification { get; init; }

    /// <summary>How it reached the receiver: webhook (posted by LangGraph) or sweep (recovered from the LangGraph API).</summary>
    [FromQuery(Name = "source")]
    public string? Source { get; init; }

    /// <summary>Received at or after this time (ISO-8601, e.g. 2026-01-31T12:00:00Z).</summary>
    [FromQuery(Name = "received_from")]
    public string? ReceivedFrom { get; init; }

    /// <summary>Received before this time (ISO-8601, e.g. 2026-01-31T12:00:00Z).</summary>
    [FromQuery(Name = "received_to")]
    public string? ReceivedTo { get; init; }

    /// <summary>
    /// The store's query, each value read as a filter reads it (trimmed, absent when blank: <see cref="QueryParameters.Text"/>), for the
    /// API and the console's lists alike; a time or source that does not parse is added to <paramref name="errors"/> under its query name.
    /// </summary>
    public WebhookQuery ToQuery(Dictionary<string, string[]> errors) => new()
    {
        Status = QueryParameters.Text(Status),
        AssistantId = QueryParameters.Text(AssistantId),
        GraphId = QueryParameters.Text(GraphId),
        ThreadId = QueryParameters.Text(ThreadId),
        Deployment = QueryParameters.Text(Deployment),
        Verification = QueryParameters.Text(Verification),
        Source = ParseSource(QueryParameters.Text(Source), errors),
        ReceivedFrom = QueryParameters.Time(ReceivedFrom, "received_from", errors),
        ReceivedTo = QueryParameters.Time(ReceivedTo, "received_to", errors),
    };

    private static WebhookSource? ParseSource(string? value, Dictionary<string, string[]> errors)
    {
        if (value is null)
        {
            return null;
        }

        if (WebhookSources.All.Contains(value))
        {
            return WebhookSources.Parse(value);
        }

        errors["source"] = [$"One of: {string.Join(", ", WebhookSources.All)}."];
        return null;
    }
}
