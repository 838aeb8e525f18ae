using System.Globalization;
using System.Security.Claims;
using System.Text;
using WebhookReceiver.Access;
using WebhookReceiver.Audit;

namespace WebhookReceiver.Webhooks;

/// <summary>
/// Replay one webhook (role operator): makes it due again for every handler that has a delivery for it or accepts it now, or
/// only for <c>handler</c>. Audited as <c>replay</c> of <c>webhook:{id}</c>, its detail the number of deliveries made due.
/// </summary>
internal sealed class ReplayWebhookCommand(CommandGate gate, IInboxQueries inbox, HandlerCatalog catalog, DispatchSignal dispatch, TimeProvider time)
{
    /// <summary>The number of deliveries made due; NotFound for an unknown webhook or handler.</summary>
    public async Task<CommandResult<int>> ExecuteAsync(ClaimsPrincipal user, long id, string? handler, CancellationToken cancellationToken)
    {
        var target = "webhook:" + id.ToString(CultureInfo.InvariantCulture);
        var detail = handler is null ? null : "handler " + handler;
        if (!await gate.AllowsAsync(user, ReceiverPolicies.Operate))
        {
            await gate.RecordAsync(user, AuditActions.Replay, target, AuditOutcomes.Forbidden, detail);
            return CommandResult<int>.Forbidden();
        }

        if (handler is not null && !catalog.Contains(handler))
        {
            await gate.RecordAsync(user, AuditActions.Replay, target, AuditOutcomes.NotFound, detail);
            return CommandResult<int>.NotFound(catalog.FindInterruptHandler(handler) is null
                ? $"No handler is registered as '{handler}'."
                : $"'{handler}' handles interrupts, not webhooks: replay it with POST /api/interrupts/{{id}}/replay (or /api/dead-letters/replay).");
        }

        if (await inbox.GetAsync(id, cancellationToken) is not { } webhook)
        {
            await gate.RecordAsync(user, AuditActions.Replay, target, AuditOutcomes.NotFound, detail);
            return CommandResult<int>.NotFound($"No webhook has id {id}.");
        }

        IReadOnlyCollection<string> handlers = handler is not null
            ? [handler]
            : webhook.Deliveries.Select(d => d.Handler)
                .Union(LangGraphRun.Parse(Encoding.UTF8.GetString(webhook.Payload!)) is { } run ? catalog.Match(run) : [])
                .Where(catalog.Contains)
                .ToList();
        var replayed = await inbox.ReplayAsync(id, handlers, time.GetUtcNow(), cancellationToken) ?? 0;
        dispatch.Notify();
        await gate.RecordAsync(user, AuditActions.Replay, target, AuditOutcomes.Succeeded,
            $"{replayed} deliveries made due" + (handler is null ? "" : $" (handler {handler})"));
        return CommandResult<int>.Done(replayed);
    }
}
