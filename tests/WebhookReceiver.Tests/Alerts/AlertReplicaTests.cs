using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using StandardWebhooks;
using WebhookReceiver.Tests.Infrastructure;

namespace WebhookReceiver.Tests.Alerts;

/// <summary>
/// Alerts on PostgreSQL: two replicas evaluating the same dead handler open one alert and post it once; a PostgreSQL server that
/// stops opens the in-memory <c>store_unavailable</c> alert (posted, counted by the gauge) that is stored, resolved, once the server
/// is back.
/// </summary>
[Trait("Category", "System")]
public sealed class AlertReplicaTests
{
    private static readonly string WebhookSecret = "whsec_" + Convert.ToBase64String("replica-alert-webhook-secret-01"u8.ToArray());

    private static Dictionary<string, string?> Settings(string connectionString, Uri webhook) => new()
    {
        ["WebhookReceiver:Storage:Provider"] = "Postgres",
        ["WebhookReceiver:Storage:ConnectionString"] = connectionString,
        ["WebhookReceiver:Handlers:Log:Enabled"] = "false",
        ["WebhookReceiver:Dispatch:MaxAttempts"] = "1",
        ["WebhookReceiver:Alerts:Interval"] = "00:00:00.050",
        ["WebhookReceiver:Alerts:Webhook:Url"] = new Uri(webhook, "/ops").ToString(),
        ["WebhookReceiver:Alerts:Webhook:Secret"] = WebhookSecret,
        ["WebhookReceiver:Alerts:Webhook:Attempts"] = "1",
    };

    [Fact]
    public async Task Two_replicas_evaluating_one_dead_handler_open_one_alert_and_post_it_once()
    {
        await using var database = await PostgresDatabase.CreateAsync();
        await using var ops = await LoopbackListener.StartAsync();
        var script = new HandlerScript().AlwaysFail();
        void Services(IServiceCollection services) =>
            services.AddWebhookReceiver(new ConfigurationBuilder().Build()).AddHandler("billing", _ => script.CreateHandler());
        await using var first = new TestApp(Settings(database.ConnectionString, ops.Url), Services);
        await using var second = new TestApp(Settings(database.ConnectionString, ops.Url), Services);
        _ = second.CreateClient(); // Both replicas run their evaluator from here on.

        for (var i = 0; i < 3; i++)
        {
            await first.PostWebhookAsync(Payloads.Run().ToJsonString());
        }

        // Both replicas have counted the alert in a round after all three went dead: both raised (refreshed) it.
        foreach (var replica in new[] { first, second })
        {
            await Eventually.MatchAsync(async () => new PrometheusText(await replica.CreateClient().GetStringAsync("/metrics")),
                m => m.Value("webhookreceiver_alerts_open", ("kind", "dead_handler")) >= 1, timeoutSeconds: 60, what: "alerts_open{kind=dead_handler} on a replica");
        }

        var alert = await Eventually.MatchAsync(() => second.GetAdminAsync<JsonObject>("/api/alerts?kind=dead_handler"),
            list => list["items"]!.AsArray().Count == 1 && (long?)list["items"]![0]!["occurrences"] == 3, timeoutSeconds: 60, what: "One dead_handler alert counting 3");
        await ops.WaitForRequestsAsync(1);
        Assert.Equal(1, await database.ScalarAsync<long>("SELECT COUNT(*) FROM alerts"));
        var opened = Assert.Single(ops.Received);
        Assert.Equal(("alert.opened", (long)alert["items"]![0]!["id"]!), ((string?)Verified(opened)["event"], (long)Verified(opened)["alert"]!["id"]!));
    }

    [Fact]
    public async Task A_stopped_PostgreSQL_server_opens_a_store_alert_kept_in_memory_that_is_stored_resolved_once_the_server_is_back()
    {
        await using var cluster = await PostgresCluster.StartAsync();
        await using var ops = await LoopbackListener.StartAsync();
        await using var app = new TestApp(Settings(cluster.ConnectionString, ops.Url));
        Assert.Empty((await app.GetAdminAsync<JsonObject>("/api/alerts"))["items"]!.AsArray());

        await cluster.StopServerAsync();
        await ops.WaitForRequestsAsync(1, timeoutSeconds: 60);
        var opened = Verified(ops.Received[0]);
        Assert.Equal(("alert.opened", "store_unavailable", 0L, "open"),
            ((string?)opened["event"], (string?)opened["alert"]!["kind"], (long)opened["alert"]!["id"]!, (string?)opened["alert"]!["state"]));
        await Eventually.MatchAsync(async () => new PrometheusText(await app.CreateClient().GetStringAsync("/metrics")),
            m => m.Value("webhookreceiver_alerts_open", ("kind", "store_unavailable")) == 1, what: "alerts_open{kind=store_unavailable} 1");

        await cluster.StartServerAsync();
        await ops.WaitForRequestsAsync(2, timeoutSeconds: 60);
        var resolved = Verified(ops.Received[1]);
        Assert.Equal(("alert.resolved", "store_unavailable", "resolved"),
            ((string?)resolved["event"], (string?)resolved["alert"]!["kind"], (string?)resolved["alert"]!["state"]));
        var stored = Assert.Single((await app.GetAdminAsync<JsonObject>("/api/alerts?kind=store_unavailable"))["items"]!.AsArray())!;
        Assert.Equal(((long)resolved["alert"]!["id"]!, "resolved"), ((long)stored["id"]!, (string?)stored["state"]));
        Assert.Equal((DateTimeOffset)opened["alert"]!["opened_at"]!, (DateTimeOffset)stored["opened_at"]!);
        Assert.True((DateTimeOffset)stored["resolved_at"]! > (DateTimeOffset)stored["opened_at"]!);
        Assert.All(ops.Received, r => Assert.DoesNotContain(WebhookSecret, r.Body, StringComparison.Ordinal));
    }

    private static JsonObject Verified(ReceivedRequest request)
    {
        var headers = new HeaderDictionary();
        foreach (var name in new[] { "webhook-id", "webhook-timestamp", "webhook-signature" })
        {
            headers[name] = request.Headers[name];
        }

        new StandardWebhook(WebhookSecret).Verify(request.Body, headers);
        return JsonNode.Parse(request.Body)!.AsObject();
    }
}
