using System.Globalization;
using System.Net;
using System.Text;
using WebhookReceiver.Tests.Infrastructure;

namespace WebhookReceiver.Tests.Operations;

/// <summary>
/// Issue 33: the alert rules work on a receiver that just started. Every series the rules and the dashboard read (histogram
/// buckets aside: they exist from their first observation) is in the first scrape of a fresh process, at 0 for the handler,
/// deployment and outcomes it knows; promtool then fed that scrape and the next one, after one dead letter, fires
/// WebhookReceiverDeadLetters. Without the series at 0 the first scrape has no sample, increase() sees one sample, and the
/// first dead letter after every restart goes unnoticed.
/// </summary>
public sealed partial class DeploymentPackTests
{
    [Trait("Category", "System")]
    [Fact]
    public async Task A_fresh_process_exposes_every_series_the_rules_read_and_its_first_dead_letter_fires_the_alert()
    {
        using var data = new TempDirectory();
        var settings = ServiceProcess.Settings(data.Path);
        settings["WebhookReceiver__Dispatch__MaxAttempts"] = "1";
        settings["WebhookReceiver__Handlers__Forward__0__Name"] = "unreachable";
        settings["WebhookReceiver__Handlers__Forward__0__Url"] = "http://127.0.0.1:9/hook";
        settings["WebhookReceiver__Handlers__Forward__0__Secret"] = "forward-secret-dddddddddddddddd";
        settings["WebhookReceiver__LangGraph__Deployments__0__Name"] = "prod";
        settings["WebhookReceiver__LangGraph__Deployments__0__ApiUrl"] = "http://127.0.0.1:9/";
        settings["WebhookReceiver__LangGraph__Verify"] = "Off";
        settings["WebhookReceiver__LangGraph__DetectInterrupts"] = "false";
        await using var service = await ServiceProcess.StartAsync(settings);
        var client = service.CreateClient();

        // The first scrape: what a Prometheus that scrapes at start-up sees (the store-read gauges answer from their first read).
        var used = DashboardExpressions().Concat(RuleExpressions())
            .SelectMany(e => MetricName().Matches(e).Select(m => m.Value))
            .Where(name => name.StartsWith("webhookreceiver_", StringComparison.Ordinal) && !name.EndsWith("_bucket", StringComparison.Ordinal))
            .ToHashSet(StringComparer.Ordinal);
        var first = await Eventually.MatchAsync(async () => new PrometheusText(await client.GetStringAsync("/metrics")),
            m => m.Has("webhookreceiver_deliveries_oldest_pending_age_seconds"), what: "the first read of the store-read gauges");
        var missing = used.Where(name => !first.Has(name)).Order(StringComparer.Ordinal).ToList();
        Assert.True(missing.Count == 0, $"Not in a fresh process's scrape: {string.Join(", ", missing)}\n{first.Text}");
        Assert.Equal(0, first.Value("webhookreceiver_dead_letters_total", ("handler", "unreachable")));
        Assert.Equal(0, first.Value("webhookreceiver_sweeps_total", ("deployment", "prod"), ("status", "failed")));
        Assert.Equal(0, first.Value("webhookreceiver_alerts_open", ("kind", "dead_handler"), ("state", "open")));
        Assert.Equal(0, first.Value("webhookreceiver_interrupts_waiting", ("deployment", "prod")));

        using (var content = new StringContent(Payloads.Run().ToJsonString(), Encoding.UTF8, "application/json"))
        {
            Assert.Equal(HttpStatusCode.Accepted, (await client.PostAsync($"/webhooks/langgraph?token={TestApp.Token}", content)).StatusCode);
        }

        var second = await Eventually.MatchAsync(async () => new PrometheusText(await client.GetStringAsync("/metrics")),
            m => m.Value("webhookreceiver_dead_letters_total", ("handler", "unreachable")) == 1, what: "the dead letter counted");

        // The two scrapes, one minute apart, as Prometheus would have stored them.
        string Values(PrometheusText scrape) => scrape.Value("webhookreceiver_dead_letters_total", ("handler", "unreachable")) is { } value
            ? value.ToString(CultureInfo.InvariantCulture) : "_";
        var test = Path.Combine(data.Path, "fresh-process.test.yml");
        await File.WriteAllTextAsync(test, $$"""
            rule_files:
              - {{Rules}}
            evaluation_interval: 1m
            tests:
              - interval: 1m
                input_series:
                  - series: 'webhookreceiver_dead_letters_total{handler="unreachable"}'
                    values: '{{Values(first)}} {{Values(second)}}'
                alert_rule_test:
                  - eval_time: 1m
                    alertname: WebhookReceiverDeadLetters
                    exp_alerts:
                      - exp_labels: { severity: warning, handler: unreachable }
                        exp_annotations:
                          summary: "Handler unreachable dead-lettered 1 deliveries in 15 minutes"
                          description: "Deliveries failed every attempt (Dispatch:MaxAttempts). See GET /api/webhooks?delivery_state=dead; fix the handler, then POST /api/dead-letters/replay."
            """);
        Assert.Contains("SUCCESS", await Command.RunAsync(Promtool, ["test", "rules", test]), StringComparison.Ordinal);
    }
}
