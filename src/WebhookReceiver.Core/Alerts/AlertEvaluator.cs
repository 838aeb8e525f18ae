using System.Globalization;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using WebhookReceiver.Webhooks;

namespace WebhookReceiver.Alerts;

/// <summary>
/// Every <c>Alerts:Interval</c> (from <see cref="TimeProvider"/>), on every replica: writes to the store once (its readiness
/// write); a refusal opens the in-memory <c>store_unavailable</c> alert (<see cref="AlertRecorder"/>) and nothing else is evaluated
/// that round. Otherwise: each handler with dead deliveries has its <c>dead_handler</c> alert opened or refreshed (count, first and
/// last error) and those of handlers with none left are resolved; each interrupt waiting longer than
/// <c>Alerts:InterruptWaitingThreshold</c> has its <c>interrupt_waiting</c> alert, resolved once it is resumed or expired. Then the
/// <c>alerts.open</c> gauge is set. Replicas evaluating at once are safe: the store keeps one unresolved alert per cause, and only
/// the replica whose write opened or resolved an alert posts it. At most once an hour, with retention on, alerts resolved longer
/// than <c>Retention:DeadLetterMaxAge</c> ago are deleted.
/// </summary>
internal sealed partial class AlertEvaluator(IInboxAlerts store, IInboxMaintenance maintenance, AlertRecorder recorder, ReceiverMetrics metrics,
    TimeProvider time, IOptions<AlertOptions> options, IOptions<RetentionOptions> retention, ILogger<AlertEvaluator> logger) : BackgroundService
{
    /// <summary>How often, at most, resolved alerts past <c>Retention:DeadLetterMaxAge</c> are deleted.</summary>
    internal static readonly TimeSpan PurgeInterval = TimeSpan.FromHours(1);

    private DateTimeOffset _purgedAt = DateTimeOffset.MinValue;

    /// <summary>The most waiting interrupts looked at per round; past it, none of their alerts is resolved that round.</summary>
    internal const int MaxWaiting = 1000;

    // What the last round that could read the store found: the gauge keeps it while the store refuses writes.
    private IReadOnlyList<StoredAlert> _lastUnresolved = [];

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var settings = options.Value;
        if (!settings.Enabled)
        {
            return;
        }

        // Every kind at 0 until the first round counts the store, so a rule over the gauge sees the series from start-up.
        PublishGauge(_lastUnresolved);
        try
        {
            while (!stoppingToken.IsCancellationRequested)
            {
                // The first round one interval after start-up: the schema is migrated by then.
                await Task.Delay(settings.Interval, time, stoppingToken);
                try
                {
                    await EvaluateAsync(stoppingToken);
                }
                catch (Exception ex) when (!stoppingToken.IsCancellationRequested)
                {
                    LogEvaluationFailed(logger, ex);
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Shutting down.
        }
    }

    /// <summary>One round (also called by tests).</summary>
    internal async Task EvaluateAsync(CancellationToken cancellationToken)
    {
        try
        {
            await maintenance.PingAsync(cancellationToken);
        }
        catch (Exception ex) when (!cancellationToken.IsCancellationRequested)
        {
            // The type only: a driver's message may name the server, the file or the user.
            recorder.StoreRefused($"A test write failed ({ex.GetType().Name}).");
            PublishGauge(_lastUnresolved);
            return;
        }

        await recorder.StoreAcceptedAsync(cancellationToken);
        await EvaluateDeadHandlersAsync(cancellationToken);
        await EvaluateWaitingInterruptsAsync(cancellationToken);
        _lastUnresolved = await store.ListUnresolvedAlertsAsync(null, cancellationToken);
        PublishGauge(_lastUnresolved);
        await PurgeResolvedAsync(cancellationToken);
    }

    // Resolved alerts are history: kept as long as dead letters are (Retention:DeadLetterMaxAge), then deleted with retention on.
    private async Task PurgeResolvedAsync(CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        if (!retention.Value.Enabled || now - _purgedAt < PurgeInterval)
        {
            return;
        }

        await store.PurgeResolvedAlertsAsync(now - retention.Value.DeadLetterMaxAge, cancellationToken);
        _purgedAt = now;
    }

    private async Task EvaluateDeadHandlersAsync(CancellationToken cancellationToken)
    {
        var dead = await store.ReadDeadHandlersAsync(cancellationToken);
        foreach (var handler in dead)
        {
            await recorder.RaiseAsync(new NewAlert(AlertKinds.DeadHandler, AlertKinds.Cause(AlertKinds.DeadHandler, handler.Handler), handler.Handler,
                $"Handler '{handler.Handler}' has {handler.Count} dead deliveries: fix the cause, then replay them " +
                $"(POST /api/dead-letters/replay?handler={Uri.EscapeDataString(handler.Handler)}).",
                handler.Count, handler.FirstError, handler.LastError, []), cancellationToken);
        }

        var live = dead.Select(d => AlertKinds.Cause(AlertKinds.DeadHandler, d.Handler)).ToHashSet(StringComparer.Ordinal);
        foreach (var alert in await store.ListUnresolvedAlertsAsync(AlertKinds.DeadHandler, cancellationToken))
        {
            if (!live.Contains(alert.Cause))
            {
                await recorder.ResolveAsync(alert.Cause, cancellationToken);
            }
        }
    }

    private async Task EvaluateWaitingInterruptsAsync(CancellationToken cancellationToken)
    {
        var threshold = options.Value.InterruptWaitingThreshold;
        var now = time.GetUtcNow();
        var waiting = threshold > TimeSpan.Zero
            ? await store.ReadInterruptsWaitingSinceAsync(now - threshold, MaxWaiting, cancellationToken)
            : [];
        foreach (var interrupt in waiting)
        {
            var id = interrupt.Id.ToString(CultureInfo.InvariantCulture);
            var waited = now - interrupt.SeenAt;
            await recorder.RaiseAsync(new NewAlert(AlertKinds.InterruptWaiting, AlertKinds.Cause(AlertKinds.InterruptWaiting, id), id,
                $"Interrupt {id} (thread {interrupt.ThreadId} of deployment '{interrupt.Deployment}', graph '{interrupt.GraphId}') has waited for a person " +
                $"since {interrupt.SeenAt.UtcDateTime.ToString("u", CultureInfo.InvariantCulture)}, longer than {threshold}: answer it " +
                $"(POST /api/interrupts/{id}/resume).",
                (long)waited.TotalSeconds, null, null, []), cancellationToken);
        }

        if (waiting.Count >= MaxWaiting)
        {
            return; // Not all were read: an alert not in this list may still be waiting.
        }

        var live = waiting.Select(i => AlertKinds.Cause(AlertKinds.InterruptWaiting, i.Id.ToString(CultureInfo.InvariantCulture))).ToHashSet(StringComparer.Ordinal);
        foreach (var alert in await store.ListUnresolvedAlertsAsync(AlertKinds.InterruptWaiting, cancellationToken))
        {
            if (!live.Contains(alert.Cause))
            {
                await recorder.ResolveAsync(alert.Cause, cancellationToken);
            }
        }
    }

    private void PublishGauge(IReadOnlyList<StoredAlert> unresolved)
    {
        var counts = AlertKinds.All
            .SelectMany(kind => new[] { AlertState.Open, AlertState.Acknowledged }.Select(state => (kind, state)))
            .ToDictionary(key => key, key => (long)unresolved.Count(a => a.Kind == key.kind && a.State == key.state));
        if (recorder.StoreRefusing is not null)
        {
            counts[(AlertKinds.StoreUnavailable, AlertState.Open)] += 1;
        }

        metrics.AlertsOpen(counts);
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "Alert evaluation failed; it runs again at the next interval")]
    private static partial void LogEvaluationFailed(ILogger logger, Exception exception);
}
