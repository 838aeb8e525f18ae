using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using WebhookReceiver.Tests.Infrastructure;
using Xunit.Abstractions;

namespace WebhookReceiver.Tests.ScaleOut;

/// <summary>
/// Issue #23: two replicas of the real service (two processes) on one PostgreSQL inbox, with a real LangGraph JS dev server.
/// The same interrupt resumed on both at the same moment (each warmed up by a resume of its own first) creates exactly one run
/// on LangGraph: the other replica answers 409.
/// </summary>
[Collection(ServiceFleet.Name)]
[Trait("Category", "System")]
public sealed class ResumeReplicasTests(ITestOutputHelper output)
{
    private static readonly JsonObject Question = new()
    {
        ["assistant_id"] = "ask",
        ["input"] = new JsonObject { ["messages"] = new JsonArray(new JsonObject { ["role"] = "user", ["content"] = "ship it" }) },
    };

    [Fact]
    public async Task Two_replicas_resuming_one_interrupt_at_the_same_moment_create_one_LangGraph_run_and_the_other_answers_409()
    {
        await using var langGraph = await LangGraphDevServer.StartAsync();
        await using var database = await PostgresDatabase.CreateAsync();
        // The resumed run's webhook (LangGraph:PublicUrl) goes here: one webhook per run LangGraph really resumed.
        await using var resumedWebhooks = await LoopbackListener.StartAsync();
        using var directory = new TempDirectory();
        var settings = ServiceProcess.Settings(directory.Path);
        settings["WebhookReceiver__Storage__Provider"] = "Postgres";
        settings["WebhookReceiver__Storage__ConnectionString"] = database.ConnectionString;
        settings["WebhookReceiver__LangGraph__Deployments__0__Name"] = "local";
        settings["WebhookReceiver__LangGraph__Deployments__0__ApiUrl"] = langGraph.BaseAddress.ToString();
        settings["WebhookReceiver__LangGraph__PublicUrl"] = new Uri(resumedWebhooks.Url, "/webhooks/langgraph").ToString();
        settings["WebhookReceiver__LangGraph__Sweep__Interval"] = "00:00:00";
        settings["Serilog__MinimumLevel__Default"] = "Warning";
        settings["Serilog__MinimumLevel__Override__Microsoft.Hosting.Lifetime"] = "Information"; // the line that says where it listens
        var replicas = await Task.WhenAll(ServiceProcess.StartAsync(settings), ServiceProcess.StartAsync(settings));
        await using var first = replicas[0];
        await using var second = replicas[1];
        using var firstAdmin = first.CreateClient(admin: true);
        using var secondAdmin = second.CreateClient(admin: true);
        using var langGraphApi = new HttpClient { BaseAddress = langGraph.BaseAddress };

        // Three runs pause at interrupt(); their webhooks reach the first replica, and the two replicas record the pauses.
        var threadIds = await Task.WhenAll(Enumerable.Range(0, 3).Select(_ => langGraph.CreateThreadAsync()));
        foreach (var thread in threadIds)
        {
            var run = (JsonObject)Question.DeepClone();
            run["webhook"] = new Uri(first.BaseAddress, $"/webhooks/langgraph?token={TestApp.Token}").ToString();
            using var started = await langGraphApi.PostAsJsonAsync($"/threads/{thread}/runs", run);
            started.EnsureSuccessStatusCode();
        }

        var ids = new List<long>();
        foreach (var thread in threadIds)
        {
            ids.Add((long)(await Eventually.MatchAsync(
                async () => (await firstAdmin.GetFromJsonAsync<JsonObject>($"/api/interrupts?thread_id={thread}"))!["items"]!.AsArray().FirstOrDefault(),
                i => i is not null, 60))!["id"]!);
        }

        // Each replica resumes one of them first, so that neither is still compiling its resume path when they race.
        foreach (var (admin, warmUp) in new[] { (firstAdmin, ids[0]), (secondAdmin, ids[1]) })
        {
            using var resumed = await admin.PostAsJsonAsync($"/api/interrupts/{warmUp}/resume", new JsonObject { ["resume"] = "yes" });
            Assert.Equal(HttpStatusCode.Accepted, resumed.StatusCode);
        }

        var (threadId, id) = (threadIds[2], ids[2]);
        foreach (var admin in new[] { firstAdmin, secondAdmin })
        {
            Assert.Equal("waiting", (string?)(await admin.GetFromJsonAsync<JsonObject>($"/api/interrupts/{id}"))!["state"]);
        }

        var clock = Stopwatch.StartNew();
        var answers = await Task.WhenAll(
            firstAdmin.PostAsJsonAsync($"/api/interrupts/{id}/resume", new JsonObject { ["resume"] = "yes" }),
            secondAdmin.PostAsJsonAsync($"/api/interrupts/{id}/resume", new JsonObject { ["resume"] = "yes" }));
        var bothAnswered = clock.Elapsed;

        Assert.Equal([HttpStatusCode.Accepted, HttpStatusCode.Conflict], answers.Select(a => a.StatusCode).Order());
        var accepted = answers.Single(a => a.StatusCode == HttpStatusCode.Accepted);
        var refused = answers.Single(a => a.StatusCode == HttpStatusCode.Conflict);
        Assert.Equal("application/problem+json", refused.Content.Headers.ContentType?.MediaType);
        var problem = (await refused.Content.ReadFromJsonAsync<JsonObject>())!;
        Assert.Equal(409, (int?)problem["status"]);
        var resumedRunId = (string)(await accepted.Content.ReadFromJsonAsync<JsonObject>())!["run_id"]!;

        // LangGraph has the paused run and exactly one resumed run; the resumed run's webhook comes once.
        var runs = (await langGraphApi.GetFromJsonAsync<JsonArray>($"/threads/{threadId}/runs?limit=1000"))!;
        Assert.Equal(2, runs.Count);
        Assert.Contains(resumedRunId, runs.Select(r => (string?)r!["run_id"]));
        await Eventually.MatchAsync(() => Task.FromResult(resumedWebhooks.DeliveriesByRunId()), d => d.ContainsKey(resumedRunId), 60);
        await Eventually.MatchAsync(async () => (string?)(await langGraphApi.GetFromJsonAsync<JsonObject>($"/threads/{threadId}"))!["status"], s => s == "idle", 30);
        var threadRunIds = runs.Select(r => (string)r!["run_id"]!).ToHashSet();
        Assert.Equal([resumedRunId], resumedWebhooks.DeliveriesByRunId().Keys.Where(threadRunIds.Contains));
        Assert.All(resumedWebhooks.DeliveriesByRunId(), d => Assert.Equal(1, d.Value));
        var interrupt = (await secondAdmin.GetFromJsonAsync<JsonObject>($"/api/interrupts/{id}"))!;
        Assert.Equal(("resumed", resumedRunId), ((string?)interrupt["state"], (string?)interrupt["resumed_run_id"]));
        output.WriteLine($"both resumes answered in {bothAnswered.TotalMilliseconds:0} ms; the refused one said: {problem["detail"]}");
        foreach (var answer in answers)
        {
            answer.Dispose();
        }
    }
}
