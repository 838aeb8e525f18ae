using System.Diagnostics;
using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using WebhookReceiver.Tests.Infrastructure;

namespace WebhookReceiver.Tests.LangGraph;

/// <summary>
/// The shapes the production (Python) LangGraph server sends, which the JS dev server of the end-to-end tests cannot
/// produce: each body goes in as application/json, is stored, and reaches a recording handler.
/// </summary>
public sealed class ProductionPayloadContractTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(15);

    [Fact]
    public async Task A_Python_error_object_is_kept_as_sent_and_read_as_type_and_message()
    {
        var body = Payloads.PythonRun(status: "error");
        body["error"] = new JsonObject { ["error"] = "ValueError", ["message"] = "the input had no messages" };

        var (stored, received) = await DeliverAsync(body);

        Assert.Equal("error", (string?)stored["status"]);
        Assert.True(JsonNode.DeepEquals(body["error"], stored["payload"]!["error"]));
        Assert.Equal(JsonValueKind.Object, received.Run.Error?.ValueKind);
        Assert.Equal("ValueError: the input had no messages", received.Run.ErrorMessage);
    }

    [Theory]
    [InlineData("rollback")]
    [InlineData("timeout")]
    public async Task The_rollback_and_timeout_statuses_are_stored_listed_and_dispatched_as_sent(string status)
    {
        var body = Payloads.PythonRun(status: status);
        body["values"] = null;
        var runId = (string)body["run_id"]!;

        await using var app = NewApp(out var recorder);
        var (stored, received) = await DeliverAsync(app, recorder, body);

        Assert.Equal(status, (string?)stored["status"]);
        Assert.Equal(status, received.Run.Status);
        var listed = await app.GetAdminAsync<JsonObject>($"/api/webhooks?status={status}");
        Assert.Equal(runId, (string?)Assert.Single(listed["items"]!.AsArray())!["run_id"]);
    }

    [Fact]
    public async Task Microsecond_timestamps_with_a_plus_zero_offset_are_read_to_the_microsecond_and_stored_as_sent()
    {
        var body = Payloads.PythonRun();

        var (stored, received) = await DeliverAsync(body);

        var start = new DateTimeOffset(2025, 6, 1, 10, 0, 0, TimeSpan.Zero);
        Assert.Equal(start.AddTicks(1_234_560), received.Run.CreatedAt);
        Assert.Equal(start.AddTicks(2_000_010), received.Run.RunStartedAt);
        Assert.Equal(start.AddTicks(17_000_020), received.Run.RunEndedAt);
        Assert.Equal(start.AddTicks(19_500_040), received.Run.WebhookSentAt);
        Assert.Equal(TimeSpan.FromTicks(15_000_010), received.Run.Duration);
        Assert.Equal("2025-06-01T10:00:00.123456+00:00", (string?)stored["payload"]!["created_at"]);
    }

    [Fact]
    public async Task Values_null_is_stored_as_null_and_handed_over_as_no_values()
    {
        var body = Payloads.PythonRun();
        body["values"] = null;

        var (stored, received) = await DeliverAsync(body);

        var payload = stored["payload"]!.AsObject();
        Assert.True(payload.ContainsKey("values"));
        Assert.Null(payload["values"]);
        Assert.Null(received.Run.Values);
    }

    [Fact]
    public async Task A_body_trimmed_by_allowed_fields_to_run_id_and_status_is_stored_and_dispatched()
    {
        var runId = Payloads.NewRunId();
        var body = new JsonObject { ["run_id"] = runId, ["status"] = "success" };

        var (stored, received) = await DeliverAsync(body);

        Assert.Equal(runId, (string?)stored["run_id"]);
        Assert.Equal("success", (string?)stored["status"]);
        Assert.Null(stored["thread_id"]);
        Assert.Null(stored["assistant_id"]);
        Assert.True(JsonNode.DeepEquals(body, stored["payload"]));
        Assert.Equal(runId, received.Run.RunId);
        Assert.Equal("success", received.Run.Status);
        Assert.Null(received.Run.ThreadId);
        Assert.Null(received.Run.CreatedAt);
    }

    [Fact]
    public async Task Messages_in_the_Python_dict_form_and_the_JS_constructor_form_survive_unchanged()
    {
        var body = Payloads.PythonRun();
        body["values"] = new JsonObject
        {
            ["messages"] = new JsonArray(
                Payloads.PythonMessage("human", "hi", "3f0c2a38-8a55-4e0b-9f1e-6f0d7b0b1a01"),
                Payloads.JsMessage("AIMessage", "hello", "4e67b838-f671-4b8f-9573-6c93c8a732db")),
        };

        var (stored, received) = await DeliverAsync(body);

        Assert.True(JsonNode.DeepEquals(body["values"], stored["payload"]!["values"]));
        Assert.True(JsonNode.DeepEquals(body["values"], JsonNode.Parse(received.Run.RawJson)!["values"]));
        var messages = received.Run.Values!.Value.GetProperty("messages");
        Assert.Equal("human", messages[0].GetProperty("type").GetString());
        Assert.Equal("constructor", messages[1].GetProperty("type").GetString());
    }

    [Fact]
    public async Task The_langsmith_session_name_is_read_as_a_field_of_its_own_and_kept()
    {
        var body = Payloads.PythonRun();

        var (stored, received) = await DeliverAsync(body);

        Assert.Equal("webhook-receiver-tests", received.Run.LangsmithSessionName);
        Assert.DoesNotContain("langsmith_session_name", received.Run.AdditionalFields.Keys);
        Assert.Equal("webhook-receiver-tests", (string?)stored["payload"]!["langsmith_session_name"]);
    }

    [Fact]
    public async Task An_identical_body_sent_three_times_as_the_Python_sender_retries_is_stored_once_and_dispatched_once()
    {
        var body = Payloads.PythonRun().ToJsonString();
        var runId = (string)JsonNode.Parse(body)!["run_id"]!;
        await using var app = NewApp(out var recorder);

        var answers = new List<(HttpStatusCode Status, JsonNode Body)>();
        for (var attempt = 0; attempt < 3; attempt++)
        {
            using var response = await app.PostWebhookAsync(body);
            answers.Add((response.StatusCode, await Json.ReadAsync(response)));
        }

        Assert.Equal([HttpStatusCode.Accepted, HttpStatusCode.OK, HttpStatusCode.OK], answers.Select(a => a.Status));
        Assert.Equal([false, true, true], answers.Select(a => (bool)a.Body["duplicate"]!));
        Assert.Single(answers.Select(a => (long)a.Body["id"]!).Distinct());
        var listed = await app.GetAdminAsync<JsonObject>("/api/webhooks");
        Assert.Single(listed["items"]!.AsArray());

        await recorder.WaitForAsync(runId, Patience);
        var delivery = await WaitForRecorderDeliveryAsync(app, runId);
        Assert.Equal(1, (int)delivery["attempts"]!);
        await Task.Delay(TimeSpan.FromMilliseconds(500)); // Five dispatcher polls: time enough for a second dispatch to show.
        Assert.Single(recorder.For(runId));
    }

    private static TestApp NewApp(out RunRecorder recorder)
    {
        var created = new RunRecorder();
        recorder = created;
        return new TestApp(services: services => services.AddRecordingHandler(created));
    }

    private static async Task<(JsonObject Stored, ReceivedRun Received)> DeliverAsync(JsonObject body)
    {
        await using var app = NewApp(out var recorder);
        return await DeliverAsync(app, recorder, body);
    }

    /// <summary>Posts <paramref name="body"/> as the Python server does, and returns it as stored and as the handler got it.</summary>
    private static async Task<(JsonObject Stored, ReceivedRun Received)> DeliverAsync(TestApp app, RunRecorder recorder, JsonObject body)
    {
        var runId = (string)body["run_id"]!;
        using var response = await app.PostWebhookAsync(body.ToJsonString(), contentType: "application/json");
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        var received = await recorder.WaitForAsync(runId, Patience);
        var stored = await app.GetAdminAsync<JsonObject>($"/api/runs/{runId}");
        Assert.DoesNotContain(TestApp.Token, stored.ToJsonString(), StringComparison.Ordinal);
        Assert.DoesNotContain(TestApp.Token, received.Run.RawJson, StringComparison.Ordinal);
        return (stored, received);
    }

    private static async Task<JsonNode> WaitForRecorderDeliveryAsync(TestApp app, string runId)
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            var stored = await app.GetAdminAsync<JsonObject>($"/api/runs/{runId}");
            var delivery = Assert.Single(stored["deliveries"]!.AsArray(), d => (string?)d!["handler"] == RunRecorder.HandlerName)!;
            if ((string?)delivery["state"] == "succeeded")
            {
                return delivery;
            }

            Assert.True(clock.Elapsed < Patience, $"The recorder's delivery is still {delivery["state"]} after {Patience.TotalSeconds:0} s.");
            await Task.Delay(50);
        }
    }
}
