using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using WebhookReceiver.Access;
using WebhookReceiver.Kernel;
using WebhookReceiver.LangGraph;
using WebhookReceiver.Webhooks;

namespace WebhookReceiver;

/// <summary>
/// Says at start-up, once, what a reader of the settings could get wrong without a word: each key under <c>WebhookReceiver</c>
/// that nothing binds (a misspelling turns a feature off silently), a token holding '%', which features are on and why one is off, and, in
/// Development, a missing webhook token or admin key (every webhook, or every query API call, would be answered 401).
/// </summary>
internal sealed partial class StartupReport(
    IEnumerable<BoundSection> sections,
    IOptions<WebhookReceiverOptions> receiver,
    IOptions<StorageOptions> storage,
    IOptions<LangGraphOptions> langGraph,
    PublicWebhookUrl publicUrl,
    WebhookTokens tokens,
    OperatorDirectory operators,
    IHostEnvironment environment,
    ILogger<StartupReport> logger) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken)
    {
        var bound = sections.ToList();
        var paths = bound.Select(s => s.Section.Path).ToHashSet(StringComparer.OrdinalIgnoreCase);
        foreach (var unknown in bound.SelectMany(s => s.UnknownKeys(paths)))
        {
            LogUnknownKey(logger, unknown);
        }

        if (receiver.Value.Tokens.Any(t => t.Contains('%', StringComparison.Ordinal)))
        {
            LogPercentInToken(logger);
        }

        if (environment.IsDevelopment() && tokens.IsEmpty)
        {
            LogNoTokens(logger, WebhookReceiverOptions.Section);
        }

        if (environment.IsDevelopment() && operators.IsEmpty)
        {
            LogNoAdminKeys(logger, WebhookReceiverOptions.Section);
        }

        var (provider, features) = (storage.Value.Provider.ToString(), Features(langGraph.Value));
        LogFeatures(logger, environment.EnvironmentName, provider, features);
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    private string Features(LangGraphOptions settings)
    {
        if (!settings.Enabled)
        {
            return "off (no WebhookReceiver:LangGraph:Deployments): no run verification, sweep, interrupt detection or resume";
        }

        var sweep = settings.Sweep.Interval > TimeSpan.Zero ? $"every {settings.Sweep.Interval} (scope {settings.Sweep.Scope})" : "off (Sweep:Interval is 0)";
        var resume = publicUrl.Url is null ? "off (WebhookReceiver:LangGraph:PublicUrl is not set)" : "on";
        var verify = settings.Verify == VerifyMode.Off ? "Off" : $"{settings.Verify} (handlers wait for each run's verification)";
        return $"deployments {string.Join(", ", settings.Deployments.Select(d => d.Name))}; verify {verify}; sweep {sweep}; " +
               $"interrupt detection {(settings.DetectInterrupts ? "on" : "off")}; resume {resume}; this receiver's webhook URL {publicUrl.Description}";
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "WebhookReceiver:Tokens has a value containing '%': put it in the webhook URL " +
        "percent-encoded (%25), or better, use a URL-safe token such as `openssl rand -hex 32`")]
    private static partial void LogPercentInToken(ILogger logger);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Unknown setting: {Unknown}")]
    private static partial void LogUnknownKey(ILogger logger, string unknown);

    [LoggerMessage(Level = LogLevel.Information, Message = "Features: environment {Environment}; storage {Provider}; LangGraph {LangGraph}")]
    private static partial void LogFeatures(ILogger logger, string environment, string provider, string langGraph);

    [LoggerMessage(Level = LogLevel.Warning, Message =
        "No webhook token is configured ({Section}:Tokens is empty), so every webhook will be answered 401. " +
        "Set one: {Section}:Tokens:0 in appsettings.Development.json, or the environment variable {Section}__Tokens__0. " +
        "Outside Development the app refuses to start without one.")]
    private static partial void LogNoTokens(ILogger logger, string section);

    [LoggerMessage(Level = LogLevel.Warning, Message =
        "No admin key is configured ({Section}:AdminKeys and {Section}:Operators are empty), so the query API (/api) answers 401 to every call. " +
        "Set one: {Section}:AdminKeys:0 in appsettings.Development.json, or the environment variable {Section}__AdminKeys__0. " +
        "Outside Development the app refuses to start without one.")]
    private static partial void LogNoAdminKeys(ILogger logger, string section);
}
