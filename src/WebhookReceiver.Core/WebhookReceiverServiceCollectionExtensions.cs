using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using WebhookReceiver;
using WebhookReceiver.Access;
using WebhookReceiver.Audit;
using WebhookReceiver.Webhooks;
using WebhookReceiver.Interrupts;
using WebhookReceiver.LangGraph;
using WebhookReceiver.Alerts;
using WebhookReceiver.Kernel;
using WebhookReceiver.Console;
using WebhookReceiver.Inbox;

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
        // Each section binds to the options beside its feature; each is checked at start-up, naming the bad setting.
        services.AddSection<WebhookReceiverOptions, WebhookReceiverOptionsAnnotations>(configuration, WebhookReceiverOptions.Section)
            .AddValidator<WebhookReceiverOptions, WebhookReceiverOptionsValidator>()
            .AddValidator<WebhookReceiverOptions, ProductionSecretsValidator>()
            .AddValidator<WebhookReceiverOptions, OperatorsValidator>();
        services.AddSection<StorageOptions, StorageOptionsAnnotations>(configuration, StorageOptions.Section)
            .AddValidator<StorageOptions, PostgresStorageOptionsValidator>();
        services.AddSection<RetentionOptions, RetentionOptionsAnnotations>(configuration, RetentionOptions.Section);
        services.AddSection<IngestOptions, IngestOptionsAnnotations>(configuration, IngestOptions.Section);
        services.AddSection<AbuseLimitOptions, AbuseLimitOptionsAnnotations>(configuration, AbuseLimitOptions.Section)
            .AddValidator<AbuseLimitOptions, TrustedProxiesValidator>();
        services.AddSection<DispatchOptions, DispatchOptionsAnnotations>(configuration, DispatchOptions.Section);
        services.AddSection<BuiltInHandlerOptions, BuiltInHandlerOptionsAnnotations>(configuration, BuiltInHandlerOptions.Section)
            .AddValidator<BuiltInHandlerOptions, ForwardTargetsValidator>();
        services.AddSection<MetricsOptions, MetricsOptionsAnnotations>(configuration, MetricsOptions.Section);
        services.AddSection<LangGraphOptions, LangGraphOptionsAnnotations>(configuration, LangGraphOptions.Section)
            .AddValidator<LangGraphOptions, LangGraphOptionsValidator>()
            .AddValidator<LangGraphOptions, SweepLookbackValidator>();
        services.AddSection<AlertOptions, AlertOptionsAnnotations>(configuration, AlertOptions.Section)
            .AddValidator<AlertOptions, AlertWebhookValidator>();
        // Raised so the dispatcher's grace fits in the host's shutdown; never lowered below what the host chose.
        services.AddOptions<HostOptions>().PostConfigure<IOptions<DispatchOptions>>((host, dispatch) =>
        {
            var needed = dispatch.Value.ShutdownGrace + TimeSpan.FromSeconds(10);
            if (host.ShutdownTimeout < needed)
            {
                host.ShutdownTimeout = needed;
            }
        });

        services.TryAddSingleton(TimeProvider.System);
        // Security sees every section's secrets and every accepted token here, where the sections meet.
        services.TryAddSingleton(sp => new SecretRedactor(ConfiguredSecrets.All(sp)));
        services.TryAddSingleton(sp => new WebhookTokens(ConfiguredSecrets.WebhookTokens(sp), sp.GetRequiredService<IOptions<WebhookReceiverOptions>>().Value.TokenHeader));
        services.TryAddSingleton(sp => new DeploymentAttribution(sp.GetRequiredService<IOptions<LangGraphOptions>>().Value.Deployments));
        services.TryAddSingleton<RunVerifier>();
        services.TryAddSingleton<MissingRunIdWarning>();
        services.TryAddSingleton<AdminKeys>();
        services.AddReceiverAccess();
        services.TryAddSingleton<HandlerCatalog>();
        services.TryAddSingleton<DispatchSignal>();
        services.TryAddSingleton<HandlerInvoker>();
        services.TryAddSingleton<OutcomeRecorder>();
        services.TryAddSingleton(StorageProviders.CreateInbox);
        // Each consumer depends on the part of the inbox it uses; all are the one store above.
        services.TryAddSingleton<IInboxIngest>(sp => sp.GetRequiredService<IWebhookInbox>());
        services.TryAddSingleton<IInboxDeliveries>(sp => sp.GetRequiredService<IWebhookInbox>());
        services.TryAddSingleton<IInboxQueries>(sp => sp.GetRequiredService<IWebhookInbox>());
        services.TryAddSingleton<IInboxMaintenance>(sp => sp.GetRequiredService<IWebhookInbox>());
        services.TryAddSingleton(sp => sp.GetRequiredService<IWebhookInbox>() as IInboxSweeps
            ?? throw new InvalidOperationException("The LangGraph sweep needs an inbox that keeps sweep progress (the SQLite or PostgreSQL inbox)."));
        // Like run verifications, interrupts are a part of the SQL engines' inbox that other inboxes need not offer.
        services.TryAddSingleton(sp => sp.GetRequiredService<IWebhookInbox>() as IInboxInterrupts
            ?? throw new InvalidOperationException("Human in the loop needs an inbox that stores interrupts (the SQLite or PostgreSQL inbox)."));
        // Human in the loop: a success run's thread is checked for a pause (a delivery of its own, on while a deployment is configured).
        services.TryAddSingleton<PublicWebhookUrl>();
        services.TryAddSingleton<InterruptLinks>();
        services.TryAddSingleton<InterruptRecorder>();
        services.TryAddSingleton<InterruptResumer>();
        services.TryAddSingleton<InterruptDetector>();
        services.AddSingleton(InterruptDetector.Registration);
        services.TryAddSingleton<InboxWriter>();
        services.AddMetrics();
        services.TryAddSingleton<ReceiverMetrics>();
        services.TryAddSingleton<SweptWebhooks>();
        services.TryAddSingleton<RunSweeper>();

        // Hosted services start in this order: the schema first, then the writer, then the dispatcher.
        services.AddHostedService<InboxMigrator>();
        services.AddHostedService(sp => sp.GetRequiredService<InboxWriter>());
        services.AddHostedService<Dispatcher>();
        services.AddHostedService<RetentionService>();
        services.AddHostedService<SqliteCheckpointer>();
        services.AddHostedService<SweepService>();

        services.AddIngressLimits();
        // The receiver's own types in snake_case; the host's naming policy stays the host's.
        services.PostConfigure<Microsoft.AspNetCore.Http.Json.JsonOptions>(json => json.SerializerOptions.TypeInfoResolverChain.Insert(0, new ReceiverJsonNames()));
        // A check only: the host maps its health routes and picks checks by the ready tag.
        services.AddHealthChecks().Add(new HealthCheckRegistration(InboxHealthCheck.Name,
            sp => new InboxHealthCheck(sp.GetRequiredService<IInboxMaintenance>()), failureStatus: null, tags: [InboxHealthCheck.ReadyTag]));
        services.AddHostedService<StartupReport>();
        services.AddHttpClient(ForwardHandler.HttpClientName, client => client.Timeout = Timeout.InfiniteTimeSpan);
        services.AddLangGraphClients();
        // Issue #24: who may do what (Access), the commands the API and the console call, and the audit trail they write.
        services.AddSection<AccessOptions, AccessOptionsAnnotations>(configuration, AccessOptions.Section);
        services.AddSection<AuditOptions, AuditOptionsAnnotations>(configuration, AuditOptions.Section);
        services.TryAddSingleton(sp => sp.GetRequiredService<IWebhookInbox>() as IAuditLog
            ?? throw new InvalidOperationException("The audit trail needs an inbox that stores it (the SQLite or PostgreSQL inbox)."));
        services.AddHostedService<AuditRetentionService>();
        services.TryAddScoped<PayloadVisibility>();
        services.TryAddScoped<CommandGate>();
        services.TryAddScoped<ReplayWebhookCommand>();
        services.TryAddScoped<ReplayInterruptCommand>();
        services.TryAddScoped<ReplayDeadLettersCommand>();
        services.TryAddScoped<ResumeInterruptCommand>();
        services.TryAddScoped<SweepCommand>();
        services.AddSection<ConsoleOptions, ConsoleOptionsAnnotations>(configuration, ConsoleOptions.Section);
        services.AddReceiverConsole();
        services.TryAddScoped<AcknowledgeAlertCommand>();
        // Alerts: raised from the sweep's outcome (an observer), the dead letters, waiting interrupts and the store (the evaluator).
        services.TryAddSingleton(sp => sp.GetRequiredService<IWebhookInbox>() as IInboxAlerts
            ?? throw new InvalidOperationException("Alerts need an inbox that stores them (the SQLite or PostgreSQL inbox)."));
        services.TryAddSingleton<AlertNotifier>();
        services.TryAddSingleton<AlertRecorder>();
        services.TryAddSingleton<AlertEvaluator>();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<ISweepObserver, SweepAlerts>());
        services.AddHostedService(sp => sp.GetRequiredService<AlertNotifier>());
        services.AddHostedService(sp => sp.GetRequiredService<AlertEvaluator>());
        services.AddHttpClient(AlertNotifier.HttpClientName, client => client.Timeout = Timeout.InfiniteTimeSpan);
        return builder;
    }

    // One section bound to its options and checked when the host starts: a value the binder cannot convert is one line naming
    // the key (not the binder's stack trace), then its data annotations; the start-up report warns of keys nothing binds.
    private static IServiceCollection AddSection<TOptions, TAnnotations>(this IServiceCollection services, IConfiguration configuration, string section)
        where TOptions : class
        where TAnnotations : class, IValidateOptions<TOptions>
    {
        var bound = new BoundSection(configuration.GetSection(section), typeof(TOptions));
        services.AddSingleton(bound);
        services.AddOptions<TOptions>()
            .Configure(_ =>
            {
                if (bound.BadValues().ToList() is { Count: > 0 } bad)
                {
                    throw new OptionsValidationException(section, typeof(TOptions), bad);
                }
            })
            .Bind(bound.Section)
            .ValidateOnStart();
        return services.AddValidator<TOptions, TAnnotations>();
    }

    private static IServiceCollection AddValidator<TOptions, TValidator>(this IServiceCollection services)
        where TOptions : class
        where TValidator : class, IValidateOptions<TOptions>
    {
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<TOptions>, TValidator>());
        return services;
    }

    private sealed class WebhookReceiverMarker;
}
