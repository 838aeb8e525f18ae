using Microsoft.Extensions.Logging;
using WebhookReceiver.Kernel;

namespace WebhookReceiver.Alerts;

/// <summary>
/// Opens, refreshes and resolves alerts in the store, and posts each change this replica made to the operational webhook
/// (<see cref="AlertNotifier"/>). Errors are redacted (<see cref="SecretRedactor"/>) before they are stored or sent.
/// </summary>
/// <remarks>
/// An alert about the store refusing writes cannot be stored while it is true, so it is kept in memory, by each replica that
/// saw the refusal: it counts in the <c>alerts.open</c> gauge, it is logged (error) and posted to the operational webhook at once,
/// and, when the store takes a write again, it is stored already resolved with the time it opened (so the history shows it)
/// and its resolution is posted. A process that stops meanwhile loses it; the webhook and the log have it.
/// </remarks>
internal sealed partial class AlertRecorder(IInboxAlerts store, AlertNotifier notifier, TimeProvider time, SecretRedactor redactor,
    ILogger<AlertRecorder> logger)
{
    private readonly Lock _gate = new();
    private (NewAlert Alert, DateTimeOffset OpenedAt)? _storeRefusing;

    /// <summary>Opens the alert of its cause (posted when this call opened it), or refreshes the unresolved one.</summary>
    public async Task<StoredAlert> RaiseAsync(NewAlert alert, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(alert);
        var redacted = alert with
        {
            Summary = redactor.Redact(alert.Summary),
            FirstError = alert.FirstError is null ? null : redactor.Redact(alert.FirstError),
            LastError = alert.LastError is null ? null : redactor.Redact(alert.LastError),
        };
        var (stored, opened) = await store.RaiseAlertAsync(redacted, time.GetUtcNow(), cancellationToken);
        if (opened)
        {
            LogOpened(logger, stored.Id, stored.Kind, stored.Subject, stored.Summary);
            notifier.Post(AlertNotifier.Opened, AlertView.From(stored));
        }

        return stored;
    }

    /// <summary>Resolves the unresolved alert of <paramref name="cause"/>, if any (posted when this call resolved it).</summary>
    public async Task ResolveAsync(string cause, CancellationToken cancellationToken)
    {
        if (await store.ResolveAlertAsync(cause, time.GetUtcNow(), cancellationToken) is { } resolved)
        {
            LogResolved(logger, resolved.Id, resolved.Kind, resolved.Subject);
            notifier.Post(AlertNotifier.Resolved, AlertView.From(resolved));
        }
    }

    /// <summary>The store alert held in memory while the store refuses writes; null while it takes them.</summary>
    public AlertView? StoreRefusing
    {
        get
        {
            lock (_gate)
            {
                return _storeRefusing is { } held ? View(held.Alert, held.OpenedAt, time.GetUtcNow(), resolvedAt: null) : null;
            }
        }
    }

    /// <summary>The store refused a write (<paramref name="reason"/>: what failed, no secret): opens the in-memory alert, or counts one more refusal.</summary>
    public void StoreRefused(string reason)
    {
        AlertView opened;
        lock (_gate)
        {
            if (_storeRefusing is { } held)
            {
                _storeRefusing = (held.Alert with { Occurrences = held.Alert.Occurrences + 1, LastError = reason }, held.OpenedAt);
                return;
            }

            var alert = new NewAlert(AlertKinds.StoreUnavailable, AlertKinds.Cause(AlertKinds.StoreUnavailable, "store"), "store",
                "The store refuses writes: webhooks are answered 503 and nothing is delivered until it takes them again.", 1, reason, reason, []);
            // Whole milliseconds, as the store keeps times: the opening posted now is the one stored later.
            var now = DateTimeOffset.FromUnixTimeMilliseconds(time.GetUtcNow().ToUnixTimeMilliseconds());
            _storeRefusing = (alert, now);
            opened = View(alert, now, now, resolvedAt: null);
        }

        LogStoreRefusing(logger, reason);
        notifier.Post(AlertNotifier.Opened, opened);
    }

    /// <summary>The store took a write: the in-memory alert, if any, is stored resolved and its resolution posted.</summary>
    public async Task StoreAcceptedAsync(CancellationToken cancellationToken)
    {
        (NewAlert Alert, DateTimeOffset OpenedAt)? held;
        lock (_gate)
        {
            held = _storeRefusing;
        }

        if (held is not { } refusing)
        {
            return;
        }

        var stored = await store.RecordResolvedAlertAsync(refusing.Alert, refusing.OpenedAt, time.GetUtcNow(), cancellationToken);
        lock (_gate)
        {
            _storeRefusing = null;
        }

        LogResolved(logger, stored.Id, stored.Kind, stored.Subject);
        notifier.Post(AlertNotifier.Resolved, AlertView.From(stored));
    }

    private static AlertView View(NewAlert alert, DateTimeOffset openedAt, DateTimeOffset updatedAt, DateTimeOffset? resolvedAt) => new(
        0, alert.Kind, alert.Cause, alert.Subject, resolvedAt is null ? AlertState.Open : AlertState.Resolved, alert.Summary, alert.Occurrences,
        alert.FirstError, alert.LastError, alert.RunIds, openedAt, updatedAt, null, null, resolvedAt);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Alert {AlertId} opened: {Kind} {Subject}: {Summary}")]
    private static partial void LogOpened(ILogger logger, long alertId, string kind, string subject, string summary);

    [LoggerMessage(Level = LogLevel.Information, Message = "Alert {AlertId} resolved: {Kind} {Subject}")]
    private static partial void LogResolved(ILogger logger, long alertId, string kind, string subject);

    [LoggerMessage(Level = LogLevel.Error, Message = "Alert opened (kept in memory until the store takes writes): store_unavailable: {Reason}")]
    private static partial void LogStoreRefusing(ILogger logger, string reason);
}
