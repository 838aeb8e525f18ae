using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using WebhookReceiver.Access;
using WebhookReceiver.Alerts;
using WebhookReceiver.Audit;
using WebhookReceiver.Interrupts;
using WebhookReceiver.Kernel;
using WebhookReceiver.LangGraph;
using WebhookReceiver.Webhooks;

namespace Microsoft.AspNetCore.Builder;

public static class WebhookReceiverEndpointRouteBuilderExtensions
{
    /// <summary>
    /// What the receiver's endpoints need in the pipeline, and nothing else: ASP.NET's rate limiter, for the per-client
    /// limit of the webhook route (other endpoints are not limited unless the host says so). An app that already calls
    /// <c>UseRateLimiter()</c> needs not call this. Error pages, forwarded headers and logging stay the host's.
    /// </summary>
    public static IApplicationBuilder UseWebhookReceiver(this IApplicationBuilder app) => app.UseRateLimiter();

    /// <summary>
    /// Maps the webhook endpoint (<c>WebhookReceiver:Path</c>) and the query API under <c>/api</c> (with
    /// <c>POST /api/langgraph/sweep</c> and <c>/api/alerts</c>), all in the OpenAPI
    /// group <see cref="WebhookReceiverOpenApiExtensions.DocumentName"/>. Health routes are the host's: the receiver
    /// registers its check (tag <see cref="InboxHealthCheck.ReadyTag"/>) with <c>AddHealthChecks()</c>.
    /// </summary>
    public static IEndpointRouteBuilder MapWebhookReceiver(this IEndpointRouteBuilder endpoints)
    {
        var receiver = endpoints.MapGroup(string.Empty).WithGroupName(WebhookReceiverOpenApiExtensions.DocumentName);
        receiver.MapWebhookEndpoint();
        // Each module maps its endpoints on the one /api group, under its policies.
        var api = receiver.MapQueryApi();
        api.MapInterrupts();
        api.MapSweepEndpoint();
        api.MapAuditEndpoint();
        api.MapAlerts();
        return endpoints;
    }

    /// <summary>
    /// Every request that reaches this point of the pipeline needs an operator's key in <c>X-Api-Key</c> (of any role: one of
    /// <c>WebhookReceiver:Operators</c> or <c>WebhookReceiver:AdminKeys</c>); without one it is answered 401 problem details.
    /// It says which header to send (<c>WWW-Authenticate: X-Api-Key</c>), never why a key was refused.
    /// For a branch that guards the host's diagnostics (OpenAPI document, Swagger UI, metrics scrape) as the query API is guarded.
    /// </summary>
    public static IApplicationBuilder UseWebhookReceiverAdminKey(this IApplicationBuilder app) => app.Use(async (context, next) =>
    {
        if (context.Request.Headers.TryGetValue(ApiKeyAuthenticationHandler.Header, out var key) && key.Count == 1
            && context.RequestServices.GetRequiredService<OperatorDirectory>().Authenticate(key[0]) is not null)
        {
            await next(context);
            return;
        }

        await ApiKeyAuthenticationHandler.ChallengeAsync(context);
    });
}
