using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.DependencyInjection;
using WebhookReceiver.Interrupts;
using WebhookReceiver.Tests.Access;
using WebhookReceiver.Tests.Infrastructure;
using WebhookReceiver.Tests.LangGraphApi;
using WebhookReceiver.Webhooks;

namespace WebhookReceiver.Tests.Audit;

/// <summary>
/// Every state-changing call of the API leaves an audit record naming the operator who made it: a replay, a bulk replay with
/// its count, a resume with the value sent (a secret in it redacted), a sweep; <c>GET /api/audit</c> lists them newest first
/// with filters, and neither the stored rows nor the answers hold any key or token used.
/// </summary>
public sealed class AuditTrailTests : IAsyncLifetime
{
    private const string PublicUrl = "https://hooks.example.com/webhooks/langgraph";
    private readonly string _threadId = Guid.NewGuid().ToString();
    private readonly string _resumedRunId = Guid.NewGuid().ToString();
    private CannedLangGraphServer _server = null!;

    public async Task InitializeAsync()
    {
        _server = await CannedLangGraphServer.StartAsync();
        _server.Answer = (request, _) => Answer(request);
    }

    public async Task DisposeAsync() => await _server.DisposeAsync();

    [Fact]
    public async Task Replay_bulk_replay_resume_and_sweep_are_recorded_with_who_what_and_outcome_and_no_secret()
    {
        await using var app = App();
        var run = Payloads.Run(graphId: "support");
        using (var posted = await app.PostWebhookAsync(run.ToJsonString()))
        {
            Assert.Equal(HttpStatusCode.Accepted, posted.StatusCode);
        }

        var webhookId = (long)(await app.GetAdminAsync<JsonNode>($"/api/runs/{(string?)run["run_id"]}"))["id"]!;
        await Eventually.MatchAsync(async () => (await app.GetAdminAsync<JsonNode>("/api/webhooks?delivery_state=dead"))["items"]!.AsArray().Count, n => n == 1);
        var interruptId = await PauseAsync(app);
        var otto = OperatorKeys.Client(app, OperatorKeys.Operator);
        var rita = OperatorKeys.Client(app, OperatorKeys.Reviewer);
        var answers = new List<string>();

        using (var replay = await otto.PostAsync($"/api/webhooks/{webhookId}/replay?handler=fails", null))
        {
            Assert.Equal(HttpStatusCode.Accepted, replay.StatusCode);
            answers.Add(await replay.Content.ReadAsStringAsync());
        }

        await Eventually.MatchAsync(async () => (await app.GetAdminAsync<JsonNode>("/api/webhooks?delivery_state=dead"))["items"]!.AsArray().Count, n => n == 1);
        using (var bulk = await otto.PostAsync("/api/dead-letters/replay?graph_id=support", null))
        {
            Assert.Equal(HttpStatusCode.Accepted, bulk.StatusCode);
            answers.Add(await bulk.Content.ReadAsStringAsync());
        }

        // A secret pasted into an answer is redacted in the audit trail, never in what LangGraph gets.
        using (var content = new StringContent($$$"""{"resume": {"approved": true, "note": "token {{{TestApp.Token}}}"}}""", Encoding.UTF8, "application/json"))
        using (var resume = await rita.PostAsync($"/api/interrupts/{interruptId}/resume", content))
        {
            Assert.Equal(HttpStatusCode.Accepted, resume.StatusCode);
            answers.Add(await resume.Content.ReadAsStringAsync());
        }

        using (var sweep = await otto.PostAsync("/api/langgraph/sweep", null))
        {
            Assert.Equal(HttpStatusCode.OK, sweep.StatusCode);
            answers.Add(await sweep.Content.ReadAsStringAsync());
        }

        using var trail = await otto.GetAsync("/api/audit");
        Assert.Equal(HttpStatusCode.OK, trail.StatusCode);
        var trailText = await trail.Content.ReadAsStringAsync();
        answers.Add(trailText);
        var records = JsonNode.Parse(trailText)!["items"]!.AsArray();
        Assert.Equal(
            [
                ("otto", "sweep", "sweep", "succeeded"),
                ("rita", "resume", $"interrupt:{interruptId}", "succeeded"),
                ("otto", "bulk_replay", "dead-letters", "succeeded"),
                ("otto", "replay", $"webhook:{webhookId}", "succeeded"),
            ],
            records.Select(r => ((string)r!["actor"]!, (string)r["action"]!, (string)r["target"]!, (string)r["outcome"]!)));
        var detail = records.ToDictionary(r => (string)r!["action"]!, r => (string?)r!["detail"]);
        Assert.StartsWith("count 1;", detail["bulk_replay"], StringComparison.Ordinal);
        Assert.Contains("graph_id=support", detail["bulk_replay"], StringComparison.Ordinal);
        Assert.Equal($$$"""sent {"resume":{"approved":true,"note":"token [REDACTED]"}}; run {{{_resumedRunId}}}""", detail["resume"]);
        Assert.Contains("1 deliveries made due (handler fails)", detail["replay"], StringComparison.Ordinal);
        Assert.Contains("prod: swept", detail["sweep"], StringComparison.Ordinal);
        Assert.Contains(TestApp.Token, (string?)_server.Received.Single(r => r.Method == "POST" && r.Path.EndsWith("/runs", StringComparison.Ordinal)).Json!["command"]!["resume"]!["note"], StringComparison.Ordinal);

        var resumed = await app.GetAdminAsync<JsonNode>($"/api/interrupts/{interruptId}");
        Assert.Equal(("resumed", "rita"), ((string?)resumed["state"], (string?)resumed["resumed_by"]));

        var filtered = await app.GetAdminAsync<JsonNode>("/api/audit?actor=otto&action=replay");
        Assert.Equal([$"webhook:{webhookId}"], filtered["items"]!.AsArray().Select(r => (string)r!["target"]!));
        var paged = await app.GetAdminAsync<JsonNode>("/api/audit?limit=3");
        var rest = await app.GetAdminAsync<JsonNode>($"/api/audit?limit=3&cursor={(long)paged["next_cursor"]!}");
        Assert.Equal(["replay"], rest["items"]!.AsArray().Select(r => (string)r!["action"]!));
        var none = await app.GetAdminAsync<JsonNode>($"/api/audit?from={Uri.EscapeDataString(DateTimeOffset.UtcNow.AddMinutes(1).ToString("O"))}");
        Assert.Empty(none["items"]!.AsArray());

        var stored = await StoredAuditTextAsync(app);
        Assert.Contains("rita", stored, StringComparison.Ordinal);
        foreach (var secret in new[] { TestApp.Token, TestApp.SecondToken, TestApp.AdminKey, OperatorKeys.Viewer, OperatorKeys.Reviewer, OperatorKeys.Operator })
        {
            Assert.DoesNotContain(secret, stored, StringComparison.Ordinal);
            Assert.All(answers, answer => Assert.DoesNotContain(secret, answer, StringComparison.Ordinal));
        }
    }

