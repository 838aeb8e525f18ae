using System.Diagnostics;
using System.Net;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using WebhookReceiver.Tests.Infrastructure;

namespace WebhookReceiver.Tests.LangGraph;

/// <summary>
/// A real LangGraph JS dev server, driven through the official SDK, posts its webhooks to the service on a real socket.
/// Every run must be stored exactly once with the ids and status the server gave it, be handed to the handler once,
/// and come back from the query API with the token redacted.
/// </summary>
[Trait("Category", "System")]
public sealed class LangGraphServerTests(LangGraphServerTests.Servers server) : IClassFixture<LangGraphServerTests.Servers>
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);
    private const string RedactedTokenUrlEnd = "/webhooks/langgraph?token=[REDACTED]";

    [Fact]
    public async Task A_run_made_with_runs_wait_is_stored_once_and_handed_to_the_handler()
    {
        var result = await server.DriveAsync("wait");

        var payload = await AssertDeliveredOnceAsync(result, result.Runs.Single(), "success", "echo");
        Assert.Equal(["wait", "echo: wait"], MessageContents(payload));
    }

    [Fact]
    public async Task A_background_run_made_with_runs_create_and_joined_is_stored_once_and_handed_to_the_handler()
    {
        var result = await server.DriveAsync("join");

        var payload = await AssertDeliveredOnceAsync(result, result.Runs.Single(), "success", "echo");
        Assert.Equal(["create and join", "echo: create and join"], MessageContents(payload));
    }

    [Fact]
    public async Task A_run_made_with_runs_stream_is_stored_once_and_handed_to_the_handler()
    {
        var result = await server.DriveAsync("stream");

        var payload = await AssertDeliveredOnceAsync(result, result.Runs.Single(), "success", "echo");
        Assert.Equal(["stream", "echo: stream"], MessageContents(payload));
    }

    [Fact]
    public async Task A_stateless_run_arrives_with_its_temporary_thread_and_without_values()
    {
        var result = await server.DriveAsync("stateless");

        var run = result.Runs.Single();
        Assert.Null(run.ThreadId); // The SDK was never told a thread: the server made one and deleted it.
        var payload = await AssertDeliveredOnceAsync(result, run, "success", "echo");
        Assert.False(payload.ContainsKey("values"));
        Assert.Null(server.Recorder.For(run.RunId).Single().Run.Values);
    }

    [Fact]
    public async Task A_run_whose_graph_throws_arrives_as_error_with_the_message_as_a_string()
    {
        var result = await server.DriveAsync("error");

        var run = result.Runs.Single();
        var payload = await AssertDeliveredOnceAsync(result, run, "error", "fail");
        Assert.Equal("the fail graph always throws", (string?)payload["error"]);
        Assert.Equal("the fail graph always throws", server.Recorder.For(run.RunId).Single().Run.ErrorMessage);
    }

    [Fact]
    public async Task A_run_paused_at_interrupt_arrives_as_success_and_its_resumption_as_a_second_webhook()
    {
        var result = await server.DriveAsync("interrupt");

        Assert.Equal(2, result.Runs.Count);
        var (asked, resumed) = (result.Runs[0], result.Runs[1]);
        Assert.Equal(asked.ThreadId, resumed.ThreadId);
        var paused = await AssertDeliveredOnceAsync(result, asked, "success", "ask");
        Assert.Equal(["ship it"], MessageContents(paused)); // Paused before the node could answer.
        var finished = await AssertDeliveredOnceAsync(result, resumed, "success", "ask");
        Assert.Equal(["ship it", "answered: yes"], MessageContents(finished));
        Assert.Equal("yes", (string?)finished["kwargs"]?["command"]?["resume"]);
    }

    [Fact]
    public async Task A_run_cancelled_with_action_interrupt_arrives_as_interrupted_without_values()
    {
        var result = await server.DriveAsync("cancel-interrupt");

        var payload = await AssertDeliveredOnceAsync(result, result.Runs.Single(), "interrupted", "slow");
        Assert.False(payload.ContainsKey("values"));
        Assert.False(payload.ContainsKey("error"));
    }

    [Fact]
    public async Task A_run_cancelled_with_action_rollback_arrives_from_the_JS_server_as_error_rollback()
    {
        // The JS server treats any abort reason but "interrupt" as a failure; the Python server's "rollback" status is
        // covered by the production payload contract tests.
        var result = await server.DriveAsync("cancel-rollback");

        var run = result.Runs.Single();
        var payload = await AssertDeliveredOnceAsync(result, run, "error", "slow");
        Assert.Equal("rollback", (string?)payload["error"]);
    }

    [Fact]
    public async Task The_JS_server_sends_no_token_header_so_a_webhook_url_without_a_token_is_refused_401_and_not_stored()
    {
        // The JS server's webhook is a bare fetch(url, { method, body }): no langgraph.json webhooks.headers support, so the
        // token can only travel in the URL. The header path is covered against the production server's shape in the ingress tests.
        var result = await server.DriveAsync("wait", token: null);

        var run = result.Runs.Single();
        var request = Assert.Single(await WaitForIngressAsync(run.RunId));
        Assert.Equal((int)HttpStatusCode.Unauthorized, request.StatusCode);
        Assert.False(request.HasAuthorizationHeader);
        Assert.False(request.HasTokenParameter);
        using var stored = await server.Admin.GetAsync(new Uri($"/api/runs/{run.RunId}", UriKind.Relative));
        Assert.Equal(HttpStatusCode.NotFound, stored.StatusCode);
        Assert.Empty(server.Recorder.For(run.RunId));
    }

    /// <summary>
    /// The checks every run must pass: the server sent one request (text/plain, token in the query string) answered 202; the
    /// query API has exactly one webhook for the run, with the server's ids and status and the token redacted; the handler
    /// was given it exactly once, redacted too. Returns the stored payload.
    /// </summary>
    private async Task<JsonObject> AssertDeliveredOnceAsync(DriverResult result, DrivenRun run, string status, string graph)
    {
        var detail = await WaitForStoredAsync(run.RunId);
        var threadId = (string?)detail["thread_id"];
        Assert.Equal(run.RunId, (string?)detail["run_id"]);
        Assert.NotNull(threadId);
        if (run.ThreadId is not null)
        {
            Assert.Equal(run.ThreadId, threadId);
        }

        Assert.Equal(result.AssistantId, (string?)detail["assistant_id"]);
        Assert.Equal(graph, (string?)detail["graph_id"]);
        Assert.Equal(status, (string?)detail["status"]);

        var payload = detail["payload"]!.AsObject();
        Assert.Equal(run.RunId, (string?)payload["run_id"]);
        Assert.EndsWith(RedactedTokenUrlEnd, (string?)payload["kwargs"]?["webhook"], StringComparison.Ordinal);
        Assert.DoesNotContain(TestApp.Token, detail.ToJsonString(), StringComparison.Ordinal);

        var list = await GetJsonAsync($"/api/webhooks?thread_id={threadId}&limit=500");
        Assert.Single(list["items"]!.AsArray(), item => (string?)item!["run_id"] == run.RunId);

        var request = Assert.Single(await WaitForIngressAsync(run.RunId));
        Assert.Equal((int)HttpStatusCode.Accepted, request.StatusCode);
        Assert.StartsWith("text/plain", request.ContentType, StringComparison.Ordinal);
        Assert.True(request.HasTokenParameter);

        await server.Recorder.WaitForAsync(run.RunId, Patience);
        await WaitForDeliverySucceededAsync(run.RunId);
        var received = Assert.Single(server.Recorder.For(run.RunId));
        Assert.Equal(status, received.Run.Status);
        Assert.Equal(threadId, received.Run.ThreadId);
        Assert.Equal(result.AssistantId, received.Run.AssistantId);
        Assert.Equal(graph, received.Run.GraphId);
        Assert.Equal(1, received.Context.Attempt);
        Assert.Contains("token=[REDACTED]", received.Run.RawJson, StringComparison.Ordinal);
        Assert.DoesNotContain(TestApp.Token, received.Run.RawJson, StringComparison.Ordinal);
        return payload;
    }

    private async Task<JsonObject> WaitForStoredAsync(string runId)
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            using var response = await server.Admin.GetAsync(new Uri($"/api/runs/{runId}", UriKind.Relative));
            if (response.StatusCode == HttpStatusCode.OK)
            {
                return (await Json.ReadAsync(response)).AsObject();
            }

            Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
            if (clock.Elapsed > Patience)
            {
                Assert.Fail($"Run {runId} was not stored within {Patience.TotalSeconds:0} s. LangGraph server:\n{server.LangGraph.Output}");
            }

            await Task.Delay(100);
        }
    }

    private async Task WaitForDeliverySucceededAsync(string runId)
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            var detail = await GetJsonAsync($"/api/runs/{runId}");
            var delivery = detail["deliveries"]!.AsArray().Single(d => (string?)d!["handler"] == RunRecorder.HandlerName)!;
            if ((string?)delivery["state"] == "succeeded")
            {
                Assert.Equal(1, (int)delivery["attempts"]!);
                return;
            }

            if (clock.Elapsed > Patience)
            {
                Assert.Fail($"The recorder's delivery of run {runId} is {delivery["state"]} after {Patience.TotalSeconds:0} s.");
            }

            await Task.Delay(100);
        }
    }

    /// <summary>The requests for <paramref name="runId"/> that reached the service (it records them once it has answered).</summary>
    private async Task<IReadOnlyList<IngressRequest>> WaitForIngressAsync(string runId)
    {
        var clock = Stopwatch.StartNew();
        while (server.Ingress.For(runId).Count == 0)
        {
            if (clock.Elapsed > Patience)
            {
                Assert.Fail($"No webhook for run {runId} reached the service within {Patience.TotalSeconds:0} s. LangGraph server:\n{server.LangGraph.Output}");
            }

            await Task.Delay(50);
        }

        return server.Ingress.For(runId);
    }

    private async Task<JsonNode> GetJsonAsync(string url)
    {
        using var response = await server.Admin.GetAsync(new Uri(url, UriKind.Relative));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return await Json.ReadAsync(response);
    }

    /// <summary>The contents of <c>values.messages</c>, which the JS server sends in LangChain's serialized (lc/constructor) form.</summary>
    private static string[] MessageContents(JsonObject payload) =>
        payload["values"]!["messages"]!.AsArray().Select(m =>
        {
            Assert.Equal("constructor", (string?)m!["type"]);
            return (string)m["kwargs"]!["content"]!;
        }).ToArray();

    /// <summary>The LangGraph dev server, and the receiver it posts to with a recording handler and a record of every request that reached it.</summary>
    public sealed class Servers : LangGraphReceiverFixture
    {
        public RunRecorder Recorder { get; } = new();

        public IngressRecorder Ingress { get; } = new();

        protected override bool IsDeployment => false;

        protected override Dictionary<string, string?> Settings(Uri address) => [];

        protected override void AddServices(IServiceCollection services)
        {
            services.AddRecordingHandler(Recorder);
            services.AddSingleton<IStartupFilter>(Ingress);
        }
    }
}
