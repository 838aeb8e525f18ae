using System.Globalization;
using System.Security.Claims;
using System.Text.Json.Nodes;
using WebhookReceiver.Access;
using WebhookReceiver.Audit;

namespace WebhookReceiver.Interrupts;

/// <summary>
/// Resume a waiting interrupt (role reviewer): <see cref="InterruptResumer"/> does the work and stores who resumed it.
/// Audited as <c>resume</c> of <c>interrupt:{id}</c>; the detail is the body as sent (secrets redacted) and, once resumed, the
/// new run.
/// </summary>
internal sealed class ResumeInterruptCommand(CommandGate gate, InterruptResumer resumer)
{
    /// <summary>
    /// Forbidden, or Done with the resumer's result (whose <see cref="ResumeResult.Kind"/> says whether it resumed, and why not).
    /// <paramref name="body"/>: <c>{"resume": value}</c>, <c>{"resume": {"&lt;interrupt id&gt;": value}}</c> or <c>{}</c>.
    /// </summary>
    public async Task<CommandResult<ResumeResult>> ExecuteAsync(ClaimsPrincipal user, long id, JsonObject body, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(body);
        var target = "interrupt:" + id.ToString(CultureInfo.InvariantCulture);
        var sent = "sent " + body.ToJsonString();
        if (!await gate.AllowsAsync(user, ReceiverPolicies.Review))
        {
            await gate.RecordAsync(user, AuditActions.Resume, target, AuditOutcomes.Forbidden, sent);
            return CommandResult<ResumeResult>.Forbidden();
        }

        var result = await resumer.ResumeAsync(id, body, CommandGate.ActorName(user), cancellationToken);
        var (outcome, detail) = result.Kind switch
        {
            ResumeOutcome.Resumed => (AuditOutcomes.Succeeded, $"{sent}; run {result.RunId}"),
            ResumeOutcome.NotFound => (AuditOutcomes.NotFound, sent),
            ResumeOutcome.Unreachable => (AuditOutcomes.Failed, $"{sent}; {result.Detail}"),
            _ => (AuditOutcomes.Refused, $"{sent}; {result.Detail}"),
        };
        await gate.RecordAsync(user, AuditActions.Resume, target, outcome, detail);
        return CommandResult<ResumeResult>.Done(result);
    }
}
