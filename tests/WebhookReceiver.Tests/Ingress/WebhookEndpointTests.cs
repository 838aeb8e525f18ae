using System.Net;
using System.Text.Json.Nodes;
using WebhookReceiver.Tests.Infrastructure;

namespace WebhookReceiver.Tests.Ingress;

public sealed class WebhookEndpointTests
{
    [Fact]
    public async Task A_new_run_is_stored_and_answered_202_with_its_id()
    {
        await using var app = new TestApp();
        var runId = Payloads.NewRunId();

        var response = await app.PostWebhookAsync(Payloads.Run(runId).ToJsonString());

        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        var body = await Json.ReadAsync(response);
        Assert.Equal(runId, (string?)body["run_id"]);
        Assert.False((bool)body["duplicate"]!);
        var id = (long)body["id"]!;
        Assert.Equal($"/api/webhooks/{id}", response.Headers.Location?.OriginalString);
        var stored = await app.GetAdminAsync<JsonObject>($"/api/runs/{runId}");
        Assert.Equal(id, (long)stored["id"]!);
    }

    [Fact]
    public async Task A_repeated_run_id_is_answered_200_duplicate_and_stored_once()
    {
        await using var app = new TestApp();
        var body = Payloads.Run().ToJsonString();

        var first = await Json.ReadAsync(await app.PostWebhookAsync(body));
        var again = await app.PostWebhookAsync(body);

        Assert.Equal(HttpStatusCode.OK, again.StatusCode);
        var second = await Json.ReadAsync(again);
        Assert.True((bool)second["duplicate"]!);
        Assert.Equal((long)first["id"]!, (long)second["id"]!);
        var list = await app.GetAdminAsync<JsonObject>("/api/webhooks");
        Assert.Single(list["items"]!.AsArray());
    }

    [Theory]
    [InlineData("text/plain;charset=UTF-8")]
    [InlineData("application/x-www-form-urlencoded")]
    [InlineData("application/octet-stream")]
    public async Task The_body_is_read_as_JSON_whatever_the_content_type(string contentType)
    {
        await using var app = new TestApp();

        var response = await app.PostWebhookAsync(Payloads.Run().ToJsonString(), contentType: contentType);

        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("wrong-token")]
    [InlineData("")]
    public async Task A_missing_or_wrong_token_is_401_problem_with_no_hint(string? token)
    {
        await using var app = new TestApp();

        var response = await app.PostWebhookAsync(Payloads.Run().ToJsonString(), token);

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var problem = await Json.ReadAsync(response);
        Assert.Equal(401, (int)problem["status"]!);
        Assert.Null(problem["detail"]);
        Assert.Empty((await app.GetAdminAsync<JsonObject>("/api/webhooks"))["items"]!.AsArray());
    }

    [Fact]
    public async Task Both_tokens_are_accepted_while_rotating()
    {
        await using var app = new TestApp();

        var first = await app.PostWebhookAsync(Payloads.Run().ToJsonString(), TestApp.Token);
        var second = await app.PostWebhookAsync(Payloads.Run().ToJsonString(), TestApp.SecondToken);

        Assert.Equal(HttpStatusCode.Accepted, first.StatusCode);
        Assert.Equal(HttpStatusCode.Accepted, second.StatusCode);
    }

    [Theory]
    [InlineData("Authorization", "Bearer " + TestApp.Token, HttpStatusCode.Accepted)]
    [InlineData("Authorization", "bearer " + TestApp.SecondToken, HttpStatusCode.Accepted)]
    [InlineData("Authorization", "Bearer not-the-token", HttpStatusCode.Unauthorized)]
    [InlineData("X-Other", "Bearer " + TestApp.Token, HttpStatusCode.Unauthorized)]
    public async Task The_token_may_come_in_the_configured_header(string header, string value, HttpStatusCode expected)
    {
        await using var app = new TestApp();
        using var request = new HttpRequestMessage(HttpMethod.Post, "/webhooks/langgraph")
        {
            Content = new StringContent(Payloads.Run().ToJsonString()),
        };
        request.Headers.TryAddWithoutValidation(header, value);

        var response = await app.CreateClient().SendAsync(request);

        Assert.Equal(expected, response.StatusCode);
    }

    [Fact]
    public async Task The_token_header_name_is_configurable()
    {
        await using var app = new TestApp(new() { ["WebhookReceiver:TokenHeader"] = "X-LangGraph-Token" });
        using var request = new HttpRequestMessage(HttpMethod.Post, "/webhooks/langgraph") { Content = new StringContent(Payloads.Run().ToJsonString()) };
        request.Headers.Add("X-LangGraph-Token", TestApp.Token);

        var response = await app.CreateClient().SendAsync(request);

        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
    }

