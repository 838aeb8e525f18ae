using System.Diagnostics;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.DependencyInjection;

namespace WebhookReceiver.Webhooks;

/// <summary>
/// The webhook endpoint's filter that turns each answer into its ingest outcome: counted in the metrics with its latency,
/// and set on the request's server span (the webhook's receive span).
/// </summary>
internal static class IngestOutcomeFilter
{
    // Every answer counted once, by outcome, with its latency: kept out of the endpoint's own logic.
    public static async ValueTask<object?> RecordAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        var metrics = context.HttpContext.RequestServices.GetRequiredService<ReceiverMetrics>();
        var started = metrics.StartIngest();
        var answer = await next(context);
        var result = answer is INestedHttpResult nested ? nested.Result : answer;
        var outcome = Outcome(result);
        metrics.WebhookReceived(outcome, started);
        // The HTTP server span of this request is the webhook's receive span (its trace context is stored with it).
        ReceiverTracing.Received(Activity.Current, outcome, (result as IValueHttpResult)?.Value is IngestResponse stored ? stored.Id : null);
        return answer;
    }

    private static string Outcome(object? answer) => answer switch
    {
        Accepted<IngestResponse> { Value.RunId: null } => IngestOutcome.AcceptedWithoutRunId,
        Accepted<IngestResponse> => IngestOutcome.Accepted,
        Ok<IngestResponse> => IngestOutcome.Duplicate,
        ProblemHttpResult { StatusCode: StatusCodes.Status401Unauthorized } => IngestOutcome.Unauthorized,
        ProblemHttpResult { StatusCode: StatusCodes.Status413PayloadTooLarge } => IngestOutcome.TooLarge,
        ProblemHttpResult { StatusCode: StatusCodes.Status503ServiceUnavailable } => IngestOutcome.StoreUnavailable,
        _ => IngestOutcome.Invalid,
    };
}
