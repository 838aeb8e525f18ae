using Microsoft.Extensions.Logging.Abstractions;
using WebhookReceiver.Kernel;
using WebhookReceiver.Tests.Infrastructure;
using WebhookReceiver.Webhooks;

namespace WebhookReceiver.Tests.Storage;

/// <summary>The inbox contract on a real SQLite file of the test's own.</summary>
public sealed class SqliteInboxContractTests : InboxContractTests
{
    private readonly string _directory = Directory.CreateTempSubdirectory("webhook-receiver-tests-").FullName;

    private protected override Task<TestStores> CreateStoresAsync() => Task.FromResult(Open());

    [Fact]
    public async Task Leases_left_by_a_run_that_died_are_taken_over_after_recovery_at_start_up_and_their_attempts_counted_as_abandoned()
    {
        await AppendAsync(Webhook("run-a"));
        var died = Assert.Single(await Inbox.ClaimDueAsync("died", T0, T0 + TimeSpan.FromHours(1), 10, CancellationToken.None));

        // The next run of the service, on the same file, long before the lease would have expired.
        await using var restarted = Open();
        var next = restarted.Webhooks;
        Assert.Empty(await next.ClaimDueAsync("not-yet-recovered", T0 + TimeSpan.FromSeconds(1), T0 + TimeSpan.FromHours(1), 10, CancellationToken.None));
        await next.RecoverAsync(CancellationToken.None);
        var claim = await next.ClaimDueAsync("restarted", T0 + TimeSpan.FromSeconds(2), T0 + TimeSpan.FromHours(1), 10, maxAttempts: 1, CancellationToken.None);

        Assert.Empty(claim.Claimed);
        Assert.Equal(new AbandonedAttempt(died.DeliveryId, "h1", 1, DeliveryState.Dead), Assert.Single(claim.Abandoned));
        var stored = (await next.GetByRunIdAsync("run-a", CancellationToken.None))!;
        Assert.Equal((DeliveryState.Dead, 1, AbandonedAttempt.Error), stored.Deliveries.Select(d => (d.State, d.Attempts, d.LastError)).Single());
        var attempt = Assert.Single(stored.Attempts!);
        Assert.Equal((1, T0, T0 + TimeSpan.FromSeconds(2), AttemptOutcome.Abandoned), (attempt.Attempt, attempt.StartedAt, attempt.EndedAt, attempt.Outcome));
    }

    [Fact]
    public async Task Commits_leave_their_pages_in_the_write_ahead_log_and_the_checkpointer_copies_them_into_the_file_beside_the_writer()
    {
        // SQLite also copies the log into the file when the last connection to it closes, and the inbox's pooled
        // connections are closed by whatever empties the pool (its pruning timer, another test's teardown clearing all
        // pools): this connection, of the test's own and outside the pool, has read the file (which is what makes SQLite
        // count it) and stays open until the end.
        await using var holder = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={DatabasePath};Pooling=False");
        await holder.OpenAsync();
        await using (var read = holder.CreateCommand())
        {
            read.CommandText = "SELECT count(*) FROM webhooks;";
            await read.ExecuteScalarAsync();
        }

        // About 1,200 pages of 4 KiB in 30 commits: past the 1,000 at which SQLite's own checkpoint would run inside a commit.
        var payload = new byte[8_000];
        Random.Shared.NextBytes(payload);
        for (var batch = 0; batch < 30; batch++)
        {
            await AppendAsync(Enumerable.Range(0, 20).Select(i => Webhook($"run-{batch}-{i}") with { Payload = payload }).ToArray());
        }

        var file = new FileInfo(DatabasePath);
        file.Refresh();
        Assert.True(file.Length < 1_000_000, $"no commit copied the log into the file: {file.Length} bytes");

        using var checkpointer = new SqliteCheckpointer(Stores.Kernel, TimeProvider.System, NullLogger<SqliteCheckpointer>.Instance);
        await checkpointer.StartAsync(CancellationToken.None);
        var copied = await Eventually.MatchAsync(
            () =>
            {
                file.Refresh();
                return Task.FromResult(file.Length);
            },
            length => length >= 600 * payload.Length,
            what: "the checkpointer copied the log into the file (its length in bytes)");

        await checkpointer.StopAsync(CancellationToken.None);
        Assert.True(copied >= 600 * payload.Length, $"the checkpointer copied the log into the file: {copied} bytes");
    }

    private string DatabasePath => Path.Combine(_directory, "webhooks.db");

    private TestStores Open() => TestStores.Sqlite($"Data Source={DatabasePath}");

    protected override Task DestroyStoreAsync()
    {
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        Directory.Delete(_directory, recursive: true);
        return Task.CompletedTask;
    }
}
