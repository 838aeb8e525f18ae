using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using CsCheck;
using WebhookReceiver.Tests.Infrastructure;

namespace WebhookReceiver.Tests.Hardening;

/// <summary>No input breaks the webhook route: a 4xx problem (or a 2xx for a valid webhook), never a 5xx.</summary>
public sealed class BadInputTests
{
    private static readonly Dictionary<string, string?> NoRateLimit = new() { ["WebhookReceiver:Limits:PermitsPerSecond"] = "0" };

    private static readonly string[] KnownFields =
    [
        "thread_id", "assistant_id", "status", "metadata", "kwargs", "multitask_strategy", "created_at", "updated_at",
        "run_started_at", "run_ended_at", "webhook_sent_at", "values", "error", "langsmith_session_name",
    ];

    private static readonly JsonNode?[] WrongValues = [42, -1.5e300, true, null, "not-a-date", new JsonArray(1, "two"), new JsonObject { ["x"] = 1 }, ""];

    [Fact]
    public async Task Random_bytes_and_mangled_runs_get_a_4xx_problem_or_a_2xx_never_a_5xx()
    {
        await using var app = new TestApp(NoRateLimit);
        var client = app.CreateClient();
        var valid = Encoding.UTF8.GetBytes(Payloads.Run().ToJsonString());
        var bodies = Gen.OneOf(
            Gen.Byte.Array[0, 512],                                                         // random bytes
            Gen.Int[0, valid.Length].Select(n => valid[..n]),                               // truncated JSON
            Gen.Int[0, valid.Length - 1].SelectMany(i => Gen.Byte, (i, b) => Flip(valid, i, b)), // one byte changed
            Gen.String[0, 200].Select(s => Encoding.UTF8.GetBytes($"{{\"run_id\": \"{Guid.NewGuid()}\", \"values\": {s}}}")));
        var tried = 0;

        await bodies.SampleAsync(async body =>
        {
            Interlocked.Increment(ref tried);
            using var content = new ByteArrayContent(body);
            var response = await client.PostAsync($"/webhooks/langgraph?token={TestApp.Token}", content);
            await AssertWellAnsweredAsync(response);
        }, iter: 400, threads: 2, print: body => Encoding.UTF8.GetString(body));

        Assert.Equal(400, tried);
    }

    public static TheoryData<string, byte[], HttpStatusCode> Corpus() => new()
    {
        { "invalid UTF-8 in a string", [.. "{\"run_id\": \"r-"u8, 0xC3, 0x28, .. "\"}"u8], HttpStatusCode.BadRequest },
        { "lone surrogate escape in run_id", "{\"run_id\": \"r-\\ud800\"}"u8.ToArray(), HttpStatusCode.Accepted }, // stored without a run_id
        { "lone surrogate escape elsewhere", Encoding.UTF8.GetBytes($"{{\"run_id\": \"{Guid.NewGuid()}\", \"thread_id\": \"\\udc00\"}}"), HttpStatusCode.Accepted },
        { "invalid UTF-8 in values", [.. Encoding.UTF8.GetBytes($"{{\"run_id\": \"{Guid.NewGuid()}\", \"values\": \""), 0xFF, 0xFE, .. "\"}"u8], HttpStatusCode.BadRequest },
        { "lone surrogate escape in a name", Encoding.UTF8.GetBytes($"{{\"run_id\": \"{Guid.NewGuid()}\", \"\\ud800x\": 1}}"), HttpStatusCode.Accepted },
        { "huge number", Encoding.UTF8.GetBytes($"{{\"run_id\": \"{Guid.NewGuid()}\", \"values\": {new string('9', 100_000)}}}"), HttpStatusCode.Accepted },
        { "huge exponent", Encoding.UTF8.GetBytes($"{{\"run_id\": \"{Guid.NewGuid()}\", \"values\": 1e999999999}}"), HttpStatusCode.Accepted },
        { "1 MiB run_id", Encoding.UTF8.GetBytes($"{{\"run_id\": \"{new string('r', 1 << 20)}\"}}"), HttpStatusCode.Accepted }, // not indexable: stored without a run_id
        { "NUL escape in run_id", "{\"run_id\": \"r\\u0000\"}"u8.ToArray(), HttpStatusCode.Accepted },
        { "NUL escape in thread_id", Encoding.UTF8.GetBytes($"{{\"run_id\": \"{Guid.NewGuid()}\", \"thread_id\": \"t\\u0000\"}}"), HttpStatusCode.Accepted },
        { "1 MiB status", Encoding.UTF8.GetBytes($"{{\"run_id\": \"{Guid.NewGuid()}\", \"status\": \"{new string('s', 1 << 20)}\"}}"), HttpStatusCode.Accepted },
        { "duplicate keys", Encoding.UTF8.GetBytes($"{{\"run_id\": \"{Guid.NewGuid()}\", \"run_id\": \"{Guid.NewGuid()}\"}}"), HttpStatusCode.Accepted },
        { "run_id null", "{\"run_id\": null}"u8.ToArray(), HttpStatusCode.Accepted },
        { "run_id object", "{\"run_id\": {\"id\": 1}}"u8.ToArray(), HttpStatusCode.Accepted },
        { "run_id array", "{\"run_id\": [\"a\"]}"u8.ToArray(), HttpStatusCode.Accepted },
        { "run_id true", "{\"run_id\": true}"u8.ToArray(), HttpStatusCode.Accepted },
        { "an array", "[{\"run_id\": \"r\"}]"u8.ToArray(), HttpStatusCode.BadRequest },
        { "a number", "42"u8.ToArray(), HttpStatusCode.BadRequest },
        { "a bare string", "\"run_id\""u8.ToArray(), HttpStatusCode.BadRequest },
        { "null", "null"u8.ToArray(), HttpStatusCode.BadRequest },
        { "BOM then JSON", [0xEF, 0xBB, 0xBF, .. Encoding.UTF8.GetBytes($"{{\"run_id\": \"{Guid.NewGuid()}\"}}")], HttpStatusCode.Accepted },
        { "NUL bytes", "{\"run_id\": \"a\0b\"}"u8.ToArray(), HttpStatusCode.BadRequest },
        { "trailing garbage", Encoding.UTF8.GetBytes($"{{\"run_id\": \"{Guid.NewGuid()}\"}} trailing"), HttpStatusCode.BadRequest },
        { "comments", Encoding.UTF8.GetBytes($"{{/* c */\"run_id\": \"{Guid.NewGuid()}\"}}"), HttpStatusCode.BadRequest },
    };

