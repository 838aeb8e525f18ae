using System.Net;
using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using WebhookReceiver.Tests.Infrastructure;

namespace WebhookReceiver.Tests.QueryApi;

public sealed class QueryApiTests
{
    [Theory]
    [InlineData("/api/webhooks")]
    [InlineData("/api/webhooks/1")]
    [InlineData("/api/runs/some-run")]
    [InlineData("/api/handlers")]
    public async Task Every_query_endpoint_needs_the_admin_key(string url)
    {
        await using var app = new TestApp();
        var client = app.CreateClient();

        var without = await client.GetAsync(url);
        using var withToken = new HttpRequestMessage(HttpMethod.Get, url);
        withToken.Headers.Add("X-Api-Key", TestApp.Token); // a webhook token is not an admin key
        var wrong = await client.SendAsync(withToken);

        Assert.Equal(HttpStatusCode.Unauthorized, without.StatusCode);
        Assert.Equal("application/problem+json", without.Content.Headers.ContentType?.MediaType);
        Assert.Equal(HttpStatusCode.Unauthorized, wrong.StatusCode);
    }

    [Theory]
    [InlineData("Production", "GET", "/api/webhooks?limit=abc")]
    [InlineData("Production", "GET", "/api/webhooks?received_from=yesterday")]
    [InlineData("Production", "GET", "/api/webhooks?no_such_parameter=1")]
    [InlineData("Production", "GET", "/api/webhooks/abc")]
    [InlineData("Production", "GET", "/api/webhooks/1/nothing-here")]
    [InlineData("Production", "POST", "/api/webhooks/abc/replay")]
    [InlineData("Production", "POST", "/api/dead-letters/replay?received_to=x&handler=nope")]
    [InlineData("Production", "DELETE", "/api/handlers")]
    [InlineData("Development", "GET", "/api/webhooks?limit=abc")]
    [InlineData("Development", "GET", "/api/webhooks/abc")]
    [InlineData("Development", "GET", "/api/runs/a/b")]
    public async Task Without_the_key_every_request_is_401_whatever_its_route_values_and_parameters(string environment, string method, string url)
    {
        await using var app = new TestApp(environment: environment);
        var client = app.CreateClient();

        var anonymous = await client.SendAsync(new HttpRequestMessage(new HttpMethod(method), url));
        var wrongKey = new HttpRequestMessage(new HttpMethod(method), url);
        wrongKey.Headers.Add("X-Api-Key", TestApp.Token);
        var wrong = await client.SendAsync(wrongKey);

        Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);
        Assert.Equal("application/problem+json", anonymous.Content.Headers.ContentType?.MediaType);
        Assert.Equal(401, (int)(await Json.ReadAsync(anonymous))["status"]!);
        Assert.Equal(HttpStatusCode.Unauthorized, wrong.StatusCode);
    }

    [Theory]
    [InlineData("/api/webhooks/abc")]
    [InlineData("/api/webhooks/1/nothing-here")]
    [InlineData("/api/runs/a/b")]
    public async Task With_the_key_a_path_no_endpoint_answers_is_404_problem_details(string url)
    {
        await using var app = new TestApp(environment: "Production");

        var response = await app.CreateAdminClient().GetAsync(url);

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Equal(404, (int)(await Json.ReadAsync(response))["status"]!);
    }

    [Theory]
    [InlineData("Production", "GET", "/api/webhooks?limit=abc", "limit")]
    [InlineData("Production", "GET", "/api/webhooks?cursor=next", "cursor")]
    [InlineData("Production", "GET", "/api/webhooks?received_from=yesterday", "received_from")]
    [InlineData("Production", "GET", "/api/webhooks?received_to=2026-13-45", "received_to")]
    [InlineData("Production", "GET", "/api/webhooks?graphid=agent", "graphid")]
    [InlineData("Production", "GET", "/api/runs/some-run?verbose=1", "verbose")]
    [InlineData("Production", "POST", "/api/dead-letters/replay?received_from=soon", "received_from")]
    [InlineData("Production", "POST", "/api/dead-letters/replay?limit=5", "limit")]
    [InlineData("Development", "GET", "/api/webhooks?limit=abc", "limit")]
    [InlineData("Development", "GET", "/api/webhooks?received_from=yesterday", "received_from")]
    [InlineData("Development", "GET", "/api/webhooks?graphid=agent", "graphid")]
    public async Task A_client_mistake_is_a_400_problem_naming_the_parameter_as_the_API_spells_it(string environment, string method, string url, string named)
    {
        await using var app = new TestApp(environment: environment);

        var response = await app.CreateAdminClient().SendAsync(new HttpRequestMessage(new HttpMethod(method), url));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var body = await response.Content.ReadAsStringAsync();
        var errors = JsonNode.Parse(body)!["errors"]!.AsObject();
        Assert.Equal([named], errors.Select(e => e.Key));
        foreach (var csharp in new[] { "Nullable", "DateTimeOffset", "Int32", "Int64", "ReceivedFrom", "System." })
        {
            Assert.DoesNotContain(csharp, body, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task The_list_and_the_bulk_replay_filter_by_graph_id()
    {
        await using var app = new TestApp(new Dictionary<string, string?>
        {
            ["WebhookReceiver:Dispatch:MaxAttempts"] = "1",
        }, services: s => new WebhookReceiver.Webhooks.WebhookReceiverBuilder(s).AddHandler<AlwaysFails>("fails"));
        var agent = Payloads.Run(graphId: "agent");
        var support = Payloads.Run(graphId: "support");
        foreach (var run in new[] { agent, support })
        {
            await app.PostWebhookAsync(run.ToJsonString());
        }

        Assert.Equal([Id(support)], await RunIds(app, "/api/webhooks?graph_id=support"));
        Assert.Equal([Id(agent)], await RunIds(app, "/api/webhooks?graph_id=agent"));
        Assert.Empty(await RunIds(app, "/api/webhooks?graph_id=other"));
        Assert.Equal([Id(support), Id(agent)], await RunIds(app, "/api/webhooks"));

        await Eventually.MatchAsync(() => RunIds(app, "/api/webhooks?delivery_state=dead"), ids => ids.Count == 2);
        var replay = await app.CreateAdminClient().PostAsync("/api/dead-letters/replay?graph_id=support&handler=fails", null);
        Assert.Equal(HttpStatusCode.Accepted, replay.StatusCode);
        Assert.Equal(1, (int)(await Json.ReadAsync(replay))["replayed"]!);
    }

    private sealed class AlwaysFails : WebhookReceiver.Webhooks.IWebhookHandler
    {
        public Task HandleAsync(WebhookReceiver.Webhooks.LangGraphRun run, WebhookReceiver.Webhooks.DeliveryContext context, CancellationToken cancellationToken) =>
            throw new InvalidOperationException("always fails");
    }

    [Theory]
    [InlineData("/api/webhooks/999")]
    [InlineData("/api/runs/no-such-run")]
    public async Task An_unknown_webhook_is_404_problem_details(string url)
    {
        await using var app = new TestApp();

        var response = await app.CreateAdminClient().GetAsync(url);

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Equal(404, (int)(await Json.ReadAsync(response))["status"]!);
    }

    [Fact]
    public async Task The_token_is_redacted_from_returned_payloads_whichever_token_was_used()
    {
        await using var app = new TestApp();
        var first = Payloads.Run(token: TestApp.Token);
        var second = Payloads.Run(token: TestApp.SecondToken);
        var retired = Payloads.Run(token: "a-token-retired-by-rotation-long-ago");
        foreach (var run in new[] { first, second, retired })
        {
            await app.PostWebhookAsync(run.ToJsonString());
        }

        var admin = app.CreateAdminClient();
        foreach (var run in new[] { first, second, retired })
        {
            var body = await admin.GetStringAsync($"/api/runs/{run["run_id"]}");
            Assert.DoesNotContain(TestApp.Token, body, StringComparison.Ordinal);
            Assert.DoesNotContain(TestApp.SecondToken, body, StringComparison.Ordinal);
            Assert.DoesNotContain("retired-by-rotation", body, StringComparison.Ordinal);
            var webhook = (string?)JsonNode.Parse(body)!["payload"]!["kwargs"]!["webhook"];
            Assert.Equal("http://127.0.0.1:5080/webhooks/langgraph?token=[REDACTED]", webhook);
        }

        var list = await admin.GetStringAsync("/api/webhooks");
        Assert.DoesNotContain(TestApp.Token, list, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_list_filters_by_status_assistant_and_thread()
    {
        await using var app = new TestApp();
        var ok = Payloads.Run(status: "success", assistantId: "assistant-a", threadId: "thread-1");
        var failed = Payloads.Run(status: "error", assistantId: "assistant-a", threadId: "thread-2");
        var other = Payloads.Run(status: "success", assistantId: "assistant-b", threadId: "thread-1");
        foreach (var run in new[] { ok, failed, other })
        {
            await app.PostWebhookAsync(run.ToJsonString());
        }

        Assert.Equal([Id(other), Id(ok)], await RunIds(app, "/api/webhooks?status=success"));
        Assert.Equal([Id(failed), Id(ok)], await RunIds(app, "/api/webhooks?assistant_id=assistant-a"));
        Assert.Equal([Id(other), Id(ok)], await RunIds(app, "/api/webhooks?thread_id=thread-1"));
        Assert.Equal([Id(ok)], await RunIds(app, "/api/webhooks?status=success&assistant_id=assistant-a"));
        Assert.Empty(await RunIds(app, "/api/webhooks?status=timeout"));
    }

    [Fact]
    public async Task The_list_filters_by_time_received()
    {
        var clock = new FakeTimeProvider(new DateTimeOffset(2026, 1, 1, 12, 0, 0, TimeSpan.Zero));
        await using var app = new TestApp(services: s => s.AddSingleton<TimeProvider>(clock));
        var early = Payloads.Run();
        await app.PostWebhookAsync(early.ToJsonString());
        clock.Advance(TimeSpan.FromHours(1));
        var late = Payloads.Run();
        await app.PostWebhookAsync(late.ToJsonString());

        Assert.Equal([Id(late)], await RunIds(app, "/api/webhooks?received_from=2026-01-01T12:30:00Z"));
        Assert.Equal([Id(early)], await RunIds(app, "/api/webhooks?received_to=2026-01-01T12:30:00Z"));
        Assert.Equal([Id(late), Id(early)], await RunIds(app, "/api/webhooks?received_from=2026-01-01T12:00:00Z&received_to=2026-01-01T14:00:00Z"));
    }

    [Fact]
    public async Task The_list_pages_newest_first_with_a_cursor()
    {
        await using var app = new TestApp();
        var sent = new List<string>();
        for (var i = 0; i < 7; i++)
        {
            var run = Payloads.Run();
            sent.Add(Id(run));
            await app.PostWebhookAsync(run.ToJsonString());
        }

        var seen = new List<string>();
        string url = "/api/webhooks?limit=3";
        var pages = 0;
        while (true)
        {
            var page = await app.GetAdminAsync<JsonObject>(url);
            pages++;
            seen.AddRange(page["items"]!.AsArray().Select(i => (string)i!["run_id"]!));
            if (page["next_cursor"] is not { } cursor)
            {
                break;
            }

            url = $"/api/webhooks?limit=3&cursor={cursor}";
        }

        Assert.Equal(3, pages);
        Assert.Equal(Enumerable.Reverse(sent), seen);
    }

    [Theory]
    [InlineData("/api/webhooks?limit=0", "limit")]
    [InlineData("/api/webhooks?limit=501", "limit")]
    [InlineData("/api/webhooks?delivery_state=sideways", "delivery_state")]
    [InlineData("/api/webhooks?received_from=2026-02-01T00:00:00Z&received_to=2026-01-01T00:00:00Z", "received_from")]
    public async Task Bad_query_values_are_400_validation_problems(string url, string field)
    {
        await using var app = new TestApp();

        var response = await app.CreateAdminClient().GetAsync(url);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.NotNull((await Json.ReadAsync(response))["errors"]![field]);
    }

    [Fact]
    public async Task Responses_use_snake_case_like_LangGraph()
    {
        await using var app = new TestApp();
        var run = Payloads.Run();
        await app.PostWebhookAsync(run.ToJsonString());

        var body = await app.CreateAdminClient().GetStringAsync($"/api/runs/{run["run_id"]}");

        Assert.Contains("\"run_id\":", body, StringComparison.Ordinal);
        Assert.Contains("\"received_at\":", body, StringComparison.Ordinal);
        Assert.DoesNotContain("\"runId\"", body, StringComparison.Ordinal);
    }

    private static string Id(JsonObject run) => (string)run["run_id"]!;

    private static async Task<List<string>> RunIds(TestApp app, string url) =>
        (await app.GetAdminAsync<JsonObject>(url))["items"]!.AsArray().Select(i => (string)i!["run_id"]!).ToList();
}
