using Microsoft.AspNetCore.Routing;
using WebhookReceiver.Console;

namespace Microsoft.AspNetCore.Builder;

/// <summary>Maps the operator console, whose services <c>AddWebhookReceiverConsole</c> added.</summary>
public static class WebhookReceiverConsoleEndpointRouteBuilderExtensions
{
    /// <summary>
    /// Maps the operator console under <c>WebhookReceiver:Console:Path</c> (default <c>/console</c>, below the request's path
    /// base): sign-in with an operator key (a cookie session), overview, webhooks, dead letters, interrupts, sweep, handlers,
    /// alerts and audit pages, each action a command checked against the caller's role. It needs the host's authentication and
    /// authorization middleware, which <c>WebApplication</c> adds by itself; it adds no middleware and is left out of the
    /// OpenAPI document. Throws <see cref="InvalidOperationException"/> when <c>AddWebhookReceiverConsole</c> was not called.
    /// </summary>
    public static IEndpointRouteBuilder MapWebhookReceiverConsole(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapConsole();
        return endpoints;
    }
}
