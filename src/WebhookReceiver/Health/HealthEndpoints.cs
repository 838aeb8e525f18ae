using System.Net.Mime;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using WebhookReceiver.Kernel;

namespace WebhookReceiver.Health;

/// <summary>The service's health routes: <c>/health/live</c> and <c>/health/ready</c> (the receiver's inbox check, by its ready tag).</summary>
internal static class HealthEndpoints
{
    public static IEndpointRouteBuilder MapHealth(this IEndpointRouteBuilder endpoints)
    {
        var health = endpoints.MapGroup("/health").WithTags("Health").WithGroupName(WebhookReceiverOpenApiExtensions.DocumentName);
        health.MapHealthChecks("/live", new HealthCheckOptions { Predicate = _ => false, ResponseWriter = WriteHealthAsync })
            .WithSummary("Liveness: the process answers")
            .WithDescription("200 while the process runs; for a container's liveness probe. Needs no key.");
        health.MapHealthChecks("/ready", new HealthCheckOptions
            {
                Predicate = check => check.Tags.Contains(InboxHealthCheck.ReadyTag),
                ResponseWriter = WriteHealthAsync,
            })
            .WithSummary("Readiness: the inbox can be written")
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
