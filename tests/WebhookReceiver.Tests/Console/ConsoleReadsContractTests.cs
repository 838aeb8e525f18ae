using System.Text;
using WebhookReceiver.Tests.Infrastructure;
using WebhookReceiver.Tests.Storage;
using WebhookReceiver.Webhooks;

namespace WebhookReceiver.Tests.Console;

/// <summary>
/// What the console reads from the store beyond the API's own reads, on both engines: the list filtered by one handler's
/// delivery (in a state, or any), and the activity of a recent window for the overview.
/// </summary>
public abstract class ConsoleReadsContractTests : IAsyncLifetime
{
    private static readonly DateTimeOffset T0 = new(2030, 1, 1, 12, 0, 0, TimeSpan.Zero);

    private TestStores _stores = null!;

    private protected IWebhookInbox Inbox => _stores.Webhooks;

    private protected abstract Task<TestStores> CreateStoresAsync();

    protected abstract Task DestroyStoreAsync();

    public async Task InitializeAsync()
    {
        _stores = await CreateStoresAsync();
        await _stores.MigrateAsync();
    }

    public async Task DisposeAsync()
    {
        await _stores.DisposeAsync();
        await DestroyStoreAsync();
    }

    [Fact]
    public async Task The_list_filters_by_one_handlers_delivery_alone_or_in_a_state()
    {
        // run-a: crm dies, log succeeds; run-b: log dies; run-c: crm succeeds.
        await AppendAsync(Webhook("run-a", T0, "crm", "log"), Webhook("run-b", T0, "log"), Webhook("run-c", T0, "crm"));
        await FinishAsync(T0, (run, handler) => (run, handler) is ("run-a", "crm") or ("run-b", "log"));

        async Task<string[]> List(WebhookQuery query) =>
            (await Inbox.ListAsync(query, CancellationToken.None)).Items.Select(w => w.RunId!).Order().ToArray();

        Assert.Equal(["run-a", "run-c"], await List(new() { DeliveryHandler = "crm" }));
        Assert.Equal(["run-a"], await List(new() { DeliveryHandler = "crm", DeliveryState = DeliveryState.Dead }));
        Assert.Equal(["run-b"], await List(new() { DeliveryHandler = "log", DeliveryState = DeliveryState.Dead }));
        Assert.Equal(["run-a", "run-b"], await List(new() { DeliveryState = DeliveryState.Dead }));
        Assert.Empty(await List(new() { DeliveryHandler = "nobody" }));
    }

    [Fact]
    public async Task The_activity_counts_webhooks_received_and_attempts_ended_since_a_time()
    {
        await AppendAsync(Webhook("old", T0 - TimeSpan.FromHours(2), "crm"));
        await FinishAsync(T0 - TimeSpan.FromHours(2), (_, _) => false);
        await AppendAsync(Webhook("new-1", T0, "crm"), Webhook("new-2", T0, "crm", "log"));
        await FinishAsync(T0, (run, handler) => (run, handler) is ("new-2", "log"));

        var activity = await ((IInboxActivity)Inbox).ReadActivityAsync(T0 - TimeSpan.FromHours(1), CancellationToken.None);

        Assert.Equal(new InboxActivity(Received: 2, AttemptsSucceeded: 2, AttemptsFailed: 1), activity);
    }

    private static NewWebhook Webhook(string runId, DateTimeOffset at, params string[] handlers) =>
        new(runId, "thread-1", "assistant-a", "agent", "success", at, Encoding.UTF8.GetBytes($$"""{"run_id":"{{runId}}"}"""), handlers);

    private Task<IReadOnlyList<AppendResult>> AppendAsync(params NewWebhook[] batch) => Inbox.AppendAsync(batch, CancellationToken.None);

    // Every due delivery attempted once at `now`: the ones `fails` names are dead-lettered, the others succeed.
    private async Task FinishAsync(DateTimeOffset now, Func<string, string, bool> fails)
    {
        var claimed = await Inbox.ClaimDueAsync("console-test", now, now + TimeSpan.FromMinutes(1), 50, maxAttempts: 1, CancellationToken.None);
        var runs = new Dictionary<long, string>();
        foreach (var delivery in claimed.Claimed)
        {
            runs[delivery.DeliveryId] = System.Text.Json.JsonDocument.Parse(delivery.Payload).RootElement.GetProperty("run_id").GetString()!;
        }

        await Inbox.CompleteAttemptsAsync(claimed.Claimed.Select(d =>
        {
            var failed = fails(runs[d.DeliveryId], d.Handler);
            return new AttemptResult(d.DeliveryId, "console-test", d.Attempt, d.Attempt - d.AttemptInRound, now, now, !failed,
                failed ? "downstream refused" : null, failed ? DeliveryState.Dead : DeliveryState.Succeeded, null);
        }).ToList(), CancellationToken.None);
    }
}

public sealed class SqliteConsoleReadsContractTests : ConsoleReadsContractTests
{
    private readonly TempDirectory _directory = new();

    private protected override Task<TestStores> CreateStoresAsync() =>
        Task.FromResult(TestStores.Sqlite($"Data Source={Path.Combine(_directory.Path, "console.db")}"));

    protected override Task DestroyStoreAsync()
    {
        _directory.Dispose();
        return Task.CompletedTask;
    }
}

public sealed class PostgresConsoleReadsContractTests : ConsoleReadsContractTests
{
    private PostgresDatabase? _database;

    private protected override async Task<TestStores> CreateStoresAsync()
    {
        _database = await PostgresDatabase.CreateAsync();
        return TestStores.Postgres(_database.ConnectionString);
    }

    protected override async Task DestroyStoreAsync()
    {
        if (_database is not null)
        {
            await _database.DisposeAsync();
        }
    }
}
