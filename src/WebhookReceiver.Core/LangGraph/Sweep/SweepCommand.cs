using System.Globalization;
using System.Security.Claims;
using WebhookReceiver.Access;
using WebhookReceiver.Audit;

namespace WebhookReceiver.LangGraph;

/// <summary>
/// Run a sweep now (role operator): every configured LangGraph deployment, or one. Audited as <c>sweep</c> of
/// <c>sweep</c> (or <c>deployment:{name}</c>); the detail counts what was recovered.
/// </summary>
internal sealed class SweepCommand(CommandGate gate, RunSweeper sweeper)
{
    /// <summary>
    /// The report; Conflict when no deployment is configured, NotFound for an unknown <paramref name="deployment"/>.
    /// <paramref name="since"/>: sweep threads updated from then on, whatever the last sweep covered.
    /// </summary>
    public async Task<CommandResult<SweepReport>> ExecuteAsync(ClaimsPrincipal user, string? deployment, DateTimeOffset? since, CancellationToken cancellationToken)
    {
        var target = deployment is null ? "sweep" : "deployment:" + deployment;
        var asked = since is null ? null : "since " + since.Value.ToString("O", CultureInfo.InvariantCulture);
        if (!await gate.AllowsAsync(user, ReceiverPolicies.Operate))
        {
            await gate.RecordAsync(user, AuditActions.Sweep, target, AuditOutcomes.Forbidden, asked);
            return CommandResult<SweepReport>.Forbidden();
        }

        if (sweeper.Deployments.Count == 0)
        {
            await gate.RecordAsync(user, AuditActions.Sweep, target, AuditOutcomes.Refused, "no deployment is configured");
            return CommandResult<SweepReport>.Conflict("No LangGraph deployment is configured (WebhookReceiver:LangGraph:Deployments): there is nothing to sweep.");
        }

        SweepReport report;
        if (deployment is null)
        {
            report = await sweeper.SweepAllAsync(since, cancellationToken);
        }
        else
        {
            var name = sweeper.Deployments.FirstOrDefault(d => string.Equals(d, deployment, StringComparison.OrdinalIgnoreCase));
            if (name is null)
            {
                await gate.RecordAsync(user, AuditActions.Sweep, target, AuditOutcomes.NotFound, asked);
                return CommandResult<SweepReport>.NotFound("No LangGraph deployment has that name (WebhookReceiver:LangGraph:Deployments).");
            }

            report = new SweepReport([await sweeper.SweepAsync(name, since, cancellationToken)], SweepReport.Limits);
        }

        await gate.RecordAsync(user, AuditActions.Sweep, target, AuditOutcomes.Succeeded, Summary(report) + (asked is null ? "" : "; " + asked));
        return CommandResult<SweepReport>.Done(report);
    }

    private static string Summary(SweepReport report) => string.Join("; ", report.Deployments.Select(d =>
        string.Create(CultureInfo.InvariantCulture, $"{d.Deployment}: {d.Status}, {d.ThreadsScanned} threads scanned, {d.Recovered} recovered")));
}
