using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace WebhookReceiver.Inbox;

/// <summary>Deletes old webhooks in small batches, in the background; webhooks still being retried are never deleted.</summary>
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

    /// <summary>Purges batch after batch until a batch comes back short.</summary>
    public async Task<int> PurgeAsync(CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var total = 0;
        int purged;
        do
        {
            purged = await inbox.PurgeAsync(now - _options.MaxAge, now - _options.DeadLetterMaxAge, _options.BatchSize, cancellationToken);
            total += purged;
        }
        while (purged == _options.BatchSize);

        if (total > 0)
        {
            LogPurged(logger, total);
        }

        return total;
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Retention: deleted {Count} old webhooks")]
    private static partial void LogPurged(ILogger logger, int count);

    [LoggerMessage(Level = LogLevel.Error, Message = "Retention: purging old webhooks failed; trying again at the next interval")]
    private static partial void LogPurgeFailed(ILogger logger, Exception exception);
}
