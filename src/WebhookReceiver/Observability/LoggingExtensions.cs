using Serilog;
using WebhookReceiver.Security;

namespace WebhookReceiver.Observability;

/// <summary>The service's logging: Serilog for every log, configured from the <c>Serilog</c> section, with secrets scrubbed from every event.</summary>
internal static class LoggingExtensions
{
    public static IServiceCollection AddScrubbedSerilog(this IServiceCollection services, IConfiguration configuration) =>
        services.AddSerilog((provider, logger) => logger
            .ReadFrom.Configuration(configuration)
            .ReadFrom.Services(provider)
            .Enrich.With(new SecretScrubbingEnricher(provider.GetRequiredService<SecretRedactor>())));
}
