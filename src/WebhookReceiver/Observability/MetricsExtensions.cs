using Microsoft.Extensions.Options;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using WebhookReceiver.Kernel;
using WebhookReceiver.Webhooks;

namespace WebhookReceiver.Observability;

/// <summary>
/// The service's OpenTelemetry: the receiver's meter (<see cref="ReceiverMetrics.MeterName"/>) plus ASP.NET Core and
/// runtime metrics, scraped by Prometheus at <c>WebhookReceiver:Metrics:Path</c> and pushed over OTLP when an endpoint is
/// configured. The library itself only emits the meter; an app adopting it adds <c>.AddMeter("WebhookReceiver")</c> to
/// its own meter provider.
/// </summary>
internal static class MetricsExtensions
{
    public static IServiceCollection AddMetricsExport(this IServiceCollection services, IConfiguration configuration)
    {
        // Read now because it decides which exporters exist; the same values are validated with the rest at start-up.
        var settings = configuration.GetSection(MetricsOptions.Section).Get<MetricsOptions>() ?? new MetricsOptions();
        var otlpEndpoint = settings.OtlpEndpoint is { Length: > 0 } configured ? configured : configuration["OTEL_EXPORTER_OTLP_ENDPOINT"];

        services.AddOpenTelemetry()
            .ConfigureResource(resource => resource.AddService(configuration["OTEL_SERVICE_NAME"] ?? "webhook-receiver"))
            .WithMetrics(metrics =>
            {
                metrics.AddMeter(ReceiverMetrics.MeterName).AddAspNetCoreInstrumentation().AddRuntimeInstrumentation();
                if (settings.Enabled)
                {
                    metrics.AddPrometheusExporter();
                }

                if (!string.IsNullOrEmpty(otlpEndpoint))
                {
                    // Endpoint, protocol, headers and interval otherwise come from the standard OTEL_EXPORTER_OTLP_* variables.
                    metrics.AddOtlpExporter(otlp =>
                    {
                        if (settings.OtlpEndpoint is { Length: > 0 } endpoint)
                        {
                            otlp.Endpoint = new Uri(endpoint);
                        }
                    });
                }
            });
        return services;
    }

    /// <summary>Maps the Prometheus scrape endpoint, unless <c>WebhookReceiver:Metrics:Enabled</c> is false; behind the admin key when <c>RequireAdminKey</c>.</summary>
    public static IEndpointRouteBuilder MapMetricsScrape(this IEndpointRouteBuilder endpoints)
    {
        var settings = endpoints.ServiceProvider.GetRequiredService<IOptions<MetricsOptions>>().Value;
        if (settings.Enabled)
        {
            endpoints.MapPrometheusScrapingEndpoint(settings.Path, meterProvider: null,
                configureBranchedPipeline: settings.RequireAdminKey ? branch => branch.UseWebhookReceiverAdminKey() : null, optionsName: null);
        }

        return endpoints;
    }
}
