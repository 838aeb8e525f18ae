using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using WebhookReceiver;
using WebhookReceiver.Access;
using WebhookReceiver.Alerts;
using WebhookReceiver.Audit;
using WebhookReceiver.Interrupts;
using WebhookReceiver.Kernel;
using WebhookReceiver.LangGraph;
using WebhookReceiver.Webhooks;

namespace Microsoft.Extensions.DependencyInjection;

public static class WebhookReceiverServiceCollectionExtensions
{
    /// <summary>
    /// Adds the receiver: options from the <c>WebhookReceiver</c> section (validated at start-up), the inbox, the ingest
    /// queue, the dispatcher, and the built-in handlers (switched on in configuration). Calling it again adds nothing.
    /// Chain <c>.AddHandler&lt;T&gt;(name, filter)</c> for your own handlers. Of what the host owns it touches only: a health
    /// check (<see cref="InboxHealthCheck.Name"/>, tag <c>ready</c>; the host maps routes), the meter <c>WebhookReceiver</c>,
    /// the rate limiter's policy for its route, and the shutdown
    /// timeout (raised to <c>Dispatch:ShutdownGrace</c> + 10 s when shorter, never lowered).
    /// </summary>
    public static WebhookReceiverBuilder AddWebhookReceiver(this IServiceCollection services, IConfiguration configuration)
    {
        var builder = new WebhookReceiverBuilder(services);
        if (services.Any(d => d.ServiceType == typeof(WebhookReceiverMarker)))
        {
            return builder;
        }

        services.AddSingleton<WebhookReceiverMarker>();
        // One call per module, lowest first (docs/architecture.md): each binds its own section, checked at start-up.
        services.AddKernel(configuration);
        services.AddStorage(configuration);
        services.AddAccess(configuration);
        services.AddAudit(configuration);
        services.AddWebhooks(configuration);
        services.AddLangGraphCallback(configuration);
        services.AddInterrupts();
        services.AddAlerts(configuration);

        // Where the sections meet: every section's secrets and every accepted token; the operators' keys, read by access.
        services.AddOptions<OperatorKeyOptions>().Configure<IOptions<WebhookReceiverOptions>>((keys, root) =>
            (keys.AdminKeys, keys.Operators) = (root.Value.AdminKeys, root.Value.Operators));
        services.AddValidator<WebhookReceiverOptions, ProductionSecretsValidator>();
        services.TryAddSingleton(sp => new SecretRedactor(ConfiguredSecrets.All(sp)));
        services.TryAddSingleton(sp => new WebhookTokens(ConfiguredSecrets.WebhookTokens(sp), sp.GetRequiredService<IOptions<WebhookReceiverOptions>>().Value.TokenHeader));
        // The receiver's own types in snake_case; the host's naming policy stays the host's.
        services.PostConfigure<Microsoft.AspNetCore.Http.Json.JsonOptions>(json => json.SerializerOptions.TypeInfoResolverChain.Insert(0, new ReceiverJsonNames()));
        services.AddHostedService<StartupReport>();
        return builder;
    }

    private sealed class WebhookReceiverMarker;
}
