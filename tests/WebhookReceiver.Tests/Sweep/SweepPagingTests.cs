using System.Globalization;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using WebhookReceiver.Tests.Infrastructure;
using WebhookReceiver.Tests.LangGraphApi;
using WebhookReceiver.Webhooks;

namespace WebhookReceiver.Tests.Sweep;

/// <summary>
/// The sweep's paging against canned LangGraph servers that answer as the Python Agent Server and the JS dev server 1.5.1 do
/// (docs/langgraph-api.md): threads newest first page by page until a short page; a thread's runs in one large page from offset 0
/// (the JS server slices <c>[offset, limit)</c> and lists oldest first); the watermark ends the next sweep's paging; a sweep
/// stopped by its page budget resumes below what it covered; scope and 429s.
/// </summary>
public sealed class SweepPagingTests : IAsyncLifetime
{
    // Whole milliseconds, as the inbox keeps the watermark.
    private static readonly DateTimeOffset Now = DateTimeOffset.FromUnixTimeMilliseconds(DateTimeOffset.UtcNow.ToUnixTimeMilliseconds());
    private CannedLangGraphServer _server = null!;
    private readonly RunRecorder _recorder = new();

    public async Task InitializeAsync() => _server = await CannedLangGraphServer.StartAsync();

    public async Task DisposeAsync() => await _server.DisposeAsync();

    [Theory]
    [InlineData(FakeLangGraph.Flavor.Python)]
    [InlineData(FakeLangGraph.Flavor.Js)]
    public async Task Every_page_of_threads_is_read_until_a_short_one_and_each_threads_runs_are_read_from_offset_0_in_one_page(FakeLangGraph.Flavor flavor)
    {
        var server = new FakeLangGraph.Server(flavor, FakeLangGraph.Threads(Now, 5, runsPerThread: 3));
        _server.Answer = server.Answer;
        await using var app = App(pageSize: 2);

        var report = await SweepAsync(app);

        Assert.Equal("swept", report["status"]!.GetValue<string>());
        Assert.Equal([0, 2, 4], server.SearchOffsets);
        Assert.All(server.RunListings, q => Assert.Equal(("1000", "0"), (q["limit"], q["offset"])));
        Assert.Equal(5, report["threads_scanned"]!.GetValue<int>());
        Assert.Equal(15, report["recovered"]!.GetValue<int>());
        foreach (var run in server.Threads.SelectMany(t => t.Runs))
        {
            var stored = await app.GetAdminAsync<JsonNode>($"/api/runs/{run.RunId}");
            Assert.Equal("sweep", stored["source"]!.GetValue<string>());
            Assert.Equal("prod", stored["deployment"]!.GetValue<string>());
            // Only the thread's latest run carries its values, as only that run's webhook would have.
            Assert.Equal(run.IsLatest, stored["payload"]!["values"] is not null);
            Assert.DoesNotContain("secret-token", stored["payload"]!.ToJsonString(), StringComparison.Ordinal);
        }

        await Eventually.MatchAsync(() => Task.FromResult(_recorder.All().Count), n => n == 15, 30);
        Assert.All(_recorder.All(), r => Assert.Equal(WebhookSource.Sweep, r.Run.WebhookSource));
    }

    [Fact]
    public async Task The_next_sweep_stops_paging_at_the_watermark_less_the_overlap()
    {
        var server = new FakeLangGraph.Server(FakeLangGraph.Flavor.Python, FakeLangGraph.Threads(Now, 5, runsPerThread: 1));
        _server.Answer = server.Answer;
        await using var app = App(pageSize: 2);
        var first = await SweepAsync(app);
        server.SearchOffsets.Clear();
        server.RunListings.Clear();

        var second = await SweepAsync(app);

        Assert.Equal(server.Threads[0].UpdatedAt, first["watermark"]!.GetValue<DateTimeOffset>());
        Assert.Equal([0], server.SearchOffsets); // The second thread is an hour older than the watermark: paging ends there.
        Assert.Equal(1, second["threads_scanned"]!.GetValue<int>()); // The newest, within the overlap, is looked at again.
        Assert.Equal(1, second["already_held"]!.GetValue<int>());
        Assert.Equal(0, second["recovered"]!.GetValue<int>());
    }

