using System.Diagnostics.Metrics;
using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using WebhookReceiver.Interrupts;
using WebhookReceiver.Tests.Infrastructure;
using WebhookReceiver.Tests.LangGraphApi;
using WebhookReceiver.Webhooks;
using Xunit.Abstractions;

namespace WebhookReceiver.Tests.QueryApi;

/// <summary>
/// The interrupts API in memory (WebApplicationFactory), with a canned LangGraph server as deployment <c>prod</c>: every
/// refusal is a problem with a reason, and nothing is asked of LangGraph for a body that does not fit; LangGraph's refusal
/// is a 422 with its reason; a resume answers 202, records the pause-to-resume time, and a second one is 409.
/// </summary>
public sealed class InterruptApiTests(ITestOutputHelper output) : IAsyncLifetime
{
    private const string PublicUrl = "https://hooks.example.com/base/webhooks/langgraph";
    private readonly string _threadId = Guid.NewGuid().ToString();
    private CannedLangGraphServer _server = null!;

    public async Task InitializeAsync() => _server = await CannedLangGraphServer.StartAsync();

    public async Task DisposeAsync() => await _server.DisposeAsync();

    [Theory]
    [InlineData("{not json", "The body is not a JSON object")]
    [InlineData("[1, 2]", "The body is not a JSON object")]
    [InlineData("", "The body is not a JSON object")]
    [InlineData("""{"answer": "yes"}""", "The body does not fit this pause")]
    [InlineData("{}", "The body does not fit this pause")]
    public async Task A_body_that_does_not_fit_is_a_400_problem_and_LangGraph_is_not_asked(string body, string title)
    {
        await using var app = App();
        var id = await PauseAsync(app);

        using var response = await PostResumeAsync(app, id, body);

        var problem = await AssertProblemAsync(response, HttpStatusCode.BadRequest);
        Assert.Equal(title, (string?)problem["title"]);
        Assert.Empty(_server.Received);
        Assert.Equal(InterruptState.Waiting, await StateAsync(app, id));
    }

    [Fact]
    public async Task An_unknown_interrupt_is_a_404_problem_for_get_and_resume()
    {
        await using var app = App();

        using var get = await app.CreateAdminClient().GetAsync("/api/interrupts/999");
        using var resume = await PostResumeAsync(app, 999, """{"resume": "yes"}""");

        Assert.Equal("No interrupt has id 999.", (string?)(await AssertProblemAsync(get, HttpStatusCode.NotFound))["detail"]);
        Assert.Equal("No interrupt has id 999.", (string?)(await AssertProblemAsync(resume, HttpStatusCode.NotFound))["detail"]);
    }

    [Fact]
    public async Task Without_PublicUrl_a_resume_is_a_409_problem_naming_the_setting_not_an_outage_and_LangGraph_is_not_asked()
    {
        await using var app = App(publicUrl: null);
        var id = await PauseAsync(app);

        using var response = await PostResumeAsync(app, id, """{"resume": "yes"}""");

        var problem = await AssertProblemAsync(response, HttpStatusCode.Conflict);
        Assert.Contains("WebhookReceiver:LangGraph:PublicUrl", (string?)problem["detail"], StringComparison.Ordinal);
        Assert.Empty(_server.Received);
        Assert.Equal(InterruptState.Waiting, await StateAsync(app, id));
    }

