using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using WebhookReceiver.Tests.Infrastructure;

namespace WebhookReceiver.Tests.Ingress;

/// <summary>The built service as a process on a real loopback socket, over a real SQLite file.</summary>
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

    [Fact]
    public async Task The_log_output_of_a_run_that_received_webhooks_contains_no_secret()
    {
        using var data = new TempDirectory();
        var settings = ServiceProcess.Settings(data.Path);
        // Every category at its most verbose, ASP.NET's own hosting log (which prints the query string) included.
        settings["Serilog__MinimumLevel__Default"] = "Verbose";
        settings["Serilog__MinimumLevel__Override__Microsoft.AspNetCore"] = "Verbose";
        settings["Serilog__MinimumLevel__Override__Microsoft.Extensions.Http"] = "Verbose";
        settings["Serilog__MinimumLevel__Override__System.Net.Http.HttpClient"] = "Verbose";
        await using var service = await ServiceProcess.StartAsync(settings);
        using var client = service.CreateClient();
        var run = Payloads.Run();

        Assert.Equal(HttpStatusCode.Accepted, (await client.PostAsync($"/webhooks/langgraph?token={TestApp.Token}", new StringContent(run.ToJsonString()))).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await client.PostAsync($"/webhooks/langgraph?token={TestApp.Token}", new StringContent(run.ToJsonString()))).StatusCode);
        using var header = new HttpRequestMessage(HttpMethod.Post, "/webhooks/langgraph") { Content = new StringContent(Payloads.Run(token: TestApp.SecondToken).ToJsonString()) };
        header.Headers.Add("Authorization", $"Bearer {TestApp.SecondToken}");
        Assert.Equal(HttpStatusCode.Accepted, (await client.SendAsync(header)).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await client.PostAsync($"/webhooks/langgraph?token={TestApp.Token}", new StringContent("{oops"))).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await client.PostAsync("/webhooks/langgraph?token=not-it", new StringContent("{}"))).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await service.CreateClient(admin: true).GetAsync($"/api/runs/{run["run_id"]}")).StatusCode);
        await Eventually.MatchAsync(() => Task.FromResult(service.Output.Count(l => l.Contains("LangGraph run", StringComparison.Ordinal))), n => n >= 2);
        await service.TerminateAsync(TimeSpan.FromSeconds(30));

        var lines = service.Output.ToList();
        Assert.Contains(lines, l => l.Contains("Request starting", StringComparison.Ordinal)); // the hosting log did run
        Assert.Contains(lines, l => l.Contains("token=[REDACTED]", StringComparison.Ordinal)); // ... and its query string was scrubbed
        foreach (var secret in new[] { TestApp.Token, TestApp.SecondToken, TestApp.AdminKey })
        {
            Assert.DoesNotContain(lines, l => l.Contains(secret, StringComparison.Ordinal));
        }
    }
}
