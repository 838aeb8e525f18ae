using System.Net;
using System.Text.Json.Nodes;
using WebhookReceiver.Tests.Infrastructure;
using WebhookReceiver.Webhooks;

namespace WebhookReceiver.Tests.LangGraphApi;

/// <summary>
/// Verification of a webhook's run against canned LangGraph answers on a real Kestrel socket, through the whole receiver
/// (ingest, dispatcher, handler): each result is stored on the webhook and shown by the query API; Require holds what the
/// server does not confirm; Annotate hands the verification to the handler; VerifiedOnly filters.
/// </summary>
public sealed class RunVerifierTests : IAsyncLifetime
{
    private const string AssistantId = "fe096781-5601-53d2-b2f6-0d3403f7e9ca";
    private CannedLangGraphServer _server = null!;
    private readonly RunRecorder _recorder = new();

    public async Task InitializeAsync() => _server = await CannedLangGraphServer.StartAsync();

    public async Task DisposeAsync() => await _server.DisposeAsync();

    private TestApp App(string verify = "Annotate", Action<HandlerFilter>? filter = null, Dictionary<string, string?>? settings = null)
    {
        var all = new Dictionary<string, string?>
        {
            ["WebhookReceiver:LangGraph:Deployments:0:Name"] = "prod",
            ["WebhookReceiver:LangGraph:Deployments:0:ApiUrl"] = _server.Url.ToString(),
            ["WebhookReceiver:LangGraph:Verify"] = verify,
            ["WebhookReceiver:LangGraph:MaxRetries"] = "0",
            ["WebhookReceiver:LangGraph:DetectInterrupts"] = "false", // These tests count the calls verification makes.
            ["WebhookReceiver:Dispatch:InitialRetryDelay"] = "00:00:00.200",
            ["WebhookReceiver:Dispatch:RetryJitter"] = "0",
        };
        foreach (var (key, value) in settings ?? [])
        {
            all[key] = value;
        }

        return new TestApp(all, services => services.AddRecordingHandler(_recorder, filter));
    }

    /// <summary>The server's run record for <paramref name="body"/>, with <paramref name="status"/> and <paramref name="assistantId"/> as the server has them.</summary>
    private static CannedAnswer ServerRun(JsonObject body, string? status = null, string? assistantId = null) => CannedAnswer.Json(new JsonObject
    {
        ["run_id"] = body["run_id"]!.GetValue<string>(),
        ["thread_id"] = body["thread_id"]!.GetValue<string>(),
        ["assistant_id"] = assistantId ?? body["assistant_id"]!.GetValue<string>(),
        ["status"] = status ?? body["status"]!.GetValue<string>(),
        ["metadata"] = new JsonObject { ["graph_id"] = "agent" },
        ["kwargs"] = new JsonObject(),
        ["created_at"] = "2025-06-01T10:00:00.000Z",
        ["updated_at"] = "2025-06-01T10:00:02.000Z",
        ["multitask_strategy"] = "reject",
    });

    private static async Task<JsonObject> PostAsync(TestApp app, JsonObject body)
    {
        using var response = await app.PostWebhookAsync(body.ToJsonString());
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        return body;
    }

    private static async Task<JsonNode> WaitForDeliveryStateAsync(TestApp app, JsonObject body, string state) =>
        await Eventually.MatchAsync(
            () => app.GetAdminAsync<JsonNode>($"/api/runs/{body["run_id"]}"),
            webhook => Recorder(webhook)["state"]!.GetValue<string>() == state);

    /// <summary>The recording handler's delivery (the built-in log handler has one too).</summary>
    private static JsonNode Recorder(JsonNode webhook) =>
        webhook["deliveries"]!.AsArray().Single(d => d!["handler"]!.GetValue<string>() == RunRecorder.HandlerName)!;

    [Fact]
    public async Task A_run_the_server_has_as_sent_is_verified_asked_once_and_the_handler_gets_the_verification()
    {
        await using var app = App();
        var body = Payloads.Run(assistantId: AssistantId);
        _server.Answer = (_, _) => ServerRun(body);

        await PostAsync(app, body);
        var received = await _recorder.WaitForAsync(body["run_id"]!.GetValue<string>(), TimeSpan.FromSeconds(20));

        Assert.Equal("prod", received.Context.Deployment);
        Assert.Equal(VerificationResult.Verified, received.Context.Verification?.Result);
        var request = Assert.Single(_server.Received);
        Assert.Equal($"/threads/{body["thread_id"]}/runs/{body["run_id"]}", request.Path);
        var stored = await WaitForDeliveryStateAsync(app, body, "succeeded");
        Assert.Equal("prod", stored["deployment"]!.GetValue<string>());
        Assert.Equal("verified", stored["verification"]!["result"]!.GetValue<string>());
    }

    [Theory]
    [InlineData("status", "status: the webhook says 'success', the server 'error'")]
    [InlineData("assistant", "assistant_id: the webhook says 'fe096781-5601-53d2-b2f6-0d3403f7e9ca', the server 'someone-else'")]
    public async Task A_run_whose_status_or_assistant_differ_is_a_mismatch_that_says_which_and_Annotate_still_delivers_it(string differs, string detail)
    {
        await using var app = App();
        var body = Payloads.Run(assistantId: AssistantId);
        _server.Answer = (_, _) => differs == "status" ? ServerRun(body, status: "error") : ServerRun(body, assistantId: "someone-else");

        await PostAsync(app, body);
        var received = await _recorder.WaitForAsync(body["run_id"]!.GetValue<string>(), TimeSpan.FromSeconds(20));

        Assert.Equal(VerificationResult.Mismatch, received.Context.Verification?.Result);
        Assert.Equal(detail, received.Context.Verification?.Detail);
        var stored = await app.GetAdminAsync<JsonNode>($"/api/runs/{body["run_id"]}");
        Assert.Equal(detail, stored["verification"]!["detail"]!.GetValue<string>());
    }