    [Fact]
    public async Task A_resume_LangGraph_refuses_is_a_422_problem_with_its_reason_and_the_interrupt_stays_waiting()
    {
        await using var app = App();
        var id = await PauseAsync(app);
        _server.Answer = (request, _) => request.Method == "POST"
            ? CannedAnswer.PythonError(422, "Invalid resume value: expected a boolean")
            : StillWaiting(request);

        using var response = await PostResumeAsync(app, id, """{"resume": "yes"}""");

        var problem = await AssertProblemAsync(response, HttpStatusCode.UnprocessableEntity);
        Assert.Contains("Invalid resume value: expected a boolean", (string?)problem["detail"], StringComparison.Ordinal);
        Assert.Equal(InterruptState.Waiting, await StateAsync(app, id));
        var created = _server.Received.Single(r => r.Method == "POST").Json!;
        Assert.Equal(("assistant-a", "yes"), ((string?)created["assistant_id"], (string?)created["command"]!["resume"]));
        Assert.Equal($"{PublicUrl}?token={TestApp.Token}", (string?)created["webhook"]);
        Assert.DoesNotContain(TestApp.Token, await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_resume_answers_202_with_the_new_run_records_the_wait_in_the_histogram_and_a_second_resume_is_409()
    {
        await using var app = App();
        var id = await PauseAsync(app);
        using var delays = new MetricCollector<double>(app.Services.GetRequiredService<IMeterFactory>(), ReceiverMetrics.MeterName, "webhookreceiver.interrupts.resume_delay");
        using var waiting = new MetricCollector<long>(app.Services.GetRequiredService<IMeterFactory>(), ReceiverMetrics.MeterName, "webhookreceiver.interrupts.waiting");
        Assert.Equal(1, await WaitingAsync(waiting, expected: 1));
        var resumedRunId = Guid.NewGuid().ToString();
        _server.Answer = (request, _) => request.Method == "POST"
            ? CannedAnswer.Json(new JsonObject { ["run_id"] = resumedRunId, ["thread_id"] = _threadId, ["status"] = "pending" })
            : StillWaiting(request);

        using var response = await PostResumeAsync(app, id, """{"resume": {"approved": true}}""");
        using var again = await PostResumeAsync(app, id, """{"resume": {"approved": true}}""");

        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        var accepted = await Json.ReadAsync(response);
        Assert.Equal((id, resumedRunId, _threadId, "resumed"), ((long)accepted["interrupt_id"]!, (string?)accepted["run_id"], (string?)accepted["thread_id"], (string?)accepted["state"]));
        Assert.Equal($"/api/interrupts/{id}", response.Headers.Location?.OriginalString);
        Assert.True(JsonNode.DeepEquals(new JsonObject { ["approved"] = true }, _server.Received.Single(r => r.Method == "POST").Json!["command"]!["resume"]));
        var delay = Assert.Single(delays.GetMeasurementSnapshot());
        Assert.Equal(("prod", "ask"), ((string?)delay.Tags["deployment"], (string?)delay.Tags["graph"]));
        Assert.True(delay.Value >= 0);
        Assert.Contains("resumed already", (string?)(await AssertProblemAsync(again, HttpStatusCode.Conflict))["detail"], StringComparison.Ordinal);
        Assert.Single(_server.Received, r => r.Method == "POST");
        Assert.Equal(0, await WaitingAsync(waiting, expected: 0));

        var shown = await app.GetAdminAsync<JsonNode>($"/api/interrupts/{id}");
        Assert.Equal(("resumed", resumedRunId, "https://hooks.example.com/base/api/interrupts/" + id + "/resume"),
            ((string?)shown["state"], (string?)shown["resumed_run_id"], (string?)shown["resume_url"]));
    }

    [Fact]
    public async Task Two_resumes_of_one_interrupt_at_once_create_one_run_and_the_other_is_a_409_problem()
    {
        await using var app = App();
        var id = await PauseAsync(app);
        _server.Answer = (request, _) => SlowServer(request, TimeSpan.FromMilliseconds(200));

        var responses = await Task.WhenAll(PostResumeAsync(app, id, """{"resume": "yes"}"""), PostResumeAsync(app, id, """{"resume": "no"}"""));

        Assert.Equal([HttpStatusCode.Accepted, HttpStatusCode.Conflict], responses.Select(r => r.StatusCode).Order());
        var conflict = await AssertProblemAsync(responses.Single(r => r.StatusCode == HttpStatusCode.Conflict), HttpStatusCode.Conflict);
        Assert.Contains("resumed already", (string?)conflict["detail"], StringComparison.Ordinal);
        Assert.Single(_server.Received, r => r.Method == "POST");
        Assert.Equal(InterruptState.Resumed, await StateAsync(app, id));
    }

    [Fact]
    public async Task Resumes_of_different_threads_go_on_in_parallel()
    {
        await using var app = App();
        var (threadA, threadB) = (Guid.NewGuid().ToString(), Guid.NewGuid().ToString()); // LangGraph's thread ids are UUIDs
        var (alone, first, second) = (await PauseAsync(app), await PauseAsync(app, threadA), await PauseAsync(app, threadB));
        var delay = TimeSpan.FromMilliseconds(300);
        _server.Answer = (request, _) => SlowServer(request, delay);

        var clock = System.Diagnostics.Stopwatch.StartNew();
        using (var one = await PostResumeAsync(app, alone, """{"resume": "yes"}"""))
        {
            Assert.Equal(HttpStatusCode.Accepted, one.StatusCode);
        }

        var single = clock.Elapsed;
        clock.Restart();
        var both = await Task.WhenAll(PostResumeAsync(app, first, """{"resume": "yes"}"""), PostResumeAsync(app, second, """{"resume": "yes"}"""));
        var parallel = clock.Elapsed;

        output.WriteLine($"three LangGraph calls of {delay.TotalMilliseconds:0} ms each: one resume took {single.TotalMilliseconds:0} ms, " +
                         $"two resumes of different threads at once {parallel.TotalMilliseconds:0} ms");
        Assert.All(both, r => Assert.Equal(HttpStatusCode.Accepted, r.StatusCode));
        // Each thread was asked about before the other's run was created: neither waited for the other's three calls.
        var asked = _server.Received.ToList();
        int First(string threadId) => asked.FindIndex(r => ThreadOf(r) == threadId);
        int Created(string threadId) => asked.FindIndex(r => ThreadOf(r) == threadId && r.Method == "POST");
        Assert.True(First(threadB) < Created(threadA) && First(threadA) < Created(threadB),
            string.Join(", ", asked.Select(r => $"{r.Method} {r.Path}")));
    }

    [Fact]
    public async Task A_dead_interrupt_delivery_is_delivered_again_by_the_interrupts_replay_and_by_the_bulk_dead_letter_replay()
    {
        var people = new InterruptCalls { Failing = true };
        await using var app = App(services: services =>
        {
            services.AddSingleton(people);
            new WebhookReceiverBuilder(services).AddInterruptHandler<ScriptedInterruptHandler>("people");
        });
        var one = await PauseAsync(app, "thread-one", ["people"]);
        var other = await PauseAsync(app, "thread-other", ["people"]);
        await DeliveryStateAsync(app, one, DeliveryState.Dead);
        await DeliveryStateAsync(app, other, DeliveryState.Dead);
        people.Failing = false;

        using var replay = await app.CreateAdminClient().PostAsync($"/api/interrupts/{one}/replay", null);
        Assert.Equal(HttpStatusCode.Accepted, replay.StatusCode);
        Assert.Equal(1, (int)(await Json.ReadAsync(replay))["replayed"]!);
        Assert.Equal($"/api/interrupts/{one}", replay.Headers.Location?.OriginalString);
        await DeliveryStateAsync(app, one, DeliveryState.Succeeded);
        Assert.Equal([false, true], people.For(one).Select(c => c.Succeeded));

        // A filter on what only runs have (status) matches no interrupt; the interrupt's thread and handler do.
        using var runsOnly = await app.CreateAdminClient().PostAsync("/api/dead-letters/replay?status=success", null);
        Assert.Equal(0, (int)(await Json.ReadAsync(runsOnly))["replayed"]!);
        using var bulk = await app.CreateAdminClient().PostAsync("/api/dead-letters/replay?handler=people&thread_id=thread-other", null);
        Assert.Equal(HttpStatusCode.Accepted, bulk.StatusCode);
        Assert.Equal(1, (int)(await Json.ReadAsync(bulk))["replayed"]!);
        await DeliveryStateAsync(app, other, DeliveryState.Succeeded);
        Assert.Equal([false, true], people.For(other).Select(c => c.Succeeded));

        using var unknown = await app.CreateAdminClient().PostAsync($"/api/interrupts/{one}/replay?handler=log", null);
        Assert.Equal("No interrupt handler is registered as 'log'.", (string?)(await AssertProblemAsync(unknown, HttpStatusCode.NotFound))["detail"]);
        using var missing = await app.CreateAdminClient().PostAsync("/api/interrupts/999/replay", null);
        Assert.Equal("No interrupt has id 999.", (string?)(await AssertProblemAsync(missing, HttpStatusCode.NotFound))["detail"]);
        using var asWebhook = await app.CreateAdminClient().PostAsync("/api/webhooks/1/replay?handler=people", null);
        Assert.Contains("POST /api/interrupts/{id}/replay", (string?)(await AssertProblemAsync(asWebhook, HttpStatusCode.NotFound))["detail"], StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_handlers_endpoint_lists_interrupt_handlers_with_their_filters_and_deliveries_by_state()
    {
        var people = new InterruptCalls { Failing = true };
        await using var app = App(
            services: services =>
            {
                services.AddSingleton(people);
                new WebhookReceiverBuilder(services).AddInterruptHandler<ScriptedInterruptHandler>("people", f => f.ForGraph("ask"));
            },
            settings: new()
            {
                ["WebhookReceiver:Handlers:Forward:0:Name"] = "pager",
                ["WebhookReceiver:Handlers:Forward:0:Url"] = "http://127.0.0.1:9/hook", // nothing listens: its attempt fails
                ["WebhookReceiver:Handlers:Forward:0:Secret"] = "a-forward-secret-of-some-length",
                ["WebhookReceiver:Handlers:Forward:0:Events"] = "Both",
            });
        var id = await PauseAsync(app, handlers: ["people", "pager"]);
        await Eventually.MatchAsync(async () => (await app.GetAdminAsync<JsonNode>($"/api/interrupts/{id}"))["deliveries"]!.AsArray().Select(d => (string?)d!["state"]),
            states => states.All(s => s == DeliveryState.Dead));

        var handlers = await app.GetAdminAsync<JsonArray>("/api/handlers");

        Assert.Equal([("log", "runs"), ("pager", "runs"), ("langgraph-interrupts", "runs"), ("pager", "interrupts"), ("people", "interrupts")],
            handlers.Select(h => ((string)h!["name"]!, (string)h["handles"]!)));
        var listed = handlers.Single(h => (string?)h!["name"] == "people")!;
        Assert.Equal("ScriptedInterruptHandler", (string?)listed["type"]);
        Assert.Equal(["ask"], listed["filter"]!["graph_ids"]!.AsArray().Select(g => (string?)g));
        Assert.Equal((1L, 0L, 0L), ((long)listed["deliveries"]!["dead"]!, (long)listed["deliveries"]!["succeeded"]!, (long)listed["deliveries"]!["pending"]!));
        // The forward target's deliveries of interrupts are counted apart from those of runs.
        Assert.Equal([0L, 1L], handlers.Where(h => (string?)h!["name"] == "pager").Select(h => (long)h!["deliveries"]!["dead"]!));
        Assert.All(handlers.Where(h => (string?)h!["handles"] == "runs"), h => Assert.Equal(0, h!["deliveries"]!.AsObject().Sum(d => (long)d.Value!)));
    }

    [Theory]
    [InlineData("/api/interrupts?state=paused", "state")]
    [InlineData("/api/interrupts?limit=0", "limit")]
    [InlineData("/api/interrupts?cursor=x", "cursor")]
    [InlineData("/api/interrupts?status=waiting", "status")]
    public async Task A_list_filter_that_does_not_parse_is_a_400_naming_the_parameter(string url, string parameter)
    {
        await using var app = App();

        using var response = await app.CreateAdminClient().GetAsync(url);

        var problem = await AssertProblemAsync(response, HttpStatusCode.BadRequest);
        Assert.NotNull(problem["errors"]![parameter]);
    }

    [Fact]
    public async Task The_interrupts_endpoints_need_the_admin_key()
    {
        await using var app = App();

        using var list = await app.CreateClient().GetAsync("/api/interrupts");
        using var resume = await app.CreateClient().PostAsync("/api/interrupts/1/resume", new StringContent("{}"));

        Assert.Equal(HttpStatusCode.Unauthorized, list.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, resume.StatusCode);
    }

    [Fact]
    public async Task An_Agent_Inbox_pause_is_described_as_its_actions_with_the_decisions_each_config_allows()
    {
        await using var app = App();
        var id = await PauseAsync(app, pending: """
            [{"id":"i-1","value":[
              {"action_request":{"action":"send_email","args":{"to":"ops@example.com"}},"description":"Send it?",
               "config":{"allow_accept":true,"allow_edit":true,"allow_respond":false,"allow_ignore":true}},
              {"action_request":{"action":"page"},"config":{"allow_accept":false,"allow_edit":false,"allow_respond":true,"allow_ignore":false}}]}]
            """);

        var question = await QuestionAsync(app, id);

        Assert.Equal("agent_inbox", (string?)question["kind"]);
        var actions = question["actions"]!.AsArray();
        Assert.Equal(2, actions.Count);
        Assert.Equal("send_email", (string?)actions[0]!["name"]);
        Assert.Equal("ops@example.com", (string?)actions[0]!["args"]!["to"]);
        Assert.Equal("Send it?", (string?)actions[0]!["description"]);
        Assert.Equal(["accept", "edit", "ignore"], Strings(actions[0]!["allowed_decisions"]));
        Assert.Equal("page", (string?)actions[1]!["name"]);
        Assert.Empty(actions[1]!["args"]!.AsObject());
        Assert.Equal(["response"], Strings(actions[1]!["allowed_decisions"]));
        Assert.Null(question["fields"]);
    }

    [Fact]
    public async Task A_HITLRequest_pause_is_described_as_its_actions_with_their_allowed_decisions_and_the_fields_of_their_args_schema()
    {
        await using var app = App();
        var id = await PauseAsync(app, pending: """
            [{"id":"i-1","value":{
              "action_requests":[{"name":"delete_file","args":{"path":"/tmp/x"},"description":"Delete it?"},{"name":"notify","args":{}}],
              "review_configs":[{"action_name":"delete_file","allowed_decisions":["approve","reject"],
                "args_schema":{"type":"object","properties":{"path":{"type":"string","title":"Path"},"force":{"type":"boolean"}},"required":["path"]}}]}}]
            """);

        var question = await QuestionAsync(app, id);

        Assert.Equal("hitl", (string?)question["kind"]);
        var actions = question["actions"]!.AsArray();
        Assert.Equal("delete_file", (string?)actions[0]!["name"]);
        Assert.Equal("/tmp/x", (string?)actions[0]!["args"]!["path"]);
        Assert.Equal("Delete it?", (string?)actions[0]!["description"]);
        Assert.Equal(["approve", "reject"], Strings(actions[0]!["allowed_decisions"]));
        var fields = actions[0]!["fields"]!.AsArray();
        Assert.Equal(("path", "string", "Path", true), Field(fields[0]!));
        Assert.Equal(("force", "boolean", null, false), Field(fields[1]!));
        Assert.Equal(["approve", "edit", "reject"], Strings(actions[1]!["allowed_decisions"])); // No review config: every decision.
        Assert.Null(actions[1]!["fields"]);
    }

    [Fact]
    public async Task A_free_form_pause_with_a_response_schema_is_described_by_the_schemas_fields()
    {
        await using var app = App();
        var id = await PauseAsync(app, pending: """
            [{"id":"i-1","value":{"question":"ok?"},"response_schema":{"type":"object",
              "properties":{"approved":{"type":"boolean","title":"Approved"},"note":{"type":"string","description":"Why"}},"required":["approved"]}}]
            """);

        var question = await QuestionAsync(app, id);

        Assert.Equal("free_form", (string?)question["kind"]);
        Assert.Empty(question["actions"]!.AsArray());
        var fields = question["fields"]!.AsArray();
        Assert.Equal(2, fields.Count);
        Assert.Equal(("approved", "boolean", "Approved", true), Field(fields[0]!));
        Assert.Equal(("note", "string", "Why", false), Field(fields[1]!));
    }

    [Theory]
    [InlineData("""[{"id":"i-1","value":"ok?"}]""")]
    [InlineData("""[{"id":"i-1","value":{"action_requests":[{"args":{}}],"review_configs":[]}}]""")] // An action without a name: not a HITLRequest.
    [InlineData("""[{"id":"i-1","value":{"a":1},"response_schema":{"type":"array"}}]""")] // A schema no form is made of.
    public async Task A_pause_of_no_known_shape_is_free_form_with_no_actions_and_no_fields(string pending)
    {
        await using var app = App();
        var id = await PauseAsync(app, pending: pending);

        var question = await QuestionAsync(app, id);

        Assert.Equal("free_form", (string?)question["kind"]);
        Assert.Empty(question["actions"]!.AsArray());
        Assert.True(question.AsObject().ContainsKey("fields"));
        Assert.Null(question["fields"]);
    }

    [Theory]
    [InlineData(PublicUrl, "https://hooks.example.com/base/console/interrupts/{0}")]
    [InlineData(null, null)]
    public async Task An_interrupt_names_its_console_page_from_the_public_url(string? publicUrl, string? expected)
    {
        await using var app = App(publicUrl);
        var id = await PauseAsync(app);

        var interrupt = await app.GetAdminAsync<JsonNode>($"/api/interrupts/{id}");
        var listed = (await app.GetAdminAsync<JsonNode>("/api/interrupts"))["items"]![0]!;

        var url = expected is null ? null : string.Format(System.Globalization.CultureInfo.InvariantCulture, expected, id);
        Assert.True(interrupt.AsObject().ContainsKey("console_url"));
        Assert.Equal(url, (string?)interrupt["console_url"]);
        Assert.Equal(url, (string?)listed["console_url"]);
    }

    private static async Task<JsonNode> QuestionAsync(TestApp app, long id) =>
        (await app.GetAdminAsync<JsonNode>($"/api/interrupts/{id}"))["pending"]![0]!["question"]!;

    private static string[] Strings(JsonNode? array) => array!.AsArray().Select(n => (string)n!).ToArray();

    private static (string?, string?, string?, bool?) Field(JsonNode field) =>
        ((string?)field["name"], (string?)field["type"], (string?)field["label"], (bool?)field["required"]);

    private TestApp App(string? publicUrl = PublicUrl, Action<IServiceCollection>? services = null, Dictionary<string, string?>? settings = null) => new(new Dictionary<string, string?>(settings ?? [])
    {
        ["WebhookReceiver:LangGraph:Deployments:0:Name"] = "prod",
        ["WebhookReceiver:LangGraph:Deployments:0:ApiUrl"] = _server.Url.ToString(),
        ["WebhookReceiver:LangGraph:RetryDelay"] = "00:00:00.010",
        ["WebhookReceiver:LangGraph:PublicUrl"] = publicUrl,
        ["WebhookReceiver:LangGraph:Sweep:Interval"] = "00:00:00", // only the requests of these tests reach the canned server
        ["WebhookReceiver:Metrics:PendingRefreshInterval"] = "00:00:00",
        ["WebhookReceiver:Dispatch:MaxAttempts"] = "1",
    }, services);

    /// <summary>A pause of thread <paramref name="threadId"/> (default <see cref="_threadId"/>) at interrupt i-1 (asking <paramref name="pending"/>, by default a free-form question), stored as the detector stores one.</summary>
    private async Task<long> PauseAsync(TestApp app, string? threadId = null, IReadOnlyList<string>? handlers = null, string pending = """[{"id":"i-1","value":{"question":"ok?"}}]""")
    {
        using var started = app.CreateClient(); // Starts the host: the schema is migrated.
        var interrupts = app.Services.GetRequiredService<IInboxInterrupts>();
        var (id, _) = await interrupts.RecordInterruptAsync(new NewInterrupt("prod", threadId ?? _threadId, "interrupts:i-1", Guid.NewGuid().ToString(), "assistant-a", "ask", null,
            pending, """["ask"]""", "c-1", DateTimeOffset.UtcNow, handlers ?? []), CancellationToken.None);
        return id;
    }

    /// <summary>The server's answers while the thread asked about (<c>/threads/{id}...</c>) still waits at i-1.</summary>
    private static CannedAnswer StillWaiting(CannedRequest request) => ThreadOf(request) is var threadId && request.Path.EndsWith("/state", StringComparison.Ordinal)
        ? CannedAnswer.Json(new JsonObject
        {
            ["values"] = new JsonObject(),
            ["next"] = new JsonArray("ask"),
            ["tasks"] = new JsonArray(new JsonObject
            {
                ["id"] = "task-1",
                ["name"] = "ask",
                ["interrupts"] = new JsonArray(new JsonObject { ["id"] = "i-1", ["value"] = new JsonObject { ["question"] = "ok?" } }),
            }),
            ["checkpoint"] = new JsonObject { ["thread_id"] = threadId, ["checkpoint_ns"] = "", ["checkpoint_id"] = "c-1" },
        })
        : CannedAnswer.Json(new JsonObject { ["thread_id"] = threadId, ["status"] = "interrupted" });

    /// <summary>The thread a LangGraph request is about: <c>/threads/{thread_id}/...</c>.</summary>
    private static string ThreadOf(CannedRequest request) => request.Path.Split('/')[2];

    /// <summary>The server's answers while every thread waits at i-1, each after <paramref name="delay"/>; creating a run answers a new run.</summary>
    private static CannedAnswer SlowServer(CannedRequest request, TimeSpan delay) => (request.Method == "POST"
        ? CannedAnswer.Json(new JsonObject { ["run_id"] = Guid.NewGuid().ToString(), ["thread_id"] = ThreadOf(request), ["status"] = "pending" })
        : StillWaiting(request)) with { Delay = delay };

    private static async Task<HttpResponseMessage> PostResumeAsync(TestApp app, long id, string body)
    {
        using var content = new StringContent(body, Encoding.UTF8, "application/json");
        return await app.CreateAdminClient().PostAsync($"/api/interrupts/{id}/resume", content);
    }

    /// <summary>Waits until interrupt <paramref name="id"/>'s one delivery is in <paramref name="state"/>.</summary>
    private static Task<string?> DeliveryStateAsync(TestApp app, long id, string state) =>
        Eventually.MatchAsync(async () => (string?)(await app.GetAdminAsync<JsonNode>($"/api/interrupts/{id}"))["deliveries"]![0]!["state"], s => s == state);

    private static async Task<string?> StateAsync(TestApp app, long id) => (string?)(await app.GetAdminAsync<JsonNode>($"/api/interrupts/{id}"))["state"];

    private static async Task<JsonNode> AssertProblemAsync(HttpResponseMessage response, HttpStatusCode status)
    {
        Assert.Equal(status, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var problem = await Json.ReadAsync(response);
        Assert.Equal((int)status, (int?)problem["status"]);
        return problem;
    }

    /// <summary>Every call of the test's interrupt handler, and whether it fails.</summary>
    public sealed class InterruptCalls
    {
        private readonly System.Collections.Concurrent.ConcurrentQueue<(long Id, bool Succeeded)> _calls = new();

        private volatile bool _failing;

        public bool Failing { get => _failing; set => _failing = value; }

        public IReadOnlyList<(long Id, bool Succeeded)> For(long id) => _calls.Where(c => c.Id == id).ToList();

        public void Add(long id, bool succeeded) => _calls.Enqueue((id, succeeded));
    }

    public sealed class ScriptedInterruptHandler(InterruptCalls calls) : IInterruptHandler
    {
        public Task HandleAsync(Interrupt interrupt, DeliveryContext context, CancellationToken cancellationToken)
        {
            calls.Add(interrupt.Id, !calls.Failing);
            return calls.Failing ? throw new InvalidOperationException("planned failure") : Task.CompletedTask;
        }
    }

    /// <summary>The waiting gauge of (prod, ask), read until it shows <paramref name="expected"/> (it is counted in the background).</summary>
    private static async Task<long> WaitingAsync(MetricCollector<long> waiting, long expected) =>
        await Eventually.MatchAsync(() =>
        {
            waiting.RecordObservableInstruments();
            var last = waiting.GetMeasurementSnapshot().LastOrDefault(m => (string?)m.Tags["deployment"] == "prod" && (string?)m.Tags["graph"] == "ask");
            return Task.FromResult(last?.Value ?? -1);
        }, value => value == expected, 10);
}
