using System.Diagnostics.Metrics;
using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using WebhookReceiver.Tests.Infrastructure;
using WebhookReceiver.Webhooks;

namespace WebhookReceiver.Tests.FieldInputs;

/// <summary>
/// Inputs from the field (issue 11) through the whole service, on each engine (the subclasses): bodies without a
/// run_id, lone surrogate escapes, and tokens kept out of the database.
/// </summary>
public abstract class FieldInputTests
{
    /// <summary>The service on a new store of the engine under test, with <paramref name="recorder"/> as a handler.</summary>
    protected abstract Task<TestApp> CreateAppAsync(RunRecorder recorder, Dictionary<string, string?>? settings = null);

    /// <summary>Every stored payload, read from the database itself.</summary>
    protected abstract Task<List<byte[]>> StoredPayloadsAsync();

    private const string WebhookUrl = "http://127.0.0.1:5080/webhooks/langgraph?token=" + TestApp.Token;

    // ---- 4. A body without run_id -------------------------------------------------------------------------------

    [Fact]
    public async Task A_body_without_run_id_is_stored_deduplicated_by_its_bytes_dispatched_listed_and_counted()
    {
        var recorder = new RunRecorder();
        await using var app = await CreateAppAsync(recorder);
        _ = app.CreateClient();
        // This app's own meter: /metrics would also count what other apps in this test process receive meanwhile.
        using var received = new MetricCollector<long>(app.Services.GetRequiredService<IMeterFactory>(), ReceiverMetrics.MeterName, "webhookreceiver.webhooks.received");
        var trimmed = $$$"""{"status":"success","values":{"messages":[{"type":"ai","content":"hello"}]},"kwargs":{"webhook":"{{{WebhookUrl}}}"}}""";
        var other = """{"status":"error","error":"boom"}""";

        var first = await app.PostWebhookAsync(trimmed);
        var repeat = await app.PostWebhookAsync(trimmed);
        var second = await app.PostWebhookAsync(other);

        Assert.Equal(HttpStatusCode.Accepted, first.StatusCode);
        var firstBody = await Json.ReadAsync(first);
        Assert.Null(firstBody["run_id"]);
        Assert.False((bool)firstBody["duplicate"]!);
        Assert.Equal(HttpStatusCode.OK, repeat.StatusCode);
        var repeatBody = await Json.ReadAsync(repeat);
        Assert.True((bool)repeatBody["duplicate"]!);
        Assert.Equal((long)firstBody["id"]!, (long)repeatBody["id"]!);
        Assert.Equal(HttpStatusCode.Accepted, second.StatusCode);
        var secondId = (long)(await Json.ReadAsync(second))["id"]!;
        Assert.NotEqual((long)firstBody["id"]!, secondId);

        var list = await app.GetAdminAsync<JsonObject>("/api/webhooks");
        var items = list["items"]!.AsArray();
        Assert.Equal(2, items.Count);
        Assert.All(items, item => Assert.Null(item!["run_id"]));
        var detail = await app.GetAdminAsync<JsonObject>($"/api/webhooks/{secondId}");
        Assert.Null(detail["run_id"]);
        Assert.Equal("boom", (string?)detail["payload"]!["error"]);

        // Each stored once, each handed to the handler, which sees a run with no id.
        var delivered = await Eventually.MatchAsync(() => Task.FromResult(recorder.All()), runs => runs.Count >= 2);
        Assert.Equal(2, delivered.Count);
        Assert.All(delivered, r => Assert.Null(r.Run.RunId));
        Assert.Equal(["error", "success"], delivered.Select(r => r.Run.Status).Order());

        var outcomes = received.GetMeasurementSnapshot().Select(m => (string?)m.Tags["outcome"]).Order().ToList();
        Assert.Equal(["accepted_without_run_id", "accepted_without_run_id", "duplicate"], outcomes);
    }

    [Theory]
    [InlineData("[]")]
    [InlineData("\"x\"")]
    [InlineData("42")]
    [InlineData("null")]
    public async Task A_JSON_value_that_is_not_an_object_is_400_and_not_stored(string body)
    {
        await using var app = await CreateAppAsync(new RunRecorder());

        var response = await app.PostWebhookAsync(body);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.Empty(await StoredPayloadsAsync());
    }

    // ---- 2. Lone surrogate escapes ------------------------------------------------------------------------------

