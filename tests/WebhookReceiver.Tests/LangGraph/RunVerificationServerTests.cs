using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using WebhookReceiver.Tests.Infrastructure;
using Xunit.Abstractions;

namespace WebhookReceiver.Tests.LangGraph;

/// <summary>
/// The receiver, on a real socket, with a real LangGraph JS dev server configured as its deployment (<c>Verify = Require</c>):
/// a real run's webhook is verified by asking that server; a forged webhook (a run id the server never had, sent with the
/// valid token) is not_found and never reaches the handler; a real error run's body edited to say success is a mismatch.
/// </summary>
[Trait("Category", "System")]
public sealed class RunVerificationServerTests(RunVerificationServerTests.Servers servers, ITestOutputHelper output)
    : IClassFixture<RunVerificationServerTests.Servers>
{
    private static readonly TimeSpan DriverTimeout = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task A_real_runs_webhook_is_verified_by_its_deployment_and_reaches_the_handler()
    {
        var result = await servers.LangGraph.DriveAsync("wait", servers.WebhookUrl(), DriverTimeout);
        var run = result.Runs.Single();

        var received = await servers.Recorder.WaitForAsync(run.RunId, TimeSpan.FromSeconds(30));
        var stored = await WebhookAsync(run.RunId);

        Assert.Equal("verified", received.Context.Verification?.Result);
        Assert.Equal("local", received.Context.Deployment);
        Assert.Equal("verified", stored["verification"]!["result"]!.GetValue<string>());
        Assert.Equal("local", stored["deployment"]!.GetValue<string>());
        var receivedAt = stored["received_at"]!.GetValue<DateTimeOffset>();
        var checkedAt = stored["verification"]!["checked_at"]!.GetValue<DateTimeOffset>();
        output.WriteLine($"verified {(checkedAt - receivedAt).TotalMilliseconds:0} ms after the webhook was stored (202)");
    }

    [Fact]
    public async Task A_forged_webhook_with_the_valid_token_is_not_found_and_under_Require_never_reaches_the_handler()
    {
        // A real thread, so only the run is made up.
        var real = (await servers.LangGraph.DriveAsync("wait", servers.WebhookUrl(), DriverTimeout)).Runs.Single();
        var forged = Payloads.Run(threadId: real.ThreadId);
        var forgedRunId = forged["run_id"]!.GetValue<string>();

        var clock = Stopwatch.StartNew();
        using var response = await servers.PostAsync(forged.ToJsonString());
        var answered = clock.Elapsed;
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);

        var stored = await Eventually.MatchAsync(() => WebhookAsync(forgedRunId), w => RecorderDelivery(w)["state"]!.GetValue<string>() == "rejected", 30);
        Assert.Equal("not_found", stored["verification"]!["result"]!.GetValue<string>());
        Assert.Empty(servers.Recorder.For(forgedRunId));
        output.WriteLine($"forged webhook answered 202 in {answered.TotalMilliseconds:0} ms; held as rejected: {RecorderDelivery(stored)["last_error"]}");
    }

    [Fact]
    public async Task A_real_error_runs_body_edited_to_say_success_is_a_mismatch_on_status()
    {
        // The real webhook goes to a bystander, so the receiver first sees the edited copy.
        await using var bystander = await LoopbackListener.StartAsync();
        var run = (await servers.LangGraph.DriveAsync("error", new Uri(bystander.Url, "/hook").ToString(), DriverTimeout)).Runs.Single();
        await bystander.WaitForRequestsAsync(1, 30);
        var body = JsonNode.Parse(bystander.Received.Single().Body)!.AsObject();
        Assert.Equal("error", body["status"]!.GetValue<string>());
        body["status"] = "success";

        using var response = await servers.PostAsync(body.ToJsonString());
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);

        var stored = await Eventually.MatchAsync(() => WebhookAsync(run.RunId), w => RecorderDelivery(w)["state"]!.GetValue<string>() == "rejected", 30);
        Assert.Equal("mismatch", stored["verification"]!["result"]!.GetValue<string>());
        Assert.Equal("status: the webhook says 'success', the server 'error'", stored["verification"]!["detail"]!.GetValue<string>());
        Assert.Empty(servers.Recorder.For(run.RunId));
    }

    private async Task<JsonNode> WebhookAsync(string runId) =>
        await Eventually.MatchAsync(async () =>
        {
            using var response = await servers.Admin.GetAsync($"/api/runs/{runId}");
            return response.IsSuccessStatusCode ? await response.Content.ReadFromJsonAsync<JsonNode>() : null;
        }, w => w?["verification"] is not null, 30) ?? throw new InvalidOperationException("unreachable");

    private static JsonNode RecorderDelivery(JsonNode webhook) =>
        webhook["deliveries"]!.AsArray().Single(d => d!["handler"]!.GetValue<string>() == RunRecorder.HandlerName)!;

    /// <summary>The LangGraph dev server first, then the receiver configured with it as deployment <c>local</c>, Verify = Require.</summary>
    public sealed class Servers : LangGraphReceiverFixture
    {
        public RunRecorder Recorder { get; } = new();

        protected override Dictionary<string, string?> Settings(Uri address) => new() { ["WebhookReceiver:LangGraph:Verify"] = "Require" };

        protected override void AddServices(IServiceCollection services) => services.AddRecordingHandler(Recorder);

        public Task<HttpResponseMessage> PostAsync(string body) => Receiver.PostAsync(body);
    }
}
