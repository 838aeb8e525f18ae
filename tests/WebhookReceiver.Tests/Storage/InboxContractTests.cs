using System.Collections.Concurrent;
using System.Text;
using WebhookReceiver.Webhooks;

namespace WebhookReceiver.Tests.Storage;

/// <summary>
/// What every inbox engine promises, run against each of them (the subclasses below). Every test gets an empty store
/// of its own and passes times explicitly, so nothing here sleeps.
/// </summary>
public abstract class InboxContractTests : IAsyncLifetime
{
    protected static readonly DateTimeOffset T0 = new(2030, 1, 1, 12, 0, 0, TimeSpan.Zero);
    private static readonly TimeSpan Lease = TimeSpan.FromMinutes(1);

    private protected TestStores Stores { get; private set; } = null!;

    private protected IWebhookInbox Inbox => Stores.Webhooks;

    /// <summary>The stores over a new, empty store of the engine under test; not yet migrated.</summary>
    private protected abstract Task<TestStores> CreateStoresAsync();

    /// <summary>Removes what <see cref="CreateStoresAsync"/> made, after the stores have been disposed.</summary>
    protected abstract Task DestroyStoreAsync();

    public async Task InitializeAsync()
    {
        Stores = await CreateStoresAsync();
        await Stores.MigrateAsync();
    }

    public async Task DisposeAsync()
    {
        await Stores.DisposeAsync();
        await DestroyStoreAsync();
    }

    [Fact]
    public async Task A_store_with_a_module_schema_newer_than_the_build_is_refused_with_a_message_naming_the_module_and_both_versions()
    {
        var known = WebhookStore.Schema.Steps.Count;
        await using (var connection = await Stores.Kernel.OpenAsync(CancellationToken.None))
        await using (var record = connection.CreateCommand())
        {
            record.CommandText = $"INSERT INTO storage_migrations (module, version, applied_at) VALUES ('webhooks', {known + 1}, 0)";
            await record.ExecuteNonQueryAsync();
        }

        var failure = await Assert.ThrowsAsync<InvalidOperationException>(() => Stores.MigrateAsync());

        Assert.Equal($"The store's webhooks schema is version {known + 1}, newer than this build's {known}: run a newer release, or restore a backup.",
            failure.Message);
    }

