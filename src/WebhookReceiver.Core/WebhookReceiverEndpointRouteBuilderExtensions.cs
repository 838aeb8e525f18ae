using System.Net.Mime;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using WebhookReceiver.Ingress;
using WebhookReceiver.Operations;
using WebhookReceiver.QueryApi;

namespace Microsoft.AspNetCore.Builder;

public static class WebhookReceiverEndpointRouteBuilderExtensions
{
    /// <summary>
    /// The receiver's middleware, early in the pipeline: every error as problem details (a request the framework cannot
    /// bind is the client's error, 400, not a 500), client addresses from trusted proxies only, and the per-client rate
    /// limit of the webhook route.
    /// </summary>
    public static IApplicationBuilder UseWebhookReceiver(this IApplicationBuilder app) => app
        .UseExceptionHandler(new ExceptionHandlerOptions
        {
            StatusCodeSelector = exception => exception is BadHttpRequestException bad ? bad.StatusCode : StatusCodes.Status500InternalServerError,
        })
        .UseStatusCodePages()
        .UseForwardedHeaders()
        .UseRateLimiter();

    /// <summary>Maps the webhook endpoint, the query API under <c>/api</c>, and <c>/health/live</c> and <c>/health/ready</c>.</summary>
    public static IEndpointRouteBuilder MapWebhookReceiver(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapWebhookEndpoint();
        endpoints.MapQueryApi();
        endpoints.MapHealthChecks("/health/live", new HealthCheckOptions { Predicate = _ => false, ResponseWriter = WriteHealthAsync })
            .WithTags("Health").WithSummary("Liveness: the process answers")
            .WithDescription("200 while the process runs; for a container's liveness probe. Needs no key.");
        endpoints.MapHealthChecks("/health/ready", new HealthCheckOptions
            {
                Predicate = check => check.Tags.Contains(InboxHealthCheck.ReadyTag),
                ResponseWriter = WriteHealthAsync,
            })
            .WithTags("Health").WithSummary("Readiness: the inbox can be written")
            .WithDescription("200 when a webhook arriving now would be stored; 503 problem details when the store cannot be written. Needs no key.");
        return endpoints;
    }

    // Healthy answers are a small JSON document; unhealthy ones are problem details like every other error.
    private static Task WriteHealthAsync(HttpContext context, HealthReport report)
    {
        if (report.Status == HealthStatus.Healthy)
        {
            context.Response.ContentType = MediaTypeNames.Application.Json;
            return context.Response.WriteAsJsonAsync(new { status = report.Status.ToString() });
        }

        var problems = context.RequestServices.GetRequiredService<IProblemDetailsService>();
        return problems.WriteAsync(new ProblemDetailsContext
        {
            HttpContext = context,
            ProblemDetails =
            {
                Status = context.Response.StatusCode,
                Title = "Not ready",
                Detail = string.Join(" ", report.Entries.Values.Select(e => e.Description).Where(d => d is not null)),
            },
        }).AsTask();
    }
}
