using System.Globalization;
using System.Security.Claims;
using WebhookReceiver.Access;
using WebhookReceiver.Audit;
using WebhookReceiver.Webhooks;

namespace WebhookReceiver.Interrupts;

/// <summary>
/// Replay one interrupt to its interrupt handlers (role operator): every interrupt handler that has a delivery for it or
/// accepts it now, or only <c>handler</c>. Audited as <c>replay</c> of <c>interrupt:{id}</c> with the number made due.
/// </summary>
internal sealed class ReplayInterruptCommand(CommandGate gate, IInboxInterrupts inbox, HandlerCatalog catalog, DispatchSignal dispatch, TimeProvider time)
{
    /// <summary>The number of deliveries made due; NotFound for an unknown interrupt or interrupt handler.</summary>
    public async Task<CommandResult<int>> ExecuteAsync(ClaimsPrincipal user, long id, string? handler, CancellationToken cancellationToken)
    {
        var target = "interrupt:" + id.ToString(CultureInfo.InvariantCulture);
        var detail = handler is null ? null : "handler " + handler;
        if (!await gate.AllowsAsync(user, ReceiverPolicies.Operate))
        {
            await gate.RecordAsync(user, AuditActions.Replay, target, AuditOutcomes.Forbidden, detail);
            return CommandResult<int>.Forbidden();
        }

        if (handler is not null && catalog.FindInterruptHandler(handler) is null)
        {
            await gate.RecordAsync(user, AuditActions.Replay, target, AuditOutcomes.NotFound, detail);
            return CommandResult<int>.NotFound($"No interrupt handler is registered as '{handler}'.");
        }

        if (await inbox.GetInterruptAsync(id, cancellationToken) is not { } interrupt)
        {
            await gate.RecordAsync(user, AuditActions.Replay, target, AuditOutcomes.NotFound, detail);
            return CommandResult<int>.NotFound($"No interrupt has id {id}.");
        }

        IReadOnlyCollection<string> handlers = handler is not null
            ? [handler]
            : interrupt.Deliveries.Select(d => d.Handler)
                .Union(catalog.MatchInterrupt(interrupt.AssistantId, interrupt.GraphId))
                .Where(name => catalog.FindInterruptHandler(name) is not null)
                .ToList();
        var replayed = await inbox.ReplayInterruptAsync(id, handlers, time.GetUtcNow(), cancellationToken) ?? 0;
        dispatch.Notify();
        await gate.RecordAsync(user, AuditActions.Replay, target, AuditOutcomes.Succeeded,
            $"{replayed} deliveries made due" + (handler is null ? "" : $" (handler {handler})"));
        return CommandResult<int>.Done(replayed);
    }
}
