using System.Collections.Concurrent;
using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Hosting.Internal;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using WebhookReceiver.Kernel;
using WebhookReceiver.Tests.Infrastructure;

namespace WebhookReceiver.Tests.Operations;

/// <summary>
/// Metrics that count are read from the built service running as a process of its own: in one test process every host's
/// meters would be seen by every other host's meter provider, and the counts of parallel tests would mix.
/// </summary>
public sealed class MetricsTests
{
    private const string Unreachable = "unreachable";

    [Trait("Category", "System")]
    [Fact]
    public async Task Scrape_counts_webhooks_by_outcome_and_deliveries_by_handler_and_outcome()
    {
        using var data = new TempDirectory();
        var settings = ServiceSettings(data, maxAttempts: 1);
        settings["WebhookReceiver__MaxBodyBytes"] = "4096";
        await using var service = await ServiceProcess.StartAsync(settings);
        var client = service.CreateClient();
        string[] runIds = [Payloads.NewRunId(), Payloads.NewRunId()];

        Assert.Equal(HttpStatusCode.Accepted, (await PostAsync(client, Payloads.Run(runIds[0]).ToJsonString())).StatusCode);
        Assert.Equal(HttpStatusCode.Accepted, (await PostAsync(client, Payloads.Run(runIds[1]).ToJsonString())).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await PostAsync(client, Payloads.Run(runIds[0]).ToJsonString())).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await PostAsync(client, Payloads.Run().ToJsonString(), token: null)).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await PostAsync(client, Payloads.Run().ToJsonString(), token: "wrong-token")).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await PostAsync(client, "not json")).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await PostAsync(client, """[{"thread_id":"t"}]""")).StatusCode);
        var tooLarge = Payloads.Run(metadata: new JsonObject { ["padding"] = new string('x', 5000) }).ToJsonString();
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, (await PostAsync(client, tooLarge)).StatusCode);

        // The log handler succeeds; the forward target refuses connections and, with one attempt allowed, is dead-lettered.
        var metrics = await ScrapeUntilAsync(client, m =>
            m.Value("webhookreceiver_delivery_attempts_total", ("handler", "log"), ("outcome", "succeeded")) == 2
            && m.Value("webhookreceiver_delivery_attempts_total", ("handler", Unreachable), ("outcome", "dead")) == 2
            && m.Value("webhookreceiver_deliveries_pending", ("handler", Unreachable)) == 0);

        Assert.Equal(2, metrics.Value("webhookreceiver_webhooks_received_total", ("outcome", "accepted")));
        Assert.Equal(1, metrics.Value("webhookreceiver_webhooks_received_total", ("outcome", "duplicate")));
        Assert.Equal(2, metrics.Value("webhookreceiver_webhooks_received_total", ("outcome", "unauthorized")));
        Assert.Equal(2, metrics.Value("webhookreceiver_webhooks_received_total", ("outcome", "invalid")));
        Assert.Equal(1, metrics.Value("webhookreceiver_webhooks_received_total", ("outcome", "too_large")));
        // Series exist from start-up at 0 (so alert rules see their first event): none counted is 0, not absent.
        Assert.Equal(0, metrics.Value("webhookreceiver_webhooks_received_total", ("outcome", "store_unavailable")));
        Assert.Equal(2, metrics.Value("webhookreceiver_ingest_duration_seconds_count", ("outcome", "accepted")));
        Assert.Equal(8, metrics.Value("webhookreceiver_ingest_duration_seconds_count"));

        Assert.Equal(2, metrics.Value("webhookreceiver_dispatch_lag_seconds_count", ("handler", "log")));
        Assert.Equal(2, metrics.Value("webhookreceiver_dispatch_lag_seconds_count", ("handler", Unreachable)));
        Assert.Equal(2, metrics.Value("webhookreceiver_delivery_duration_seconds_count", ("handler", "log"), ("outcome", "succeeded")));
        Assert.Equal(2, metrics.Value("webhookreceiver_delivery_duration_seconds_count", ("handler", Unreachable), ("outcome", "dead")));
        Assert.Equal(2, metrics.Value("webhookreceiver_dead_letters_total", ("handler", Unreachable)));
        Assert.Equal(0, metrics.Value("webhookreceiver_dead_letters_total", ("handler", "log")));
        Assert.Equal(0, metrics.Value("webhookreceiver_deliveries_pending", ("handler", "log")));

        // ASP.NET Core's and the runtime's own instruments are exported too.
        Assert.True(metrics.Value("http_server_request_duration_seconds_count", ("http_route", "/webhooks/langgraph"), ("http_response_status_code", "202")) >= 2);
        Assert.True(metrics.Has("dotnet_gc_heap_total_allocated_bytes_total"), "runtime metrics are missing");

        // No label carries an unbounded or secret value.
        foreach (var secret in runIds.Append(TestApp.Token).Append(TestApp.AdminKey).Append("wrong-token"))
        {
            Assert.DoesNotContain(secret, metrics.Text, StringComparison.Ordinal);
        }
    }

    [Trait("Category", "System")]
    [Fact]
    public async Task Pending_deliveries_gauge_counts_deliveries_waiting_for_a_retry()
    {
        using var data = new TempDirectory();
        var settings = ServiceSettings(data, maxAttempts: 3);
        settings["WebhookReceiver__Dispatch__InitialRetryDelay"] = "01:00:00";
        settings["WebhookReceiver__Dispatch__MaxRetryDelay"] = "01:00:00";
        await using var service = await ServiceProcess.StartAsync(settings);
        var client = service.CreateClient();

        await PostAsync(client, Payloads.Run().ToJsonString());
        await PostAsync(client, Payloads.Run().ToJsonString());

        // Pending counts deliveries not yet attempted too: wait for both failures so that the two are the retrying ones.
        var metrics = await ScrapeUntilAsync(client, m =>
            m.Value("webhookreceiver_delivery_attempts_total", ("handler", Unreachable), ("outcome", "failed")) == 2
            && m.Value("webhookreceiver_deliveries_pending", ("handler", Unreachable)) == 2
            && m.Value("webhookreceiver_deliveries_pending", ("handler", "log")) == 0);
        Assert.Equal(2, metrics.Value("webhookreceiver_delivery_attempts_total", ("handler", Unreachable), ("outcome", "failed")));
        Assert.Equal(0, metrics.Value("webhookreceiver_dead_letters_total"));
    }

    [Trait("Category", "System")]
    [Fact]
    public async Task Oldest_pending_age_grows_while_a_delivery_waits_for_its_handler_and_is_0_once_it_is_done()
    {
        // The forward target holds each request for 6 s: the delivery stays unfinished that long, due since it was stored.
        await using var target = await LoopbackListener.StartAsync();
        target.AnswerDelay = TimeSpan.FromSeconds(6);
        using var data = new TempDirectory();
        var settings = ServiceProcess.Settings(data.Path);
        settings["WebhookReceiver__Metrics__PendingRefreshInterval"] = "00:00:00";
        settings["WebhookReceiver__Handlers__Forward__0__Name"] = "slow";
        settings["WebhookReceiver__Handlers__Forward__0__Url"] = new Uri(target.Url, "/hook").ToString();
        settings["WebhookReceiver__Handlers__Forward__0__Secret"] = "forward-secret-dddddddddddddddd";
        await using var service = await ServiceProcess.StartAsync(settings);
        var client = service.CreateClient();

        var before = DateTime.UtcNow;
        Assert.Equal(HttpStatusCode.Accepted, (await PostAsync(client, Payloads.Run().ToJsonString())).StatusCode);
        var waiting = await ScrapeUntilAsync(client, m => m.Value("webhookreceiver_deliveries_oldest_pending_age_seconds") >= 2);
        var age = waiting.Value("webhookreceiver_deliveries_oldest_pending_age_seconds")!.Value;
        Assert.InRange(age, 2, (DateTime.UtcNow - before).TotalSeconds + 1);
        Assert.Equal(0, waiting.Value("webhookreceiver_delivery_attempts_total", ("handler", "slow")));

        var done = await ScrapeUntilAsync(client, m =>
            m.Value("webhookreceiver_delivery_attempts_total", ("handler", "slow"), ("outcome", "succeeded")) == 1
            && m.Value("webhookreceiver_deliveries_oldest_pending_age_seconds") == 0);
        Assert.Equal(0, done.Value("webhookreceiver_deliveries_pending", ("handler", "slow")));
    }

    [Trait("Category", "System")]
    [Fact]
    public async Task Oldest_waiting_interrupt_age_is_the_age_of_the_oldest_pause_still_waiting()
    {
        using var data = new TempDirectory();
        var settings = ServiceProcess.Settings(data.Path);
        settings["WebhookReceiver__Metrics__PendingRefreshInterval"] = "00:00:00";
        await using var service = await ServiceProcess.StartAsync(settings);
        var client = service.CreateClient();
        var none = await ScrapeUntilAsync(client, m => m.Has("webhookreceiver_interrupts_oldest_waiting_age_seconds"));
        Assert.Equal(0, none.Value("webhookreceiver_interrupts_oldest_waiting_age_seconds"));

        // Pauses as the recorder stores them (no LangGraph server here): one waiting for an hour, one for a minute, and
        // an older one already resumed, which no longer counts.
        var now = DateTimeOffset.UtcNow;
        await using (var connection = new SqliteConnection($"Data Source={Path.Combine(data.Path, "webhooks.db")};Default Timeout=30"))
        {
            await connection.OpenAsync();
            await using var insert = connection.CreateCommand();
            insert.CommandText = """
                INSERT INTO interrupts (deployment, thread_id, pause_key, pending, next_nodes, seen_at, state)
                VALUES ('prod', 't-1', 'k-1', '[]', '[]', $hour, 'waiting'),
                       ('prod', 't-2', 'k-2', '[]', '[]', $minute, 'waiting'),
                       ('prod', 't-3', 'k-3', '[]', '[]', $day, 'resumed')
                """;
            insert.Parameters.AddWithValue("$hour", (now - TimeSpan.FromHours(1)).ToUnixTimeMilliseconds());
            insert.Parameters.AddWithValue("$minute", (now - TimeSpan.FromMinutes(1)).ToUnixTimeMilliseconds());
            insert.Parameters.AddWithValue("$day", (now - TimeSpan.FromDays(1)).ToUnixTimeMilliseconds());
            await insert.ExecuteNonQueryAsync();
        }

        var metrics = await ScrapeUntilAsync(client, m => m.Value("webhookreceiver_interrupts_oldest_waiting_age_seconds") >= 3600);
        Assert.InRange(metrics.Value("webhookreceiver_interrupts_oldest_waiting_age_seconds")!.Value, 3600, 3600 + (DateTimeOffset.UtcNow - now).TotalSeconds + 1);
    }

    [Trait("Category", "System")]
    [Theory]
    [InlineData("OTEL_EXPORTER_OTLP_ENDPOINT", "")]
    [InlineData("WebhookReceiver__Metrics__OtlpEndpoint", "/v1/metrics")]
    public async Task Metrics_are_pushed_over_OTLP_when_an_endpoint_is_configured(string variable, string path)
    {
        var received = new ConcurrentQueue<byte[]>();
        await using var collector = await StartCollectorAsync(received);
        using var data = new TempDirectory();
        var settings = ServiceProcess.Settings(data.Path);
        settings[variable] = Address(collector) + path;
        settings["OTEL_EXPORTER_OTLP_PROTOCOL"] = "http/protobuf";
        settings["OTEL_METRIC_EXPORT_INTERVAL"] = "300";
        await using var service = await ServiceProcess.StartAsync(settings);

        await PostAsync(service.CreateClient(), Payloads.Run().ToJsonString());

        // OTLP is protobuf; instrument names are plain UTF-8 strings inside it.
        var name = Encoding.UTF8.GetBytes("webhookreceiver.webhooks.received");
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (!received.Any(body => body.AsSpan().IndexOf(name) >= 0))
        {
            Assert.True(DateTime.UtcNow < deadline, $"no OTLP export named the receiver's counter ({received.Count} requests received)");
            await Task.Delay(100);
        }
    }

    [Fact]
    public async Task The_scrape_endpoint_can_require_the_admin_key()
    {
        await using var app = new TestApp(new() { ["WebhookReceiver:Metrics:RequireAdminKey"] = "true" });

        var without = await app.CreateClient().GetAsync("/metrics");
        var with = await app.CreateAdminClient().GetAsync("/metrics");

        Assert.Equal(HttpStatusCode.Unauthorized, without.StatusCode);
        Assert.Equal("application/problem+json", without.Content.Headers.ContentType?.MediaType);
        Assert.Equal(HttpStatusCode.OK, with.StatusCode);
        Assert.Contains("# TYPE ", await with.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_scrape_endpoint_is_open_by_default_moves_with_its_path_and_can_be_switched_off()
    {
        await using var byDefault = new TestApp();
        await using var moved = new TestApp(new() { ["WebhookReceiver:Metrics:Path"] = "/internal/metrics" });
        await using var off = new TestApp(new() { ["WebhookReceiver:Metrics:Enabled"] = "false" });

        Assert.Equal(HttpStatusCode.OK, (await byDefault.CreateClient().GetAsync("/metrics")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await moved.CreateClient().GetAsync("/internal/metrics")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await moved.CreateClient().GetAsync("/metrics")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await off.CreateClient().GetAsync("/metrics")).StatusCode);
    }

    [Theory]
    [InlineData("WebhookReceiver:Metrics:Path", "metrics")]
    [InlineData("WebhookReceiver:Metrics:OtlpEndpoint", "collector:4317")]
    [InlineData("WebhookReceiver:Metrics:PendingRefreshInterval", "02:00:00")]
    public void A_bad_metrics_setting_is_refused_by_the_start_up_validation(string key, string value)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?> { [key] = value }).Build();
        var services = new ServiceCollection();
        services.AddSingleton<IHostEnvironment>(new HostingEnvironment { EnvironmentName = Environments.Development });
        services.AddWebhookReceiver(configuration);
        using var provider = services.BuildServiceProvider();

        var error = Assert.Throws<OptionsValidationException>(() => provider.GetRequiredService<IOptions<MetricsOptions>>().Value);

        Assert.Contains(key.Split(':')[^1], error.Message, StringComparison.Ordinal);
    }

    private static Dictionary<string, string> ServiceSettings(TempDirectory data, int maxAttempts)
    {
        var settings = ServiceProcess.Settings(data.Path);
        settings["WebhookReceiver__Dispatch__MaxAttempts"] = maxAttempts.ToString(System.Globalization.CultureInfo.InvariantCulture);
        settings["WebhookReceiver__Metrics__PendingRefreshInterval"] = "00:00:00";
        // Port 9 (discard) is closed on loopback: every attempt fails at once with "connection refused".
        settings["WebhookReceiver__Handlers__Forward__0__Name"] = Unreachable;
        settings["WebhookReceiver__Handlers__Forward__0__Url"] = "http://127.0.0.1:9/hook";
        settings["WebhookReceiver__Handlers__Forward__0__Secret"] = "forward-secret-dddddddddddddddd";
        return settings;
    }

    private static async Task<HttpResponseMessage> PostAsync(HttpClient client, string body, string? token = TestApp.Token)
    {
        using var content = new StringContent(body, Encoding.UTF8, "application/json");
        var url = token is null ? "/webhooks/langgraph" : $"/webhooks/langgraph?token={Uri.EscapeDataString(token)}";
        return await client.PostAsync(url, content);
    }

    /// <summary>Scrapes until <paramref name="ready"/> holds (dispatch and the pending count run in the background).</summary>
    private static async Task<PrometheusText> ScrapeUntilAsync(HttpClient client, Func<PrometheusText, bool> ready)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (true)
        {
            var response = await client.GetAsync("/metrics");
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            var metrics = new PrometheusText(await response.Content.ReadAsStringAsync());
            if (ready(metrics))
            {
                return metrics;
            }

            Assert.True(DateTime.UtcNow < deadline, "the metrics never reached the expected values:\n" + metrics.Text);
            await Task.Delay(100);
        }
    }

    /// <summary>A stand-in OpenTelemetry collector on loopback that keeps every OTLP/HTTP metrics request body.</summary>
    private static async Task<WebApplication> StartCollectorAsync(ConcurrentQueue<byte[]> received)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        var collector = builder.Build();
        collector.MapPost("/v1/metrics", async (HttpRequest request) =>
        {
            using var body = new MemoryStream();
            await request.Body.CopyToAsync(body);
            received.Enqueue(body.ToArray());
            return Results.Ok();
        });
        await collector.StartAsync();
        return collector;
    }

    private static string Address(WebApplication app) =>
        app.Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses.Single();
}
