using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace WebhookReceiver.Webhooks;

/// <summary>
/// Where a stored webhook can be read: the query API names the route, ingest and replay answer 202 with a Location to it.
/// The name sits here, below both, so that ingest does not reach up into the query API for it.
/// </summary>
internal static class WebhookLocation
{
    /// <summary>The route name (also the OpenAPI operation id) of one webhook in the query API.</summary>
    public const string RouteName = "GetWebhook";

    /// <summary>The path (with the host's path base) of one webhook in the query API, for a 202's Location.</summary>
    public static string? Path(HttpContext context, long id) =>
        context.RequestServices.GetRequiredService<LinkGenerator>().GetPathByName(context, RouteName, new { id });
}
