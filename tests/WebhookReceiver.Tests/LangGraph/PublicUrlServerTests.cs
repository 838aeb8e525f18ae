using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;
using Serilog.Core;
using Serilog.Events;
using WebhookReceiver.Tests.Infrastructure;

namespace WebhookReceiver.Tests.LangGraph;

/// <summary>
/// <c>LangGraph:PublicUrl</c> written the ways people write it, against a real LangGraph JS dev server: as the base URL and as
/// the very URL LangGraph is given (token included), a run whose webhook was lost while the receiver was down is recovered by
/// the sweep, and a resumed run's webhook arrives and is stored. A URL that matches none of the runs makes the sweep say so
/// (a warning, examples in its report), and once it is fixed <c>sweep?since=</c> recovers what the earlier sweeps skipped.
/// </summary>
[Trait("Category", "System")]
[Collection(SharedLangGraphServer.Name)]
public sealed class PublicUrlServerTests(LangGraphServerFixture server)
{
    private static readonly TimeSpan DriverTimeout = TimeSpan.FromSeconds(60);

    [Theory]
    [InlineData("base URL")]
    [InlineData("the URL LangGraph is given, token included")]
    public async Task Written_either_way_the_sweep_recovers_a_run_lost_while_down_and_a_resumed_runs_webhook_is_stored(string written)
    {
        var port = LoopbackPorts.Free();
        var address = $"http://127.0.0.1:{port.ToString(CultureInfo.InvariantCulture)}";
        var webhook = $"{address}/webhooks/langgraph?token={TestApp.Token}";
        string lostRun, pausedThread, pausedRun;
        await using (var down = await LoopbackListener.StartAsync(port))
        {
            // Down: its address answers 503, which the JS server takes as final, so both webhooks are lost.
            down.Answer = _ => StatusCodes.Status503ServiceUnavailable;
            lostRun = (await server.LangGraph.DriveAsync("wait", webhook, DriverTimeout)).Runs.Single().RunId;
            (pausedThread, pausedRun) = await server.LangGraph.RunUntilInterruptedAsync(webhook);
            await down.WaitForRequestsAsync(2, 30);
        }

        await using var receiver = await server.StartReceiverAsync(new RunRecorder(), sweepInterval: "00:00:00",
            publicUrl: written == "base URL" ? address : webhook, port: port);
        var report = (await receiver.SweepAsync())["deployments"]!.AsArray().Single()!;

        Assert.Equal($"{address}/webhooks/langgraph", (string?)report["webhook_url"]);
        var recovered = report["recovered_run_ids"]!.AsArray().Select(r => (string?)r).ToList();
        Assert.Contains(lostRun, recovered);
        Assert.Contains(pausedRun, recovered);

        var interrupt = await Eventually.MatchAsync(
            async () => (await receiver.Admin.GetFromJsonAsync<JsonNode>($"/api/interrupts?thread_id={pausedThread}"))!["items"]!.AsArray(),
            items => items.Count == 1, 30);
        using var resume = await receiver.Admin.PostAsJsonAsync($"/api/interrupts/{(long)interrupt[0]!["id"]!}/resume", new JsonObject { ["resume"] = "yes" });
        Assert.Equal(HttpStatusCode.Accepted, resume.StatusCode);
        var resumedRun = (string)(await Json.ReadAsync(resume))["run_id"]!;

        // The resumed run posts to the URL the receiver gave it, with the token once: it is accepted and stored.
        var stored = await Eventually.MatchAsync(() => receiver.RunAsync(resumedRun), w => w is not null, 60);
        Assert.Equal("webhook", (string?)stored!["source"]);
        Assert.Equal("success", (string?)stored["status"]);
    }

    [Fact]
    public async Task A_PublicUrl_no_run_carries_is_warned_about_with_examples_and_after_the_fix_sweep_since_recovers_the_skipped_run()
    {
        using var store = new TempDirectory();
        var port = LoopbackPorts.Free();
        var address = $"http://127.0.0.1:{port.ToString(CultureInfo.InvariantCulture)}";
        var since = DateTimeOffset.UtcNow.AddSeconds(-5);
        string lostRun;
        await using (var down = await LoopbackListener.StartAsync(port))
        {
            down.Answer = _ => StatusCodes.Status503ServiceUnavailable;
            lostRun = (await server.LangGraph.DriveAsync("wait", $"{address}/webhooks/langgraph?token={TestApp.Token}", DriverTimeout)).Runs.Single().RunId;
            await down.WaitForRequestsAsync(1, 30);
        }

        var logs = new CapturedEvents();
        await using (var misconfigured = await server.StartReceiverAsync(new RunRecorder(), "00:00:00", publicUrl: "https://hooks.example.com/", directory: store, logs: logs))
        {
            var report = (await misconfigured.SweepAsync())["deployments"]!.AsArray().Single()!;

            Assert.Equal("https://hooks.example.com/webhooks/langgraph", (string?)report["webhook_url"]);
            Assert.DoesNotContain(lostRun, report["recovered_run_ids"]!.AsArray().Select(r => (string?)r));
            Assert.True((int)report["out_of_scope"]! >= 1, report.ToJsonString());
            Assert.Contains($"{address}/webhooks/langgraph?[REDACTED]", report["out_of_scope_webhooks"]!.AsArray().Select(u => (string?)u));
            Assert.DoesNotContain(TestApp.Token, report.ToJsonString(), StringComparison.Ordinal);
            var warning = Assert.Single(logs.Messages(LogEventLevel.Warning), m => m.Contains("recovered nothing", StringComparison.Ordinal));
            Assert.Contains("WebhookReceiver:LangGraph:PublicUrl", warning, StringComparison.Ordinal);
            Assert.Contains($"{address}/webhooks/langgraph?[REDACTED]", warning, StringComparison.Ordinal);
            Assert.DoesNotContain(TestApp.Token, warning, StringComparison.Ordinal);
        }

        await using var fixedUp = await server.StartReceiverAsync(new RunRecorder(), "00:00:00", publicUrl: address, directory: store);
        using var response = await fixedUp.Admin.PostAsync($"/api/langgraph/sweep?since={Uri.EscapeDataString(since.ToString("O", CultureInfo.InvariantCulture))}", null);
        var fromSince = (await Json.ReadAsync(response.EnsureSuccessStatusCode()))["deployments"]!.AsArray().Single()!;

        Assert.Contains(lostRun, fromSince["recovered_run_ids"]!.AsArray().Select(r => (string?)r));
        Assert.Equal(since, (DateTimeOffset)fromSince["since"]!);
        Assert.Equal("sweep", (string?)(await fixedUp.RunAsync(lostRun))!["source"]);
    }

    [Fact]
    public async Task A_since_that_is_not_a_time_is_a_400_problem()
    {
        await using var receiver = await server.StartReceiverAsync(new RunRecorder(), "00:00:00");

        using var response = await receiver.Admin.PostAsync("/api/langgraph/sweep?since=yesterday", null);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.Contains("ISO 8601", (string?)(await Json.ReadAsync(response))["detail"], StringComparison.Ordinal);
    }

    /// <summary>The service's log events (through Serilog, which reads sinks from the container), in memory.</summary>
    public sealed class CapturedEvents : ILogEventSink
    {
        private readonly System.Collections.Concurrent.ConcurrentQueue<LogEvent> _events = new();

        public void Emit(LogEvent logEvent) => _events.Enqueue(logEvent);

        public IReadOnlyList<string> Messages(LogEventLevel level) =>
            _events.Where(e => e.Level == level).Select(e => e.RenderMessage(CultureInfo.InvariantCulture)).ToList();
    }
}
