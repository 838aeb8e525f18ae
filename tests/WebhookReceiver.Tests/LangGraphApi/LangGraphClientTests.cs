using System.Net;
using System.Text.Json.Nodes;
using WebhookReceiver.Kernel;
using WebhookReceiver.LangGraph;

namespace WebhookReceiver.Tests.LangGraphApi;

/// <summary>
/// The LangGraph client against canned answers in the shapes of the Python Agent Server and the JS dev server, served by a
/// real Kestrel socket: not found is null whatever the body, a refused key says so, reads survive 429/5xx/timeouts, creating
/// a run is not repeated, and listing runs pages correctly on both servers.
/// </summary>
public sealed class LangGraphClientTests : IAsyncLifetime
{
    private const string ApiKey = "lsv2_pt_0123456789abcdef0123456789abcdef_0123456789";
    private const string ThreadId = "0197a1a0-0000-7000-8000-000000000001";
    private const string RunId = "0197a1a0-0000-7000-8000-0000000000aa";
    private const string WebhookToken = "webhook-token-in-kwargs-0123456789abcdef";
    private CannedLangGraphServer _server = null!;

    public async Task InitializeAsync() => _server = await CannedLangGraphServer.StartAsync();

    public async Task DisposeAsync() => await _server.DisposeAsync();

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task A_run_is_read_with_its_fields_and_the_api_key_is_sent_only_when_configured(bool withKey)
    {
        using var host = LangGraphClientHost.Build(_server.Url, withKey ? ApiKey : null);
        _server.Answer = (_, _) => CannedAnswer.Json(PythonRun(RunId, "success", "2025-06-01T10:00:00.123456+00:00"));

        var run = await LangGraphClientHost.Client(host).GetRunAsync(ThreadId, RunId);

        Assert.NotNull(run);
        Assert.Equal(RunId, run.RunId);
        Assert.Equal(ThreadId, run.ThreadId);
        Assert.Equal("success", run.Status);
        Assert.Equal("agent", run.GraphId);
        Assert.Equal(new DateTimeOffset(2025, 6, 1, 10, 0, 0, 123, 456, TimeSpan.Zero), run.CreatedAt);
        Assert.DoesNotContain(WebhookToken, run.RawJson, StringComparison.Ordinal); // Redacted as for handlers.
        Assert.Contains("/webhooks/langgraph?token=" + SecretRedactor.Mask, run.RawJson, StringComparison.Ordinal);
        var request = Assert.Single(_server.Received);
        Assert.Equal(("GET", $"/threads/{ThreadId}/runs/{RunId}"), (request.Method, request.Path));
        if (withKey)
        {
            Assert.Equal(ApiKey, request.Headers["x-api-key"]);
        }
        else
        {
            Assert.False(request.Headers.ContainsKey("x-api-key"));
        }
    }

    [Theory]
    [InlineData("python")]
    [InlineData("js")]
    public async Task Not_found_is_null_whether_the_server_says_it_in_json_or_in_plain_text(string server)
    {
        using var host = LangGraphClientHost.Build(_server.Url);
        _server.Answer = (_, _) => server == "python"
            ? CannedAnswer.PythonError(404, $"Thread {ThreadId} not found")
            : CannedAnswer.JsError(404, $"Thread with ID {ThreadId} not found");
        var client = LangGraphClientHost.Client(host);

        Assert.Null(await client.GetRunAsync(ThreadId, RunId));
        Assert.Null(await client.GetThreadAsync(ThreadId));
        Assert.Null(await client.GetThreadStateAsync(ThreadId));
        Assert.Null(await client.GetThreadHistoryAsync(ThreadId, limit: 5));
        Assert.Null(await client.ListRunsAsync(ThreadId));
        Assert.Null(await client.CreateRunAsync(ThreadId, new LangGraphRunRequest { AssistantId = "agent", Input = new JsonObject() }));
        Assert.Equal(6, _server.Received.Count); // A 404 is an answer: never retried.
    }

    [Fact]
    public async Task An_id_that_is_not_a_uuid_is_not_found_without_asking()
    {
        using var host = LangGraphClientHost.Build(_server.Url);
        var client = LangGraphClientHost.Client(host);

        Assert.Null(await client.GetRunAsync(ThreadId, "forged-run-id"));
        Assert.Null(await client.GetThreadAsync("../assistants"));
        Assert.Empty(_server.Received);
    }

