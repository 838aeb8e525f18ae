using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Serilog.Core;
using WebhookReceiver.Tests.Infrastructure;
using WebhookReceiver.Webhooks;
using Xunit.Abstractions;

namespace WebhookReceiver.Tests.LangGraph;

/// <summary>
/// The sweep against a real LangGraph JS dev server: runs whose webhooks were lost while the receiver was down (the JS server
/// sends once and ignores a 503) are recovered once it is up, each stored once and handled once; a stateless run cannot be
/// recovered and is reported as such; a real webhook and a sweep of the same run, in either order, store and handle it once.
/// </summary>
[Trait("Category", "System")]
[Collection(SharedLangGraphServer.Name)]
public sealed class SweepServerTests(LangGraphServerFixture server, ITestOutputHelper output)
{
    private static readonly TimeSpan DriverTimeout = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task Runs_whose_webhooks_were_lost_while_the_receiver_was_down_are_recovered_by_the_sweep_once_each_with_their_status()
    {
        // The receiver is down: its address answers 503, which the JS server ignores, so each webhook is lost.
        await using var down = await LoopbackListener.StartAsync();
        down.Answer = _ => StatusCodes.Status503ServiceUnavailable;
        var webhook = new Uri(down.Url, $"/webhooks/langgraph?token={TestApp.Token}").ToString();

        var lost = new Dictionary<string, string>(); // run id -> the status the server gave it
        lost[(await server.LangGraph.DriveAsync("wait", webhook, DriverTimeout)).Runs.Single().RunId] = "success";
        lost[(await server.LangGraph.DriveAsync("join", webhook, DriverTimeout)).Runs.Single().RunId] = "success";
        lost[(await server.LangGraph.DriveAsync("error", webhook, DriverTimeout)).Runs.Single().RunId] = "error";
        var (interruptedThread, interruptedRun) = await server.LangGraph.RunUntilInterruptedAsync(webhook);
        lost[interruptedRun] = "success"; // A run that stops at interrupt() succeeds; its thread is the one interrupted.
        var stateless = (await server.LangGraph.DriveAsync("stateless", webhook, DriverTimeout)).Runs.Single().RunId;
        // A stateless run still running when the receiver comes back: the sweep sees it, and can only say it is unrecoverable.
        var (runningStatelessThread, runningStateless) = await server.LangGraph.StartStatelessSlowRunAsync(webhook);
        await down.WaitForRequestsAsync(lost.Count + 1, 30);
        Assert.Equal(lost.Count + 1, down.Received.Count); // Sent, answered 503, never sent again.

        var recorder = new RunRecorder();
        var clock = Stopwatch.StartNew();
        var startedAt = DateTimeOffset.UtcNow;
        // It comes back at another address behind the one LangGraph was given (LangGraph:PublicUrl), which is how it knows its runs.
        await using var receiver = await server.StartReceiverAsync(recorder, sweepInterval: "00:00:01", publicUrl: new Uri(down.Url, "/webhooks/langgraph").ToString());
        var upIn = clock.Elapsed;
        var stored = new Dictionary<string, JsonNode>();
        foreach (var runId in lost.Keys)
        {
            stored[runId] = await Eventually.MatchAsync(() => receiver.RunAsync(runId), w => w is not null, 60) ?? throw new InvalidOperationException();
        }

        var recoveredIn = clock.Elapsed;
        foreach (var runId in lost.Keys)
        {
            await recorder.WaitForAsync(runId, TimeSpan.FromSeconds(30));
        }

        var handledIn = clock.Elapsed;
        var report = await receiver.SweepAsync();
        await Task.Delay(TimeSpan.FromSeconds(2)); // More background sweeps, to catch any that stores or hands a run twice.

        foreach (var (runId, status) in lost)
        {
            Assert.Equal("sweep", stored[runId]["source"]!.GetValue<string>());
            Assert.Equal(status, stored[runId]["status"]!.GetValue<string>());
            var handled = Assert.Single(recorder.For(runId));
            Assert.Equal(WebhookSource.Sweep, handled.Run.WebhookSource);
            Assert.Equal(status, handled.Run.Status);
        }

        var listed = await receiver.Admin.GetFromJsonAsync<JsonNode>("/api/webhooks?source=sweep&limit=500");
        Assert.Equal(lost.Keys.Order(), listed!["items"]!.AsArray().Select(w => w!["run_id"]!.GetValue<string>()).Order());
        Assert.Equal(lost.Count, recorder.All().Count);
        // The interrupted thread's run carries the thread's values, as its webhook would have.
        Assert.Equal(interruptedThread, stored[interruptedRun]["thread_id"]!.GetValue<string>());
        Assert.NotNull((await receiver.Admin.GetFromJsonAsync<JsonNode>($"/api/runs/{interruptedRun}"))!["payload"]!["values"]);

        // The stateless runs: the finished one is gone from the server, so nothing holds it; the running one is reported.
        Assert.Null(await receiver.RunAsync(stateless));
        Assert.Empty(recorder.For(stateless));
        var local = report["deployments"]!.AsArray().Single()!;
        Assert.Contains(runningStateless, local["unrecoverable_run_ids"]!.AsArray().Select(r => r!.GetValue<string>()));
        Assert.True(local["unrecoverable"]!.GetValue<int>() >= 1);
        Assert.Contains("Stateless runs", report["cannot_recover"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Null(await receiver.RunAsync(runningStateless));

        output.WriteLine($"runs lost while the receiver was down: {lost.Count} stateful + 1 stateless finished + 1 stateless running; " +
                         $"recovered by the sweep: {stored.Count} (each stored once, handled once); stateless: not recoverable (the running one reported: {local["unrecoverable"]})");
        var lastStoredAt = stored.Values.Max(w => w["received_at"]!.GetValue<DateTimeOffset>());
        output.WriteLine($"receiver start-up (host built, listening): {upIn.TotalMilliseconds:0} ms; from start to the last lost run stored (its received_at): " +
                         $"{(lastStoredAt - startedAt).TotalMilliseconds:0} ms; seen stored through the API: {recoveredIn.TotalMilliseconds:0} ms; " +
                         $"every one handled: {handledIn.TotalMilliseconds:0} ms");
        output.WriteLine($"report: {report.ToJsonString()}");
        await server.LangGraph.CancelAsync(runningStatelessThread, runningStateless);
    }

    [Fact]
    public async Task A_real_webhook_then_a_sweep_of_the_same_run_store_and_handle_it_once()
    {
        var recorder = new RunRecorder();
        await using var receiver = await server.StartReceiverAsync(recorder, sweepInterval: "00:00:00");
        var run = (await server.LangGraph.DriveAsync("wait", receiver.WebhookUrl(), DriverTimeout)).Runs.Single();
        await recorder.WaitForAsync(run.RunId, TimeSpan.FromSeconds(30));

        var local = (await receiver.SweepAsync())["deployments"]!.AsArray().Single()!;

        Assert.DoesNotContain(run.RunId, local["recovered_run_ids"]!.AsArray().Select(r => r!.GetValue<string>()));
        Assert.True(local["already_held"]!.GetValue<int>() >= 1, local.ToJsonString());
        await Task.Delay(TimeSpan.FromSeconds(1));
        Assert.Equal("webhook", (await receiver.RunAsync(run.RunId))!["source"]!.GetValue<string>());
        Assert.Single(await receiver.WebhooksOfThreadAsync(run.ThreadId!));
        Assert.Single(recorder.For(run.RunId));
    }

    [Fact]
    public async Task A_sweep_then_the_real_webhook_of_the_same_run_store_and_handle_it_once()
    {
        var recorder = new RunRecorder();
        await using var receiver = await server.StartReceiverAsync(recorder, sweepInterval: "00:00:00");
        // The real webhook is held back (a listener takes it), so the sweep finds the run first.
        await using var holdBack = await LoopbackListener.StartAsync();
        var run = (await server.LangGraph.DriveAsync("wait", new Uri(holdBack.Url, $"/webhooks/langgraph?token={TestApp.Token}").ToString(), DriverTimeout)).Runs.Single();
        await holdBack.WaitForRequestsAsync(1, 30);

        var local = (await receiver.SweepAsync())["deployments"]!.AsArray().Single()!;
        Assert.Contains(run.RunId, local["recovered_run_ids"]!.AsArray().Select(r => r!.GetValue<string>()));
        await recorder.WaitForAsync(run.RunId, TimeSpan.FromSeconds(30));

        using var late = await receiver.PostAsync(holdBack.Received.Single().Body);
        Assert.Equal(HttpStatusCode.OK, late.StatusCode);
        Assert.True((await late.Content.ReadFromJsonAsync<JsonNode>())!["duplicate"]!.GetValue<bool>());
        await Task.Delay(TimeSpan.FromSeconds(1));
        Assert.Equal("sweep", (await receiver.RunAsync(run.RunId))!["source"]!.GetValue<string>());
        Assert.Single(await receiver.WebhooksOfThreadAsync(run.ThreadId!));
        Assert.Single(recorder.For(run.RunId));
    }
}

/// <summary>The sweep tests share one LangGraph JS dev server (<see cref="SharedLangGraphServer"/>); each test starts its own receiver with it as deployment <c>local</c>.</summary>
public static class SweepReceivers
{
    /// <param name="server">The class's LangGraph server.</param>
    /// <param name="recorder">The recording handler's record.</param>
    /// <param name="sweepInterval">LangGraph:Sweep:Interval; 00:00:00 sweeps only on POST /api/langgraph/sweep.</param>
    /// <param name="publicUrl">LangGraph:PublicUrl: the sweep then takes only runs whose webhook has this URL (other tests' runs share the server).</param>
    /// <param name="port">The loopback port to listen on; 0 for any free one.</param>
    /// <param name="directory">Where its SQLite file is: one an earlier receiver used, to restart on the same store.</param>
    /// <param name="logs">A Serilog sink that sees its log events.</param>
    public static Task<LiveReceiver> StartReceiverAsync(this LangGraphServerFixture server, RunRecorder recorder, string sweepInterval, string? publicUrl = null,
        int port = 0, TempDirectory? directory = null, ILogEventSink? logs = null) =>
        LiveReceiver.StartAsync(
            new Dictionary<string, string?>
            {
                ["WebhookReceiver:LangGraph:Deployments:0:Name"] = "local",
                ["WebhookReceiver:LangGraph:Deployments:0:ApiUrl"] = server.LangGraph.BaseAddress.ToString(),
                ["WebhookReceiver:LangGraph:Sweep:Interval"] = sweepInterval,
                ["WebhookReceiver:LangGraph:Sweep:Grace"] = "00:00:00",
                ["WebhookReceiver:LangGraph:PublicUrl"] = publicUrl,
            },
            services =>
            {
                services.AddRecordingHandler(recorder);
                if (logs is not null)
                {
                    services.AddSingleton(logs);
                }
            },
            port,
            directory);
}
