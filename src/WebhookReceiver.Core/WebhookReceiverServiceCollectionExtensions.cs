using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using Serilog;
using WebhookReceiver.Configuration;
using WebhookReceiver.Dispatch;
using WebhookReceiver.Handlers;
using WebhookReceiver.Inbox;
using WebhookReceiver.Ingress;
using WebhookReceiver.Operations;
using WebhookReceiver.Security;

namespace Microsoft.Extensions.DependencyInjection;

public static class WebhookReceiverServiceCollectionExtensions
{
    /// <summary>
    /// Adds the receiver: options from the <c>WebhookReceiver</c> section (validated at start-up), the inbox, the ingest
    /// queue, the dispatcher, and the built-in handlers (switched on in configuration). Calling it again adds nothing.
    /// Chain <c>.AddHandler&lt;T&gt;(name, filter)</c> for your own handlers.
    /// </summary>
    public static WebhookReceiverBuilder AddWebhookReceiver(this IServiceCollection services, IConfiguration configuration)
    {
        var builder = new WebhookReceiverBuilder(services);
        if (services.Any(d => d.ServiceType == typeof(WebhookReceiverMarker)))
        {
            return builder;
        }

        services.AddSingleton<WebhookReceiverMarker>();
        services.AddOptions<WebhookReceiverOptions>().Bind(configuration.GetSection(WebhookReceiverOptions.Section)).ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<WebhookReceiverOptions>, WebhookReceiverOptionsAnnotationsValidator>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<WebhookReceiverOptions>, WebhookReceiverOptionsValidator>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<WebhookReceiverOptions>, PostgresStorageOptionsValidator>());
        services.AddOptions<HostOptions>().Configure<IOptions<WebhookReceiverOptions>>((host, receiver) =>
            host.ShutdownTimeout = receiver.Value.Dispatch.ShutdownGrace + TimeSpan.FromSeconds(10));

        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<SecretRedactor>();
        services.TryAddSingleton<WebhookTokens>();
        services.TryAddSingleton<MissingRunIdWarning>();
        services.TryAddSingleton<AdminKeys>();
        services.TryAddSingleton<HandlerCatalog>();
        services.TryAddSingleton<DispatchSignal>();
        services.TryAddSingleton(StorageProviders.CreateInbox);
        services.TryAddSingleton<InboxWriter>();
        services.AddMetrics();
        services.TryAddSingleton<ReceiverMetrics>();

        // Hosted services start in this order: the schema first, then the writer, then the dispatcher.
        services.AddHostedService<InboxMigrator>();
        services.AddHostedService(sp => sp.GetRequiredService<InboxWriter>());
        services.AddHostedService<Dispatcher>();
        services.AddHostedService<RetentionService>();

        services.AddIngressLimits();
        services.AddProblemDetails(problems => problems.CustomizeProblemDetails = context =>
        {
            // Binding errors say which parameter was wrong; other exceptions stay opaque.
            if (context.Exception is BadHttpRequestException bad)
            {
                context.ProblemDetails.Detail = bad.Message;
            }
        });
        services.ConfigureHttpJsonOptions(json => json.SerializerOptions.PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower);
        services.AddHealthChecks().AddCheck<InboxHealthCheck>("inbox", tags: [InboxHealthCheck.ReadyTag]);
        services.AddHttpClient(ForwardHandler.HttpClientName, client => client.Timeout = Timeout.InfiniteTimeSpan);
        return builder;
    }

    /// <summary>Serilog for every log, configured from the <c>Serilog</c> section, with secrets scrubbed from every event.</summary>
    public static IServiceCollection AddWebhookReceiverSerilog(this IServiceCollection services, IConfiguration configuration) =>
        services.AddSerilog((provider, logger) => logger
            .ReadFrom.Configuration(configuration)
            .ReadFrom.Services(provider)
            .Enrich.With(new SecretScrubbingEnricher(provider.GetRequiredService<SecretRedactor>())));

    private sealed class WebhookReceiverMarker;
}
