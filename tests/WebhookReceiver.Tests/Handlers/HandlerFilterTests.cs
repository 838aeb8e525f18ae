using System.Text.Json.Nodes;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using WebhookReceiver.Tests.Infrastructure;
using WebhookReceiver.Webhooks;

namespace WebhookReceiver.Tests.Handlers;

public sealed class HandlerFilterTests
{
    [Fact]
    public async Task Each_filter_kind_routes_webhooks_to_the_handlers_that_want_them()
    {
        var names = new[] { "everything", "successes", "assistant", "graph", "metadata", "combined" };
        var scripts = names.ToDictionary(n => n, _ => new HandlerScript());
        await using var app = new TestApp(new() { ["WebhookReceiver:Handlers:Log:Enabled"] = "false" }, services =>
            services.AddWebhookReceiver(new ConfigurationBuilder().Build())
                .AddHandler("everything", _ => scripts["everything"].CreateHandler())
                .AddHandler("successes", _ => scripts["successes"].CreateHandler(), h => h.OnStatus("success"))
                .AddHandler("assistant", _ => scripts["assistant"].CreateHandler(), h => h.ForAssistant("assistant-b"))
                .AddHandler("graph", _ => scripts["graph"].CreateHandler(), h => h.ForGraph("billing"))
                .AddHandler("metadata", _ => scripts["metadata"].CreateHandler(), h => h.WithMetadata("tenant", "acme"))
                .AddHandler("combined", _ => scripts["combined"].CreateHandler(), h => h.OnStatus("error", "timeout").ForGraph("billing")));

        var runs = new Dictionary<string, JsonObject>
        {
            ["plain-success"] = Payloads.Run(status: "success"),
            ["billing-error"] = Payloads.Run(status: "error", graphId: "billing"),
            ["acme-timeout"] = Payloads.Run(status: "timeout", assistantId: "assistant-b", metadata: new JsonObject { ["tenant"] = "acme" }),
        };
        foreach (var run in runs.Values)
        {
            await app.PostWebhookAsync(run.ToJsonString());
        }

        async Task<string[]> HandlersOf(string key) =>
            (await app.GetAdminAsync<JsonObject>($"/api/runs/{runs[key]["run_id"]}"))["deliveries"]!.AsArray()
                .Select(d => (string)d!["handler"]!).Order().ToArray();

        Assert.Equal(["everything", "successes"], await HandlersOf("plain-success"));
        Assert.Equal(["combined", "everything", "graph"], await HandlersOf("billing-error"));
        Assert.Equal(["assistant", "everything", "metadata"], await HandlersOf("acme-timeout"));
    }

    [Fact]
    public async Task A_webhook_no_handler_wants_is_stored_with_no_delivery()
    {
        var script = new HandlerScript();
        await using var app = new TestApp(new() { ["WebhookReceiver:Handlers:Log:Enabled"] = "false" }, services =>
            services.AddWebhookReceiver(new ConfigurationBuilder().Build())
                .AddHandler("errors-only", _ => script.CreateHandler(), h => h.OnStatus("error")));
        var run = Payloads.Run(status: "success");

        await app.PostWebhookAsync(run.ToJsonString());
        await Task.Delay(300);

        var stored = await app.GetAdminAsync<JsonObject>($"/api/runs/{run["run_id"]}");
        Assert.Empty(stored["deliveries"]!.AsArray());
        Assert.Empty(script.Calls);
    }

    [Fact]
    public async Task Two_handlers_with_one_name_stop_the_start_up_with_a_clear_message()
    {
        using var directory = new TempDirectory();
        var builder = Microsoft.Extensions.Hosting.Host.CreateApplicationBuilder(new Microsoft.Extensions.Hosting.HostApplicationBuilderSettings { EnvironmentName = "Development" });
        builder.Configuration["WebhookReceiver:Storage:ConnectionString"] = $"Data Source={Path.Combine(directory.Path, "webhooks.db")}";
        builder.Services.AddWebhookReceiver(builder.Configuration)
            .AddHandler("orders", _ => new HandlerScript().CreateHandler())
            .AddHandler("orders", _ => new HandlerScript().CreateHandler());
        using var host = builder.Build();

        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => host.StartAsync());

        Assert.Contains("Two webhook handlers are registered under the name 'orders'", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Calling_the_registration_twice_is_harmless()
    {
        var script = new HandlerScript();
        await using var app = new TestApp(services: services =>
        {
            services.AddWebhookReceiver(new ConfigurationBuilder().Build()).AddHandler("once", _ => script.CreateHandler());
            services.AddWebhookReceiver(new ConfigurationBuilder().Build());
        });

        await app.PostWebhookAsync(Payloads.Run().ToJsonString());
        await script.WaitForCallsAsync(1);
        var handlers = await app.GetAdminAsync<JsonArray>("/api/handlers");

        Assert.Equal(["log", "once"], handlers.Select(h => (string)h!["name"]!));
        Assert.Equal(1, WebhookHostedServices(app));
    }

    [Fact]
    public void A_filter_with_no_condition_matches_every_run()
    {
        var run = LangGraphRun.Parse("{\"run_id\": \"r\"}")!;

        Assert.True(new HandlerFilter().Matches(run));
        Assert.False(new HandlerFilter().OnStatus("success").Matches(run));
        Assert.False(new HandlerFilter().WithMetadata("k", "v").Matches(run));
    }

    [Fact]
    public async Task The_handlers_endpoint_shows_filters_and_counts_by_state()
    {
        var script = new HandlerScript();
        await using var app = new TestApp(new() { ["WebhookReceiver:Handlers:Log:Enabled"] = "false" }, services =>
            services.AddWebhookReceiver(new ConfigurationBuilder().Build())
                .AddHandler("orders", _ => script.CreateHandler(), h => h.OnStatus("success").ForGraph("agent").WithMetadata("tenant", "acme")));
        await app.PostWebhookAsync(Payloads.Run(metadata: new JsonObject { ["tenant"] = "acme" }).ToJsonString());
        await script.WaitForCallsAsync(1);

        var handler = await Eventually.MatchAsync(
            async () => (await app.GetAdminAsync<JsonArray>("/api/handlers"))[0]!,
            h => (long)h["deliveries"]!["succeeded"]! == 1);

        Assert.Equal("orders", (string?)handler["name"]);
        Assert.Equal(["success"], handler["filter"]!["statuses"]!.AsArray().Select(s => (string)s!));
        Assert.Equal(["agent"], handler["filter"]!["graph_ids"]!.AsArray().Select(s => (string)s!));
        Assert.Equal("acme", (string?)handler["filter"]!["metadata"]!["tenant"]);
        Assert.Equal(0, (long)handler["deliveries"]!["dead"]!);
    }

    private static int WebhookHostedServices(TestApp app) =>
        app.Services.GetServices<Microsoft.Extensions.Hosting.IHostedService>().Count(s => s is WebhookReceiver.Webhooks.Dispatcher);
}
