using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using WebhookReceiver.Alerts;
using WebhookReceiver.Interrupts;
using WebhookReceiver.Kernel;
using WebhookReceiver.LangGraph;
using WebhookReceiver.Webhooks;

namespace WebhookReceiver.Console;

/// <summary>What the overview shows; also its JSON (<c>{Console:Path}/overview.json</c>), which the page polls every few seconds.</summary>
/// <param name="Received">Webhooks stored in the last hour (received or recovered by a sweep).</param>
/// <param name="Pending">Deliveries waiting for their first attempt (or a replay).</param>
/// <param name="Retrying">Deliveries that failed and wait for their next attempt.</param>
/// <param name="Dead">Dead-lettered deliveries.</param>
/// <param name="WaitingInterrupts">Threads waiting for a person.</param>
/// <param name="DeliveredLastHour">Delivery attempts that succeeded in the last hour.</param>
/// <param name="FailedLastHour">Delivery attempts that failed in the last hour.</param>
/// <param name="LastSweep">The newest sweep of this process: deployment, status and when; "none yet" before the first.</param>
/// <param name="Health">The readiness checks' status: Healthy, Degraded or Unhealthy.</param>
internal sealed record OverviewData(
    long Received, long Pending, long Retrying, long Dead, long WaitingInterrupts, long DeliveredLastHour, long FailedLastHour,
    string LastSweep, string Health, DateTimeOffset At);

/// <summary>Reads the overview at most every few seconds, whoever asks: the attempts of the last hour are counted without an index.</summary>
internal sealed class ConsoleOverview(
    IInboxQueries queries, IInboxInterrupts interrupts, IInboxActivity activity, RecentSweeps sweeps, HealthCheckService health, TimeProvider time)
    : IDisposable
{
    private static readonly TimeSpan MaxAge = TimeSpan.FromSeconds(3);
    private readonly SemaphoreSlim _reading = new(1, 1);
    private OverviewData? _last;

    public async Task<OverviewData> ReadAsync(CancellationToken cancellationToken)
    {
        await _reading.WaitAsync(cancellationToken);
        try
        {
            var now = time.GetUtcNow();
            if (_last is { } last && now - last.At < MaxAge)
            {
                return last;
            }

            var counts = await queries.CountDeliveriesAsync(cancellationToken);
            long Count(string state) => counts.Where(c => c.State == state).Sum(c => c.Count);
            var waiting = (await interrupts.CountWaitingInterruptsAsync(cancellationToken)).Sum(c => c.Count);
            var hour = await activity.ReadActivityAsync(now - TimeSpan.FromHours(1), cancellationToken);
            var report = await health.CheckHealthAsync(check => check.Tags.Contains(InboxHealthCheck.ReadyTag), cancellationToken);
            var sweep = sweeps.Newest() is [var s, ..] ? $"{s.Status}: {s.Deployment}, {s.StartedAt.UtcDateTime:yyyy-MM-dd HH:mm:ss} UTC, {s.Recovered} recovered" : "none yet";
            _last = new OverviewData(hour.Received, Count(DeliveryState.Pending), Count(DeliveryState.Failed), Count(DeliveryState.Dead), waiting,
                hour.AttemptsSucceeded, hour.AttemptsFailed, sweep, report.Status.ToString(), now);
            return _last;
        }
        finally
        {
            _reading.Release();
        }
    }

    public void Dispose() => _reading.Dispose();
}

internal static class OverviewPage
{
    public static void MapOverviewPage(this RouteGroupBuilder pages)
    {
        pages.MapGet("", RenderAsync);
        pages.MapGet("/overview.json", async (ConsoleOverview overview, CancellationToken cancellationToken) =>
            TypedResults.Json(await overview.ReadAsync(cancellationToken), ConsoleJson.Options));
    }

    private static async Task<IResult> RenderAsync(HttpContext context, ConsoleOverview overview, IInboxAlerts alerts, CancellationToken cancellationToken)
    {
        var data = await overview.ReadAsync(cancellationToken);
        var unresolved = await alerts.ListUnresolvedAlertsAsync(null, cancellationToken);
        var open = unresolved.Count(a => a.State == AlertState.Open);
        var model = new OverviewModel(ConsolePage.Url(context), data, open, unresolved.Count - open);
        return ConsolePage.Component<Components.OverviewPage, OverviewModel>("Overview", ConsoleSection.Overview, model);
    }
}

/// <summary>What <see cref="Components.OverviewPage"/> shows: the figures, and how many alerts are open and acknowledged.</summary>
/// <param name="Console">The console's path below the path base, e.g. <c>/console</c>.</param>
internal sealed record OverviewModel(string Console, OverviewData Data, long OpenAlerts, long AcknowledgedAlerts);
