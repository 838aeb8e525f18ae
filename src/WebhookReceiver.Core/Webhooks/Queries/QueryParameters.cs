using System.Globalization;
using System.Reflection;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;
using WebhookReceiver.Webhooks;

namespace WebhookReceiver.Webhooks;

/// <summary>
/// The one reader of list parameters, for the query API and the console alike: bound as text (an <c>[AsParameters]</c> filter
/// such as <see cref="WebhookFilter"/>) and parsed here, so that a bad value is an error naming it (a 400 in the API, a line on
/// the console's page); a parameter an API endpoint does not read is refused (a misspelt filter would otherwise return
/// everything); the OpenAPI document says what each holds.
/// </summary>
internal static class QueryParameters
{
    /// <summary>
    /// A list's paging, as every list of the API takes it: <c>cursor</c> (the <c>next_cursor</c> of the previous page) and
    /// <c>limit</c> (1-500, default 50); a bad value is an error named by its parameter.
    /// </summary>
    public static (long? Before, int Limit) Paging(string? cursor, string? limit, Dictionary<string, string[]> errors)
    {
        var before = ParseOrNull<long>(cursor, "cursor", "The next_cursor of the previous page.", errors);
        var size = ParseOrNull<int>(limit, "limit", "A whole number between 1 and 500.", errors) ?? 50;
        if (size is < 1 or > 500)
        {
            errors["limit"] = ["Between 1 and 500."];
        }

        return (before, size);
    }

    public static ValidationProblem? Validate(WebhookQuery query, Dictionary<string, string[]> errors)
    {
        OneOf(query.DeliveryState, "delivery_state", DeliveryState.All, errors);
        OneOf(query.Verification, "verification", VerificationResult.All, errors);
        foreach (var (name, value) in new[] { ("status", query.Status), ("assistant_id", query.AssistantId), ("graph_id", query.GraphId), ("thread_id", query.ThreadId), ("deployment", query.Deployment) })
        {
            Indexable(value, name, errors);
        }

        if (query.ReceivedFrom > query.ReceivedTo)
        {
            errors["received_from"] = ["Must not be after received_to."];
        }

        return errors.Count == 0 ? null : TypedResults.ValidationProblem(errors);
    }

    /// <summary>A value as a filter reads it: trimmed; absent when blank (an empty field of the console's filter form).</summary>
    public static string? Text(string? value) => string.IsNullOrWhiteSpace(value) ? null : value.Trim();

    /// <summary><paramref name="value"/> when it is one of <paramref name="allowed"/> (or absent); otherwise an error under <paramref name="name"/>.</summary>
    public static string? OneOf(string? value, string name, IReadOnlyCollection<string> allowed, Dictionary<string, string[]> errors)
    {
        value = Text(value);
        if (value is null || allowed.Contains(value))
        {
            return value;
        }

        errors[name] = [$"One of: {string.Join(", ", allowed)}."];
        return null;
    }

    /// <summary><paramref name="value"/> when an index can match it (<see cref="IndexableText"/>); otherwise an error under <paramref name="name"/>.</summary>
    public static string? Indexable(string? value, string name, Dictionary<string, string[]> errors)
    {
        value = Text(value);
        if (value is null || IndexableText.CanMatch(value))
        {
            return value;
        }

        errors[name] = [$"At most {IndexableText.MaxLength} characters, with no NUL."];
        return null;
    }

    /// <summary>An ISO 8601 time (UTC when it names no offset); anything else is an error under <paramref name="name"/>.</summary>
    public static DateTimeOffset? Time(string? value, string name, Dictionary<string, string[]> errors)
    {
        value = Text(value);
        if (value is null)
        {
            return null;
        }

        if (DateTimeOffset.TryParse(value, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var time))
        {
            return time;
        }

        errors[name] = ["An ISO 8601 date and time, such as 2026-01-31T12:00:00Z."];
        return null;
    }

    /// <summary>
    /// Query values are bound as text and parsed here, so a value that does not parse is a 400 problem naming the parameter
    /// as the API spells it, in every environment, instead of a framework binding failure (a bare 400, or an exception).
    /// </summary>
    public static T? ParseOrNull<T>(string? value, string name, string expected, Dictionary<string, string[]> errors)
        where T : struct, ISpanParsable<T>
    {
        if (value is null)
        {
            return null;
        }

        if (T.TryParse(value, CultureInfo.InvariantCulture, out var parsed))
        {
            return parsed;
        }

        errors[name] = [expected];
        return null;
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

    // A misspelt filter would otherwise be ignored and return everything: every query parameter must be one the endpoint reads.
    public static EndpointFilterDelegate RefuseUnknown(EndpointFilterFactoryContext context, EndpointFilterDelegate next)
    {
        var known = context.MethodInfo.GetParameters()
            .SelectMany(p => p.GetCustomAttribute<AsParametersAttribute>() is null
                ? [p.GetCustomAttribute<FromQueryAttribute>()?.Name]
                : p.ParameterType.GetProperties().Select(property => property.GetCustomAttribute<FromQueryAttribute>()?.Name))
            .OfType<string>()
            .ToHashSet(StringComparer.OrdinalIgnoreCase); // as the framework binds them
        return invocation =>
        {
            var unknown = invocation.HttpContext.Request.Query.Keys.Where(k => !known.Contains(k)).ToList();
            return unknown.Count == 0
                ? next(invocation)
                : ValueTask.FromResult<object?>(TypedResults.ValidationProblem(unknown.ToDictionary(
                    k => k,
                    _ => new[] { known.Count == 0 ? "This endpoint takes no query parameters." : $"Not a parameter of this endpoint; it reads: {string.Join(", ", known.Order())}." })));
        };
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

    /// <summary>The store's query; a time that does not parse is added to <paramref name="errors"/> under its query name.</summary>
    public WebhookQuery ToQuery(Dictionary<string, string[]> errors) => new()
    {
        Status = Status,
        AssistantId = AssistantId,
        GraphId = GraphId,
        ThreadId = ThreadId,
        Deployment = Deployment,
        Verification = Verification,
        Source = ParseSource(Source, errors),
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
