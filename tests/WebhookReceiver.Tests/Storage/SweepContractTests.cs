using System.Text;
using WebhookReceiver.LangGraph;
using WebhookReceiver.Webhooks;

namespace WebhookReceiver.Tests.Storage;

/// <summary>
/// What every inbox engine promises the LangGraph sweep (the subclasses below): a webhook's source is stored, shown, filtered
/// on and handed to the dispatcher; one owner at a time holds a deployment's sweep lease, until it gives it back or it
/// expires; progress is kept only by the lease holder and read back by the next one; held run ids are found.
/// </summary>
public abstract class SweepContractTests<TEngine> : EngineContract<TEngine>
    where TEngine : IInboxEngine, new()
{
    private static readonly DateTimeOffset T0 = new(2030, 1, 1, 12, 0, 0, TimeSpan.Zero);

    private IInboxSweeps Sweeps => Stores.Sweeps;

    [Fact]
    public async Task The_source_is_stored_with_the_webhook_shown_filtered_on_and_claimed_with_its_deliveries()
    {
        await Inbox.AppendAsync([Webhook("run-posted", WebhookSource.Webhook), Webhook("run-swept", WebhookSource.Sweep)], CancellationToken.None);

        var swept = await Inbox.ListAsync(new WebhookQuery { Source = WebhookSource.Sweep }, CancellationToken.None);
        var posted = await Inbox.ListAsync(new WebhookQuery { Source = WebhookSource.Webhook }, CancellationToken.None);
        var claimed = await Inbox.ClaimDueAsync("me", T0, T0.AddMinutes(1), 10, CancellationToken.None);

        Assert.Equal(("run-swept", WebhookSource.Sweep), (Assert.Single(swept.Items).RunId, swept.Items[0].Source));
        Assert.Equal(("run-posted", WebhookSource.Webhook), (Assert.Single(posted.Items).RunId, posted.Items[0].Source));
        Assert.Equal(WebhookSource.Sweep, (await Inbox.GetByRunIdAsync("run-swept", CancellationToken.None))!.Source);
        Assert.Equal([("run-posted", WebhookSource.Webhook), ("run-swept", WebhookSource.Sweep)],
            claimed.Select(c => (Encoding.UTF8.GetString(c.Payload)[11..^2], c.Source)).Order());
    }

    [Fact]
    public async Task A_repeat_of_a_swept_run_id_is_a_duplicate_whichever_source_came_first()
    {
        var first = await Inbox.AppendAsync([Webhook("run-a", WebhookSource.Sweep), Webhook("run-b", WebhookSource.Webhook)], CancellationToken.None);
        var again = await Inbox.AppendAsync([Webhook("run-a", WebhookSource.Webhook), Webhook("run-b", WebhookSource.Sweep)], CancellationToken.None);

        Assert.Equal(first.Select(r => (r.Id, true)), again.Select(r => (r.Id, r.Duplicate)));
        Assert.Equal(WebhookSource.Sweep, (await Inbox.GetByRunIdAsync("run-a", CancellationToken.None))!.Source);
        Assert.Equal(WebhookSource.Webhook, (await Inbox.GetByRunIdAsync("run-b", CancellationToken.None))!.Source);
    }

    [Fact]
    public async Task One_owner_at_a_time_holds_a_deployments_sweep_lease_until_it_releases_it_or_it_expires()
    {
        Assert.Equal(new SweepProgress(null, null, null), await Sweeps.TryLeaseSweepAsync("prod", "a", T0, T0.AddMinutes(1), CancellationToken.None));
        Assert.Null(await Sweeps.TryLeaseSweepAsync("prod", "b", T0.AddSeconds(30), T0.AddMinutes(2), CancellationToken.None));
        Assert.NotNull(await Sweeps.TryLeaseSweepAsync("staging", "b", T0.AddSeconds(30), T0.AddMinutes(2), CancellationToken.None)); // Per deployment.
        Assert.NotNull(await Sweeps.TryLeaseSweepAsync("prod", "a", T0.AddSeconds(40), T0.AddMinutes(2), CancellationToken.None)); // Its holder renews it.

        await Sweeps.ReleaseSweepAsync("prod", "b", CancellationToken.None); // Not b's to give back.
        Assert.Null(await Sweeps.TryLeaseSweepAsync("prod", "b", T0.AddSeconds(50), T0.AddMinutes(3), CancellationToken.None));
        await Sweeps.ReleaseSweepAsync("prod", "a", CancellationToken.None);
        Assert.NotNull(await Sweeps.TryLeaseSweepAsync("prod", "b", T0.AddSeconds(50), T0.AddMinutes(3), CancellationToken.None));
        // b dies holding it: after it expires, c takes it over.
        Assert.Null(await Sweeps.TryLeaseSweepAsync("prod", "c", T0.AddMinutes(3).AddMilliseconds(-1), T0.AddMinutes(4), CancellationToken.None));
        Assert.NotNull(await Sweeps.TryLeaseSweepAsync("prod", "c", T0.AddMinutes(3), T0.AddMinutes(4), CancellationToken.None));
    }

    [Fact]
    public async Task Progress_is_saved_only_by_the_lease_holder_and_read_back_by_the_next_sweep()
    {
        var progress = new SweepProgress(T0.AddHours(-2), T0.AddMinutes(-50), T0.AddMinutes(-10));
        await Sweeps.TryLeaseSweepAsync("prod", "a", T0, T0.AddMinutes(1), CancellationToken.None);

        Assert.True(await Sweeps.SaveSweepAsync("prod", "a", progress, T0, CancellationToken.None));
        Assert.False(await Sweeps.SaveSweepAsync("prod", "b", new SweepProgress(T0, null, null), T0, CancellationToken.None));
        await Sweeps.ReleaseSweepAsync("prod", "a", CancellationToken.None);
        Assert.False(await Sweeps.SaveSweepAsync("prod", "a", new SweepProgress(T0, null, null), T0, CancellationToken.None)); // Released: not its to write.

        Assert.Equal(progress, await Sweeps.TryLeaseSweepAsync("prod", "b", T0.AddMinutes(2), T0.AddMinutes(3), CancellationToken.None));
    }

    [Fact]
    public async Task Held_run_ids_are_the_ones_a_stored_webhook_has()
    {
        await Inbox.AppendAsync([Webhook("run-a", WebhookSource.Webhook), Webhook("run-b", WebhookSource.Sweep)], CancellationToken.None);
        var asked = Enumerable.Range(0, 450).Select(i => $"run-{i}").Append("run-a").Append("run-b").Append("run-a").ToList(); // Past one chunk.

        Assert.Equal(["run-a", "run-b"], (await Sweeps.HeldRunIdsAsync(asked, CancellationToken.None)).Order());
        Assert.Empty(await Sweeps.HeldRunIdsAsync([], CancellationToken.None));
    }

    private static NewWebhook Webhook(string runId, WebhookSource source) =>
        new(runId, "thread-1", "assistant-a", "agent", "success", T0, Encoding.UTF8.GetBytes($$"""{"run_id":"{{runId}}"}"""), ["h1"], "prod", source);
}

/// <summary>The sweep contract on a real SQLite file of the test's own.</summary>
public sealed class SqliteSweepContractTests : SweepContractTests<SqliteEngine>;

/// <summary>The sweep contract on a real PostgreSQL server, in a database of the test's own.</summary>
[Trait("Category", "System")]
public sealed class PostgresSweepContractTests : SweepContractTests<PostgresEngine>;