    [Fact]
    public async Task Migrating_again_applies_nothing_and_records_each_module_version_once()
    {
        await Stores.MigrateAsync();

        await using var connection = await Stores.Kernel.OpenAsync(CancellationToken.None);
        await using var read = connection.CreateCommand();
        read.CommandText = "SELECT module, version FROM storage_migrations ORDER BY module, version";
        var recorded = new List<string>();
        await using (var reader = await read.ExecuteReaderAsync())
        {
            while (await reader.ReadAsync())
            {
                recorded.Add($"{reader.GetString(0)} {Convert.ToInt32(reader.GetValue(1), System.Globalization.CultureInfo.InvariantCulture)}");
            }
        }

        var expected = TestStores.Schemas.SelectMany(s => Enumerable.Range(1, s.Steps.Count).Select(v => $"{s.Module} {v}")).Order(StringComparer.Ordinal);
        Assert.Equal(expected, recorded.Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task A_new_run_is_stored_with_a_delivery_per_handler_and_a_repeated_run_id_is_a_duplicate_of_the_first()
    {
        var first = Webhook("run-a", handlers: ["h1", "h2"]);
        var results = await AppendAsync(first, Webhook("run-b"), Webhook("run-a"));

        Assert.False(results[0].Duplicate);
        Assert.False(results[1].Duplicate);
        Assert.True(results[2].Duplicate);
        Assert.Equal(results[0].Id, results[2].Id);
        var again = await AppendAsync(Webhook("run-b"));
        Assert.Equal(new AppendResult(results[1].Id, Duplicate: true), again[0]);

        var stored = await Inbox.GetByRunIdAsync("run-a", CancellationToken.None);
        Assert.NotNull(stored);
        Assert.Equal(first.Payload, stored.Payload);
        Assert.Equal(T0, stored.ReceivedAt);
        Assert.Equal(["h1", "h2"], stored.Deliveries.Select(d => d.Handler));
        Assert.All(stored.Deliveries, d => Assert.Equal(DeliveryState.Pending, d.State));
        Assert.Equal(2, (await Inbox.ListAsync(new WebhookQuery(), CancellationToken.None)).Items.Count);
    }

    [Fact]
    public async Task Concurrent_appends_of_the_same_run_ids_store_each_once_whatever_the_order_of_the_batches()
    {
        var runIds = Enumerable.Range(0, 20).Select(i => $"run-{i:00}").ToList();
        // Like replicas whose group commits hold the same runs in different orders.
        var appends = Enumerable.Range(0, 8).Select(i => Task.Run(() =>
            AppendAsync((i % 2 == 0 ? runIds : Enumerable.Reverse(runIds)).Select(r => Webhook(r)).ToArray())));
        var outcomes = (await Task.WhenAll(appends)).SelectMany(r => r).ToList();

        Assert.Equal(20, outcomes.Count(r => !r.Duplicate));
        Assert.Equal(20, outcomes.Select(r => r.Id).Distinct().Count());
        var page = await Inbox.ListAsync(new WebhookQuery { Limit = 100 }, CancellationToken.None);
        Assert.Equal(runIds, page.Items.Select(w => w.RunId).Order());
        Assert.All(page.Items, w => Assert.Single(w.Deliveries));
    }

    [Fact]
    public async Task Concurrent_claimers_never_get_the_same_delivery()
    {
        await AppendAsync(Enumerable.Range(0, 150).Select(i => Webhook($"run-{i}", handlers: ["h1", "h2"])).ToArray());

        var claims = new ConcurrentBag<(string Owner, long DeliveryId)>();
        var claimers = Enumerable.Range(0, 6).Select(c => Task.Run(async () =>
        {
            var owner = $"replica-{c}";
            while (await Inbox.ClaimDueAsync(owner, T0, T0 + Lease, 5, CancellationToken.None) is { Count: > 0 } claimed)
            {
                foreach (var delivery in claimed)
                {
                    claims.Add((owner, delivery.DeliveryId));
                }
            }
        }));
        await Task.WhenAll(claimers);

        Assert.Equal(300, claims.Count);
        Assert.Equal(300, claims.Select(c => c.DeliveryId).Distinct().Count());
        Assert.Empty(await Inbox.ClaimDueAsync("late", T0, T0 + Lease, 10, CancellationToken.None));
    }

    [Fact]
    public async Task A_lease_is_taken_over_once_it_expires_and_its_old_owner_can_no_longer_record()
    {
        await AppendAsync(Webhook("run-a"));
        var first = Assert.Single(await Inbox.ClaimDueAsync("dead-replica", T0, T0 + Lease, 10, CancellationToken.None));
        Assert.Equal(1, first.Attempt);

        Assert.Empty(await Inbox.ClaimDueAsync("other", T0 + Lease - TimeSpan.FromMilliseconds(1), T0 + 2 * Lease, 10, CancellationToken.None));
        var takeover = Assert.Single(await Inbox.ClaimDueAsync("other", T0 + Lease, T0 + 2 * Lease, 10, CancellationToken.None));

        Assert.Equal(first.DeliveryId, takeover.DeliveryId);
        Assert.Equal(2, takeover.Attempt);
        Assert.Equal(Encoding.UTF8.GetBytes(Body("run-a")), takeover.Payload);
        Assert.False(await Inbox.CompleteAttemptAsync(Succeeded(first, "dead-replica", T0 + Lease), CancellationToken.None));
        Assert.True(await Inbox.CompleteAttemptAsync(Succeeded(takeover, "other", T0 + Lease), CancellationToken.None));

        var stored = await Inbox.GetByRunIdAsync("run-a", CancellationToken.None);
        Assert.Equal(DeliveryState.Succeeded, Assert.Single(stored!.Deliveries).State);
        Assert.Equal([(1, AttemptOutcome.Abandoned), (2, AttemptOutcome.Succeeded)], stored.Attempts!.Select(a => (a.Attempt, a.Outcome)));
        Assert.Empty(await Inbox.ClaimDueAsync("other", T0 + 10 * Lease, T0 + 11 * Lease, 10, CancellationToken.None));
    }

    [Fact]
    public async Task A_lease_taken_over_on_expiry_records_its_unfinished_attempt_as_abandoned_and_counts_it()
    {
        await AppendAsync(Webhook("run-a"));
        var first = Assert.Single(await Inbox.ClaimDueAsync("dead-replica", T0, T0 + Lease, 10, CancellationToken.None));

        var takeover = await Inbox.ClaimDueAsync("other", T0 + Lease, T0 + 2 * Lease, 10, maxAttempts: 3, CancellationToken.None);

        var claimed = Assert.Single(takeover.Claimed);
        Assert.Equal((2, 2), (claimed.Attempt, claimed.AttemptInRound));
        Assert.Equal(new AbandonedAttempt(first.DeliveryId, "h1", 1, DeliveryState.Failed), Assert.Single(takeover.Abandoned));
        var stored = (await Inbox.GetByRunIdAsync("run-a", CancellationToken.None))!;
        var abandoned = Assert.Single(stored.Attempts!);
        Assert.Equal((1, T0, T0 + Lease, false, AbandonedAttempt.Error, AttemptOutcome.Abandoned),
            (abandoned.Attempt, abandoned.StartedAt, abandoned.EndedAt, abandoned.Succeeded, abandoned.Error, abandoned.Outcome));
        var delivery = Assert.Single(stored.Deliveries);
        Assert.Equal((DeliveryState.Failed, 2, AbandonedAttempt.Error), (delivery.State, delivery.Attempts, delivery.LastError));

        // The old owner, were it only slow, can no longer record; the new one records its own attempt after the abandoned one.
        Assert.False(await Inbox.CompleteAttemptAsync(Succeeded(first, "dead-replica", T0 + Lease), CancellationToken.None));
        Assert.True(await Inbox.CompleteAttemptAsync(Succeeded(claimed, "other", T0 + Lease), CancellationToken.None));
        Assert.Equal([AttemptOutcome.Abandoned, AttemptOutcome.Succeeded],
            (await Inbox.GetByRunIdAsync("run-a", CancellationToken.None))!.Attempts!.Select(a => a.Outcome));
    }

    [Fact]
    public async Task When_the_abandoned_attempt_was_the_last_allowed_the_takeover_dead_letters_the_delivery_instead_of_leasing_it()
    {
        await AppendAsync(Webhook("run-a"), Webhook("run-b", receivedAt: T0 + TimeSpan.FromSeconds(1)));
        var leased = await Inbox.ClaimDueAsync("first", T0, T0 + Lease, 1, maxAttempts: 2, CancellationToken.None);
        var doomed = Assert.Single(leased.Claimed).DeliveryId;
        // The second life dies too, holding attempt 2 of 2.
        Assert.Equal(doomed, Assert.Single((await Inbox.ClaimDueAsync("second", T0 + Lease, T0 + 2 * Lease, 1, 2, CancellationToken.None)).Claimed).DeliveryId);

        var third = await Inbox.ClaimDueAsync("third", T0 + 2 * Lease, T0 + 3 * Lease, 10, maxAttempts: 2, CancellationToken.None);

        Assert.Equal(new AbandonedAttempt(doomed, "h1", 2, DeliveryState.Dead), Assert.Single(third.Abandoned));
        Assert.DoesNotContain(third.Claimed, c => c.DeliveryId == doomed);
        var other = Assert.Single(third.Claimed); // the other webhook's delivery, untouched by the decision
        Assert.True(await Inbox.CompleteAttemptAsync(Succeeded(other, "third", T0 + 2 * Lease), CancellationToken.None));
        var stored = (await Inbox.GetByRunIdAsync("run-a", CancellationToken.None))!;
        var delivery = Assert.Single(stored.Deliveries);
        Assert.Equal((DeliveryState.Dead, 2, AbandonedAttempt.Error), (delivery.State, delivery.Attempts, delivery.LastError));
        Assert.Equal([(1, AttemptOutcome.Abandoned), (2, AttemptOutcome.Abandoned)], stored.Attempts!.Select(a => (a.Attempt, a.Outcome)));
        Assert.Empty(await Inbox.ClaimDueAsync("later", T0 + 10 * Lease, T0 + 11 * Lease, 10, CancellationToken.None));
        Assert.Contains(await Inbox.CountDeliveriesAsync(CancellationToken.None), c => c is { State: DeliveryState.Dead, Count: 1 });

        // A replay of the dead letter starts a new round with every attempt again.
        Assert.Equal(1, await Inbox.ReplayDeadAsync(new WebhookQuery(), null, T0 + 11 * Lease, CancellationToken.None));
        var replayed = Assert.Single(await Inbox.ClaimDueAsync("later", T0 + 11 * Lease, T0 + 12 * Lease, 10, CancellationToken.None));
        Assert.Equal((3, 1), (replayed.Attempt, replayed.AttemptInRound));
    }

    [Fact]
    public async Task An_attempt_abandoned_after_a_replay_started_a_new_round_is_recorded_but_does_not_count_in_that_round()
    {
        var id = (await AppendAsync(Webhook("run-a")))[0].Id;
        Assert.Single(await Inbox.ClaimDueAsync("dead-replica", T0, T0 + Lease, 10, CancellationToken.None));
        Assert.Equal(1, await Inbox.ReplayAsync(id, ["h1"], T0 + TimeSpan.FromSeconds(5), CancellationToken.None));

        var takeover = await Inbox.ClaimDueAsync("other", T0 + Lease, T0 + 2 * Lease, 10, maxAttempts: 1, CancellationToken.None);

        Assert.Equal(DeliveryState.Pending, Assert.Single(takeover.Abandoned).State);
        var claimed = Assert.Single(takeover.Claimed);
        Assert.Equal((2, 1), (claimed.Attempt, claimed.AttemptInRound));
        Assert.Equal(AttemptOutcome.Abandoned, Assert.Single((await Inbox.GetAsync(id, CancellationToken.None))!.Attempts!).Outcome);
    }

    [Fact]
    public async Task The_oldest_waiting_delivery_is_the_earliest_due_of_those_pending_or_retrying_and_none_once_all_are_done()
    {
        Assert.Null((await Inbox.ReadOldestWaitingAsync(CancellationToken.None)).DeliveryDueAt);
        await AppendAsync(Webhook("run-a", receivedAt: T0), Webhook("run-b", receivedAt: T0 + TimeSpan.FromMinutes(1)));
        Assert.Equal(T0, (await Inbox.ReadOldestWaitingAsync(CancellationToken.None)).DeliveryDueAt);

        // Leased (running) deliveries still wait; run-a's then fails with a retry due at +12 min, and run-b's succeeds.
        var claimed = await Inbox.ClaimDueAsync("w", T0 + TimeSpan.FromMinutes(2), T0 + TimeSpan.FromMinutes(2) + Lease, 10, CancellationToken.None);
        Assert.Equal(T0, (await Inbox.ReadOldestWaitingAsync(CancellationToken.None)).DeliveryDueAt);
        var retryAt = T0 + TimeSpan.FromMinutes(12);
        Assert.True(await Inbox.CompleteAttemptAsync(new AttemptResult(claimed[0].DeliveryId, "w", 1, 0, T0, T0, false, "boom", DeliveryState.Failed, retryAt),
            CancellationToken.None));
        Assert.True(await Inbox.CompleteAttemptAsync(Succeeded(claimed[1], "w", T0), CancellationToken.None));
        Assert.Equal(retryAt, (await Inbox.ReadOldestWaitingAsync(CancellationToken.None)).DeliveryDueAt);

        await FinishAllAsync(retryAt, DeliveryState.Dead);
        Assert.Null((await Inbox.ReadOldestWaitingAsync(CancellationToken.None)).DeliveryDueAt);
    }

    [Fact]
    public async Task Attempts_that_finished_or_were_given_back_are_never_taken_for_abandoned()
    {
        var ids = await AppendAsync(Webhook("run-a"), Webhook("run-b"));
        var claimed = await Inbox.ClaimDueAsync("w", T0, T0 + Lease, 10, CancellationToken.None);
        var failed = claimed.Single(c => c.WebhookId == ids[0].Id);
        var released = claimed.Single(c => c.WebhookId == ids[1].Id);
        Assert.True(await Inbox.CompleteAttemptAsync(new AttemptResult(failed.DeliveryId, "w", 1, 0, T0, T0, false, "boom",
            DeliveryState.Failed, T0 + TimeSpan.FromSeconds(1)), CancellationToken.None));
        await Inbox.ReleaseAsync("w", [released.DeliveryId], CancellationToken.None);

        // Both due again, after the first lease would have expired.
        var again = await Inbox.ClaimDueAsync("w", T0 + Lease, T0 + 2 * Lease, 10, maxAttempts: 1, CancellationToken.None);

        Assert.Empty(again.Abandoned);
        Assert.Equal((2, 2), again.Claimed.Where(c => c.WebhookId == ids[0].Id).Select(c => (c.Attempt, c.AttemptInRound)).Single());
        Assert.Equal((1, 1), again.Claimed.Where(c => c.WebhookId == ids[1].Id).Select(c => (c.Attempt, c.AttemptInRound)).Single());
        Assert.Equal([AttemptOutcome.Failed], (await Inbox.GetByRunIdAsync("run-a", CancellationToken.None))!.Attempts!.Select(a => a.Outcome));
        Assert.Empty((await Inbox.GetByRunIdAsync("run-b", CancellationToken.None))!.Attempts!);
    }

    [Fact]
    public async Task A_released_delivery_is_claimable_at_once_and_the_attempt_does_not_count()
    {
        await AppendAsync(Webhook("run-a"));
        var claimed = Assert.Single(await Inbox.ClaimDueAsync("stopping", T0, T0 + Lease, 10, CancellationToken.None));

        await Inbox.ReleaseAsync("someone-else", [claimed.DeliveryId], CancellationToken.None);
        Assert.Empty(await Inbox.ClaimDueAsync("next", T0, T0 + Lease, 10, CancellationToken.None));
        await Inbox.ReleaseAsync("stopping", [claimed.DeliveryId], CancellationToken.None);

        var again = Assert.Single(await Inbox.ClaimDueAsync("next", T0, T0 + Lease, 10, CancellationToken.None));
        Assert.Equal(1, again.Attempt);
    }

    [Fact]
    public async Task A_failed_attempt_is_recorded_and_claimable_again_only_from_its_next_attempt_time()
    {
        await AppendAsync(Webhook("run-a"));
        var first = Assert.Single(await Inbox.ClaimDueAsync("w", T0, T0 + Lease, 10, CancellationToken.None));
        var retryAt = T0 + TimeSpan.FromSeconds(10);
        Assert.True(await Inbox.CompleteAttemptAsync(
            new AttemptResult(first.DeliveryId, "w", first.Attempt, 0, T0, T0 + TimeSpan.FromSeconds(1), false, "boom", DeliveryState.Failed, retryAt),
            CancellationToken.None));

        var failed = Assert.Single((await Inbox.GetByRunIdAsync("run-a", CancellationToken.None))!.Deliveries);
        Assert.Equal((DeliveryState.Failed, 1, "boom", (DateTimeOffset?)retryAt), (failed.State, failed.Attempts, failed.LastError, failed.NextAttemptAt));
        Assert.Empty(await Inbox.ClaimDueAsync("w", retryAt - TimeSpan.FromMilliseconds(1), retryAt + Lease, 10, CancellationToken.None));

        var second = Assert.Single(await Inbox.ClaimDueAsync("w", retryAt, retryAt + Lease, 10, CancellationToken.None));
        Assert.Equal((2, 2), (second.Attempt, second.AttemptInRound));
        Assert.True(await Inbox.CompleteAttemptAsync(Succeeded(second, "w", retryAt), CancellationToken.None));

        var stored = await Inbox.GetByRunIdAsync("run-a", CancellationToken.None);
        Assert.Equal(DeliveryState.Succeeded, Assert.Single(stored!.Deliveries).State);
        Assert.Equal(new (int, bool, string?)[] { (1, false, "boom"), (2, true, null) }, stored.Attempts!.Select(a => (a.Attempt, a.Succeeded, a.Error)));
        Assert.Empty(await Inbox.ClaimDueAsync("w", T0 + 10 * Lease, T0 + 11 * Lease, 10, CancellationToken.None));
    }

    [Fact]
    public async Task Replaying_one_webhook_makes_its_deliveries_due_again_in_a_new_round_and_adds_a_missing_handler()
    {
        var id = (await AppendAsync(Webhook("run-a", handlers: ["h1", "h2"])))[0].Id;
        await FinishAllAsync(T0, DeliveryState.Succeeded);

        var later = T0 + TimeSpan.FromHours(1);
        Assert.Equal(2, await Inbox.ReplayAsync(id, ["h1", "h3"], later, CancellationToken.None));
        Assert.Null(await Inbox.ReplayAsync(id + 1000, ["h1"], later, CancellationToken.None));

        Assert.Empty(await Inbox.ClaimDueAsync("w", later - TimeSpan.FromMilliseconds(1), later + Lease, 10, CancellationToken.None));
        var replayed = await Inbox.ClaimDueAsync("w", later, later + Lease, 10, CancellationToken.None);
        Assert.Equal(["h1", "h3"], replayed.Select(d => d.Handler).Order());
        Assert.All(replayed, d => Assert.Equal(1, d.AttemptInRound));
        Assert.Equal(2, replayed.Single(d => d.Handler == "h1").Attempt);
        var h2 = (await Inbox.GetAsync(id, CancellationToken.None))!.Deliveries.Single(d => d.Handler == "h2");
        Assert.Equal(DeliveryState.Succeeded, h2.State);
    }

    [Fact]
    public async Task A_replay_while_an_attempt_runs_is_not_overwritten_by_that_attempt_finishing()
    {
        var id = (await AppendAsync(Webhook("run-a", handlers: ["h1"])))[0].Id;
        var running = Assert.Single(await Inbox.ClaimDueAsync("w", T0, T0 + Lease, 1, CancellationToken.None));

        var later = T0 + TimeSpan.FromSeconds(5);
        Assert.Equal(1, await Inbox.ReplayAsync(id, ["h1"], later, CancellationToken.None));
        Assert.True(await Inbox.CompleteAttemptAsync(new AttemptResult(running.DeliveryId, "w", running.Attempt,
            running.Attempt - running.AttemptInRound, T0, later, true, null, DeliveryState.Succeeded, null), CancellationToken.None));

        var delivery = Assert.Single((await Inbox.GetAsync(id, CancellationToken.None))!.Deliveries);
        Assert.Equal(DeliveryState.Pending, delivery.State); // the replay still stands
        var again = Assert.Single(await Inbox.ClaimDueAsync("w", later, later + Lease, 1, CancellationToken.None));
        Assert.Equal(2, again.Attempt);
        Assert.Equal(1, again.AttemptInRound);
    }

    [Fact]
    public async Task Dead_letters_are_replayed_in_bulk_by_the_webhook_filter_and_handler()
    {
        await AppendAsync(
            Webhook("a-1", assistantId: "assistant-a", handlers: ["h1", "h2"]),
            Webhook("a-2", assistantId: "assistant-a", handlers: ["h1", "h2"]),
            Webhook("b-1", assistantId: "assistant-b", handlers: ["h1", "h2"]));
        await FinishAllAsync(T0, DeliveryState.Dead);
        var now = T0 + TimeSpan.FromMinutes(5);

        Assert.Equal(2, await Inbox.ReplayDeadAsync(new WebhookQuery { AssistantId = "assistant-a" }, "h1", now, CancellationToken.None));
        var replayed = await Inbox.ClaimDueAsync("w", now, now + Lease, 10, CancellationToken.None);
        Assert.Equal([("a-1", "h1"), ("a-2", "h1")], await RunsAndHandlersAsync(replayed));

        Assert.Equal(4, await Inbox.ReplayDeadAsync(new WebhookQuery(), null, now, CancellationToken.None));
        Assert.Equal(0, await Inbox.ReplayDeadAsync(new WebhookQuery(), null, now, CancellationToken.None));
        var counts = await Inbox.CountDeliveriesAsync(CancellationToken.None);
        Assert.Equal(6, counts.Where(c => c.State == DeliveryState.Pending).Sum(c => c.Count)); // 4 replayed now + 2 still leased
        Assert.DoesNotContain(counts, c => c.State == DeliveryState.Dead);
    }

    [Fact]
    public async Task Listing_filters_by_each_field_and_pages_newest_first_without_gaps_or_repeats()
    {
        var webhooks = Enumerable.Range(0, 25).Select(i => Webhook(
            $"run-{i:00}",
            status: i % 5 == 0 ? "error" : "success",
            threadId: $"thread-{i % 3}",
            assistantId: i < 10 ? "assistant-a" : "assistant-b",
            receivedAt: T0 + TimeSpan.FromMinutes(i))).ToArray();
        await AppendAsync(webhooks);
        var failing = Assert.Single(await Inbox.ClaimDueAsync("w", T0, T0 + Lease, 1, CancellationToken.None));
        await Inbox.CompleteAttemptAsync(new AttemptResult(failing.DeliveryId, "w", 1, 0, T0, T0, false, "x", DeliveryState.Dead, null), CancellationToken.None);

        var seen = new List<StoredWebhook>();
        long? cursor = null;
        do
        {
            var page = await Inbox.ListAsync(new WebhookQuery { Limit = 10, Before = cursor }, CancellationToken.None);
            seen.AddRange(page.Items);
            cursor = page.NextCursor;
        }
        while (cursor is not null);
        Assert.Equal(webhooks.Select(w => w.RunId).Reverse(), seen.Select(w => w.RunId));

        Assert.Equal(5, await CountAsync(new WebhookQuery { Status = "error" }));
        Assert.Equal(9, await CountAsync(new WebhookQuery { ThreadId = "thread-0" }));
        Assert.Equal(10, await CountAsync(new WebhookQuery { AssistantId = "assistant-a" }));
        Assert.Equal(5, await CountAsync(new WebhookQuery { ReceivedFrom = T0 + TimeSpan.FromMinutes(20) }));
        Assert.Equal(3, await CountAsync(new WebhookQuery { ReceivedFrom = T0 + TimeSpan.FromMinutes(2), ReceivedTo = T0 + TimeSpan.FromMinutes(5) }));
        Assert.Equal(2, await CountAsync(new WebhookQuery { Status = "error", AssistantId = "assistant-a" }));
        var dead = await Inbox.ListAsync(new WebhookQuery { DeliveryState = DeliveryState.Dead }, CancellationToken.None);
        Assert.Equal(failing.WebhookId, Assert.Single(dead.Items).Id);
        Assert.Equal(24, await CountAsync(new WebhookQuery { DeliveryState = DeliveryState.Pending }));
    }

    [Fact]
    public async Task Listing_and_bulk_replay_filter_by_graph_id()
    {
        await AppendAsync(
            Webhook("agent-1") with { GraphId = "agent" },
            Webhook("support-1") with { GraphId = "support" },
            Webhook("support-2") with { GraphId = "support" },
            Webhook("no-graph") with { GraphId = null });
        await FinishAllAsync(T0, DeliveryState.Dead);
        var now = T0 + TimeSpan.FromMinutes(5);

        var support = await Inbox.ListAsync(new WebhookQuery { GraphId = "support" }, CancellationToken.None);
        Assert.Equal(["support-2", "support-1"], support.Items.Select(w => w.RunId));
        Assert.All(support.Items, w => Assert.Equal("support", w.GraphId));
        Assert.Equal(["agent-1"], (await Inbox.ListAsync(new WebhookQuery { GraphId = "agent" }, CancellationToken.None)).Items.Select(w => w.RunId));
        Assert.Empty((await Inbox.ListAsync(new WebhookQuery { GraphId = "other" }, CancellationToken.None)).Items);

        Assert.Equal(2, await Inbox.ReplayDeadAsync(new WebhookQuery { GraphId = "support" }, null, now, CancellationToken.None));
        var replayed = await Inbox.ClaimDueAsync("w", now, now + Lease, 10, CancellationToken.None);
        Assert.Equal([("support-1", "h1"), ("support-2", "h1")], await RunsAndHandlersAsync(replayed));
    }

    [Fact]
    public async Task Purging_deletes_old_finished_webhooks_in_batches_and_keeps_unfinished_and_recent_dead_ones()
    {
        var old = T0 - TimeSpan.FromDays(40);
        var oldish = T0 - TimeSpan.FromDays(10);
        await AppendAsync(
            Webhook("old-done-1", receivedAt: old),
            Webhook("old-done-2", receivedAt: old),
            Webhook("old-dead", receivedAt: old),
            Webhook("oldish-dead", receivedAt: oldish),
            Webhook("old-retrying", receivedAt: old),
            Webhook("recent-done", receivedAt: T0));
        foreach (var delivery in await Inbox.ClaimDueAsync("w", T0, T0 + Lease, 10, CancellationToken.None))
        {
            var runId = (await Inbox.GetAsync(delivery.WebhookId, CancellationToken.None))!.RunId!;
            (string State, DateTimeOffset? Next) outcome = runId switch
            {
                "old-retrying" => (DeliveryState.Failed, (DateTimeOffset?)T0 + Lease),
                _ when runId.EndsWith("dead", StringComparison.Ordinal) => (DeliveryState.Dead, null),
                _ => (DeliveryState.Succeeded, null),
            };
            var succeeded = outcome.State == DeliveryState.Succeeded;
            await Inbox.CompleteAttemptAsync(new AttemptResult(delivery.DeliveryId, "w", delivery.Attempt, delivery.Attempt - delivery.AttemptInRound, T0, T0, succeeded,
                succeeded ? null : "x", outcome.State, outcome.Next), CancellationToken.None);
        }

        var receivedBefore = T0 - TimeSpan.FromDays(7);
        var deadReceivedBefore = T0 - TimeSpan.FromDays(30);
        Assert.Equal(2, (await Inbox.PurgeAsync(receivedBefore, deadReceivedBefore, 2, CancellationToken.None)).Webhooks);
        Assert.Equal(1, (await Inbox.PurgeAsync(receivedBefore, deadReceivedBefore, 2, CancellationToken.None)).Webhooks);
        Assert.Equal(0, (await Inbox.PurgeAsync(receivedBefore, deadReceivedBefore, 2, CancellationToken.None)).Webhooks);

        var left = await Inbox.ListAsync(new WebhookQuery(), CancellationToken.None);
        Assert.Equal(["old-retrying", "oldish-dead", "recent-done"], left.Items.Select(w => w.RunId).Order());
        Assert.Null(await Inbox.GetByRunIdAsync("old-done-1", CancellationToken.None));
    }

    [Fact]
    public async Task Replicas_purging_at_once_delete_every_expired_webhook_once_and_without_errors()
    {
        var old = T0 - TimeSpan.FromDays(40);
        await AppendAsync(Enumerable.Range(0, 200).Select(i => Webhook($"old-{i:000}", receivedAt: old)).ToArray());
        await FinishAllAsync(T0, DeliveryState.Succeeded);

        // Like the retention loop of every replica: purge in small batches until nothing is left.
        var purgers = Enumerable.Range(0, 4).Select(_ => Task.Run(async () =>
        {
            var purged = 0;
            for (int batch; (batch = (await Inbox.PurgeAsync(T0, T0, 10, CancellationToken.None)).Webhooks) > 0;)
            {
                purged += batch;
            }

            return purged;
        }));

        Assert.Equal(200, (await Task.WhenAll(purgers)).Sum());
        Assert.Empty((await Inbox.ListAsync(new WebhookQuery(), CancellationToken.None)).Items);
        Assert.Empty(await Inbox.CountDeliveriesAsync(CancellationToken.None));
    }

    [Fact]
    public async Task Ping_succeeds_on_a_reachable_store()
    {
        await Inbox.PingAsync(CancellationToken.None);
    }

    private protected static NewWebhook Webhook(
        string runId,
        string status = "success",
        string? threadId = "thread-1",
        string? assistantId = "assistant-a",
        DateTimeOffset? receivedAt = null,
        IReadOnlyList<string>? handlers = null) =>
        new(runId, threadId, assistantId, "agent", status, receivedAt ?? T0, Encoding.UTF8.GetBytes(Body(runId)), handlers ?? ["h1"]);

    private static string Body(string runId) => $$"""{"run_id":"{{runId}}","status":"success"}""";

    private protected Task<IReadOnlyList<AppendResult>> AppendAsync(params NewWebhook[] batch) => Inbox.AppendAsync(batch, CancellationToken.None);

    private static AttemptResult Succeeded(ClaimedDelivery delivery, string owner, DateTimeOffset at) =>
        new(delivery.DeliveryId, owner, delivery.Attempt, delivery.Attempt - delivery.AttemptInRound, at, at, true, null, DeliveryState.Succeeded, null);

    /// <summary>Claims every due delivery and records it as <paramref name="state"/>.</summary>
    private async Task FinishAllAsync(DateTimeOffset now, string state)
    {
        while (await Inbox.ClaimDueAsync("finisher", now, now + Lease, 50, CancellationToken.None) is { Count: > 0 } claimed)
        {
            foreach (var delivery in claimed)
            {
                var succeeded = state == DeliveryState.Succeeded;
                Assert.True(await Inbox.CompleteAttemptAsync(
                    new AttemptResult(delivery.DeliveryId, "finisher", delivery.Attempt, delivery.Attempt - delivery.AttemptInRound, now, now, succeeded, succeeded ? null : "x", state, null),
                    CancellationToken.None));
            }
        }
    }

    private async Task<List<(string RunId, string Handler)>> RunsAndHandlersAsync(IEnumerable<ClaimedDelivery> deliveries)
    {
        var pairs = new List<(string, string)>();
        foreach (var delivery in deliveries)
        {
            pairs.Add(((await Inbox.GetAsync(delivery.WebhookId, CancellationToken.None))!.RunId!, delivery.Handler));
        }

        return pairs.Order().ToList();
    }

    private async Task<int> CountAsync(WebhookQuery query) =>
        (await Inbox.ListAsync(query with { Limit = 1000 }, CancellationToken.None)).Items.Count;
}
