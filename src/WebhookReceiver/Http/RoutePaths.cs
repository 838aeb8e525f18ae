using Microsoft.Extensions.Options;
using WebhookReceiver.ApiDocs;
using WebhookReceiver.Console;
using WebhookReceiver.Kernel;
using WebhookReceiver.Webhooks;

namespace WebhookReceiver.Http;

/// <summary>
/// The paths the service answers on, each with the setting (or the fixed route) it comes from. Two that are equal, or one
/// inside the other (<c>/api</c> and <c>/api/x</c>), would make requests match the wrong endpoint or two at once (a 500 for
/// every query API call with <c>Console:Path=/api</c>), so the start-up refuses them with one line naming both.
/// </summary>
internal static class RoutePaths
{
    /// <summary>Throws <see cref="OptionsValidationException"/> naming both settings when two mapped paths collide.</summary>
    public static void RefuseCollisions(IServiceProvider services)
    {
        var docs = services.GetRequiredService<IOptionsMonitor<ApiDocsOptions>>();
        var metrics = services.GetRequiredService<IOptions<MetricsOptions>>().Value;
        List<(string Name, string Path)> paths =
        [
            ("WebhookReceiver:Path (WebhookReceiver__Path)", services.GetRequiredService<IOptions<WebhookReceiverOptions>>().Value.Path),
            ("the query API", "/api"),
            ("WebhookReceiver:Console:Path (WebhookReceiver__Console__Path)", services.GetRequiredService<IOptions<ConsoleOptions>>().Value.Path),
            ("the health checks", "/health"),
        ];
        if (metrics.Enabled)
        {
            paths.Add(("WebhookReceiver:Metrics:Path (WebhookReceiver__Metrics__Path)", metrics.Path));
        }

        if (docs.Get("OpenApi").Enabled)
        {
            paths.Add(("the OpenAPI document", "/openapi"));
            if (docs.Get("SwaggerUi").Enabled)
            {
                paths.Add(("Swagger UI", ApiDocsExtensions.SwaggerUiPath));
            }
        }

        var collisions = paths.SelectMany((a, i) => paths.Skip(i + 1).Where(b => Within(a.Path, b.Path) || Within(b.Path, a.Path))
                .Select(b => $"{a.Name} '{a.Path}' and {b.Name} '{b.Path}' collide (one is the other or inside it): give each a path of its own."))
            .ToList();
        if (collisions.Count > 0)
        {
            throw new OptionsValidationException("paths", typeof(RoutePaths), collisions);
        }
    }

    // Segment-wise and case-insensitive, as routing matches: /api holds /api/x and /API, not /apix.
    private static bool Within(string inner, string outer) => new PathString(inner.TrimEnd('/')).StartsWithSegments(outer.TrimEnd('/'), StringComparison.OrdinalIgnoreCase);
}
