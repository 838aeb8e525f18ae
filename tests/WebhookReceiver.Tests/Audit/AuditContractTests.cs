using WebhookReceiver.Audit;
using WebhookReceiver.Tests.Storage;

namespace WebhookReceiver.Tests.Audit;

/// <summary>
/// What every engine promises about the audit trail (the subclasses below): a record is stored as given, listed newest first,
/// filtered by action, actor, target and time (from inclusive, to exclusive), paged by cursor, and purged by age in batches.
/// </summary>
public abstract class AuditContractTests<TEngine> : EngineContract<TEngine>
    where TEngine : IInboxEngine, new()
{
    private static readonly DateTimeOffset T0 = new(2030, 1, 1, 12, 0, 0, TimeSpan.Zero);

    private IAuditLog Audit => Stores.Audit;

    [Fact]
    public async Task A_record_is_stored_as_given_and_listed_newest_first()
    {
        var first = await Audit.AppendAsync(new AuditEntry(T0, "otto", AuditActions.Replay, "webhook:1", AuditOutcomes.Succeeded, "1 deliveries made due"), CancellationToken.None);
        var second = await Audit.AppendAsync(new AuditEntry(T0.AddSeconds(1), "rita", AuditActions.Resume, "interrupt:7", AuditOutcomes.Refused, """sent {"resume":"é ✓"}"""), CancellationToken.None);
        var third = await Audit.AppendAsync(new AuditEntry(T0.AddSeconds(2), "vera", AuditActions.SignInFailed, "console", AuditOutcomes.Failed), CancellationToken.None);

        var page = await Audit.ListAsync(new AuditQuery(), CancellationToken.None);

        Assert.True(first < second && second < third);
        Assert.Equal([third, second, first], page.Items.Select(r => r.Id));
        Assert.Equal(new AuditRecord(second, T0.AddSeconds(1), "rita", "resume", "interrupt:7", "refused", """sent {"resume":"é ✓"}"""), page.Items[1]);
        Assert.Null(page.Items[0].Detail);
        Assert.Null(page.NextCursor);
    }

    [Fact]
    public async Task Records_are_filtered_by_action_actor_target_and_time_and_paged()
    {
        for (var i = 0; i < 6; i++)
        {
            await Audit.AppendAsync(new AuditEntry(T0.AddMinutes(i), i % 2 == 0 ? "otto" : "rita", i < 3 ? AuditActions.Replay : AuditActions.Sweep,
                $"webhook:{i % 3}", AuditOutcomes.Succeeded), CancellationToken.None);
        }

        async Task<List<DateTimeOffset>> Times(AuditQuery query) => (await Audit.ListAsync(query, CancellationToken.None)).Items.Select(r => r.At).ToList();

        Assert.Equal([T0.AddMinutes(4), T0.AddMinutes(2), T0], await Times(new AuditQuery { Actor = "otto" }));
        Assert.Equal([T0.AddMinutes(2), T0.AddMinutes(1), T0], await Times(new AuditQuery { Action = AuditActions.Replay }));
        Assert.Equal([T0.AddMinutes(4), T0.AddMinutes(1)], await Times(new AuditQuery { Target = "webhook:1" }));
        Assert.Equal([T0.AddMinutes(3), T0.AddMinutes(2)], await Times(new AuditQuery { From = T0.AddMinutes(2), To = T0.AddMinutes(4) }));
        Assert.Equal([T0.AddMinutes(3)], await Times(new AuditQuery { Actor = "rita", Action = AuditActions.Sweep, To = T0.AddMinutes(5) }));

        var one = await Audit.ListAsync(new AuditQuery { Limit = 4 }, CancellationToken.None);
        var two = await Audit.ListAsync(new AuditQuery { Limit = 4, Before = one.NextCursor }, CancellationToken.None);
        Assert.Equal(4, one.Items.Count);
        Assert.Equal([T0.AddMinutes(1), T0], two.Items.Select(r => r.At));
        Assert.Null(two.NextCursor);
    }

    [Fact]
    public async Task Records_older_than_the_cut_off_are_purged_in_batches_and_newer_ones_kept()
    {
        for (var i = 0; i < 5; i++)
        {
            await Audit.AppendAsync(new AuditEntry(T0.AddDays(i), "otto", AuditActions.Sweep, "sweep", AuditOutcomes.Succeeded), CancellationToken.None);
        }

        Assert.Equal(2, await Audit.PurgeAsync(T0.AddDays(3), 2, CancellationToken.None));
        Assert.Equal(1, await Audit.PurgeAsync(T0.AddDays(3), 2, CancellationToken.None));
        Assert.Equal(0, await Audit.PurgeAsync(T0.AddDays(3), 2, CancellationToken.None));
        Assert.Equal([T0.AddDays(4), T0.AddDays(3)], (await Audit.ListAsync(new AuditQuery(), CancellationToken.None)).Items.Select(r => r.At));
    }
}

/// <summary>The audit contract on a real SQLite file of the test's own.</summary>
public sealed class SqliteAuditContractTests : AuditContractTests<SqliteEngine>;

/// <summary>The audit contract on a real PostgreSQL server, in a database of the test's own.</summary>
[Trait("Category", "System")]
public sealed class PostgresAuditContractTests : AuditContractTests<PostgresEngine>;
