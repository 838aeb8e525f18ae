using WebhookReceiver.Access;
using WebhookReceiver.Webhooks;

namespace WebhookReceiver.Observability;

/// <summary>
/// While the webhook token or an admin key of <c>appsettings.Development.json</c> is accepted, says so at start-up and every
/// hour: those values are in the repository for anyone to read. It happens when the process runs in Development, which
/// <c>dotnet run</c>'s launch profile sets whatever <c>ASPNETCORE_ENVIRONMENT</c> says. The values are never logged.
/// </summary>
internal sealed partial class DevelopmentSecretsWarning(
    IHostEnvironment environment, WebhookTokens tokens, OperatorDirectory operators, TimeProvider time, ILogger<DevelopmentSecretsWarning> logger)
    : BackgroundService
{
    /// <summary>How often the warning is repeated while the process runs.</summary>
    public static readonly TimeSpan Interval = TimeSpan.FromHours(1);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var development = new ConfigurationBuilder().SetBasePath(environment.ContentRootPath)
            .AddJsonFile("appsettings.Development.json", optional: true).Build().GetSection(WebhookReceiverOptions.Section);
        var token = (development.GetSection("Tokens").Get<string[]>() ?? []).Any(tokens.Accepts);
        var key = (development.GetSection("AdminKeys").Get<string[]>() ?? []).Any(k => operators.Authenticate(k) is not null);
        if (!token && !key)
        {
            return;
        }

        var which = token && key ? "webhook token and admin key" : token ? "webhook token" : "admin key";
        using var timer = new PeriodicTimer(Interval, time);
        try
        {
            do
            {
                LogDevelopmentSecrets(logger, which, environment.EnvironmentName);
            }
            while (await timer.WaitForNextTickAsync(stoppingToken));
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Shutting down.
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "This process accepts the development {Which} of appsettings.Development.json (environment " +
        "{Environment}; `dotnet run` applies the launch profile's Development whatever ASPNETCORE_ENVIRONMENT says): anyone with the " +
        "repository can use them. For other settings run `dotnet run --project src/WebhookReceiver --no-launch-profile` with " +
        "ASPNETCORE_ENVIRONMENT and your own secrets, or the published app.")]
    private static partial void LogDevelopmentSecrets(ILogger logger, string which, string environment);
}
