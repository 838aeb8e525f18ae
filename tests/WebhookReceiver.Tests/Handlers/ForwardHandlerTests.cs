using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using StandardWebhooks;
using WebhookReceiver.Tests.Infrastructure;

namespace WebhookReceiver.Tests.Handlers;

public sealed class ForwardHandlerTests
{
    private const string Secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

    private static Dictionary<string, string?> ForwardTo(Uri url, string? statuses = null)
    {
        var settings = new Dictionary<string, string?>
        {
            ["WebhookReceiver:Handlers:Log:Enabled"] = "false",
            ["WebhookReceiver:Handlers:Forward:0:Name"] = "crm",
            ["WebhookReceiver:Handlers:Forward:0:Url"] = new Uri(url, "/hooks/langgraph").ToString(),
            ["WebhookReceiver:Handlers:Forward:0:Secret"] = Secret,
            ["WebhookReceiver:Dispatch:InitialRetryDelay"] = "00:00:00.200",
            ["WebhookReceiver:Dispatch:RetryJitter"] = "0",
        };
        if (statuses is not null)
        {
            settings["WebhookReceiver:Handlers:Forward:0:Statuses:0"] = statuses;
        }

        return settings;
    }

    [Fact]
    public async Task The_body_arrives_intact_with_the_token_redacted_and_a_signature_a_Standard_Webhooks_library_verifies()
    {
        await using var target = await LoopbackListener.StartAsync();
        await using var app = new TestApp(ForwardTo(target.Url));
        var run = Payloads.Run();
        run["values"] = new JsonObject { ["text"] = "naïve café ✓ \"quoted\"" };

        await app.PostWebhookAsync(run.ToJsonString());
        await target.WaitForRequestsAsync(1);

        var received = target.Received[0];
        Assert.Equal("/hooks/langgraph", received.Path);
        Assert.StartsWith("application/json", received.Headers["Content-Type"], StringComparison.Ordinal);
        var expected = run.ToJsonString().Replace(TestApp.Token, "[REDACTED]", StringComparison.Ordinal);
        Assert.Equal(expected, received.Body);
        Assert.DoesNotContain(TestApp.Token, received.Body, StringComparison.Ordinal);

        var headers = new HeaderDictionary();
        foreach (var name in new[] { "webhook-id", "webhook-timestamp", "webhook-signature" })
        {
            headers[name] = received.Headers[name];
        }

        new StandardWebhook(Secret).Verify(received.Body, headers); // throws when the signature does not verify
        Assert.Throws<StandardWebhooks.Diagnostics.WebhookVerificationException>(
            () => new StandardWebhook("whsec_" + Convert.ToBase64String(new byte[24])).Verify(received.Body, headers));
    }

    [Fact]
    public async Task A_target_with_Events_Interrupts_gets_each_pause_signed_with_its_resume_url_retried_like_a_run_and_no_runs()
    {
        await using var target = await LoopbackListener.StartAsync();
        target.Answer = n => n == 1 ? StatusCodes.Status500InternalServerError : StatusCodes.Status204NoContent;
        var settings = ForwardTo(target.Url);
        settings["WebhookReceiver:Handlers:Forward:0:Events"] = "interrupts";
        settings["WebhookReceiver:LangGraph:PublicUrl"] = "https://hooks.example.com/webhooks/langgraph";
        await using var app = new TestApp(settings);
        await app.PostWebhookAsync(Payloads.Run().ToJsonString()); // A run: not for this target.

        var interrupts = app.Services.GetRequiredService<WebhookReceiver.Interrupts.IInboxInterrupts>();
        var (id, _) = await interrupts.RecordInterruptAsync(new WebhookReceiver.Interrupts.NewInterrupt("prod", "thread-1", "interrupts:i-1", "run-1", "assistant-a", "ask",
            null, """[{"id":"i-1","value":{"question":"ship it?"}}]""", """["ask"]""", "c-1", DateTimeOffset.UtcNow, ["crm"]), CancellationToken.None);
        await target.WaitForRequestsAsync(2);

        Assert.Equal(2, target.Received.Count);
        Assert.Equal(target.Received[0].Headers["webhook-id"], target.Received[1].Headers["webhook-id"]);
        var received = target.Received[1];
        var body = JsonNode.Parse(received.Body)!;
        Assert.Equal("interrupt", (string?)body["event"]);
        Assert.Equal((id, $"https://hooks.example.com/api/interrupts/{id}/resume", "ship it?"),
            ((long)body["interrupt"]!["id"]!, (string?)body["interrupt"]!["resume_url"], (string?)body["interrupt"]!["pending"]![0]!["value"]!["question"]));
        var headers = new HeaderDictionary();
        foreach (var name in new[] { "webhook-id", "webhook-timestamp", "webhook-signature" })
        {
            headers[name] = received.Headers[name];
        }

        new StandardWebhook(Secret).Verify(received.Body, headers);
        var delivery = await Eventually.MatchAsync(
            async () => (await app.GetAdminAsync<JsonObject>($"/api/interrupts/{id}"))["deliveries"]![0]!,
            d => (string?)d["state"] == "succeeded");
        Assert.Equal(("crm", 2), ((string?)delivery["handler"], (int)delivery["attempts"]!));
    }

