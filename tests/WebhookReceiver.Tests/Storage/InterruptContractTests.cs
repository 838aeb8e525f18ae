using System.Text;
using WebhookReceiver.Interrupts;
using WebhookReceiver.Webhooks;

namespace WebhookReceiver.Tests.Storage;

/// <summary>
/// What every inbox engine promises about interrupts (human in the loop; the subclasses below): a pause is stored once with a
/// delivery per interrupt handler, claimed by the dispatcher as an interrupt's delivery; waiting becomes resumed or expired
/// once; the resumed run's webhook links itself when it arrives; lists are newest first, filtered and paged; waiting ones are
/// counted by deployment and graph.
/// </summary>
public abstract class InterruptContractTests<TEngine> : EngineContract<TEngine>
    where TEngine : IInboxEngine, new()
{
    private static readonly DateTimeOffset T0 = new(2030, 1, 1, 12, 0, 0, TimeSpan.Zero);

    private IInboxInterrupts Interrupts => Stores.Interrupts;

    [Fact]
    public async Task A_pause_is_stored_once_with_a_delivery_per_handler_that_the_dispatcher_claims_as_the_interrupts()
    {
        var webhookId = (await Inbox.AppendAsync([Webhook("run-paused")], CancellationToken.None))[0].Id;
        var pause = Pause("thread-1", "interrupts:i-1", webhookId: webhookId, handlers: ["slack", "pager"]);

        var first = await Interrupts.RecordInterruptAsync(pause, CancellationToken.None);
        var again = await Interrupts.RecordInterruptAsync(pause with { SeenAt = T0.AddMinutes(1), Handlers = ["slack", "pager", "late"] }, CancellationToken.None);

        Assert.True(first.Created);
        Assert.Equal((first.Id, false), again);
        var stored = (await Interrupts.GetInterruptAsync(first.Id, CancellationToken.None))!;
        Assert.Equal(("prod", "thread-1", "run-paused", "assistant-a", "ask", webhookId, InterruptState.Waiting, T0),
            (stored.Deployment, stored.ThreadId, stored.RunId, stored.AssistantId, stored.GraphId, stored.WebhookId, stored.State, stored.SeenAt));
        Assert.Equal("""[{"id":"i-1","value":{"question":"ok?"}}]""", stored.Pending);
        Assert.Equal(["pager", "slack"], stored.Deliveries.Select(d => d.Handler).Order());

        var claimed = await Inbox.ClaimDueAsync("me", T0.AddSeconds(1), T0.AddMinutes(1), 10, CancellationToken.None);
        // The webhook's own delivery (h1) and the interrupt's two.
        Assert.Equal(3, claimed.Count);
        var forInterrupt = claimed.Where(c => c.InterruptId == first.Id).OrderBy(c => c.Handler).ToList();
        Assert.Equal(["pager", "slack"], forInterrupt.Select(c => c.Handler));
        Assert.All(forInterrupt, c => Assert.Equal((webhookId, T0, 1), (c.WebhookId, c.ReceivedAt, c.Attempt)));
        Assert.Null(claimed.Single(c => c.Handler == "h1").InterruptId);

        var slack = forInterrupt[1];
        Assert.True(await Inbox.CompleteAttemptAsync(
            new AttemptResult(slack.DeliveryId, "me", 1, 0, T0, T0, true, null, DeliveryState.Succeeded, null), CancellationToken.None));
        var after = (await Interrupts.GetInterruptAsync(first.Id, CancellationToken.None))!;
        Assert.Equal(DeliveryState.Succeeded, after.Deliveries.Single(d => d.Handler == "slack").State);
        // The webhook's deliveries are its own: the interrupt's are not listed with it.
        Assert.Equal(["h1"], (await Inbox.GetAsync(webhookId, CancellationToken.None))!.Deliveries.Select(d => d.Handler));
    }

    [Fact]
    public async Task A_new_pause_of_the_same_thread_is_a_new_interrupt_and_a_breakpoint_is_keyed_by_its_checkpoint()
    {
        var first = await Interrupts.RecordInterruptAsync(Pause("thread-1", "interrupts:i-1"), CancellationToken.None);
        var second = await Interrupts.RecordInterruptAsync(Pause("thread-1", "interrupts:i-2"), CancellationToken.None);
        var breakpoint = await Interrupts.RecordInterruptAsync(Pause("thread-1", "checkpoint:c-1") with { Pending = "[]" }, CancellationToken.None);
        var otherDeployment = await Interrupts.RecordInterruptAsync(Pause("thread-1", "interrupts:i-1") with { Deployment = "staging" }, CancellationToken.None);

        Assert.True(first.Created && second.Created && breakpoint.Created && otherDeployment.Created);
        Assert.Equal(4, new[] { first.Id, second.Id, breakpoint.Id, otherDeployment.Id }.Distinct().Count());
    }

    [Fact]
    public async Task Waiting_becomes_resumed_or_expired_once_and_the_resumed_runs_webhook_links_itself_when_it_arrives()
    {
        var resumed = (await Interrupts.RecordInterruptAsync(Pause("thread-1", "interrupts:i-1"), CancellationToken.None)).Id;
        var expired = (await Interrupts.RecordInterruptAsync(Pause("thread-2", "interrupts:i-2"), CancellationToken.None)).Id;

        Assert.True(await Interrupts.MarkInterruptResumedAsync(resumed, "run-resumed", T0.AddMinutes(5), "rita", CancellationToken.None));
        Assert.False(await Interrupts.MarkInterruptResumedAsync(resumed, "run-twice", T0.AddMinutes(6), null, CancellationToken.None));
        Assert.False(await Interrupts.MarkInterruptExpiredAsync(resumed, "too late", T0.AddMinutes(6), CancellationToken.None));
        Assert.True(await Interrupts.MarkInterruptExpiredAsync(expired, "resumed elsewhere", T0.AddMinutes(7), CancellationToken.None));
        Assert.False(await Interrupts.MarkInterruptResumedAsync(expired, "run-x", T0.AddMinutes(8), null, CancellationToken.None));

        var before = (await Interrupts.GetInterruptAsync(resumed, CancellationToken.None))!;
        Assert.Equal((InterruptState.Resumed, T0.AddMinutes(5), "run-resumed", (long?)null, "rita"),
            (before.State, before.ResumedAt, before.ResumedRunId, before.ResumedWebhookId, before.ResumedBy));
        var webhookId = (await Inbox.AppendAsync([Webhook("run-resumed")], CancellationToken.None))[0].Id;
        Assert.Equal(webhookId, (await Interrupts.GetInterruptAsync(resumed, CancellationToken.None))!.ResumedWebhookId);
        var gone = (await Interrupts.GetInterruptAsync(expired, CancellationToken.None))!;
        Assert.Equal((InterruptState.Expired, T0.AddMinutes(7), "resumed elsewhere"), (gone.State, gone.EndedAt, gone.Detail));
        Assert.Null(await Interrupts.GetInterruptAsync(expired + 100, CancellationToken.None));
    }

    [Fact]
    public async Task Interrupts_are_listed_newest_first_filtered_paged_and_waiting_ones_counted_by_deployment_and_graph()
    {
        var ids = new List<long>();
        foreach (var (thread, deployment, graph) in new[] { ("t1", "prod", "ask"), ("t2", "prod", "ask"), ("t3", "prod", "gate"), ("t4", "staging", "ask") })
        {
            ids.Add((await Interrupts.RecordInterruptAsync(Pause(thread, "interrupts:" + thread) with { Deployment = deployment, GraphId = graph }, CancellationToken.None)).Id);
        }

        await Interrupts.MarkInterruptResumedAsync(ids[1], "run-r", T0, null, CancellationToken.None);

        var firstPage = await Interrupts.ListInterruptsAsync(new InterruptQuery { Limit = 3 }, CancellationToken.None);
        var secondPage = await Interrupts.ListInterruptsAsync(new InterruptQuery { Limit = 3, Before = firstPage.NextCursor }, CancellationToken.None);
        Assert.Equal(["t4", "t3", "t2"], firstPage.Items.Select(i => i.ThreadId));
        Assert.Equal(["t1"], secondPage.Items.Select(i => i.ThreadId));
        Assert.Null(secondPage.NextCursor);
        Assert.Equal(["t3", "t1"], (await Interrupts.ListInterruptsAsync(new InterruptQuery { State = InterruptState.Waiting, Deployment = "prod" }, CancellationToken.None)).Items.Select(i => i.ThreadId));
        Assert.Equal(["t4", "t1"], (await Interrupts.ListInterruptsAsync(new InterruptQuery { State = InterruptState.Waiting, GraphId = "ask" }, CancellationToken.None)).Items.Select(i => i.ThreadId));
        Assert.Equal(["t2"], (await Interrupts.ListInterruptsAsync(new InterruptQuery { ThreadId = "t2" }, CancellationToken.None)).Items.Select(i => i.ThreadId));

        var counts = await Interrupts.CountWaitingInterruptsAsync(CancellationToken.None);
        Assert.Equal([("prod", "ask", 1L), ("prod", "gate", 1L), ("staging", "ask", 1L)],
            counts.Select(c => (c.Deployment, c.GraphId, c.Count)).Order());
    }

    [Fact]
    public async Task The_oldest_waiting_pause_is_the_first_found_of_those_still_waiting_and_the_earliest_due_delivery_is_read_beside_it()
    {
        Assert.Equal(new OldestWaiting(null, null), await Inbox.ReadOldestWaitingAsync(CancellationToken.None));
        var first = await Interrupts.RecordInterruptAsync(Pause("thread-1", "interrupts:i-1"), CancellationToken.None);
        await Interrupts.RecordInterruptAsync(Pause("thread-2", "interrupts:i-2") with { SeenAt = T0.AddMinutes(5) }, CancellationToken.None);
        Assert.Equal(new OldestWaiting(null, T0), await Inbox.ReadOldestWaitingAsync(CancellationToken.None));

        Assert.True(await Interrupts.MarkInterruptResumedAsync(first.Id, "run-resumed", T0.AddMinutes(6), null, CancellationToken.None));
        await Inbox.AppendAsync([Webhook("run-late") with { ReceivedAt = T0.AddMinutes(7) }, Webhook("run-early") with { ReceivedAt = T0.AddMinutes(3) }],
            CancellationToken.None);

        Assert.Equal(new OldestWaiting(T0.AddMinutes(3), T0.AddMinutes(5)), await Inbox.ReadOldestWaitingAsync(CancellationToken.None));
    }

    [Fact]
    public async Task Purging_deletes_old_interrupts_that_are_over_with_their_deliveries_and_keeps_waiting_due_and_recent_dead_ones()
    {
        var old = T0 - TimeSpan.FromDays(40);
        var oldish = T0 - TimeSpan.FromDays(10);
        var pauses = new (string Thread, DateTimeOffset SeenAt, string State, string? Delivery)[]
        {
            ("old-resumed", old, InterruptState.Resumed, DeliveryState.Succeeded),
            ("old-expired-dead", old, InterruptState.Expired, DeliveryState.Dead),
            ("old-expired", old, InterruptState.Expired, null),
            ("old-waiting", old, InterruptState.Waiting, DeliveryState.Succeeded),
            ("old-retrying", old, InterruptState.Resumed, DeliveryState.Failed),
            ("oldish-dead", oldish, InterruptState.Expired, DeliveryState.Dead),
            ("recent", T0, InterruptState.Resumed, DeliveryState.Succeeded),
        };
        var threads = new Dictionary<long, string>();
        foreach (var (thread, seenAt, state, delivery) in pauses)
        {
            var id = (await Interrupts.RecordInterruptAsync(Pause(thread, "interrupts:" + thread, handlers: delivery is null ? [] : ["slack"]) with { SeenAt = seenAt },
                CancellationToken.None)).Id;
            threads[id] = thread;
            _ = state switch
            {
                InterruptState.Resumed => await Interrupts.MarkInterruptResumedAsync(id, "run-" + thread, seenAt, null, CancellationToken.None),
                InterruptState.Expired => await Interrupts.MarkInterruptExpiredAsync(id, "gone", seenAt, CancellationToken.None),
                _ => true,
            };
        }

        foreach (var claimed in await Inbox.ClaimDueAsync("w", T0, T0.AddMinutes(1), 50, CancellationToken.None))
        {
            var state = pauses.Single(p => p.Thread == threads[claimed.InterruptId!.Value]).Delivery!;
            var succeeded = state == DeliveryState.Succeeded;
            Assert.True(await Inbox.CompleteAttemptAsync(new AttemptResult(claimed.DeliveryId, "w", claimed.Attempt, 0, T0, T0, succeeded, succeeded ? null : "x",
                state, state == DeliveryState.Failed ? T0.AddMinutes(1) : null), CancellationToken.None));
        }

        var before = T0 - TimeSpan.FromDays(7);
        var deadBefore = T0 - TimeSpan.FromDays(30);
        Assert.Equal(new PurgeCounts(0, 2), await Inbox.PurgeAsync(before, deadBefore, 2, CancellationToken.None));
        Assert.Equal(new PurgeCounts(0, 1), await Inbox.PurgeAsync(before, deadBefore, 2, CancellationToken.None));
        Assert.Equal(new PurgeCounts(0, 0), await Inbox.PurgeAsync(before, deadBefore, 2, CancellationToken.None));

        var left = await Interrupts.ListInterruptsAsync(new InterruptQuery(), CancellationToken.None);
        Assert.Equal(["old-retrying", "old-waiting", "oldish-dead", "recent"], left.Items.Select(i => i.ThreadId).Order());
        // The purged interrupts' deliveries (and their attempts) went with them.
        Assert.Equal(4, (await Inbox.CountDeliveriesAsync(CancellationToken.None)).Sum(c => c.Count));
    }

    [Fact]
    public async Task Dead_interrupt_deliveries_are_replayed_one_interrupt_at_a_time_and_in_bulk_by_the_filters_an_interrupt_has()
    {
        var webhookId = (await Inbox.AppendAsync([Webhook("run-paused")], CancellationToken.None))[0].Id;
        var ask = (await Interrupts.RecordInterruptAsync(Pause("t1", "interrupts:i-1", handlers: ["slack", "pager"]), CancellationToken.None)).Id;
        var gate = (await Interrupts.RecordInterruptAsync(Pause("t2", "interrupts:i-2", handlers: ["slack", "pager"]) with { GraphId = "gate" }, CancellationToken.None)).Id;
        foreach (var claimed in await Inbox.ClaimDueAsync("w", T0, T0.AddMinutes(1), 10, CancellationToken.None))
        {
            Assert.True(await Inbox.CompleteAttemptAsync(
                new AttemptResult(claimed.DeliveryId, "w", 1, 0, T0, T0, false, "x", DeliveryState.Dead, null), CancellationToken.None));
        }

        var later = T0.AddMinutes(5);
        Assert.Equal(0, await Inbox.ReplayDeadAsync(new WebhookQuery { Status = "success", GraphId = "gate" }, null, later, CancellationToken.None));
        Assert.Equal(1, await Inbox.ReplayDeadAsync(new WebhookQuery { GraphId = "gate" }, "slack", later, CancellationToken.None));
        Assert.Equal(1, await Interrupts.ReplayInterruptAsync(ask, ["pager"], later, CancellationToken.None));
        Assert.Null(await Interrupts.ReplayInterruptAsync(gate + 100, ["pager"], later, CancellationToken.None));

        async Task<Dictionary<string, string>> StatesAsync(long id) =>
            (await Interrupts.GetInterruptAsync(id, CancellationToken.None))!.Deliveries.ToDictionary(d => d.Handler, d => d.State);
        Assert.Equal(new Dictionary<string, string> { ["pager"] = DeliveryState.Pending, ["slack"] = DeliveryState.Dead }, await StatesAsync(ask));
        Assert.Equal(new Dictionary<string, string> { ["pager"] = DeliveryState.Dead, ["slack"] = DeliveryState.Pending }, await StatesAsync(gate));
        Assert.Equal(DeliveryState.Dead, (await Inbox.GetAsync(webhookId, CancellationToken.None))!.Deliveries.Single().State);

        // Without filters: every dead letter, of webhooks and of interrupts; each replayed one is due now, in a new round.
        Assert.Equal(3, await Inbox.ReplayDeadAsync(new WebhookQuery(), null, later, CancellationToken.None));
        var again = await Inbox.ClaimDueAsync("w", later, later.AddMinutes(1), 10, CancellationToken.None);
        Assert.Equal(5, again.Count);
        Assert.All(again, c => Assert.Equal((2, 1), (c.Attempt, c.AttemptInRound)));
    }

    [Fact]
    public async Task One_claim_at_a_time_holds_the_resume_of_a_waiting_interrupt_until_it_is_given_back_or_lapses()
    {
        var id = (await Interrupts.RecordInterruptAsync(Pause("thread-1", "interrupts:i-1"), CancellationToken.None)).Id;

        // Claimed at once from many connections (on PostgreSQL each waits for the row, then finds it claimed): one wins.
        var racers = await Task.WhenAll(Enumerable.Range(0, 8).Select(i => Task.Run(() =>
            Interrupts.ClaimInterruptResumeAsync(id, $"racer-{i}", T0, T0.AddMinutes(5), CancellationToken.None))));
        Assert.Single(racers, won => won);
        var winner = $"racer-{Array.IndexOf(racers, true)}";

        await Interrupts.ReleaseInterruptResumeAsync(id, "someone-else", CancellationToken.None); // Not the holder: no effect.
        Assert.False(await Interrupts.ClaimInterruptResumeAsync(id, "late", T0.AddMinutes(1), T0.AddMinutes(6), CancellationToken.None));
        await Interrupts.ReleaseInterruptResumeAsync(id, winner, CancellationToken.None);
        Assert.True(await Interrupts.ClaimInterruptResumeAsync(id, "next", T0.AddMinutes(1), T0.AddMinutes(2), CancellationToken.None));
        // A claim whose holder died lapses.
        Assert.True(await Interrupts.ClaimInterruptResumeAsync(id, "after-lapse", T0.AddMinutes(2), T0.AddMinutes(3), CancellationToken.None));

        Assert.True(await Interrupts.MarkInterruptResumedAsync(id, "run-resumed", T0.AddMinutes(2), null, CancellationToken.None));
        await Interrupts.ReleaseInterruptResumeAsync(id, "after-lapse", CancellationToken.None);
        Assert.False(await Interrupts.ClaimInterruptResumeAsync(id, "too-late", T0.AddMinutes(4), T0.AddMinutes(5), CancellationToken.None));
        Assert.False(await Interrupts.ClaimInterruptResumeAsync(id + 100, "none", T0, T0.AddMinutes(1), CancellationToken.None));
    }

    private static NewInterrupt Pause(string threadId, string pauseKey, long? webhookId = null, IReadOnlyList<string>? handlers = null) =>
        new("prod", threadId, pauseKey, "run-paused", "assistant-a", "ask", webhookId, """[{"id":"i-1","value":{"question":"ok?"}}]""", """["ask"]""", "c-1", T0,
            handlers ?? []);

    private static NewWebhook Webhook(string runId) =>
        new(runId, "thread-1", "assistant-a", "ask", "success", T0, Encoding.UTF8.GetBytes($$"""{"run_id":"{{runId}}"}"""), ["h1"], "prod");
}

/// <summary>The interrupt contract on a real SQLite file of the test's own.</summary>
public sealed class SqliteInterruptContractTests : InterruptContractTests<SqliteEngine>;

/// <summary>The interrupt contract on a real PostgreSQL server, in a database of the test's own.</summary>
[Trait("Category", "System")]
public sealed class PostgresInterruptContractTests : InterruptContractTests<PostgresEngine>;
