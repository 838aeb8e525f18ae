using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using WebhookReceiver.Tests.Infrastructure;
using WebhookReceiver.Webhooks;
using Xunit.Abstractions;
using static WebhookReceiver.Tests.Infrastructure.LangGraphDevServer;

namespace WebhookReceiver.Tests.LangGraph;

/// <summary>
/// Human in the loop against a real LangGraph JS dev server: the receiver (a real socket, <c>LangGraph:PublicUrl</c> its own
/// webhook URL) finds each thread that paused after a <c>success</c> webhook, records it with the exact value the graph passed
/// to <c>interrupt()</c>, calls the interrupt handler and a forward target once, and resumes it on the server; the resumed
/// run's webhook is stored once and linked. Also: two parallel interrupts resumed by id, a static breakpoint resumed with
/// <c>{}</c>, a pause resumed elsewhere, which expires, and a pause whose webhook was lost, found by the sweep.
/// </summary>
[Trait("Category", "System")]
public sealed class HumanInTheLoopServerTests(HumanInTheLoopServerTests.Servers servers, ITestOutputHelper output)
    : IClassFixture<HumanInTheLoopServerTests.Servers>
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task A_run_paused_at_interrupt_is_recorded_handled_once_resumed_and_its_resumed_runs_webhook_is_stored_once_and_linked()
    {
        var clock = Stopwatch.StartNew();
        var threadId = await servers.CreateThreadAsync();
        var pausedRunId = await servers.StartRunAsync(threadId, "ask", Input("ship it"));

        var interrupt = await WaitForInterruptAsync(threadId);
        var pauseSeen = clock.Elapsed;
        var pausedWebhook = await servers.GetAsync($"/api/runs/{pausedRunId}");
        Assert.Equal("success", (string?)pausedWebhook["status"]); // The run that paused succeeded: only its thread waits.
        Assert.Equal("waiting", (string?)interrupt["state"]);
        Assert.Equal(("local", "ask", pausedRunId), ((string?)interrupt["deployment"], (string?)interrupt["graph_id"], (string?)interrupt["run_id"]));
        Assert.Equal((long?)pausedWebhook["id"], (long?)interrupt["webhook_id"]);
        Assert.False((bool)interrupt["is_breakpoint"]!);
        var pending = Assert.Single(interrupt["pending"]!.AsArray())!;
        Assert.True(JsonNode.DeepEquals(new JsonObject { ["question"] = "approve \"ship it\"?" }, pending["value"]), pending.ToJsonString());
        var id = (long)interrupt["id"]!;
        Assert.Equal(new Uri(servers.ReceiverAddress, $"/api/interrupts/{id}/resume").ToString(), (string?)interrupt["resume_url"]);

        var handled = await servers.Interrupts.WaitForAsync(id, Timeout);
        Assert.Equal("approve \"ship it\"?", handled.Interrupt.Pending.Single().Value.GetProperty("question").GetString());
        Assert.Equal((pausedRunId, "local"), (handled.Interrupt.RunId, handled.Context.Deployment));
        var forwarded = await Eventually.MatchAsync(() => Task.FromResult(servers.Forwarded(id)), f => f.Count > 0, 30);
        var body = JsonNode.Parse(Assert.Single(forwarded).Body)!;
        Assert.Equal("interrupt", (string?)body["event"]);
        Assert.Equal((string?)interrupt["resume_url"], (string?)body["interrupt"]!["resume_url"]);
        Assert.StartsWith("v1,", Assert.Single(forwarded).Headers["webhook-signature"], StringComparison.Ordinal);

        var resumeCalled = clock.Elapsed;
        using var resume = await servers.Admin.PostAsJsonAsync($"/api/interrupts/{id}/resume", new JsonObject { ["resume"] = "yes" });
        Assert.Equal(HttpStatusCode.Accepted, resume.StatusCode);
        var resumedRunId = (string)(await Json.ReadAsync(resume))["run_id"]!;
        var resumed = clock.Elapsed;
        Assert.NotEqual(pausedRunId, resumedRunId);

        var resumedWebhook = await Eventually.MatchAsync(() => servers.TryGetAsync($"/api/runs/{resumedRunId}"), w => w is not null, 60);
        var nextWebhook = clock.Elapsed;
        var linked = await Eventually.MatchAsync(() => servers.GetAsync($"/api/interrupts/{id}"), i => i["resumed_webhook_id"] is not null, 30);
        Assert.Equal(("resumed", resumedRunId, (long?)resumedWebhook!["id"]),
            ((string?)linked["state"], (string?)linked["resumed_run_id"], (long?)linked["resumed_webhook_id"]));
        var webhooks = (await servers.GetAsync($"/api/webhooks?thread_id={threadId}"))["items"]!.AsArray();
        Assert.Equal([resumedRunId, pausedRunId], webhooks.Select(w => (string?)w!["run_id"])); // Each stored once.

        var thread = await servers.LangGraphThreadAsync(threadId);
        Assert.Equal("idle", (string?)thread["status"]);
        Assert.Contains("answered: yes", thread["values"]!.ToJsonString(), StringComparison.Ordinal);
        // The resumed run's own check found the thread idle: no new pause.
        await Eventually.MatchAsync(() => servers.GetAsync($"/api/runs/{resumedRunId}"), w => DetectorState(w) == "succeeded", 30);
        Assert.Single((await servers.GetAsync($"/api/interrupts?thread_id={threadId}"))["items"]!.AsArray());

        using var again = await servers.Admin.PostAsJsonAsync($"/api/interrupts/{id}/resume", new JsonObject { ["resume"] = "yes" });
        Assert.Equal(HttpStatusCode.Conflict, again.StatusCode);
        Assert.Contains("resumed already", (string?)(await Json.ReadAsync(again))["detail"], StringComparison.Ordinal);
        Assert.Single(servers.Interrupts.For(id)); // Called once.
        Assert.Single(servers.Forwarded(id));

        var detected = (DateTimeOffset)interrupt["seen_at"]! - (DateTimeOffset)pausedWebhook["received_at"]!;
        output.WriteLine($"ask: pause seen {pauseSeen.TotalMilliseconds:0} ms after the run was created ({detected.TotalMilliseconds:0} ms after its webhook was stored); " +
                         $"resume answered 202 in {(resumed - resumeCalled).TotalMilliseconds:0} ms; the resumed run's webhook stored {(nextWebhook - resumed).TotalMilliseconds:0} ms after the 202");
    }

    [Fact]
    public async Task A_paused_thread_whose_webhook_was_lost_is_found_by_the_sweep_recorded_once_and_handled_once()
    {
        var threadId = await servers.CreateThreadAsync();
        // Lost on the way: the receiver refuses the webhook (a token it does not know) and the JS server does not retry.
        var lostWebhook = new Uri(servers.ReceiverAddress, "/webhooks/langgraph?token=not-a-token-of-this-receiver").ToString();
        var pausedRunId = await servers.StartRunAsync(threadId, "ask", Input("restock"), lostWebhook);
        await Eventually.MatchAsync(() => servers.LangGraphThreadAsync(threadId), t => (string?)t["status"] == "interrupted", 60);
        Assert.Null(await servers.TryGetAsync($"/api/runs/{pausedRunId}")); // Nothing arrived, so nothing was detected.
        Assert.Empty((await servers.GetAsync($"/api/interrupts?thread_id={threadId}"))["items"]!.AsArray());

        using var sweep = await servers.Admin.PostAsync("/api/langgraph/sweep", null);
        Assert.Equal(HttpStatusCode.OK, sweep.StatusCode);
        var report = (await Json.ReadAsync(sweep))["deployments"]![0]!;
        Assert.True((int)report["threads_interrupted"]! >= 1, report.ToJsonString());

        var interrupt = Assert.Single((await servers.GetAsync($"/api/interrupts?thread_id={threadId}"))["items"]!.AsArray())!;
        Assert.Equal(("waiting", pausedRunId), ((string?)interrupt["state"], (string?)interrupt["run_id"]));
        Assert.Null((long?)interrupt["webhook_id"]); // Found by the sweep, not by a webhook.
        var detail = await servers.GetAsync($"/api/interrupts/{(long)interrupt["id"]!}");
        Assert.True(JsonNode.DeepEquals(new JsonObject { ["question"] = "approve \"restock\"?" }, detail["pending"]![0]!["value"]), detail.ToJsonString());
        await servers.Interrupts.WaitForAsync((long)interrupt["id"]!, Timeout);

        using var again = await servers.Admin.PostAsync("/api/langgraph/sweep", null); // The same pause: recorded once.
        Assert.Equal(HttpStatusCode.OK, again.StatusCode);
        Assert.Single((await servers.GetAsync($"/api/interrupts?thread_id={threadId}"))["items"]!.AsArray());
        Assert.Single(servers.Interrupts.For((long)interrupt["id"]!));
    }

    [Fact]
    public async Task Two_parallel_interrupts_are_recorded_as_one_pause_and_resumed_with_an_answer_per_interrupt_id()
    {
        var clock = Stopwatch.StartNew();
        var threadId = await servers.CreateThreadAsync();
        await servers.StartRunAsync(threadId, "approve_both", Input("buy a server"));

        var interrupt = await WaitForInterruptAsync(threadId);
        var pauseSeen = clock.Elapsed;
        var id = (long)interrupt["id"]!;
        var pending = interrupt["pending"]!.AsArray();
        Assert.Equal(["finance", "legal"], pending.Select(p => (string?)p!["value"]!["reviewer"]).Order());
        Assert.All(pending, p => Assert.Equal("buy a server", (string?)p!["value"]!["item"]));

        // One answer where two are pending is refused before LangGraph is asked.
        using var one = await servers.Admin.PostAsJsonAsync($"/api/interrupts/{id}/resume", new JsonObject { ["resume"] = "ok" });
        Assert.Equal(HttpStatusCode.BadRequest, one.StatusCode);
        Assert.Contains("interrupt id", (string?)(await Json.ReadAsync(one))["detail"], StringComparison.Ordinal);

        var answers = new JsonObject();
        foreach (var p in pending)
        {
            answers[(string)p!["id"]!] = $"{p["value"]!["reviewer"]} approves";
        }

        using var resume = await servers.Admin.PostAsJsonAsync($"/api/interrupts/{id}/resume", new JsonObject { ["resume"] = answers });
        Assert.Equal(HttpStatusCode.Accepted, resume.StatusCode);
        var resumed = clock.Elapsed;
        var resumedRunId = (string)(await Json.ReadAsync(resume))["run_id"]!;
        await Eventually.MatchAsync(() => servers.TryGetAsync($"/api/runs/{resumedRunId}"), w => w is not null, 60);
        var nextWebhook = clock.Elapsed;

        var values = (await servers.LangGraphThreadAsync(threadId))["values"]!.ToJsonString();
        Assert.Contains("legal: legal approves", values, StringComparison.Ordinal);
        Assert.Contains("finance: finance approves", values, StringComparison.Ordinal);
        output.WriteLine($"approve_both: pause seen {pauseSeen.TotalMilliseconds:0} ms; resumed at {resumed.TotalMilliseconds:0} ms; next webhook at {nextWebhook.TotalMilliseconds:0} ms");
    }

    [Fact]
    public async Task A_static_breakpoint_is_recorded_with_its_next_node_and_resumed_with_an_empty_body()
    {
        var clock = Stopwatch.StartNew();
        var threadId = await servers.CreateThreadAsync();
        await servers.StartRunAsync(threadId, "gate", Input("release notes"));

        var interrupt = await WaitForInterruptAsync(threadId);
        var pauseSeen = clock.Elapsed;
        Assert.True((bool)interrupt["is_breakpoint"]!);
        Assert.Empty(interrupt["pending"]!.AsArray());
        Assert.Equal(["publish"], interrupt["next"]!.AsArray().Select(n => (string?)n));
        var id = (long)interrupt["id"]!;

        using var withValue = await servers.Admin.PostAsJsonAsync($"/api/interrupts/{id}/resume", new JsonObject { ["resume"] = "go" });
        Assert.Equal(HttpStatusCode.BadRequest, withValue.StatusCode);

        using var resume = await servers.Admin.PostAsJsonAsync($"/api/interrupts/{id}/resume", new JsonObject());
        Assert.Equal(HttpStatusCode.Accepted, resume.StatusCode);
        var resumed = clock.Elapsed;
        var resumedRunId = (string)(await Json.ReadAsync(resume))["run_id"]!;
        await Eventually.MatchAsync(() => servers.TryGetAsync($"/api/runs/{resumedRunId}"), w => w is not null, 60);
        var nextWebhook = clock.Elapsed;

        var thread = await servers.LangGraphThreadAsync(threadId);
        Assert.Equal("idle", (string?)thread["status"]);
        Assert.Contains("published: draft: release notes", thread["values"]!.ToJsonString(), StringComparison.Ordinal);
        output.WriteLine($"gate: breakpoint seen {pauseSeen.TotalMilliseconds:0} ms; resumed at {resumed.TotalMilliseconds:0} ms; next webhook at {nextWebhook.TotalMilliseconds:0} ms");
    }

    [Fact]
    public async Task A_pause_resumed_elsewhere_expires_and_its_resume_is_a_conflict()
    {
        var threadId = await servers.CreateThreadAsync();
        await servers.StartRunAsync(threadId, "ask", Input("elsewhere"));
        var id = (long)(await WaitForInterruptAsync(threadId))["id"]!;

        // Someone answers in Studio (or with the SDK), without the receiver.
        using (var http = new HttpClient { BaseAddress = servers.LangGraph.BaseAddress })
        {
            using var wait = await http.PostAsJsonAsync($"/threads/{threadId}/runs/wait",
                new JsonObject { ["assistant_id"] = "ask", ["command"] = new JsonObject { ["resume"] = "done elsewhere" } });
            wait.EnsureSuccessStatusCode();
        }

        using var resume = await servers.Admin.PostAsJsonAsync($"/api/interrupts/{id}/resume", new JsonObject { ["resume"] = "late" });
        Assert.Equal(HttpStatusCode.Conflict, resume.StatusCode);
        var interrupt = await servers.GetAsync($"/api/interrupts/{id}");
        Assert.Equal("expired", (string?)interrupt["state"]);
        Assert.Contains("no longer interrupted", (string?)interrupt["expired_reason"], StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_paused_thread_that_sent_no_webhook_is_recorded_once_through_the_sweeps_entry_point_with_its_newest_run()
    {
        var threadId = await servers.CreateThreadAsync();
        var runId = await servers.StartRunAsync(threadId, "ask", Input("no webhook"), webhook: null);
        var client = servers.Receiver.Services.GetRequiredService<WebhookReceiver.LangGraph.ILangGraphClients>().ForDeployment("local");
        var thread = await Eventually.MatchAsync(
            async () => (await client.SearchThreadsAsync(new WebhookReceiver.LangGraph.LangGraphThreadSearch { Status = "interrupted", Limit = 1000 }))
                .SingleOrDefault(t => t.ThreadId == threadId),
            t => t is not null, 60);
        var recorder = servers.Receiver.Services.GetRequiredService<WebhookReceiver.Interrupts.InterruptRecorder>();

        var id = await recorder.RecordFromThreadAsync("local", thread!);
        var again = await recorder.RecordFromThreadAsync("local", thread!);

        Assert.NotNull(id);
        Assert.Equal(id, again);
        var interrupt = await servers.GetAsync($"/api/interrupts/{id}");
        Assert.Equal((runId, "ask", "waiting"), ((string?)interrupt["run_id"], (string?)interrupt["graph_id"], (string?)interrupt["state"]));
        Assert.Null(interrupt["webhook_id"]);
        Assert.Equal("approve \"no webhook\"?", (string?)Assert.Single(interrupt["pending"]!.AsArray())!["value"]!["question"]);
        await servers.Interrupts.WaitForAsync(id!.Value, Timeout);
        Assert.Single(servers.Interrupts.For(id.Value));
    }

    private Task<JsonNode> WaitForInterruptAsync(string threadId) =>
        Eventually.MatchAsync(
            async () => (await servers.GetAsync($"/api/interrupts?thread_id={threadId}"))["items"]!.AsArray().FirstOrDefault()!,
            i => i is not null, 60);

    private static string? DetectorState(JsonNode? webhook) =>
        (string?)webhook?["deliveries"]?.AsArray().SingleOrDefault(d => (string?)d!["handler"] == "langgraph-interrupts")?["state"];

    /// <summary>What the test's interrupt handler was given.</summary>
    public sealed record HandledInterrupt(Interrupt Interrupt, DeliveryContext Context);

    public sealed class InterruptLog
    {
        private readonly ConcurrentQueue<HandledInterrupt> _handled = new();

        public void Add(HandledInterrupt handled) => _handled.Enqueue(handled);

        public IReadOnlyList<HandledInterrupt> For(long id) => _handled.Where(h => h.Interrupt.Id == id).ToList();

        public async Task<HandledInterrupt> WaitForAsync(long id, TimeSpan timeout) =>
            (await Eventually.MatchAsync(() => Task.FromResult(For(id)), h => h.Count > 0, (int)timeout.TotalSeconds))[0];
    }

    public sealed class LoggingInterruptHandler(InterruptLog log) : IInterruptHandler
    {
        public Task HandleAsync(Interrupt interrupt, DeliveryContext context, CancellationToken cancellationToken)
        {
            log.Add(new HandledInterrupt(interrupt, context));
            return Task.CompletedTask;
        }
    }

    /// <summary>The LangGraph dev server, a forward target, then the receiver on a port chosen first (its PublicUrl names it).</summary>
    public sealed class Servers : LangGraphReceiverFixture
    {
        public InterruptLog Interrupts { get; } = new();
        public LoopbackListener ForwardTarget { get; private set; } = null!;

        public override async Task InitializeAsync()
        {
            ForwardTarget = await LoopbackListener.StartAsync();
            await base.InitializeAsync();
        }

        protected override Dictionary<string, string?> Settings(Uri address) => new()
        {
            ["WebhookReceiver:LangGraph:PublicUrl"] = new Uri(address, "/webhooks/langgraph").ToString(),
            ["WebhookReceiver:LangGraph:Sweep:Interval"] = "00:00:00", // only POST /api/langgraph/sweep sweeps here
            ["WebhookReceiver:Handlers:Forward:0:Name"] = "pager",
            ["WebhookReceiver:Handlers:Forward:0:Url"] = new Uri(ForwardTarget.Url, "/interrupts").ToString(),
            ["WebhookReceiver:Handlers:Forward:0:Secret"] = "a-forward-secret-of-some-length",
            ["WebhookReceiver:Handlers:Forward:0:Events"] = "interrupts",
        };

        protected override void AddServices(IServiceCollection services)
        {
            services.AddSingleton(Interrupts);
            new WebhookReceiverBuilder(services).AddInterruptHandler<LoggingInterruptHandler>("people");
        }

        /// <summary>Forwarded interrupt bodies of interrupt <paramref name="id"/>.</summary>
        public IReadOnlyList<ReceivedRequest> Forwarded(long id) =>
            ForwardTarget.Received.Where(r => (long?)JsonNode.Parse(r.Body)?["interrupt"]?["id"] == id).ToList();

        public override async Task DisposeAsync()
        {
            try
            {
                await base.DisposeAsync();
            }
            finally
            {
                if (ForwardTarget is not null)
                {
                    await ForwardTarget.DisposeAsync();
                }
            }
        }
    }
}