    [Fact]
    public async Task A_500_from_the_target_is_a_failed_attempt_that_is_retried_with_the_same_webhook_id()
    {
        await using var target = await LoopbackListener.StartAsync();
        target.Answer = n => n == 1 ? StatusCodes.Status500InternalServerError : StatusCodes.Status204NoContent;
        await using var app = new TestApp(ForwardTo(target.Url));
        var run = Payloads.Run();

        await app.PostWebhookAsync(run.ToJsonString());
        await target.WaitForRequestsAsync(2);

        Assert.Equal(target.Received[0].Headers["webhook-id"], target.Received[1].Headers["webhook-id"]);
        var delivery = await Eventually.MatchAsync(
            async () => (await app.GetAdminAsync<JsonObject>($"/api/runs/{run["run_id"]}"))["deliveries"]![0]!,
            d => (string?)d["state"] == "succeeded");
        Assert.Equal(2, (int)delivery["attempts"]!);
        Assert.Equal("HttpRequestException: Forward target 'crm' answered 500.", (string?)delivery["history"]![0]!["error"]);
    }

    [Fact]
    public async Task While_rotating_every_attempt_and_replay_is_signed_afresh_with_each_secret_and_verifies_with_either_alone()
    {
        const string Old = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
        const string New = "a-new-secret-that-is-plain-text-0123";
        await using var target = await LoopbackListener.StartAsync();
        target.Answer = n => n == 1 ? StatusCodes.Status500InternalServerError : StatusCodes.Status204NoContent;
        var settings = ForwardTo(target.Url);
        settings.Remove("WebhookReceiver:Handlers:Forward:0:Secret");
        settings["WebhookReceiver:Handlers:Forward:0:Secrets:0"] = Old;
        settings["WebhookReceiver:Handlers:Forward:0:Secrets:1"] = New;
        await using var app = new TestApp(settings);
        var run = Payloads.Run();

        await app.PostWebhookAsync(run.ToJsonString());
        await target.WaitForRequestsAsync(2); // the first attempt fails, the retry succeeds
        var id = (long)(await app.GetAdminAsync<JsonObject>($"/api/runs/{run["run_id"]}"))["id"]!;
        await Eventually.MatchAsync(
            async () => (await app.GetAdminAsync<JsonObject>($"/api/runs/{run["run_id"]}"))["deliveries"]![0]!,
            d => (string?)d["state"] == "succeeded");
        Assert.True((await app.CreateAdminClient().PostAsync($"/api/webhooks/{id}/replay", null)).IsSuccessStatusCode);
        await target.WaitForRequestsAsync(3);

        foreach (var received in target.Received.Take(3))
        {
            var headers = new HeaderDictionary();
            foreach (var name in new[] { "webhook-id", "webhook-timestamp", "webhook-signature" })
            {
                headers[name] = received.Headers[name];
            }

            var entries = received.Headers["webhook-signature"].Split(' ');
            Assert.Equal(2, entries.Length);
            Assert.All(entries, e => Assert.StartsWith("v1,", e, StringComparison.Ordinal));

            // Each secret alone verifies one entry: the target may hold either. Entry by entry, because StandardWebhooks
            // 1.1.2 never checks the last of several space-separated entries (its loop ends before it).
            bool Verifies(StandardWebhook secret, string entry)
            {
                headers["webhook-signature"] = entry;
                try
                {
                    secret.Verify(received.Body, headers);
                    return true;
                }
                catch (StandardWebhooks.Diagnostics.WebhookVerificationException)
                {
                    return false;
                }
            }

            Assert.Single(entries, e => Verifies(new StandardWebhook(Old), e));
            Assert.Single(entries, e => Verifies(new StandardWebhook(System.Text.Encoding.UTF8.GetBytes(New)), e)); // plain text: its UTF-8 bytes
            Assert.DoesNotContain(entries, e => Verifies(new StandardWebhook("whsec_" + Convert.ToBase64String(new byte[24])), e));

            // Signed for this attempt's own timestamp: a signature computed once and resent would not match a later one.
            var timestamp = DateTimeOffset.FromUnixTimeSeconds(long.Parse(received.Headers["webhook-timestamp"], System.Globalization.CultureInfo.InvariantCulture));
            Assert.Contains(new StandardWebhook(Old).Sign(received.Headers["webhook-id"], timestamp, received.Body), received.Headers["webhook-signature"], StringComparison.Ordinal);
        }

        Assert.DoesNotContain(Old, await app.CreateAdminClient().GetStringAsync("/api/handlers"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_target_with_statuses_gets_only_those_runs()
    {
        await using var target = await LoopbackListener.StartAsync();
        await using var app = new TestApp(ForwardTo(target.Url, statuses: "error"));
        var failed = Payloads.Run(status: "error");

        await app.PostWebhookAsync(Payloads.Run(status: "success").ToJsonString());
        await app.PostWebhookAsync(failed.ToJsonString());
        await target.WaitForRequestsAsync(1);
        await Task.Delay(300);

        var only = Assert.Single(target.Received);
        Assert.Equal((string?)failed["run_id"], (string?)JsonNode.Parse(only.Body)!["run_id"]);
    }
}
