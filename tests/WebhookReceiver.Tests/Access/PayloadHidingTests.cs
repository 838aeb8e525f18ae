using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using WebhookReceiver.Interrupts;
using WebhookReceiver.Tests.Infrastructure;

namespace WebhookReceiver.Tests.Access;

/// <summary>
/// <c>Access:HidePayloadsFromViewers</c>: a viewer gets metadata, states and errors only (no webhook payload, no interrupt value
/// or schema) from every read of the API; a reviewer and an operator see everything; with the setting off a viewer does too.
/// </summary>
public sealed class PayloadHidingTests
{
    [Theory]
    [InlineData(true, OperatorKeys.Viewer, true)]
    [InlineData(true, OperatorKeys.Reviewer, false)]
    [InlineData(true, OperatorKeys.Operator, false)]
    [InlineData(false, OperatorKeys.Viewer, false)]
    public async Task A_viewer_gets_no_payload_or_interrupt_value_when_the_setting_hides_them(bool hide, string key, bool hidden)
    {
        await using var app = new TestApp(OperatorKeys.Settings(new() { ["WebhookReceiver:Access:HidePayloadsFromViewers"] = hide ? "true" : "false" }));
        var run = Payloads.Run();
        var id = (long)(await Json.ReadAsync(await app.PostWebhookAsync(run.ToJsonString())))["id"]!;
        var interruptId = (await app.Services.GetRequiredService<IInboxInterrupts>().RecordInterruptAsync(new NewInterrupt("prod", "thread-1", "interrupts:i-1",
            "run-1", "assistant-a", "ask", null, """[{"id":"i-1","value":{"customer":"Ada Lovelace"},"response_schema":{"type":"boolean"}}]""", """["ask"]""", "c-1",
            DateTimeOffset.UtcNow, []), CancellationToken.None)).Id;
        var client = OperatorKeys.Client(app, key);

        var webhook = (await client.GetFromJsonAsync<JsonObject>($"/api/webhooks/{id}"))!;
        var byRun = (await client.GetFromJsonAsync<JsonObject>($"/api/runs/{(string?)run["run_id"]}"))!;
        var interrupt = (await client.GetFromJsonAsync<JsonObject>($"/api/interrupts/{interruptId}"))!;
        var listed = (await client.GetFromJsonAsync<JsonObject>("/api/interrupts"))!["items"]![0]!.AsObject();

        Assert.Equal(!hidden, webhook.ContainsKey("payload"));
        Assert.Equal(!hidden, byRun.ContainsKey("payload"));
        Assert.Equal(((string?)run["run_id"], "success"), ((string?)webhook["run_id"], (string?)webhook["status"])); // metadata stays
        Assert.NotEmpty(webhook["deliveries"]!.AsArray());
        foreach (var view in new[] { interrupt, listed })
        {
            var pending = view["pending"]![0]!.AsObject();
            Assert.Equal("i-1", (string?)pending["id"]);
            Assert.Equal(!hidden, pending.ContainsKey("value"));
            Assert.Equal(!hidden, pending.ContainsKey("response_schema"));
            Assert.Equal(!hidden, pending.ContainsKey("question")); // What the value asks tells what it holds.
            Assert.Equal(!hidden, view.ToJsonString().Contains("Ada Lovelace", StringComparison.Ordinal));
            Assert.Equal("waiting", (string?)view["state"]);
        }
    }
}
