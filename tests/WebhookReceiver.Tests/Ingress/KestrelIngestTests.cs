using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using WebhookReceiver.Tests.Infrastructure;

namespace WebhookReceiver.Tests.Ingress;

/// <summary>The built service as a process on a real loopback socket, over a real SQLite file.</summary>
[Trait("Category", "System")]
public sealed class KestrelIngestTests
{
    [Fact]
    public async Task A_text_plain_body_as_the_JS_server_sends_it_is_accepted()
    {
        using var data = new TempDirectory();
        await using var service = await ServiceProcess.StartAsync(ServiceProcess.Settings(data.Path));
        using var content = new StringContent(Payloads.Run().ToJsonString(), Encoding.UTF8);
        content.Headers.ContentType = System.Net.Http.Headers.MediaTypeHeaderValue.Parse("text/plain;charset=UTF-8");
        using var client = service.CreateClient();
        client.DefaultRequestHeaders.UserAgent.ParseAdd("node");

        var response = await client.PostAsync($"/webhooks/langgraph?token={TestApp.Token}", content);

        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
    }

    [Fact]
    public async Task A_5_MiB_values_body_is_accepted_and_read_back_intact()
    {
        using var data = new TempDirectory();
        await using var service = await ServiceProcess.StartAsync(ServiceProcess.Settings(data.Path));
        var run = Payloads.Run();
        var messages = new JsonArray();
        for (var i = 0; messages.ToJsonString().Length < 5 * 1024 * 1024; i++)
        {
            messages.Add(new JsonObject { ["type"] = i % 2 == 0 ? "human" : "ai", ["content"] = $"message {i} " + new string('ü', 2000), ["id"] = Guid.NewGuid().ToString() });
        }

        run["values"] = new JsonObject { ["messages"] = messages };
        var body = run.ToJsonString();
        using var client = service.CreateClient();

        var response = await client.PostAsync($"/webhooks/langgraph?token={TestApp.Token}", new StringContent(body, Encoding.UTF8, "application/json"));
        var stored = JsonNode.Parse(await service.CreateClient(admin: true).GetStringAsync($"/api/runs/{run["run_id"]}"))!;

        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        Assert.True(Encoding.UTF8.GetByteCount(body) > 5 * 1024 * 1024);
        Assert.True(JsonNode.DeepEquals(run["values"], stored["payload"]!["values"]));
    }

    [Fact]
    public async Task Stored_webhooks_survive_a_restart_on_the_same_SQLite_file()
    {
        using var data = new TempDirectory();
        var runs = Enumerable.Range(0, 5).Select(_ => Payloads.Run()).ToList();
        await using (var first = await ServiceProcess.StartAsync(ServiceProcess.Settings(data.Path)))
        {
            using var client = first.CreateClient();
            foreach (var run in runs)
            {
                var response = await client.PostAsync($"/webhooks/langgraph?token={TestApp.Token}", new StringContent(run.ToJsonString()));
                Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
            }

            await first.TerminateAsync(TimeSpan.FromSeconds(30));
        }

        await using var second = await ServiceProcess.StartAsync(ServiceProcess.Settings(data.Path));
        using var admin = second.CreateClient(admin: true);
        var list = JsonNode.Parse(await admin.GetStringAsync("/api/webhooks"))!;
        var again = await second.CreateClient().PostAsync($"/webhooks/langgraph?token={TestApp.Token}", new StringContent(runs[0].ToJsonString()));

        Assert.Equal(runs.Select(r => (string)r["run_id"]!).Reverse(), list["items"]!.AsArray().Select(i => (string)i!["run_id"]!));
        Assert.Equal(HttpStatusCode.OK, again.StatusCode); // still known as a duplicate after the restart
    }
}
