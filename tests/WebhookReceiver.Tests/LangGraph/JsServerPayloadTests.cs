using System.Net;
using System.Text.Json.Nodes;
using WebhookReceiver.Tests.Infrastructure;

namespace WebhookReceiver.Tests.LangGraph;

/// <summary>Shapes of the JS dev server found by the end-to-end tests, pinned here without a server.</summary>
public sealed class JsServerPayloadTests
{
    [Fact]
    public async Task A_stateless_run_without_graph_id_in_its_metadata_is_attributed_to_the_graph_in_its_config()
    {
        // What the JS server sends for a run without a thread: the temporary thread's metadata never reaches the run.
        var body = Payloads.Run(metadata: new JsonObject { ["created_by"] = "system" });
        body["metadata"]!.AsObject().Remove("graph_id");
        body["kwargs"]!["config"] = new JsonObject { ["configurable"] = new JsonObject { ["graph_id"] = "echo" } };
        body.Remove("values");
        var runId = (string)body["run_id"]!;
        var recorder = new RunRecorder();
        await using var app = new TestApp(services: services => services.AddRecordingHandler(recorder, filter => filter.ForGraph("echo")));

        using var response = await app.PostWebhookAsync(body.ToJsonString(), contentType: "text/plain;charset=UTF-8");

        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        var stored = await app.GetAdminAsync<JsonObject>($"/api/runs/{runId}");
        Assert.Equal("echo", (string?)stored["graph_id"]);
        var received = await recorder.WaitForAsync(runId, TimeSpan.FromSeconds(15));
        Assert.Equal("echo", received.Run.GraphId);
    }
}
