using System.Text.Json.Nodes;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using WebhookReceiver.Interrupts;
using WebhookReceiver.Tests.Infrastructure;

namespace WebhookReceiver.Tests.Operations;

public sealed class RetentionTests
{
    [Fact]
    public async Task Old_webhooks_are_purged_in_the_background_in_batches_while_dead_letters_are_kept_longer()
    {
        var clock = new FakeTimeProvider(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero));
        var broken = new HandlerScript(clock).AlwaysFail();
        await using var app = new TestApp(
            new()
            {
                ["WebhookReceiver:Retention:MaxAge"] = "7.00:00:00",
                ["WebhookReceiver:Retention:DeadLetterMaxAge"] = "30.00:00:00",
                ["WebhookReceiver:Retention:Interval"] = "01:00:00",
                ["WebhookReceiver:Retention:BatchSize"] = "2",
                ["WebhookReceiver:Dispatch:MaxAttempts"] = "1",
            },
            services =>
            {
                services.AddSingleton<TimeProvider>(clock);
                services.AddWebhookReceiver(new ConfigurationBuilder().Build())
                    .AddHandler("broken", _ => broken.CreateHandler(), h => h.OnStatus("error"));
            });
        var done = Enumerable.Range(0, 5).Select(_ => Payloads.Run(status: "success")).ToList();
        var dead = Payloads.Run(status: "error");
        foreach (var run in done.Append(dead))
        {
            await app.PostWebhookAsync(run.ToJsonString());
        }

        await broken.WaitForCallsAsync(1);
        await Eventually.MatchAsync(() => RunIds(app, "/api/webhooks?delivery_state=pending"), ids => ids.Count == 0);
        clock.Advance(TimeSpan.FromDays(8));
        var afterWeek = await Eventually.MatchAsync(() => RunIds(app, "/api/webhooks"), ids => ids.Count == 1);
        Assert.Equal([Id(dead)], afterWeek); // five done webhooks purged, two per batch; the dead letter kept

        clock.Advance(TimeSpan.FromDays(23));
        await Eventually.MatchAsync(() => RunIds(app, "/api/webhooks"), ids => ids.Count == 0);
    }

    [Fact]
    public async Task Old_interrupts_that_are_over_are_purged_in_the_background_and_one_still_waiting_for_a_person_is_kept()
    {
        var clock = new FakeTimeProvider(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero));
        await using var app = new TestApp(
            new()
            {
                ["WebhookReceiver:Retention:MaxAge"] = "7.00:00:00",
                ["WebhookReceiver:Retention:Interval"] = "01:00:00",
            },
            services => services.AddSingleton<TimeProvider>(clock));
        using var started = app.CreateClient(); // Starts the host: the schema is migrated.
        var interrupts = app.Services.GetRequiredService<IInboxInterrupts>();
        async Task<long> PauseAsync(string threadId) => (await interrupts.RecordInterruptAsync(new NewInterrupt("prod", threadId, "interrupts:i-1", "run-1",
            "assistant-a", "ask", null, """[{"id":"i-1","value":"ok?"}]""", """["ask"]""", "c-1", clock.GetUtcNow(), []), CancellationToken.None)).Id;
        await interrupts.MarkInterruptResumedAsync(await PauseAsync("resumed"), "run-2", clock.GetUtcNow(), null, CancellationToken.None);
        await interrupts.MarkInterruptExpiredAsync(await PauseAsync("expired"), "resumed elsewhere", clock.GetUtcNow(), CancellationToken.None);
        await PauseAsync("waiting");

        clock.Advance(TimeSpan.FromDays(8));

        var left = await Eventually.MatchAsync(async () => (await app.GetAdminAsync<JsonObject>("/api/interrupts"))["items"]!.AsArray()
            .Select(i => (string)i!["thread_id"]!).ToList(), ids => ids.Count < 3);
        Assert.Equal(["waiting"], left);
    }

    private static string Id(JsonObject run) => (string)run["run_id"]!;

    private static async Task<List<string>> RunIds(TestApp app, string url) =>
        (await app.GetAdminAsync<JsonObject>(url))["items"]!.AsArray().Select(i => (string)i!["run_id"]!).ToList();
}
