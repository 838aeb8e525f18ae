namespace WebhookReceiver.LangGraph;

/// <summary>
/// The last sweep reports of this process (background and manual, newest first, at most <see cref="Capacity"/>), for the
/// console's overview and sweep page. In memory: a restart forgets them, and each replica shows its own.
/// </summary>
internal sealed class RecentSweeps
{
    public const int Capacity = 20;
    private readonly LinkedList<DeploymentSweepReport> _reports = new();

    public void Add(DeploymentSweepReport report)
    {
        lock (_reports)
        {
            _reports.AddFirst(report);
            if (_reports.Count > Capacity)
            {
                _reports.RemoveLast();
            }
        }
    }

    public IReadOnlyList<DeploymentSweepReport> Newest()
    {
        lock (_reports)
        {
            return [.. _reports];
        }
    }
}
