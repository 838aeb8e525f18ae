using Microsoft.Extensions.Logging;

namespace WebhookReceiver.Webhooks;

/// <summary>
/// Tells the operator that webhooks arrive without a usable <c>run_id</c> (LangGraph's <c>webhooks.allowed_fields</c>
/// leaves it out): at most one warning per <see cref="Interval"/>, counting those received since the last one, so a busy
/// deployment is told without its log being flooded. Time comes from the <see cref="TimeProvider"/>.
/// </summary>
internal sealed partial class MissingRunIdWarning(TimeProvider time, ILogger<MissingRunIdWarning> logger)
{
    public static readonly TimeSpan Interval = TimeSpan.FromMinutes(10);

    private long _warnedAt = long.MinValue; // UTC ticks of the last warning.
    private long _since;

    /// <summary>Counts one webhook without a run_id, and warns if the last warning is older than <see cref="Interval"/>.</summary>
    public void Report()
    {
        Interlocked.Increment(ref _since);
        var now = time.GetUtcNow().UtcTicks;
        var last = Interlocked.Read(ref _warnedAt);
        if ((last == long.MinValue || now - last >= Interval.Ticks) && Interlocked.CompareExchange(ref _warnedAt, now, last) == last)
        {
            LogMissingRunId(logger, Interlocked.Exchange(ref _since, 0), Interval.TotalMinutes);
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "{Count} webhooks arrived without a usable run_id: they are stored with run_id null and " +
        "deduplicated only by their exact bytes. Add run_id to webhooks.allowed_fields in langgraph.json. (Said at most once per {Minutes} minutes.)")]
    private static partial void LogMissingRunId(ILogger logger, long count, double minutes);
}
