using Microsoft.Extensions.Options;
using WebhookReceiver.LangGraph;

namespace WebhookReceiver.Alerts;

/// <summary>
/// Alerts from each sweep as it ends, on the replica that ran it: runs recovered (their webhook never arrived: the pipe in front
/// of the receiver is losing webhooks) open or grow <c>sweep_recovered</c> for the deployment, with the run ids; a sweep down to
/// the watermark that recovers nothing resolves it. A failed sweep opens (or counts on) <c>sweep_failed</c>; the next one that
/// does not fail resolves it.
/// </summary>
internal sealed class SweepAlerts(AlertRecorder recorder, IInboxAlerts store, IOptions<AlertOptions> options) : ISweepObserver
{
    public async Task SweepEndedAsync(DeploymentSweepReport report, string status, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(report);
        if (!options.Value.Enabled)
        {
            return;
        }

        var deployment = report.Deployment;
        var failedCause = AlertKinds.Cause(AlertKinds.SweepFailed, deployment);
        if (status == DeploymentSweepReport.Failed)
        {
            var detail = report.Detail ?? "The store failed during the sweep (the receiver's log says how).";
            var failures = (await UnresolvedAsync(AlertKinds.SweepFailed, failedCause, cancellationToken))?.Occurrences ?? 0;
            await recorder.RaiseAsync(new NewAlert(AlertKinds.SweepFailed, failedCause, deployment,
                $"The sweep of LangGraph deployment '{deployment}' failed: runs whose webhook was lost are not being recovered.",
                failures + 1, detail, detail, []), cancellationToken);
            return;
        }

        await recorder.ResolveAsync(failedCause, cancellationToken);
        var recoveredCause = AlertKinds.Cause(AlertKinds.SweepRecovered, deployment);
        if (report.Recovered > 0)
        {
            var open = await UnresolvedAsync(AlertKinds.SweepRecovered, recoveredCause, cancellationToken);
            var total = (open?.Occurrences ?? 0) + report.Recovered;
            var runIds = (open?.RunIds ?? []).Concat(report.RecoveredRunIds).Distinct(StringComparer.Ordinal).Take(DeploymentSweepReport.MaxListed).ToList();
            await recorder.RaiseAsync(new NewAlert(AlertKinds.SweepRecovered, recoveredCause, deployment,
                $"The sweep of LangGraph deployment '{deployment}' recovered {total} runs whose webhook never arrived: something between " +
                "LangGraph and the receiver is losing webhooks (proxy, DNS, token, body limit).",
                total, null, null, runIds), cancellationToken);
        }
        else if (status == DeploymentSweepReport.Swept)
        {
            await recorder.ResolveAsync(recoveredCause, cancellationToken);
        }
    }

    private async Task<StoredAlert?> UnresolvedAsync(string kind, string cause, CancellationToken cancellationToken) =>
        (await store.ListUnresolvedAlertsAsync(kind, cancellationToken)).FirstOrDefault(a => a.Cause == cause);
}