    [Fact]
    public async Task A_sweep_stopped_by_its_page_budget_is_partial_and_the_next_one_resumes_below_the_threads_it_covered()
    {
        var server = new FakeLangGraph.Server(FakeLangGraph.Flavor.Js, FakeLangGraph.Threads(Now, 5, runsPerThread: 1));
        _server.Answer = server.Answer;
        await using var app = App(pageSize: 2, maxPages: 2);

        var first = await SweepAsync(app);
        var second = await SweepAsync(app);

        Assert.Equal(("partial", 4, 4), (first["status"]!.GetValue<string>(), first["threads_scanned"]!.GetValue<int>(), first["recovered"]!.GetValue<int>()));
        Assert.Equal("swept", second["status"]!.GetValue<string>());
        Assert.Equal(4, second["threads_skipped"]!.GetValue<int>());
        Assert.Equal(1, second["threads_scanned"]!.GetValue<int>());
        Assert.Equal(1, second["recovered"]!.GetValue<int>());
        Assert.Equal(server.Threads[0].UpdatedAt, second["watermark"]!.GetValue<DateTimeOffset>());
    }

    [Fact]
    public async Task Runs_that_asked_for_another_webhook_are_out_of_scope_unless_Scope_is_AllRuns_and_a_429_is_retried()
    {
        var threads = FakeLangGraph.Threads(Now, 1, runsPerThread: 2, webhook: "https://elsewhere.example/hooks/other?token=x");
        var server = new FakeLangGraph.Server(FakeLangGraph.Flavor.Python, threads) { TooManyRequestsFirst = true };
        _server.Answer = server.Answer;
        await using (var scoped = App(pageSize: 10))
        {
            var report = await SweepAsync(scoped);
            Assert.Equal((2, 0), (report["out_of_scope"]!.GetValue<int>(), report["recovered"]!.GetValue<int>()));
        }

        server.TooManyRequestsFirst = true;
        await using var all = App(pageSize: 10, scope: "AllRuns");
        var everything = await SweepAsync(all);
        Assert.Equal((0, 2), (everything["out_of_scope"]!.GetValue<int>(), everything["recovered"]!.GetValue<int>()));
    }

    [Fact]
    public async Task A_run_still_running_is_left_and_the_watermark_stays_below_its_thread_so_the_next_sweep_recovers_it()
    {
        var threads = FakeLangGraph.Threads(Now, 2, runsPerThread: 1);
        threads[0].Runs[0] = threads[0].Runs[0] with { Status = "running" };
        var server = new FakeLangGraph.Server(FakeLangGraph.Flavor.Python, threads);
        _server.Answer = server.Answer;
        await using var app = App(pageSize: 10);

        var first = await SweepAsync(app);
        threads[0].Runs[0] = threads[0].Runs[0] with { Status = "success" };
        var second = await SweepAsync(app);

        Assert.Equal((1, 1), (first["not_finished"]!.GetValue<int>(), first["recovered"]!.GetValue<int>()));
        // The watermark stays just below the thread with the running run, so the next sweep looks at it again (and only it).
        Assert.Equal(threads[0].UpdatedAt - TimeSpan.FromMilliseconds(1), first["watermark"]!.GetValue<DateTimeOffset>());
        Assert.Equal((1, 1), (second["threads_scanned"]!.GetValue<int>(), second["recovered"]!.GetValue<int>()));
    }

