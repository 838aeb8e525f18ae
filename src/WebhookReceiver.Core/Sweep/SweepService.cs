using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using WebhookReceiver.LangGraphApi;

namespace WebhookReceiver.Sweep;

/// <summary>
/// Sweeps every configured LangGraph deployment at start-up and then every <c>LangGraph:Sweep:Interval</c> (off with no
/// deployment, or an interval of 0). A receiver that was down recovers what it missed as soon as it is up again.
/// </summary>
internal sealed partial class SweepService(RunSweeper sweeper, TimeProvider time, IOptions<LangGraphOptions> options, ILogger<SweepService> logger)
    : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var settings = options.Value;
        if (!settings.Enabled || settings.Sweep.Interval <= TimeSpan.Zero)
        {
            return;
        }

        while (!stoppingToken.IsCancellationRequested)
        {
            foreach (var deployment in sweeper.Deployments)
            {
                try
                {
                    await sweeper.SweepAsync(deployment, stoppingToken);
                }
                catch (Exception ex) when (!stoppingToken.IsCancellationRequested)
                {
                    // The store failed (the server's failures end the sweep inside): the next interval tries again.
                    LogSweepFailed(logger, ex, deployment);
                }
            }

            try
            {
                await Task.Delay(settings.Sweep.Interval, time, stoppingToken);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "Sweep of LangGraph deployment {Deployment} failed; it runs again at the next interval")]
    private static partial void LogSweepFailed(ILogger logger, Exception exception, string deployment);
}