    [Fact]
    public async Task The_path_is_configurable()
    {
        await using var app = new TestApp(new() { ["WebhookReceiver:Path"] = "/hooks/lg" });

        var response = await app.CreateClient().PostAsync($"/hooks/lg?token={TestApp.Token}", new StringContent(Payloads.Run().ToJsonString()));
        var old = await app.PostWebhookAsync(Payloads.Run().ToJsonString());

        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, old.StatusCode);
    }

    [Theory]
    [InlineData("not json", "not valid JSON")]
    [InlineData("{\"run_id\": ", "not valid JSON")]
    [InlineData("", "not valid JSON")]
    [InlineData("[1, 2]", "JSON object")]
    [InlineData("\"x\"", "JSON object")]
    public async Task A_body_that_is_not_a_run_is_400_problem_details(string body, string detailMentions)
    {
        await using var app = new TestApp();

        var response = await app.PostWebhookAsync(body);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var problem = await Json.ReadAsync(response);
        Assert.Equal(400, (int)problem["status"]!);
        Assert.Contains(detailMentions, (string?)problem["detail"], StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_body_over_the_limit_is_413_problem_details_and_not_stored()
    {
        await using var app = new TestApp(new() { ["WebhookReceiver:MaxBodyBytes"] = "2048" });
        var run = Payloads.Run();
        run["values"] = new JsonObject { ["big"] = new string('x', 4096) };

        var response = await app.PostWebhookAsync(run.ToJsonString());

        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
        var problem = await Json.ReadAsync(response);
        Assert.Equal(413, (int)problem["status"]!);
        Assert.Contains("2048", (string?)problem["detail"], StringComparison.Ordinal);
        Assert.Contains("WebhookReceiver:MaxBodyBytes", (string?)problem["detail"], StringComparison.Ordinal); // The setting to raise.
        Assert.Empty((await app.GetAdminAsync<JsonObject>("/api/webhooks"))["items"]!.AsArray());
    }

    [Fact]
    public async Task Nesting_deeper_than_the_limit_is_400_naming_the_setting_to_raise()
    {
        await using var app = new TestApp(new() { ["WebhookReceiver:MaxJsonDepth"] = "16" });
        var deep = string.Concat(Enumerable.Repeat("{\"a\":", 20)) + "1" + new string('}', 20);

        var response = await app.PostWebhookAsync($"{{\"run_id\": \"{Payloads.NewRunId()}\", \"values\": {deep}}}");

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var detail = (string?)(await Json.ReadAsync(response))["detail"];
        Assert.Contains("16 levels", detail, StringComparison.Ordinal);
        Assert.Contains("WebhookReceiver:MaxJsonDepth", detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_store_that_cannot_take_the_write_is_503_with_retry_after_never_2xx()
    {
        await using var app = new TestApp();
        Assert.Equal(HttpStatusCode.Accepted, (await app.PostWebhookAsync(Payloads.Run().ToJsonString())).StatusCode);
        await using (var connection = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={Path.Combine(app.Directory.Path, "webhooks.db")}"))
        {
            await connection.OpenAsync();
            await using var drop = connection.CreateCommand();
            drop.CommandText = "DROP TABLE attempts; DROP TABLE deliveries; DROP TABLE webhooks;";
            await drop.ExecuteNonQueryAsync();
        }

        var response = await app.PostWebhookAsync(Payloads.Run().ToJsonString());

        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        Assert.Equal("5", response.Headers.RetryAfter?.ToString());
        var problem = await Json.ReadAsync(response);
        Assert.Equal(503, (int)problem["status"]!);
    }

    [Fact]
    public async Task Unknown_fields_and_an_unknown_status_survive_the_round_trip()
    {
        await using var app = new TestApp();
        var run = Payloads.Run(status: "paused_by_operator");
        run["brand_new_field"] = new JsonObject { ["nested"] = new JsonArray(1, 2, 3) };
        run["error"] = new JsonObject { ["error"] = "ValueError", ["message"] = "boom" };

        await app.PostWebhookAsync(run.ToJsonString());
        var stored = await app.GetAdminAsync<JsonObject>($"/api/runs/{run["run_id"]}");

        Assert.Equal("paused_by_operator", (string?)stored["status"]);
        var payload = stored["payload"]!;
        Assert.Equal("paused_by_operator", (string?)payload["status"]);
        Assert.True(JsonNode.DeepEquals(run["brand_new_field"], payload["brand_new_field"]));
        Assert.True(JsonNode.DeepEquals(run["error"], payload["error"]));
    }
}