    [Fact]
    public async Task Recovered_runs_are_listed_by_source_and_counted_in_metrics_by_source_and_sweep_outcome_and_sweeps_by_status()
    {
        var server = new FakeLangGraph.Server(FakeLangGraph.Flavor.Python, FakeLangGraph.Threads(Now, 2, runsPerThread: 1));
        _server.Answer = server.Answer;
        // Every host in this test process feeds every meter provider: a deployment name of this test's own keeps its counts apart.
        var deployment = "metrics-" + Guid.NewGuid().ToString("N");
        await using var app = App(pageSize: 10, deployment: deployment);
        using var admin = app.CreateAdminClient();
        using var posted = await app.PostWebhookAsync(Payloads.Run().ToJsonString());
        Assert.Equal(System.Net.HttpStatusCode.Accepted, posted.StatusCode);

        await SweepAsync(app);
        await SweepAsync(app);
        // A server that refuses the key ends the third sweep as failed.
        _server.Answer = (_, _) => new CannedAnswer(401, "bad key");
        Assert.Equal("failed", (await SweepAsync(app))["status"]!.GetValue<string>());

        var swept = await app.GetAdminAsync<JsonNode>("/api/webhooks?source=sweep");
        var received = await app.GetAdminAsync<JsonNode>("/api/webhooks?source=webhook");
        Assert.Equal(server.Threads.Select(t => t.Runs[0].RunId).Order(), swept["items"]!.AsArray().Select(w => w!["run_id"]!.GetValue<string>()).Order());
        Assert.All(swept["items"]!.AsArray(), w => Assert.Equal("sweep", w!["source"]!.GetValue<string>()));
        Assert.Equal("webhook", Assert.Single(received["items"]!.AsArray())!["source"]!.GetValue<string>());
        using var invalid = await admin.GetAsync("/api/webhooks?source=email");
        Assert.Equal(System.Net.HttpStatusCode.BadRequest, invalid.StatusCode);
        Assert.Contains("\"source\"", await invalid.Content.ReadAsStringAsync(), StringComparison.Ordinal);

        var metrics = new PrometheusText(await (await admin.GetAsync("/metrics")).Content.ReadAsStringAsync());
        Assert.True(metrics.Value("webhookreceiver_webhooks_received_total", ("outcome", "accepted"), ("source", "sweep")) >= 2);
        Assert.True(metrics.Value("webhookreceiver_webhooks_received_total", ("outcome", "accepted"), ("source", "webhook")) >= 1);
        Assert.Equal(2, metrics.Value("webhookreceiver_sweep_runs_total", ("deployment", deployment), ("outcome", "recovered")));
        // The second sweep stops at the watermark: only the newest thread (within the overlap) is looked at again.
        Assert.Equal(1, metrics.Value("webhookreceiver_sweep_runs_total", ("deployment", deployment), ("outcome", "already_held")));
        Assert.Equal(2, metrics.Value("webhookreceiver_sweeps_total", ("deployment", deployment), ("status", "swept")));
        Assert.Equal(1, metrics.Value("webhookreceiver_sweeps_total", ("deployment", deployment), ("status", "failed")));
    }

