using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using WebhookReceiver.Webhooks;

namespace WebhookReceiver.LangGraph;

/// <summary>
/// Sweeps every configured LangGraph deployment every <c>LangGraph:Sweep:Interval</c>, the first one interval after start-up
/// (off with no deployment, or an interval of 0): a receiver that was down recovers what it missed within an interval (plus
/// <c>Sweep:Grace</c>) of coming back, and a host that only calls the API (a handler reading threads) is not swept at once.
/// </summary>
internal sealed partial class SweepService(RunSweeper sweeper, ReceiverMetrics metrics, TimeProvider time, IOptions<LangGraphOptions> options,
    ILogger<SweepService> logger)
    : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var settings = options.Value;
        if (!settings.Enabled || settings.Sweep.Interval <= TimeSpan.Zero)
        {
            return;
        }

        foreach (var deployment in sweeper.Deployments)
        {
            metrics.SweepSeries(deployment);
        }

        while (await WaitAsync(settings.Sweep.Interval, stoppingToken))
        {
            foreach (var deployment in sweeper.Deployments)
            {
                try
                {
                    await sweeper.SweepAsync(deployment, since: null, stoppingToken);
                }
                catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
                {
                    return; // Shutting down: the sweep's progress up to its last page is saved.
                }
                catch (Exception ex)
                {
                    // The store failed (the server's failures end the sweep inside): the next interval tries again.
                    LogSweepFailed(logger, ex, deployment);
                }
            }
        }
    }

    private async Task<bool> WaitAsync(TimeSpan interval, CancellationToken stoppingToken)
    {
        try
        {
            await Task.Delay(interval, time, stoppingToken);
            return true;
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "Sweep of LangGraph deployment {Deployment} failed; it runs again at the next interval")]
    private static partial void LogSweepFailed(ILogger logger, Exception exception, string deployment);
}
