using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace WebhookReceiver.Audit;

/// <summary>Deletes audit records older than <c>Audit:MaxAge</c>, hourly, in small batches, in the background.</summary>
internal sealed partial class AuditRetentionService(IAuditLog audit, TimeProvider time, IOptions<AuditOptions> options, ILogger<AuditRetentionService> logger)
    : BackgroundService
{
    private const int BatchSize = 500;
    private static readonly TimeSpan Interval = TimeSpan.FromHours(1);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(Interval, time, stoppingToken);
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

    /// <summary>Purges batch after batch of the records older than <c>Audit:MaxAge</c>; answers how many.</summary>
    public async Task<int> PurgeAsync(CancellationToken cancellationToken)
    {
        var before = time.GetUtcNow() - options.Value.MaxAge;
        var total = 0;
        int purged;
        do
        {
            purged = await audit.PurgeAsync(before, BatchSize, cancellationToken);
            total += purged;
        }
        while (purged == BatchSize);

        if (total > 0)
        {
            LogPurged(logger, total);
        }

        return total;
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Audit retention: deleted {Count} old audit records")]
    private static partial void LogPurged(ILogger logger, int count);

    [LoggerMessage(Level = LogLevel.Error, Message = "Audit retention: purging old audit records failed; trying again at the next interval")]
    private static partial void LogPurgeFailed(ILogger logger, Exception exception);
}