    [Fact]
    public async Task Without_a_deployment_the_sweep_endpoint_answers_409_and_without_the_admin_key_401_both_problem_details()
    {
        await using var app = new TestApp();
        using var response = await app.CreateAdminClient().PostAsync("/api/langgraph/sweep", null);
        using var anonymous = await app.CreateClient().PostAsync("/api/langgraph/sweep", null);

        Assert.Equal(System.Net.HttpStatusCode.Conflict, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal(System.Net.HttpStatusCode.Unauthorized, anonymous.StatusCode);
        Assert.Equal("application/problem+json", anonymous.Content.Headers.ContentType?.MediaType);
    }

    [Fact]
    public async Task An_unknown_deployment_is_a_404_problem_and_one_named_is_swept_alone()
    {
        var server = new FakeLangGraph.Server(FakeLangGraph.Flavor.Python, FakeLangGraph.Threads(Now, 1, runsPerThread: 1));
        _server.Answer = server.Answer;
        await using var app = App(pageSize: 10);
        using var admin = app.CreateAdminClient();

        using var unknown = await admin.PostAsync("/api/langgraph/sweep?deployment=staging", null);
        using var named = await admin.PostAsync("/api/langgraph/sweep?deployment=PROD", null);

        Assert.Equal(System.Net.HttpStatusCode.NotFound, unknown.StatusCode);
        Assert.Equal("application/problem+json", unknown.Content.Headers.ContentType?.MediaType);
        var report = (await named.EnsureSuccessStatusCode().Content.ReadFromJsonAsync<JsonNode>())!;
        Assert.Equal(("prod", 1), (report["deployments"]![0]!["deployment"]!.GetValue<string>(), report["deployments"]![0]!["recovered"]!.GetValue<int>()));
    }

    [Fact]
    public async Task A_sweep_is_one_span_with_its_counts_its_calls_are_client_spans_of_the_deployment_and_what_it_recovers_is_delivered_in_its_trace()
    {
        var server = new FakeLangGraph.Server(FakeLangGraph.Flavor.Python, FakeLangGraph.Threads(Now, 3, runsPerThread: 2));
        _server.Answer = server.Answer;
        var spans = new System.Collections.Concurrent.ConcurrentQueue<System.Diagnostics.Activity>();
        using var listener = new System.Diagnostics.ActivityListener
        {
            ShouldListenTo = source => source.Name == "WebhookReceiver",
            Sample = (ref System.Diagnostics.ActivityCreationOptions<System.Diagnostics.ActivityContext> _) => System.Diagnostics.ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = spans.Enqueue,
        };
        System.Diagnostics.ActivitySource.AddActivityListener(listener);
        await using var app = App(pageSize: 2, deployment: "traced");

        var report = await SweepAsync(app);
        Assert.Equal(6, report["recovered"]!.GetValue<int>());

        // Other tests run beside this one: only the spans of this deployment's sweep, and of its trace, are looked at.
        var sweep = Assert.Single(spans, s => s.OperationName == "sweep" && (string?)s.GetTagItem("langgraph.deployment") == "traced");
        Assert.Equal(("swept", 3, 6, 6), ((string?)sweep.GetTagItem("webhookreceiver.sweep.status"), (int?)sweep.GetTagItem("webhookreceiver.sweep.threads_scanned"),
            (int?)sweep.GetTagItem("webhookreceiver.sweep.runs_seen"), (int?)sweep.GetTagItem("webhookreceiver.sweep.recovered")));
        // The sweep's own calls; the recovered runs' deliveries make theirs (the interrupt detector's) under their attempts.
        var calls = spans.Where(s => s.ParentSpanId == sweep.SpanId && s.Kind == System.Diagnostics.ActivityKind.Client).ToList();
        Assert.Equal(["langgraph list runs", "langgraph search threads"], calls.Select(c => c.OperationName).Distinct().Order(StringComparer.Ordinal));
        Assert.Equal(3, calls.Count(c => c.OperationName == "langgraph list runs"));
        Assert.All(calls, c => Assert.Equal("traced", (string?)c.GetTagItem("langgraph.deployment")));
        var attempts = await Eventually.MatchAsync(
            () => Task.FromResult(spans.Where(s => s.TraceId == sweep.TraceId && s.OperationName == "process " + RunRecorder.HandlerName).ToList()), a => a.Count == 6);
        Assert.All(attempts, a => Assert.Equal((sweep.SpanId, System.Diagnostics.ActivityKind.Consumer), (a.ParentSpanId, a.Kind)));
    }

    private TestApp App(int pageSize, int maxPages = 20, string scope = "ThisReceiver", string deployment = "prod") => new(
        new Dictionary<string, string?>
        {
            ["WebhookReceiver:LangGraph:Deployments:0:Name"] = deployment,
            ["WebhookReceiver:LangGraph:Deployments:0:ApiUrl"] = _server.Url.ToString(),
            ["WebhookReceiver:LangGraph:Verify"] = "Off",
            ["WebhookReceiver:LangGraph:RetryDelay"] = "00:00:00.010",
            ["WebhookReceiver:LangGraph:Sweep:Interval"] = "00:00:00",
            ["WebhookReceiver:LangGraph:Sweep:Grace"] = "00:00:00",
            ["WebhookReceiver:LangGraph:Sweep:PageSize"] = pageSize.ToString(CultureInfo.InvariantCulture),
            ["WebhookReceiver:LangGraph:Sweep:MaxPages"] = maxPages.ToString(CultureInfo.InvariantCulture),
            ["WebhookReceiver:LangGraph:Sweep:Scope"] = scope,
        },
        services => services.AddRecordingHandler(_recorder));

    private static async Task<JsonNode> SweepAsync(TestApp app)
    {
        using var response = await app.CreateAdminClient().PostAsync("/api/langgraph/sweep", null);
        var body = await response.EnsureSuccessStatusCode().Content.ReadFromJsonAsync<JsonNode>();
        return body!["deployments"]!.AsArray().Single()!;
    }
}
