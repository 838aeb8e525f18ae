using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using WebhookReceiver.Configuration;

namespace WebhookReceiver.Security;

/// <summary>
/// In Development a host may start without webhook tokens (elsewhere the options validator refuses to start), but then
/// every webhook is answered 401: this says so once, at start-up, instead of leaving the developer to guess.
/// </summary>
internal sealed partial class MissingTokensWarning(
    WebhookTokens tokens,
    IHostEnvironment environment,
    ILogger<MissingTokensWarning> logger) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken)
    {
        if (environment.IsDevelopment() && tokens.IsEmpty)
        {
            LogNoTokens(logger, WebhookReceiverOptions.Section);
        }

        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    [LoggerMessage(Level = LogLevel.Warning, Message =
        "No webhook token is configured ({Section}:Tokens is empty), so every webhook will be answered 401. " +
        "Set one: {Section}:Tokens:0 in appsettings.Development.json, or the environment variable {Section}__Tokens__0. " +
        "Outside Development the app refuses to start without one.")]
    private static partial void LogNoTokens(ILogger logger, string section);
}
