using System.Globalization;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using WebhookReceiver.Tests.Infrastructure;
using WebhookReceiver.Tests.LangGraphApi;
using WebhookReceiver.Tests.Sweep;

namespace WebhookReceiver.Tests.ScaleOut;

/// <summary>
/// Two replicas on one PostgreSQL inbox, both sweeping the same LangGraph deployment: the lease in the inbox lets one sweep at
/// a time (the other is turned away as busy), and every recovered run is stored once and handled once.
/// </summary>
[Trait("Category", "System")]
public sealed class SweepReplicasTests : IAsyncLifetime
{
    private const int ThreadCount = 6;
    private static readonly DateTimeOffset Now = DateTimeOffset.FromUnixTimeMilliseconds(DateTimeOffset.UtcNow.ToUnixTimeMilliseconds());
    private CannedLangGraphServer _canned = null!;
    private PostgresDatabase _database = null!;
    private readonly RunRecorder _recorder = new();

    public async Task InitializeAsync()
    {
        _canned = await CannedLangGraphServer.StartAsync();
        _database = await PostgresDatabase.CreateAsync();
    }

    public async Task DisposeAsync()
    {
        await _canned.DisposeAsync();
        await _database.DisposeAsync();
    }

    [Fact]
    public async Task Two_replicas_sweeping_in_the_background_take_turns_and_store_and_handle_each_recovered_run_once()
    {
        var server = new FakeLangGraph.Server(FakeLangGraph.Flavor.Python, FakeLangGraph.Threads(Now, ThreadCount, runsPerThread: 2))
        {
            RunListDelay = TimeSpan.FromMilliseconds(100),
        };
        _canned.Answer = server.Answer;
        var runIds = server.Threads.SelectMany(t => t.Runs).Select(r => r.RunId).ToList();

        await using var first = Replica("00:00:00.500");
        await using var second = Replica("00:00:00.500");
        _ = first.CreateClient();
        _ = second.CreateClient();
        await Eventually.MatchAsync(() => Task.FromResult(runIds.Count(id => _recorder.For(id).Count > 0)), n => n == runIds.Count, 60);
        await Eventually.MatchAsync(() => Task.FromResult(server.RunListings.Count), n => n > ThreadCount, 30, "both replicas kept sweeping (threads listed)");
        await Task.Delay(TimeSpan.FromSeconds(3)); // Several more sweeps by each replica.

        Assert.Equal(1, server.MostListingsAtOnce);
        Assert.True(server.RunListings.Count > ThreadCount, "both replicas kept sweeping"); // (each sweep lists every thread again, within the overlap)
        var stored = await _database.ColumnAsync<string>("SELECT run_id FROM webhooks WHERE source = 'sweep'");
        Assert.Equal(runIds.Order(), stored.Order());
        Assert.All(runIds, id => Assert.Single(_recorder.For(id)));
    }

    [Fact]
    public async Task Of_two_sweeps_asked_for_at_once_on_two_replicas_one_sweeps_and_the_other_is_turned_away_busy()
    {
        var server = new FakeLangGraph.Server(FakeLangGraph.Flavor.Js, FakeLangGraph.Threads(Now, ThreadCount, runsPerThread: 1))
        {
            RunListDelay = TimeSpan.FromMilliseconds(200),
        };
        _canned.Answer = server.Answer;
        await using var first = Replica("00:00:00");
        await using var second = Replica("00:00:00");
        using var firstAdmin = first.CreateAdminClient();
        using var secondAdmin = second.CreateAdminClient();

        var reports = await Task.WhenAll(SweepAsync(firstAdmin), SweepAsync(secondAdmin));

        Assert.Equal(["busy", "swept"], reports.Select(r => r["status"]!.GetValue<string>()).Order());
        Assert.Equal(ThreadCount, reports.Sum(r => r["recovered"]!.GetValue<int>()));
        Assert.Equal(1, server.MostListingsAtOnce);
        Assert.Equal(ThreadCount, await _database.ScalarAsync<long>("SELECT COUNT(*) FROM webhooks"));
    }

    private TestApp Replica(string interval) => new(
        new Dictionary<string, string?>
        {
            ["WebhookReceiver:Storage:Provider"] = "Postgres",
            ["WebhookReceiver:Storage:ConnectionString"] = _database.ConnectionString,
            ["WebhookReceiver:LangGraph:Deployments:0:Name"] = "prod",
            ["WebhookReceiver:LangGraph:Deployments:0:ApiUrl"] = _canned.Url.ToString(),
            ["WebhookReceiver:LangGraph:Verify"] = "Off",
            ["WebhookReceiver:LangGraph:Sweep:Interval"] = interval,
            ["WebhookReceiver:LangGraph:Sweep:Grace"] = "00:00:00",
            ["WebhookReceiver:LangGraph:Sweep:PageSize"] = 4.ToString(CultureInfo.InvariantCulture),
        },
        services => services.AddRecordingHandler(_recorder));

    private static async Task<JsonNode> SweepAsync(HttpClient admin)
    {
        using var response = await admin.PostAsync("/api/langgraph/sweep", null);
        return (await response.EnsureSuccessStatusCode().Content.ReadFromJsonAsync<JsonNode>())!["deployments"]!.AsArray().Single()!;
    }
}
