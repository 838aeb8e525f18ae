using System.Text.Json.Nodes;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using WebhookReceiver.Tests.Infrastructure;
using WebhookReceiver.Webhooks;

namespace WebhookReceiver.Tests.LangGraphApi;

/// <summary>Stateless and cron-fired runs are told apart in the model, and handlers can ask for a cron's runs.</summary>
public sealed class RunKindsTests
{
    [Theory]
    [InlineData("""{"run_id": "r", "kwargs": {"temporary": true}}""", true)]
    [InlineData("""{"run_id": "r", "kwargs": {"temporary": false}}""", false)]
    [InlineData("""{"run_id": "r", "kwargs": {"temporary": "true"}}""", false)]
    [InlineData("""{"run_id": "r", "kwargs": {}}""", false)]
    [InlineData("""{"run_id": "r"}""", false)]
    public void A_run_is_temporary_only_when_kwargs_temporary_is_true(string body, bool temporary) =>
        Assert.Equal(temporary, LangGraphRun.Parse(body)!.IsTemporary);

    [Theory]
    [InlineData("""{"run_id": "r", "kwargs": {"config": {"configurable": {"cron_id": "c-config"}}}, "metadata": {"cron_id": "c-meta"}}""", "c-config")]
    [InlineData("""{"run_id": "r", "kwargs": {"config": {"configurable": {}}}, "metadata": {"cron_id": "c-meta"}}""", "c-meta")]
    [InlineData("""{"run_id": "r", "kwargs": {"config": {"configurable": {"cron_id": 7}}}}""", null)]
    [InlineData("""{"run_id": "r"}""", null)]
    public void The_cron_id_comes_from_the_configurable_else_from_the_metadata(string body, string? cronId) =>
        Assert.Equal(cronId, LangGraphRun.Parse(body)!.CronId);

    [Fact]
    public void A_parsed_run_came_by_webhook_whatever_its_body_says()
    {
        Assert.Equal(WebhookSource.Webhook, LangGraphRun.Parse("""{"run_id": "r", "webhook_source": "sweep"}""")!.WebhookSource);
        Assert.Equal(WebhookSource.Sweep, new LangGraphRun { RunId = "r", WebhookSource = WebhookSource.Sweep }.WebhookSource);
    }

    [Fact]
    public void ForCron_accepts_the_named_crons_or_with_none_named_any_cron()
    {
        var nightly = LangGraphRun.Parse("""{"run_id": "r", "kwargs": {"config": {"configurable": {"cron_id": "nightly"}}}}""")!;
        var hourly = LangGraphRun.Parse("""{"run_id": "r", "metadata": {"cron_id": "hourly"}}""")!;
        var manual = LangGraphRun.Parse("""{"run_id": "r"}""")!;

        Assert.Equal([true, true, false], new[] { nightly, hourly, manual }.Select(new HandlerFilter().ForCron().Matches));
        Assert.Equal([true, false, false], new[] { nightly, hourly, manual }.Select(new HandlerFilter().ForCron("nightly").Matches));
        Assert.Equal([true, true, false], new[] { nightly, hourly, manual }.Select(new HandlerFilter().ForCron("nightly", "hourly").Matches));
        Assert.True(new HandlerFilter().Matches(manual));
    }

    [Fact]
    public async Task A_handler_registered_for_a_cron_gets_only_that_crons_runs()
    {
        var script = new HandlerScript();
        await using var app = new TestApp(new() { ["WebhookReceiver:Handlers:Log:Enabled"] = "false" }, services =>
            services.AddWebhookReceiver(new ConfigurationBuilder().Build())
                .AddHandler("nightly-report", _ => script.CreateHandler(), h => h.ForCron("nightly").OnStatus("success")));
        var fromCron = Payloads.Run();
        fromCron["kwargs"]!["config"] = new JsonObject { ["configurable"] = new JsonObject { ["cron_id"] = "nightly" } };
        var fromOtherCron = Payloads.Run(metadata: new JsonObject { ["cron_id"] = "hourly" });
        var manual = Payloads.Run();

        foreach (var run in new[] { manual, fromOtherCron, fromCron })
        {
            await app.PostWebhookAsync(run.ToJsonString());
        }

        await script.WaitForCallsAsync(1);
        var handled = Assert.Single(script.Calls);
        Assert.Equal((string?)fromCron["run_id"], handled.Run.RunId);
        Assert.Equal("nightly", handled.Run.CronId);
    }
}
