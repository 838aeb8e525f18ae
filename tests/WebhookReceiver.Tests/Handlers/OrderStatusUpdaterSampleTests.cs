using System.Text.Json.Nodes;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using OrderUpdates;
using WebhookReceiver.Tests.Infrastructure;

namespace WebhookReceiver.Tests.Handlers;

/// <summary>The sample handler of the README, registered the way the sample app registers it.</summary>
public sealed class OrderStatusUpdaterSampleTests
{
    [Fact]
    public async Task The_sample_handler_records_the_order_state_from_the_run_metadata()
    {
        var orders = new OrderBook();
        await using var app = new TestApp(services: services =>
        {
            services.AddSingleton(orders);
            services.AddWebhookReceiver(new ConfigurationBuilder().Build())
                .AddHandler<OrderStatusUpdater>("orders", runs => runs.OnStatus("success", "error").ForGraph("agent"));
        });
        var answered = Payloads.Run(status: "success", metadata: new JsonObject { ["order_id"] = "A-1" });
        var failed = Payloads.Run(status: "error", metadata: new JsonObject { ["order_id"] = "B-2" });
        failed["error"] = "Tool call failed";
        var otherGraph = Payloads.Run(status: "success", graphId: "support", metadata: new JsonObject { ["order_id"] = "C-3" });

        foreach (var run in new[] { answered, failed, otherGraph })
        {
            await app.PostWebhookAsync(run.ToJsonString());
        }

        await Eventually.MatchAsync(() => Task.FromResult(orders.Find("B-2")), o => o is not null);
        await Eventually.MatchAsync(() => Task.FromResult(orders.Find("A-1")), o => o is not null);
        Assert.Equal(new OrderState("A-1", "answered", (string)answered["run_id"]!, null), orders.Find("A-1"));
        Assert.Equal(new OrderState("B-2", "needs_attention", (string)failed["run_id"]!, "Tool call failed"), orders.Find("B-2"));
        Assert.Null(orders.Find("C-3"));
    }
}
