using System.Text;
using WebhookReceiver.Alerts;
using WebhookReceiver.Interrupts;
using WebhookReceiver.Webhooks;

namespace WebhookReceiver.Tests.Storage;

/// <summary>
/// What every inbox engine promises about alerts (the subclasses below): one unresolved alert per cause however many evaluators
/// raise it at once, refreshed in place; resolved once; a cause back after resolution is a new alert; acknowledged once, never
/// when resolved; listed newest first, filtered and paged; dead deliveries read by handler with their first and last error;
/// interrupts waiting since before a time.
/// </summary>
public abstract class AlertContractTests<TEngine> : EngineContract<TEngine>
    where TEngine : IInboxEngine, new()
{
    private static readonly DateTimeOffset T0 = new(2030, 1, 1, 12, 0, 0, TimeSpan.Zero);

    private IInboxAlerts Alerts => Stores.Alerts;

    [Fact]
    public async Task Evaluators_raising_one_cause_at_once_open_one_alert_and_later_raises_refresh_it()
    {
        // From many connections at once (on PostgreSQL: replicas): the unique index on open causes lets one insert win.
        var raised = await Task.WhenAll(Enumerable.Range(0, 8).Select(i => Task.Run(() =>
            Alerts.RaiseAlertAsync(Dead("billing", count: 1, last: "boom 1"), T0, CancellationToken.None))));

        Assert.Single(raised, r => r.Opened);
        Assert.Single(raised.Select(r => r.Alert.Id).Distinct());
        var refreshed = await Alerts.RaiseAlertAsync(Dead("billing", count: 3, last: "boom 3"), T0.AddMinutes(1), CancellationToken.None);
        Assert.False(refreshed.Opened);
        Assert.Equal((raised[0].Alert.Id, AlertState.Open, 3L, "boom 1", "boom 3", T0, T0.AddMinutes(1)),
            (refreshed.Alert.Id, refreshed.Alert.State, refreshed.Alert.Occurrences, refreshed.Alert.FirstError, refreshed.Alert.LastError,
                refreshed.Alert.OpenedAt, refreshed.Alert.UpdatedAt));
        Assert.Single(await Alerts.ListUnresolvedAlertsAsync(null, CancellationToken.None));
    }

    [Fact]
    public async Task An_alert_resolves_once_and_its_cause_coming_back_opens_a_new_one()
    {
        var first = (await Alerts.RaiseAlertAsync(Dead("billing", 1, "boom"), T0, CancellationToken.None)).Alert;

        var resolved = await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => Task.Run(() =>
            Alerts.ResolveAlertAsync("dead_handler:billing", T0.AddMinutes(5), CancellationToken.None))));
        var again = await Alerts.RaiseAlertAsync(Dead("billing", 1, "boom again"), T0.AddMinutes(6), CancellationToken.None);

        var only = Assert.Single(resolved, r => r is not null)!;
        Assert.Equal((first.Id, AlertState.Resolved, T0.AddMinutes(5)), (only.Id, only.State, only.ResolvedAt));
        Assert.True(again.Opened);
        Assert.NotEqual(first.Id, again.Alert.Id);
        Assert.Equal(AlertState.Resolved, (await Alerts.GetAlertAsync(first.Id, CancellationToken.None))!.State);
        Assert.Null(await Alerts.ResolveAlertAsync("dead_handler:nobody", T0, CancellationToken.None));
    }

    [Fact]
    public async Task An_open_alert_is_acknowledged_once_with_who_did_it_and_a_resolved_one_never()
    {
        var alert = (await Alerts.RaiseAlertAsync(Dead("billing", 1, "boom"), T0, CancellationToken.None)).Alert;

        var acknowledged = await Alerts.AcknowledgeAlertAsync(alert.Id, "alice", T0.AddMinutes(1), CancellationToken.None);
        var twice = await Alerts.AcknowledgeAlertAsync(alert.Id, "bob", T0.AddMinutes(2), CancellationToken.None);
        // Acknowledged, it stays unresolved: a raise refreshes it and keeps its state.
        var refreshed = await Alerts.RaiseAlertAsync(Dead("billing", 2, "boom 2"), T0.AddMinutes(3), CancellationToken.None);
        await Alerts.ResolveAlertAsync(alert.Cause, T0.AddMinutes(4), CancellationToken.None);
        var afterResolved = await Alerts.AcknowledgeAlertAsync(alert.Id, "carol", T0.AddMinutes(5), CancellationToken.None);

        Assert.Equal((AcknowledgeOutcome.Acknowledged, AlertState.Acknowledged, "alice", T0.AddMinutes(1)),
            (acknowledged.Outcome, acknowledged.Alert!.State, acknowledged.Alert.AcknowledgedBy, acknowledged.Alert.AcknowledgedAt));
        Assert.Equal((AcknowledgeOutcome.AlreadyAcknowledged, "alice"), (twice.Outcome, twice.Alert!.AcknowledgedBy));
        Assert.Equal((false, AlertState.Acknowledged, 2L), (refreshed.Opened, refreshed.Alert.State, refreshed.Alert.Occurrences));
        Assert.Equal((AcknowledgeOutcome.Resolved, "alice"), (afterResolved.Outcome, afterResolved.Alert!.AcknowledgedBy));
        Assert.Equal((AcknowledgeOutcome.NotFound, null), await Alerts.AcknowledgeAlertAsync(alert.Id + 100, "dave", T0, CancellationToken.None));
    }

    [Fact]
    public async Task Alerts_are_listed_newest_first_by_state_and_kind_in_pages_with_their_run_ids()
    {
        var recovered = new NewAlert("sweep_recovered", "sweep_recovered:prod", "prod", "lost webhooks", 2, null, null, ["run-1", "run-2"]);
        var a = (await Alerts.RaiseAlertAsync(Dead("a", 1, "x"), T0, CancellationToken.None)).Alert;
        var b = (await Alerts.RaiseAlertAsync(recovered, T0, CancellationToken.None)).Alert;
        var c = (await Alerts.RaiseAlertAsync(Dead("c", 1, "x"), T0, CancellationToken.None)).Alert;
        await Alerts.ResolveAlertAsync(a.Cause, T0.AddMinutes(1), CancellationToken.None);
        var stored = await Alerts.RecordResolvedAlertAsync(
            new NewAlert("store_unavailable", "store_unavailable:store", "store", "refused", 4, "e1", "e4", []), T0.AddMinutes(-10), T0.AddMinutes(2), CancellationToken.None);

        var all = await Alerts.ListAlertsAsync(new AlertQuery { Limit = 2 }, CancellationToken.None);
        var rest = await Alerts.ListAlertsAsync(new AlertQuery { Limit = 2, Before = all.NextCursor }, CancellationToken.None);
        var resolved = await Alerts.ListAlertsAsync(new AlertQuery { State = AlertState.Resolved }, CancellationToken.None);
        var dead = await Alerts.ListAlertsAsync(new AlertQuery { Kind = "dead_handler", State = AlertState.Open }, CancellationToken.None);

        Assert.Equal([stored.Id, c.Id], all.Items.Select(i => i.Id));
        Assert.Equal([b.Id, a.Id], rest.Items.Select(i => i.Id));
        Assert.Null(rest.NextCursor);
        Assert.Equal([stored.Id, a.Id], resolved.Items.Select(i => i.Id));
        Assert.Equal([c.Id], dead.Items.Select(i => i.Id));
        Assert.Equal(["run-1", "run-2"], rest.Items[0].RunIds);
        Assert.Equal((T0.AddMinutes(-10), T0.AddMinutes(2), 4L), (stored.OpenedAt, stored.ResolvedAt, stored.Occurrences));
        Assert.Equal([b.Id, c.Id], (await Alerts.ListUnresolvedAlertsAsync(null, CancellationToken.None)).Select(x => x.Id));
    }

    [Fact]
    public async Task Only_alerts_resolved_before_the_cutoff_are_purged()
    {
        var old = (await Alerts.RaiseAlertAsync(Dead("a", 1, "x"), T0, CancellationToken.None)).Alert;
        var recent = (await Alerts.RaiseAlertAsync(Dead("b", 1, "x"), T0, CancellationToken.None)).Alert;
        var unresolved = (await Alerts.RaiseAlertAsync(Dead("c", 1, "x"), T0, CancellationToken.None)).Alert;
        await Alerts.ResolveAlertAsync(old.Cause, T0.AddDays(1), CancellationToken.None);
        await Alerts.ResolveAlertAsync(recent.Cause, T0.AddDays(3), CancellationToken.None);

        Assert.Equal(1, await Alerts.PurgeResolvedAlertsAsync(T0.AddDays(2), CancellationToken.None));

        Assert.Equal([unresolved.Id, recent.Id], (await Alerts.ListAlertsAsync(new AlertQuery(), CancellationToken.None)).Items.Select(a => a.Id));
    }

    [Fact]
    public async Task Dead_deliveries_are_read_by_handler_with_the_first_and_last_error_and_waiting_interrupts_by_when_they_were_seen()
    {
        await Inbox.AppendAsync([Webhook("run-1"), Webhook("run-2"), Webhook("run-3")], CancellationToken.None);
        var claimed = await Inbox.ClaimDueAsync("me", T0, T0.AddMinutes(1), 10, CancellationToken.None);
        var at = T0;
        foreach (var delivery in claimed.Where(c => c.Handler == "billing").OrderBy(c => c.WebhookId))
        {
            at = at.AddMinutes(1);
            await Inbox.CompleteAttemptAsync(new AttemptResult(delivery.DeliveryId, "me", 1, 0, at, at, false, $"error of {delivery.WebhookId}", DeliveryState.Dead, null),
                CancellationToken.None);
        }

        foreach (var delivery in claimed.Where(c => c.Handler == "log"))
        {
            await Inbox.CompleteAttemptAsync(new AttemptResult(delivery.DeliveryId, "me", 1, 0, T0, T0, true, null, DeliveryState.Succeeded, null), CancellationToken.None);
        }

        var interrupts = Stores.Interrupts;
        var old = (await interrupts.RecordInterruptAsync(Pause("thread-old", T0), CancellationToken.None)).Id;
        await interrupts.RecordInterruptAsync(Pause("thread-new", T0.AddHours(2)), CancellationToken.None);
        var resumed = (await interrupts.RecordInterruptAsync(Pause("thread-resumed", T0), CancellationToken.None)).Id;
        await interrupts.MarkInterruptResumedAsync(resumed, "run-resumed", T0.AddMinutes(1), "alice", CancellationToken.None);

        var dead = Assert.Single(await Alerts.ReadDeadHandlersAsync(CancellationToken.None));
        var ids = claimed.Where(c => c.Handler == "billing").Select(c => c.WebhookId).Order().ToList();
        Assert.Equal(("billing", 3L, $"error of {ids[0]}", $"error of {ids[2]}"), (dead.Handler, dead.Count, dead.FirstError, dead.LastError));
        var waiting = Assert.Single(await Alerts.ReadInterruptsWaitingSinceAsync(T0.AddHours(1), 10, CancellationToken.None));
        Assert.Equal((old, "thread-old", T0), (waiting.Id, waiting.ThreadId, waiting.SeenAt));
    }

    private static NewAlert Dead(string handler, long count, string last) =>
        new("dead_handler", $"dead_handler:{handler}", handler, $"{handler} has {count} dead deliveries", count, "boom 1", last, []);

    private static NewWebhook Webhook(string runId) =>
        new(runId, "thread-1", "assistant-a", "ask", "success", T0, Encoding.UTF8.GetBytes($$"""{"run_id":"{{runId}}"}"""), ["billing", "log"]);

    private static NewInterrupt Pause(string threadId, DateTimeOffset seenAt) =>
        new("prod", threadId, "interrupts:i-1", "run-paused", "assistant-a", "ask", null, "[]", """["ask"]""", "c-1", seenAt, []);
}

/// <summary>The alert contract on a real SQLite file of the test's own.</summary>
public sealed class SqliteAlertContractTests : AlertContractTests<SqliteEngine>;

/// <summary>The alert contract on a real PostgreSQL server, in a database of the test's own.</summary>
[Trait("Category", "System")]
public sealed class PostgresAlertContractTests : AlertContractTests<PostgresEngine>;