    public static TheoryData<string, string> SurrogateFragments => new()
    {
        { "lone high in a value", """ "values":{"messages":[{"type":"ai","content":"Done \ud83d"}]} """ },
        { "lone low in a value", """ "values":{"messages":[{"type":"ai","content":"\udc00 tail"}]} """ },
        { "reversed pair in a value", """ "values":{"messages":[{"type":"ai","content":"\udc00\ud83d"}]} """ },
        { "lone high in a top-level key", """ "\ud83d":"in a key","metadata":{"graph_id":"agent"} """ },
        { "keys and values deep inside values and metadata", """ "metadata":{"\udc00":"x","graph_id":"agent"},"values":{"deep":[{"nested":{"\udc00\ud83d":"\ud83d","ok":"\ud83d\ude00"}}]} """ },
        { "in the error and the status", """ "error":"Cut \ud83d","status":"\udc00" """ },
    };

    private static string SurrogateBody(string runId, string fragment) =>
        $$"""{"run_id":"{{runId}}","thread_id":"t-1","kwargs":{"webhook":"{{WebhookUrl}}"},{{fragment.Trim()}}}""";

    [Theory]
    [MemberData(nameof(SurrogateFragments))]
    public async Task A_lone_surrogate_escape_is_accepted_stored_delivered_and_read_back_as_the_same_valid_JSON(string where, string fragment)
    {
        _ = where;
        var recorder = new RunRecorder();
        await using var app = await CreateAppAsync(recorder);
        var runId = Payloads.NewRunId();
        var body = SurrogateBody(runId, fragment);
        var stored = body.Replace(TestApp.Token, "[REDACTED]", StringComparison.Ordinal);

        var response = await app.PostWebhookAsync(body);

        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        var id = (long)(await Json.ReadAsync(response))["id"]!;
        using var admin = app.CreateAdminClient();
        foreach (var url in new[] { $"/api/webhooks/{id}", $"/api/runs/{runId}" })
        {
            var read = await admin.GetAsync(url);
            Assert.Equal(HttpStatusCode.OK, read.StatusCode);
            var text = await read.Content.ReadAsStringAsync();
            using var document = JsonDocument.Parse(text); // valid JSON
            Assert.Equal(stored, document.RootElement.GetProperty("payload").GetRawText()); // the stored bytes, escapes kept
        }

        // Delivered to the recorder and to the built-in log handler: both deliveries succeed.
        var delivered = await recorder.WaitForAsync(runId, TimeSpan.FromSeconds(20));
        Assert.Equal(stored, delivered.Run.RawJson);
        var deliveries = await Eventually.MatchAsync(
            async () => string.Join(", ", (await app.GetAdminAsync<JsonObject>($"/api/webhooks/{id}"))["deliveries"]!.AsArray()
                .Select(x => $"{x!["handler"]}={x["state"]}").Order()),
            states => !states.Contains("=pending", StringComparison.Ordinal) && !states.Contains("=failed", StringComparison.Ordinal));
        Assert.Equal($"log=succeeded, {RunRecorder.HandlerName}=succeeded", deliveries);
    }

    [Fact]
    public async Task A_payload_with_lone_surrogates_is_forwarded_and_replayed_as_the_same_valid_JSON()
    {
        await using var target = await LoopbackListener.StartAsync();
        var recorder = new RunRecorder();
        await using var app = await CreateAppAsync(recorder, new()
        {
            ["WebhookReceiver:Handlers:Forward:0:Name"] = "crm",
            ["WebhookReceiver:Handlers:Forward:0:Url"] = new Uri(target.Url, "/hooks").ToString(),
            ["WebhookReceiver:Handlers:Forward:0:Secret"] = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
        });
        var body = SurrogateBody(Payloads.NewRunId(), SurrogateFragments.Select(row => (string)row[1]).ElementAt(4));
        var stored = body.Replace(TestApp.Token, "[REDACTED]", StringComparison.Ordinal);

        var id = (long)(await Json.ReadAsync(await app.PostWebhookAsync(body)))["id"]!;
        await target.WaitForRequestsAsync(1);
        var replay = await app.CreateAdminClient().PostAsync($"/api/webhooks/{id}/replay?handler=crm", null);
        await target.WaitForRequestsAsync(2);

        Assert.Equal(HttpStatusCode.Accepted, replay.StatusCode);
        Assert.All(target.Received, received =>
        {
            Assert.Equal(stored, received.Body);
            using var document = JsonDocument.Parse(received.Body);
        });
    }

    // ---- 7. Tokens never stored ---------------------------------------------------------------------------------

    [Fact]
    public async Task The_token_is_redacted_from_the_body_before_it_is_stored()
    {
        await using var app = await CreateAppAsync(new RunRecorder());
        var run = Payloads.Run();
        run["kwargs"]!["encoded"] = "https://r.example/?next=" + Uri.EscapeDataString(WebhookUrl) + "&token2=" + Uri.EscapeDataString(TestApp.SecondToken);

        Assert.Equal(HttpStatusCode.Accepted, (await app.PostWebhookAsync(run.ToJsonString())).StatusCode);

        var stored = Encoding.UTF8.GetString(Assert.Single(await StoredPayloadsAsync()));
        foreach (var token in new[] { TestApp.Token, TestApp.SecondToken })
        {
            Assert.DoesNotContain(token, stored, StringComparison.Ordinal);
            Assert.DoesNotContain(Uri.EscapeDataString(token), stored, StringComparison.Ordinal);
        }

        Assert.Contains("?token=[REDACTED]", stored, StringComparison.Ordinal);
        using var document = JsonDocument.Parse(stored);
    }