    [Theory]
    [InlineData(401, "python")]
    [InlineData(403, "js")]
    public async Task A_refused_key_throws_an_error_that_says_the_key_is_wrong_without_the_key(int status, string server)
    {
        using var host = LangGraphClientHost.Build(_server.Url, ApiKey);
        _server.Answer = (_, _) => server == "python"
            ? CannedAnswer.PythonError(status, $"Invalid API key {ApiKey}")
            : CannedAnswer.JsError(status, "Forbidden");

        var error = await Assert.ThrowsAsync<LangGraphAuthenticationException>(() => LangGraphClientHost.Client(host).GetThreadAsync(ThreadId));

        Assert.Equal((HttpStatusCode)status, error.StatusCode);
        Assert.Equal("prod", error.Deployment);
        Assert.Contains("API key is wrong", error.Message, StringComparison.Ordinal);
        Assert.Contains("'prod'", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(ApiKey, error.Message, StringComparison.Ordinal);
        Assert.Single(_server.Received);
    }

    [Theory]
    [InlineData(429)]
    [InlineData(503)]
    [InlineData(500)]
    public async Task A_read_answered_with_a_passing_error_is_retried_until_it_succeeds(int status)
    {
        using var host = LangGraphClientHost.Build(_server.Url);
        _server.Answer = (_, n) => n == 1 ? CannedAnswer.JsError(status, "try later") : CannedAnswer.Json(JsThread("idle"));

        var thread = await LangGraphClientHost.Client(host).GetThreadAsync(ThreadId);

        Assert.Equal("idle", thread?.Status);
        Assert.Equal(2, _server.Received.Count);
    }

    [Fact]
    public async Task A_read_that_gets_no_answer_in_time_is_retried()
    {
        using var host = LangGraphClientHost.Build(_server.Url, settings: new() { ["WebhookReceiver:LangGraph:RequestTimeout"] = "00:00:00.300" });
        _server.Answer = (_, n) => n == 1 ? new CannedAnswer(200, "{}", Delay: TimeSpan.FromSeconds(10)) : CannedAnswer.Json(JsThread("idle"));

        var thread = await LangGraphClientHost.Client(host).GetThreadAsync(ThreadId);

        Assert.Equal("idle", thread?.Status);
        Assert.Equal(2, _server.Received.Count);
    }

    [Fact]
    public async Task A_read_that_keeps_failing_throws_with_the_status_and_the_servers_explanation_after_the_retries()
    {
        using var host = LangGraphClientHost.Build(_server.Url, settings: new() { ["WebhookReceiver:LangGraph:MaxRetries"] = "2" });
        _server.Answer = (_, _) => CannedAnswer.PythonError(503, "database is restarting");

        var error = await Assert.ThrowsAsync<LangGraphApiException>(() => LangGraphClientHost.Client(host).GetThreadStateAsync(ThreadId));

        Assert.Equal(HttpStatusCode.ServiceUnavailable, error.StatusCode);
        Assert.Contains("database is restarting", error.Message, StringComparison.Ordinal);
        Assert.Equal(3, _server.Received.Count);
    }

    [Fact]
    public async Task Creating_a_run_is_not_repeated_after_a_5xx_since_it_may_have_started()
    {
        using var host = LangGraphClientHost.Build(_server.Url);
        _server.Answer = (_, n) => n == 1 ? CannedAnswer.JsError(503, "busy") : CannedAnswer.Json(PythonRun(RunId, "pending"));

        var error = await Assert.ThrowsAsync<LangGraphApiException>(() =>
            LangGraphClientHost.Client(host).CreateRunAsync(ThreadId, new LangGraphRunRequest { AssistantId = "agent", Input = new JsonObject() }));

        Assert.Equal(HttpStatusCode.ServiceUnavailable, error.StatusCode);
        Assert.Single(_server.Received);
    }

    [Fact]
    public async Task Creating_a_run_refused_with_429_is_retried_and_sends_the_command_webhook_and_metadata()
    {
        using var host = LangGraphClientHost.Build(_server.Url);
        _server.Answer = (_, n) => n == 1 ? CannedAnswer.PythonError(429, "Too many requests") : CannedAnswer.Json(PythonRun(RunId, "pending"));

        var run = await LangGraphClientHost.Client(host).CreateRunAsync(ThreadId, new LangGraphRunRequest
        {
            AssistantId = "agent",
            Command = LangGraphRunRequest.Resume("yes"),
            Webhook = "https://hooks.example.com/webhooks/langgraph?token=t",
            Metadata = new JsonObject { ["approved_by"] = "ops" },
        });

        Assert.Equal("pending", run?.Status);
        Assert.Equal(2, _server.Received.Count);
        var request = _server.Received[1];
        Assert.Equal(("POST", $"/threads/{ThreadId}/runs"), (request.Method, request.Path));
        var body = request.Json!.AsObject();
        Assert.Equal("agent", (string?)body["assistant_id"]);
        Assert.Equal("yes", (string?)body["command"]?["resume"]);
        Assert.Equal("https://hooks.example.com/webhooks/langgraph?token=t", (string?)body["webhook"]);
        Assert.Equal("ops", (string?)body["metadata"]?["approved_by"]);
        Assert.False(body.ContainsKey("input")); // Not sent as null: a resume carries a command only.
    }

    [Fact]
    public async Task Runs_of_a_thread_on_a_python_server_are_read_page_by_page_until_a_short_page()
    {
        using var host = LangGraphClientHost.Build(_server.Url);
        var runs = Enumerable.Range(0, 5).Select(i => PythonRun(RunIdNumber(i), "success", $"2025-06-01T10:00:0{i}.000001+00:00")).ToList();
        _server.Answer = (request, _) =>
        {
            var (limit, offset) = (int.Parse(request.Query["limit"]), int.Parse(request.Query["offset"]));
            // Python: newest first, offset and limit as documented.
            return CannedAnswer.Json(new JsonArray(runs.AsEnumerable().Reverse().Skip(offset).Take(limit).Select(r => r.DeepClone()).ToArray()));
        };
        var client = LangGraphClientHost.Client(host);
        client.RunsPerPage = 2;

        var listed = await client.ListRunsAsync(ThreadId);

        Assert.Equal(Enumerable.Range(0, 5).Reverse().Select(RunIdNumber), listed!.Select(r => r.RunId));
        Assert.Equal(["0", "2", "4"], _server.Received.Select(r => r.Query["offset"]));
        Assert.All(_server.Received, r => Assert.Equal("2", r.Query["limit"]));
    }

    [Fact]
    public async Task Runs_of_a_thread_on_the_js_server_come_in_one_large_page_and_are_returned_newest_first()
    {
        using var host = LangGraphClientHost.Build(_server.Url);
        var runs = Enumerable.Range(0, 3).Select(i => PythonRun(RunIdNumber(i), "success", $"2025-06-01T10:00:0{i}.000Z")).ToList();
        _server.Answer = (request, _) =>
        {
            var (limit, offset) = (int.Parse(request.Query["limit"]), int.Parse(request.Query["offset"]));
            // JS 1.5.1: oldest first, and runs.slice(offset, limit), wrong for any offset above 0.
            return CannedAnswer.Json(new JsonArray(runs.Skip(offset).Take(Math.Max(0, limit - offset)).Select(r => r.DeepClone()).ToArray()));
        };

        var listed = await LangGraphClientHost.Client(host).ListRunsAsync(ThreadId, status: "success");

        Assert.Equal([RunIdNumber(2), RunIdNumber(1), RunIdNumber(0)], listed!.Select(r => r.RunId));
        var request = Assert.Single(_server.Received);
        Assert.Equal(("1000", "0", "success"), (request.Query["limit"], request.Query["offset"], request.Query["status"]));
    }

    [Theory]
    [InlineData("python")]
    [InlineData("js")]
    public async Task A_threads_pending_interrupts_are_read_from_its_state_on_both_servers(string server)
    {
        using var host = LangGraphClientHost.Build(_server.Url);
        var state = JsState();
        if (server == "python")
        {
            state["interrupts"] = new JsonArray(Interrupt());
        }

        _server.Answer = (_, _) => CannedAnswer.Json(state);

        var read = await LangGraphClientHost.Client(host).GetThreadStateAsync(ThreadId);

        Assert.Equal(["ask"], read!.Next);
        var interrupt = Assert.Single(read.Interrupts);
        Assert.Equal("interrupt-1", interrupt.Id);
        Assert.Equal("approve?", interrupt.Value?.GetProperty("question").GetString());
        Assert.Equal("checkpoint-2", read.Checkpoint?.CheckpointId);
        Assert.Equal("task-1", Assert.Single(read.Tasks).Id);
    }

    [Fact]
    public async Task Thread_history_always_sends_its_limit_since_the_servers_defaults_differ()
    {
        using var host = LangGraphClientHost.Build(_server.Url);
        _server.Answer = (_, _) => CannedAnswer.Json(new JsonArray(JsState(), JsState()));

        var history = await LangGraphClientHost.Client(host).GetThreadHistoryAsync(ThreadId, limit: 7);

        Assert.Equal(2, history!.Count);
        var request = Assert.Single(_server.Received);
        Assert.Equal(("POST", $"/threads/{ThreadId}/history"), (request.Method, request.Path));
        Assert.Equal(7, (int?)request.Json?["limit"]);
    }

    [Fact]
    public async Task Searching_threads_sends_the_query_and_reads_each_threads_interrupts()
    {
        using var host = LangGraphClientHost.Build(_server.Url);
        _server.Answer = (_, _) => CannedAnswer.Json(new JsonArray(JsThread("interrupted"), JsThread("idle", interrupts: false)));

        var threads = await LangGraphClientHost.Client(host).SearchThreadsAsync(new LangGraphThreadSearch
        {
            Status = "interrupted",
            Metadata = new JsonObject { ["tenant"] = "acme" },
            Limit = 50,
            Offset = 100,
        });

        Assert.Equal(["interrupted", "idle"], threads.Select(t => t.Status));
        Assert.Equal("approve?", threads[0].Interrupts["task-1"].Single().Value?.GetProperty("question").GetString());
        Assert.Empty(threads[1].Interrupts);
        var body = Assert.Single(_server.Received).Json!;
        Assert.Equal(("interrupted", 50, 100, "updated_at", "desc", "acme"),
            ((string?)body["status"], (int?)body["limit"], (int?)body["offset"], (string?)body["sort_by"], (string?)body["sort_order"], (string?)body["metadata"]?["tenant"]));
    }

    [Fact]
    public async Task A_body_that_is_not_the_expected_json_throws_instead_of_reading_as_empty()
    {
        using var host = LangGraphClientHost.Build(_server.Url);
        _server.Answer = (_, _) => new CannedAnswer(200, "<html>login</html>", "text/html");

        var error = await Assert.ThrowsAsync<LangGraphApiException>(() => LangGraphClientHost.Client(host).GetThreadAsync(ThreadId));

        Assert.Contains("not the expected JSON", error.Message, StringComparison.Ordinal);
    }

    private static string RunIdNumber(int i) => $"0197a1a0-0000-7000-8000-00000000000{i}";

    private static JsonObject PythonRun(string runId, string status, string createdAt = "2025-06-01T10:00:00.000001+00:00") => new()
    {
        ["run_id"] = runId,
        ["thread_id"] = ThreadId,
        ["assistant_id"] = "fe096781-5601-53d2-b2f6-0d3403f7e9ca",
        ["created_at"] = createdAt,
        ["updated_at"] = createdAt,
        ["status"] = status,
        ["metadata"] = new JsonObject { ["graph_id"] = "agent" },
        ["kwargs"] = new JsonObject
        {
            ["input"] = new JsonObject { ["messages"] = new JsonArray() },
            ["webhook"] = $"https://hooks.example.com/webhooks/langgraph?token={WebhookToken}",
            ["config"] = new JsonObject { ["configurable"] = new JsonObject { ["graph_id"] = "agent" } },
        },
        ["multitask_strategy"] = "reject",
    };

    private static JsonObject Interrupt() => new() { ["id"] = "interrupt-1", ["value"] = new JsonObject { ["question"] = "approve?" } };

    private static JsonObject JsThread(string status, bool interrupts = true) => new()
    {
        ["thread_id"] = ThreadId,
        ["created_at"] = "2025-06-01T10:00:00.000Z",
        ["updated_at"] = "2025-06-01T10:00:01.000Z",
        ["metadata"] = new JsonObject { ["graph_id"] = "ask" },
        ["status"] = status,
        ["config"] = new JsonObject(),
        ["values"] = new JsonObject { ["messages"] = new JsonArray() },
        ["interrupts"] = interrupts ? new JsonObject { ["task-1"] = new JsonArray(Interrupt()) } : new JsonObject(),
    };

    private static JsonObject JsState() => new()
    {
        ["values"] = new JsonObject { ["messages"] = new JsonArray() },
        ["next"] = new JsonArray("ask"),
        ["tasks"] = new JsonArray(new JsonObject
        {
            ["id"] = "task-1",
            ["name"] = "ask",
            ["interrupts"] = new JsonArray(Interrupt()),
            ["checkpoint"] = null,
            ["state"] = null,
        }),
        ["metadata"] = new JsonObject { ["step"] = 1 },
        ["created_at"] = "2025-06-01T10:00:01.000Z",
        ["checkpoint"] = new JsonObject { ["thread_id"] = ThreadId, ["checkpoint_ns"] = "", ["checkpoint_id"] = "checkpoint-2" },
        ["parent_checkpoint"] = new JsonObject { ["thread_id"] = ThreadId, ["checkpoint_ns"] = "", ["checkpoint_id"] = "checkpoint-1" },
    };

}