    [Theory]
    [InlineData("python")]
    [InlineData("js")]
    public async Task A_run_the_server_does_not_have_is_not_found_and_Require_holds_it_as_rejected_without_calling_the_handler(string server)
    {
        await using var app = App("Require");
        var body = Payloads.Run(assistantId: AssistantId);
        _server.Answer = (_, _) => server == "python"
            ? CannedAnswer.PythonError(404, "Run not found")
            : CannedAnswer.JsError(404, $"Thread with ID {body["thread_id"]} not found");

        await PostAsync(app, body);
        var stored = await WaitForDeliveryStateAsync(app, body, "rejected");

        Assert.True(stored["verification"] is not null, stored.ToJsonString());
        Assert.Equal("not_found", stored["verification"]!["result"]!.GetValue<string>());
        Assert.Contains("not_found", Recorder(stored)["last_error"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Empty(_recorder.All());
        var rejected = await app.GetAdminAsync<JsonNode>("/api/webhooks?delivery_state=rejected&verification=not_found&deployment=prod");
        Assert.Single(rejected["items"]!.AsArray());
    }

    [Fact]
    public async Task Require_holds_a_mismatch_and_an_admin_replay_delivers_it()
    {
        await using var app = App("Require");
        var body = Payloads.Run(assistantId: AssistantId);
        _server.Answer = (_, _) => ServerRun(body, status: "error");

        await PostAsync(app, body);
        var stored = await WaitForDeliveryStateAsync(app, body, "rejected");
        Assert.Empty(_recorder.All());

        using var replay = await app.CreateAdminClient().PostAsync($"/api/webhooks/{stored["id"]}/replay", null);
        Assert.Equal(HttpStatusCode.Accepted, replay.StatusCode);
        var received = await _recorder.WaitForAsync(body["run_id"]!.GetValue<string>(), TimeSpan.FromSeconds(20));
        Assert.Equal(VerificationResult.Mismatch, received.Context.Verification?.Result);
        Assert.Single(_server.Received); // The stored answer is reused, not asked again.
    }

    [Fact]
    public async Task A_stateless_run_is_unverifiable_without_asking_and_Require_delivers_it()
    {
        await using var app = App("Require");
        var body = Payloads.Run(assistantId: AssistantId);
        body["kwargs"]!["temporary"] = true;

        await PostAsync(app, body);
        var received = await _recorder.WaitForAsync(body["run_id"]!.GetValue<string>(), TimeSpan.FromSeconds(20));

        Assert.Equal(VerificationResult.Unverifiable, received.Context.Verification?.Result);
        Assert.Contains("stateless", received.Context.Verification?.Detail, StringComparison.Ordinal);
        Assert.Empty(_server.Received);
    }

    [Fact]
    public async Task A_server_that_cannot_answer_fails_the_attempt_which_is_retried_with_backoff_until_it_is_verified()
    {
        await using var app = App("Require");
        var body = Payloads.Run(assistantId: AssistantId);
        _server.Answer = (_, n) => n == 1 ? CannedAnswer.JsError(503, "down for maintenance") : ServerRun(body);

        await PostAsync(app, body);
        var received = await _recorder.WaitForAsync(body["run_id"]!.GetValue<string>(), TimeSpan.FromSeconds(20));

        Assert.Equal(VerificationResult.Verified, received.Context.Verification?.Result);
        Assert.Equal(2, received.Context.Attempt);
        var stored = await WaitForDeliveryStateAsync(app, body, "succeeded");
        var history = Recorder(stored)["history"]!.AsArray();
        Assert.Contains("503", history[0]!["error"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Equal("verified", stored["verification"]!["result"]!.GetValue<string>());
        Assert.Equal(2, _server.Received.Count);
    }

    [Fact]
    public async Task A_VerifiedOnly_handler_gets_verified_runs_and_holds_the_others_as_rejected()
    {
        await using var app = App(filter: h => h.VerifiedOnly());
        var verified = Payloads.Run(assistantId: AssistantId);
        var mismatched = Payloads.Run(assistantId: AssistantId);
        _server.Answer = (request, _) => request.Path.EndsWith(verified["run_id"]!.GetValue<string>(), StringComparison.Ordinal)
            ? ServerRun(verified)
            : ServerRun(mismatched, status: "error");

        await PostAsync(app, verified);
        await PostAsync(app, mismatched);
        await _recorder.WaitForAsync(verified["run_id"]!.GetValue<string>(), TimeSpan.FromSeconds(20));
        var held = await WaitForDeliveryStateAsync(app, mismatched, "rejected");

        Assert.Contains("verified runs only", Recorder(held)["last_error"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Empty(_recorder.For(mismatched["run_id"]!.GetValue<string>()));
    }

    [Fact]
    public async Task With_Verify_Off_the_server_is_never_asked_and_no_verification_is_stored()
    {
        await using var app = App("Off");
        var body = Payloads.Run(assistantId: AssistantId);

        await PostAsync(app, body);
        var received = await _recorder.WaitForAsync(body["run_id"]!.GetValue<string>(), TimeSpan.FromSeconds(20));

        Assert.Null(received.Context.Verification);
        Assert.Equal("prod", received.Context.Deployment);
        Assert.Empty(_server.Received);
    }
}