    [Theory]
    [MemberData(nameof(Corpus))]
    public async Task A_hand_picked_corpus_is_answered_as_expected(string name, byte[] body, HttpStatusCode expected)
    {
        await using var app = new TestApp(NoRateLimit);

        var response = await app.CreateClient().PostAsync($"/webhooks/langgraph?token={TestApp.Token}", new ByteArrayContent(body));

        Assert.True(expected == response.StatusCode, $"{name}: {response.StatusCode}");
        await AssertWellAnsweredAsync(response);
    }

    [Fact]
    public async Task Wrong_types_in_every_known_field_are_stored_as_sent()
    {
        await using var app = new TestApp(NoRateLimit);
        var tried = 0;
        foreach (var field in KnownFields)
        {
            foreach (var value in WrongValues)
            {
                var run = Payloads.Run();
                run[field] = value?.DeepClone();
                var response = await app.PostWebhookAsync(run.ToJsonString());
                Assert.True(response.StatusCode == HttpStatusCode.Accepted, $"{field} = {value?.ToJsonString() ?? "null"}: {response.StatusCode}");
                var stored = await app.GetAdminAsync<JsonObject>($"/api/runs/{run["run_id"]}");
                Assert.True(JsonNode.DeepEquals(run[field], stored["payload"]![field]), field);
                tried++;
            }
        }

        Assert.Equal(KnownFields.Length * WrongValues.Length, tried);
    }

    [Theory]
    [InlineData("GET")]
    [InlineData("PUT")]
    [InlineData("DELETE")]
    [InlineData("PATCH")]
    [InlineData("OPTIONS")]
    [InlineData("TRACE")]
    [InlineData("HEAD")]
    public async Task Every_other_method_on_every_route_is_a_4xx_never_a_5xx(string method)
    {
        await using var app = new TestApp(NoRateLimit);
        var routes = new[]
        {
            "/webhooks/langgraph", "/webhooks/langgraph?token=" + TestApp.Token, "/api/webhooks", "/api/webhooks/1", "/api/runs/x",
            "/api/webhooks/1/replay", "/api/dead-letters/replay", "/api/handlers", "/health/live", "/health/ready", "/openapi/webhook-receiver.json", "/swagger",
        };

        foreach (var route in routes)
        {
            using var request = new HttpRequestMessage(new HttpMethod(method), route);
            var response = await app.CreateAdminClient().SendAsync(request);
            var status = (int)response.StatusCode;
            Assert.True(status < 500, $"{method} {route}: {status}");
            Assert.False(route.StartsWith("/webhooks", StringComparison.Ordinal) && status < 400, $"{method} {route}: {status}");
            if (status >= 400 && method != "HEAD")
            {
                Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
            }
        }
    }

    [Theory]
    [InlineData("/API/webhooks")]
    [InlineData("/api//webhooks")]
    [InlineData("/api/./webhooks")]
    [InlineData("/api/../api/webhooks")]
    [InlineData("/x/../api/webhooks")]
    [InlineData("/api/%2e%2e/api/webhooks")]
    [InlineData("/api/webhooks/%2e%2e")]
    [InlineData("/api/runs/..%2f..%2fetc%2fpasswd")]
    [InlineData("/api/webhooks/-1")]
    [InlineData("/api/webhooks/99999999999999999999")]
    [InlineData("/api/webhooks?limit=abc")]
    [InlineData("/api/webhooks?received_from=yesterday")]
    [InlineData("/api/webhooks?cursor=-5")]
    [InlineData("/api/webhooks?status=%00")]
    public async Task Path_tricks_on_the_api_never_pass_without_the_key_and_never_fail_with_a_5xx(string path)
    {
        await using var app = new TestApp(NoRateLimit);

        var anonymous = await app.CreateClient().GetAsync(path);
        var admin = await app.CreateAdminClient().GetAsync(path);

        Assert.True((int)anonymous.StatusCode is 401 or 404 or 400, $"{path} without a key: {anonymous.StatusCode}");
        Assert.True((int)admin.StatusCode < 500, $"{path} with the key: {admin.StatusCode}");
        if ((int)admin.StatusCode >= 400)
        {
            Assert.Equal("application/problem+json", admin.Content.Headers.ContentType?.MediaType);
        }
    }

    private static byte[] Flip(byte[] bytes, int index, byte value)
    {
        var copy = bytes.ToArray();
        copy[index] = value;
        return copy;
    }

    private static async Task AssertWellAnsweredAsync(HttpResponseMessage response)
    {
        var status = (int)response.StatusCode;
        Assert.True(status < 500, $"answered {status}");
        if (status >= 400)
        {
            Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
            var problem = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
            Assert.Equal(status, (int)problem["status"]!);
        }
        else
        {
            Assert.True(status is 200 or 202, $"answered {status}");
        }
    }
}
