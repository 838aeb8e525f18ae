using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace WebhookReceiver.Webhooks;

/// <summary>
/// Deletes old webhooks and interrupts in small batches, in the background; webhooks still being retried and interrupts still
/// waiting for a person are never deleted.
/// </summary>
internal sealed partial class RetentionService(
    IInboxMaintenance inbox,
    TimeProvider time,
    IOptions<RetentionOptions> options,
    ILogger<RetentionService> logger) : BackgroundService
{
    private readonly RetentionOptions _options = options.Value;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!_options.Enabled)
        {
            return;
        }

        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(_options.Interval, time, stoppingToken);
                await PurgeAsync(stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex)
            {
                LogPurgeFailed(logger, ex);
            }
        }
    }

    /// <summary>Purges batch after batch until both kinds come back short.</summary>
    public async Task<PurgeCounts> PurgeAsync(CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var total = new PurgeCounts();
        PurgeCounts purged;
        do
        {
            purged = await inbox.PurgeAsync(now - _options.MaxAge, now - _options.DeadLetterMaxAge, _options.BatchSize, cancellationToken);
            total = new PurgeCounts(total.Webhooks + purged.Webhooks, total.Interrupts + purged.Interrupts);
        }
        while (purged.Webhooks == _options.BatchSize || purged.Interrupts == _options.BatchSize);

        if (total != default)
        {
            LogPurged(logger, total.Webhooks, total.Interrupts);
        }

        return total;
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Retention: deleted {Count} old webhooks and {InterruptCount} old interrupts")]
    private static partial void LogPurged(ILogger logger, int count, int interruptCount);

    [LoggerMessage(Level = LogLevel.Error, Message = "Retention: purging old webhooks and interrupts failed; trying again at the next interval")]
    private static partial void LogPurgeFailed(ILogger logger, Exception exception);
}
