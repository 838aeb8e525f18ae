using System.Globalization;
using System.Security.Claims;
using System.Text;
using WebhookReceiver.Access;
using WebhookReceiver.Audit;

namespace WebhookReceiver.Webhooks;

/// <summary>
/// Bulk replay (role operator): every dead delivery of the webhooks and interrupts that match a (validated) filter, and of
/// <c>handler</c> if given, is made due now. Audited as <c>bulk_replay</c> of <c>dead-letters</c>; the detail holds the count
/// and the filter.
/// </summary>
internal sealed class ReplayDeadLettersCommand(CommandGate gate, IInboxQueries inbox, HandlerCatalog catalog, DispatchSignal dispatch, TimeProvider time)
{
    /// <summary>The audit record's target.</summary>
    public const string Target = "dead-letters";

    /// <summary>The number of dead deliveries made due; NotFound for an unknown handler.</summary>
    public async Task<CommandResult<int>> ExecuteAsync(ClaimsPrincipal user, WebhookQuery filter, string? handler, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(filter);
        var described = Describe(filter, handler);
        if (!await gate.AllowsAsync(user, ReceiverPolicies.Operate))
        {
            await gate.RecordAsync(user, AuditActions.BulkReplay, Target, AuditOutcomes.Forbidden, described);
            return CommandResult<int>.Forbidden();
        }

        if (handler is not null && !catalog.Contains(handler) && catalog.FindInterruptHandler(handler) is null)
        {
            await gate.RecordAsync(user, AuditActions.BulkReplay, Target, AuditOutcomes.NotFound, described);
            return CommandResult<int>.NotFound($"No handler is registered as '{handler}'.");
        }

        var replayed = await inbox.ReplayDeadAsync(filter, handler, time.GetUtcNow(), cancellationToken);
        dispatch.Notify();
        await gate.RecordAsync(user, AuditActions.BulkReplay, Target, AuditOutcomes.Succeeded,
            $"count {replayed.ToString(CultureInfo.InvariantCulture)}" + (described is null ? "" : "; " + described));
        return CommandResult<int>.Done(replayed);
    }

    // The filter as the audit trail shows it: only what was set.
    private static string? Describe(WebhookQuery filter, string? handler)
    {
        var parts = new StringBuilder();
        void Add(string name, object? value)
        {
            if (value is not null)
            {
                parts.Append(parts.Length == 0 ? "" : ", ").Append(name).Append('=').Append(value is DateTimeOffset at ? at.ToString("O", CultureInfo.InvariantCulture) : value);
            }
        }

        Add("handler", handler);
        Add("status", filter.Status);
        Add("assistant_id", filter.AssistantId);
        Add("graph_id", filter.GraphId);
        Add("thread_id", filter.ThreadId);
        Add("deployment", filter.Deployment);
        Add("verification", filter.Verification);
        Add("source", filter.Source);
        Add("received_from", filter.ReceivedFrom);
        Add("received_to", filter.ReceivedTo);
        return parts.Length == 0 ? null : "filter " + parts;
    }
}
