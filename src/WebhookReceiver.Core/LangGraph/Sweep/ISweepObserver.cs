namespace WebhookReceiver.LangGraph;

/// <summary>
/// Told how each sweep of a deployment ended, on the replica that ran it (the alerts listen: runs recovered, a sweep that failed).
/// Registered in DI, any number; one that throws is logged and never fails the sweep.
/// </summary>
internal interface ISweepObserver
{
    /// <param name="report">What the sweep found.</param>
    /// <param name="status">How it ended: <see cref="DeploymentSweepReport.Swept"/>, <see cref="DeploymentSweepReport.Partial"/> or
    /// <see cref="DeploymentSweepReport.Failed"/> (the server failed: <see cref="DeploymentSweepReport.Detail"/> says why; or the store
    /// failed: no detail). Not called for a sweep that found another holding the lease, nor for one stopped by shutdown.</param>
    Task SweepEndedAsync(DeploymentSweepReport report, string status, CancellationToken cancellationToken);
}
