using System.Globalization;
using System.Security.Claims;
using WebhookReceiver.Access;
using WebhookReceiver.Audit;

namespace WebhookReceiver.Alerts;

/// <summary>
/// Acknowledge an open alert (role operator): a person has seen it; it stays until its cause goes, then resolves by itself. Audited
/// as <c>acknowledge_alert</c> of <c>alert:{id}</c>, its detail the alert's kind and subject.
/// </summary>
internal sealed class AcknowledgeAlertCommand(CommandGate gate, IInboxAlerts alerts, TimeProvider time)
{
    /// <summary>
    /// The alert, acknowledged by the caller (or unchanged when someone had acknowledged it already); NotFound for an unknown
    /// id; Conflict for an alert that has resolved.
    /// </summary>
    public async Task<CommandResult<StoredAlert>> ExecuteAsync(ClaimsPrincipal user, long id, CancellationToken cancellationToken)
    {
        var target = "alert:" + id.ToString(CultureInfo.InvariantCulture);
        if (!await gate.AllowsAsync(user, ReceiverPolicies.Operate))
        {
            await gate.RecordAsync(user, AuditActions.AcknowledgeAlert, target, AuditOutcomes.Forbidden, null);
            return CommandResult<StoredAlert>.Forbidden();
        }

        var (outcome, alert) = await alerts.AcknowledgeAlertAsync(id, CommandGate.ActorName(user), time.GetUtcNow(), cancellationToken);
        var detail = alert is null ? null : $"{alert.Kind} {alert.Subject}";
        switch (outcome)
        {
            case AcknowledgeOutcome.Acknowledged:
                await gate.RecordAsync(user, AuditActions.AcknowledgeAlert, target, AuditOutcomes.Succeeded, detail);
                return CommandResult<StoredAlert>.Done(alert!);
            case AcknowledgeOutcome.AlreadyAcknowledged:
                await gate.RecordAsync(user, AuditActions.AcknowledgeAlert, target, AuditOutcomes.Succeeded, $"{detail} (already acknowledged by {alert!.AcknowledgedBy}: unchanged)");
                return CommandResult<StoredAlert>.Done(alert);
            case AcknowledgeOutcome.Resolved:
                await gate.RecordAsync(user, AuditActions.AcknowledgeAlert, target, AuditOutcomes.Refused, $"{detail} (resolved already)");
                return CommandResult<StoredAlert>.Conflict($"Alert {id} resolved by itself when its cause went; there is nothing to acknowledge.");
            default:
                await gate.RecordAsync(user, AuditActions.AcknowledgeAlert, target, AuditOutcomes.NotFound, null);
                return CommandResult<StoredAlert>.NotFound($"No alert has id {id}.");
        }
    }
}