    [Fact]
    public async Task A_base64_token_is_redacted_raw_JSON_escaped_and_percent_encoded_before_it_is_stored()
    {
        const string Base64Token = "Ab3+Zx9/Qw7+Lm2/Kp5=Rt8+Vn1/Hs4+Jd6/Fg0+Yc==";
        // As they stand in the body's JSON text: raw (orjson and JSON.stringify escape none of +/=), escaped by .NET's
        // default encoder (\u002B) or with \/, percent-encoded wholly, partly (Python's quote() keeps '/'), in lower case.
        string[] forms =
        [
            Base64Token,
            Base64Token.Replace("+", @"\u002B", StringComparison.Ordinal).Replace("/", @"\/", StringComparison.Ordinal),
            Uri.EscapeDataString(Base64Token),
            Base64Token.Replace("+", "%2B", StringComparison.Ordinal).Replace("=", "%3D", StringComparison.Ordinal),
            Uri.EscapeDataString(Base64Token).Replace("%2B", "%2b", StringComparison.Ordinal).Replace("%2F", "%2f", StringComparison.Ordinal),
        ];
        await using var app = await CreateAppAsync(new RunRecorder(), new() { ["WebhookReceiver:Tokens:2"] = Base64Token });
        var urls = string.Join(",", forms.Select((form, i) => $$"""
            "url{{i}}":"https://receiver.example/webhooks/langgraph?sig={{form}}"
            """));
        var body = $$$"""{"run_id":"{{{Guid.NewGuid()}}}","status":"success","kwargs":{{{{urls}}}}}""";

        Assert.Equal(HttpStatusCode.Accepted, (await app.PostWebhookAsync(body)).StatusCode);

        var stored = Encoding.UTF8.GetString(Assert.Single(await StoredPayloadsAsync()));
        var kwargs = JsonNode.Parse(stored)!["kwargs"]!.AsObject();
        Assert.Equal(forms.Length, kwargs.Count);
        Assert.All(kwargs, url => Assert.Equal("https://receiver.example/webhooks/langgraph?sig=[REDACTED]", url.Value!.GetValue<string>()));
    }
}

/// <summary>The field inputs on a real SQLite file.</summary>
public sealed class SqliteFieldInputTests : FieldInputTests, IDisposable
{
    private readonly TempDirectory _directory = new();

    protected override Task<TestApp> CreateAppAsync(RunRecorder recorder, Dictionary<string, string?>? settings = null) =>
        Task.FromResult(new TestApp(settings, services => services.AddRecordingHandler(recorder), directory: _directory));

    protected override async Task<List<byte[]>> StoredPayloadsAsync()
    {
        await using var connection = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={Path.Combine(_directory.Path, "webhooks.db")}");
        await connection.OpenAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT payload FROM webhooks ORDER BY id";
        var payloads = new List<byte[]>();
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync())
        {
            payloads.Add((byte[])reader[0]);
        }

        return payloads;
    }

    public void Dispose()
    {
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        _directory.Dispose();
    }
}

/// <summary>The field inputs on the real PostgreSQL server, in a database of the test's own.</summary>
[Trait("Category", "System")]
public sealed class PostgresFieldInputTests : FieldInputTests, IAsyncLifetime
{
    private PostgresDatabase _database = null!;

    public async Task InitializeAsync() => _database = await PostgresDatabase.CreateAsync();

    public async Task DisposeAsync() => await _database.DisposeAsync();

    protected override Task<TestApp> CreateAppAsync(RunRecorder recorder, Dictionary<string, string?>? settings = null)
    {
        settings = new Dictionary<string, string?>(settings ?? [])
        {
            ["WebhookReceiver:Storage:Provider"] = "Postgres",
            ["WebhookReceiver:Storage:ConnectionString"] = _database.ConnectionString,
        };
        return Task.FromResult(new TestApp(settings, services => services.AddRecordingHandler(recorder)));
    }

    protected override async Task<List<byte[]>> StoredPayloadsAsync()
    {
        await using var connection = new Npgsql.NpgsqlConnection(_database.ConnectionString);
        await connection.OpenAsync();
        await using var command = new Npgsql.NpgsqlCommand("SELECT payload FROM webhooks ORDER BY id", connection);
        var payloads = new List<byte[]>();
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync())
        {
            payloads.Add((byte[])reader[0]);
        }

        return payloads;
    }
}
