using Serilog;
using Serilog.Events;
using WebhookReceiver.Kernel;
using WebhookReceiver.Webhooks;

namespace WebhookReceiver.Observability;

/// <summary>The service's logging: Serilog for every log, configured from the <c>Serilog</c> section, with secrets scrubbed from every event.</summary>
internal static class LoggingExtensions
{
    public static IServiceCollection AddScrubbedSerilog(this IServiceCollection services, IConfiguration configuration) =>
        services.AddSerilog((provider, logger) => logger
            .ReadFrom.Configuration(configuration)
            .ReadFrom.Services(provider)
            .Enrich.With(new SecretScrubbingEnricher(provider.GetRequiredService<SecretRedactor>())));

    /// <summary>
    /// Serilog's request log: one event per request, at Information (Error for a 5xx or an exception), except a webhook
    /// acknowledged with a 2xx, which is logged at Debug. Formatting and writing that event was ~10% of the CPU of a
    /// flood of webhooks (issue #26), and says nothing the rest does not: the log handler writes a line for every stored
    /// webhook, the metrics count the answers, and every refused or failed webhook is still logged at Information or above.
    /// </summary>
    public static IApplicationBuilder UseRequestLog(this IApplicationBuilder app) =>
        app.UseSerilogRequestLogging(options => options.GetLevel = RequestLevel);

    internal static LogEventLevel RequestLevel(HttpContext context, double elapsedMilliseconds, Exception? exception) =>
        exception is not null || context.Response.StatusCode >= StatusCodes.Status500InternalServerError ? LogEventLevel.Error
        : context.Response.StatusCode is >= 200 and < 300
            && context.GetEndpoint()?.Metadata.GetMetadata<IEndpointNameMetadata>()?.EndpointName == WebhookEndpoint.Name ? LogEventLevel.Debug
        : LogEventLevel.Information;
}