    [Theory]
    [InlineData("action=delete", "action")]
    [InlineData("from=yesterday", "from")]
    [InlineData("limit=0", "limit")]
    [InlineData("who=otto", "who")]
    public async Task A_bad_audit_filter_is_a_400_problem_naming_it(string query, string named)
    {
        await using var app = App();

        using var response = await OperatorKeys.Client(app, OperatorKeys.Operator).GetAsync("/api/audit?" + query);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.NotNull((await Json.ReadAsync(response))["errors"]![named]);
    }

    private TestApp App() => new(OperatorKeys.Settings(new()
    {
        ["WebhookReceiver:LangGraph:Deployments:0:Name"] = "prod",
        ["WebhookReceiver:LangGraph:Deployments:0:ApiUrl"] = _server.Url.ToString(),
        ["WebhookReceiver:LangGraph:RetryDelay"] = "00:00:00.010",
        ["WebhookReceiver:LangGraph:PublicUrl"] = PublicUrl,
        ["WebhookReceiver:LangGraph:Verify"] = "Off",
        ["WebhookReceiver:LangGraph:DetectInterrupts"] = "false",
        ["WebhookReceiver:LangGraph:Sweep:Interval"] = "00:00:00",
        ["WebhookReceiver:Dispatch:MaxAttempts"] = "1",
    }), services: s => new WebhookReceiverBuilder(s).AddHandler<AlwaysFails>("fails", f => f.ForGraph("support")));

    private CannedAnswer Answer(CannedRequest request) =>
        request.Path == "/threads/search" ? CannedAnswer.Json(new JsonArray())
        : request.Method == "POST" ? CannedAnswer.Json(new JsonObject { ["run_id"] = _resumedRunId, ["thread_id"] = _threadId, ["status"] = "pending" })
        : request.Path.EndsWith("/state", StringComparison.Ordinal) ? CannedAnswer.Json(new JsonObject
        {
            ["values"] = new JsonObject(),
            ["next"] = new JsonArray("ask"),
            ["tasks"] = new JsonArray(new JsonObject
            {
                ["id"] = "task-1",
                ["name"] = "ask",
                ["interrupts"] = new JsonArray(new JsonObject { ["id"] = "i-1", ["value"] = new JsonObject { ["question"] = "ok?" } }),
            }),
            ["checkpoint"] = new JsonObject { ["thread_id"] = _threadId, ["checkpoint_ns"] = "", ["checkpoint_id"] = "c-1" },
        })
        : CannedAnswer.Json(new JsonObject { ["thread_id"] = _threadId, ["status"] = "interrupted" });

    private async Task<long> PauseAsync(TestApp app)
    {
        var interrupts = app.Services.GetRequiredService<IInboxInterrupts>();
        var (id, _) = await interrupts.RecordInterruptAsync(new NewInterrupt("prod", _threadId, "interrupts:i-1", Guid.NewGuid().ToString(), "assistant-a", "ask", null,
            """[{"id":"i-1","value":{"question":"ok?"}}]""", """["ask"]""", "c-1", DateTimeOffset.UtcNow, []), CancellationToken.None);
        return id;
    }

    // The audit table and the interrupts' resumed_by, as stored in the SQLite file.
    private static async Task<string> StoredAuditTextAsync(TestApp app)
    {
        await using var connection = new SqliteConnection($"Data Source={Path.Combine(app.Directory.Path, "webhooks.db")}");
        await connection.OpenAsync();
        await using var read = connection.CreateCommand();
        read.CommandText = "SELECT actor || ' ' || action || ' ' || target || ' ' || outcome || ' ' || COALESCE(detail, '') FROM audit_records " +
            "UNION ALL SELECT COALESCE(resumed_by, '') FROM interrupts";
        var text = new StringBuilder();
        await using var reader = await read.ExecuteReaderAsync();
        while (await reader.ReadAsync())
        {
            text.AppendLine(reader.GetString(0));
        }

        return text.ToString();
    }

    private sealed class AlwaysFails : IWebhookHandler
    {
        public Task HandleAsync(LangGraphRun run, DeliveryContext context, CancellationToken cancellationToken) =>
            throw new InvalidOperationException("always fails");
    }
}
