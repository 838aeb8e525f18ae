using Microsoft.Extensions.Options;
using OpenTelemetry.Trace;
using WebhookReceiver.Kernel;
using WebhookReceiver.Webhooks;

namespace WebhookReceiver.Observability;

/// <summary>
/// The service's traces: the receiver's spans (<see cref="ReceiverTracing.SourceName"/>), the ASP.NET Core server spans
/// (the receive span of each webhook) and the HttpClient spans (forward targets, LangGraph), exported over OTLP when the
/// standard <c>OTEL_EXPORTER_OTLP_ENDPOINT</c> (or <c>OTEL_EXPORTER_OTLP_TRACES_ENDPOINT</c>) is set; protocol, headers,
/// batching and sampling come from the other standard <c>OTEL_*</c> variables, the resource (<c>OTEL_SERVICE_NAME</c>,
/// <c>OTEL_RESOURCE_ATTRIBUTES</c>) from the builder <see cref="MetricsExtensions"/> configures for every signal. Without
/// an endpoint no tracer provider exists: nothing listens to the receiver's source, and it does no tracing work at all.
/// </summary>
internal static class TracingExtensions
{
    public static IServiceCollection AddTracingExport(this IServiceCollection services, IConfiguration configuration)
    {
        if (string.IsNullOrEmpty(configuration["OTEL_EXPORTER_OTLP_ENDPOINT"]) && string.IsNullOrEmpty(configuration["OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"]))
        {
            return services;
        }

        services.AddOpenTelemetry().WithTracing(tracing => tracing
            .AddSource(ReceiverTracing.SourceName)
            // Probes and scrapes every few seconds would bury the webhooks; their query strings are redacted by the
            // instrumentation (url.query), as HttpClient's are by .NET (url.full), and exceptions are not recorded.
            .AddAspNetCoreInstrumentation()
            .AddHttpClientInstrumentation()
            .AddOtlpExporter());
        services.AddOptions<OpenTelemetry.Instrumentation.AspNetCore.AspNetCoreTraceInstrumentationOptions>()
            .Configure<IOptions<MetricsOptions>>((aspNetCore, metrics) =>
                aspNetCore.Filter = http => !http.Request.Path.StartsWithSegments("/health") && !http.Request.Path.StartsWithSegments(metrics.Value.Path));
        return services;
    }
}
