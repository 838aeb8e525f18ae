using System.Diagnostics;
using System.Net;
using System.Text;
using Microsoft.AspNetCore.Http;
using Microsoft.Data.Sqlite;
using WebhookReceiver.Tests.Infrastructure;
using WebhookReceiver.Tests.ScaleOut;
using Xunit.Abstractions;

namespace WebhookReceiver.Tests.Operations;

/// <summary>
/// Issue #25, traces: the built service exports real OTLP (protobuf over HTTP) to a collector the test runs. One webhook,
/// sent with the caller's traceparent, goes to two handlers (the log handler, and a forward target that fails once); the
/// service is SIGKILLed between the failure and the retry and started again. Every attempt, in either process, must join
/// the trace of the span that received the webhook; the forward target must get that trace's traceparent; the log lines
/// must carry the trace id; and no exported byte may hold a secret.
/// </summary>
[Collection(ServiceFleet.Name)]
[Trait("Category", "System")]
public sealed class TracingTests(ITestOutputHelper output)
{
    private const string ForwardSecret = "whsec_c2VjcmV0LWZvci10aGUtdHJhY2UtdGVzdC0wMTIzNDU=";
    private const string ReceiveRoute = "/webhooks/langgraph";

    [Fact]
    public async Task Every_attempt_joins_the_receive_span_across_a_restart_and_the_forward_target_gets_its_traceparent()
    {
        await using var collector = await OtlpReceiver.StartAsync();
        await using var target = await LoopbackListener.StartAsync();
        target.Answer = n => n == 1 ? StatusCodes.Status500InternalServerError : StatusCodes.Status200OK;
        using var data = new TempDirectory();
        var settings = ServiceProcess.Settings(data.Path);
        settings["OTEL_EXPORTER_OTLP_ENDPOINT"] = collector.Url.ToString().TrimEnd('/');
        settings["OTEL_EXPORTER_OTLP_PROTOCOL"] = "http/protobuf";
        settings["OTEL_BSP_SCHEDULE_DELAY"] = "100";
        settings["OTEL_METRIC_EXPORT_INTERVAL"] = "1000";
        settings["OTEL_SERVICE_NAME"] = "receiver-under-test";
        settings["OTEL_RESOURCE_ATTRIBUTES"] = "deployment.environment.name=tracing-test";
        settings["WebhookReceiver__Handlers__Forward__0__Name"] = "crm";
        settings["WebhookReceiver__Handlers__Forward__0__Url"] = new Uri(target.Url, $"/hooks?token={TestApp.Token}").ToString();
        settings["WebhookReceiver__Handlers__Forward__0__Secret"] = ForwardSecret;
        // Long enough to see the failed attempt exported and kill the process before its retry is due.
        settings["WebhookReceiver__Dispatch__InitialRetryDelay"] = "00:00:06";
        settings["WebhookReceiver__Dispatch__RetryJitter"] = "0";

        // The caller's own trace: the receive span must continue it.
        var callerTraceId = ActivityTraceId.CreateRandom().ToHexString();
        var callerSpanId = ActivitySpanId.CreateRandom().ToHexString();
        var runId = Payloads.NewRunId();
        var threadId = Guid.NewGuid().ToString();

        var first = await ServiceProcess.StartAsync(settings);
        string firstOutput;
        long webhookId;
        try
        {
            using var client = first.CreateClient();
            using var request = new HttpRequestMessage(HttpMethod.Post, $"{ReceiveRoute}?token={TestApp.Token}")
            {
                Content = new StringContent(Payloads.Run(runId, threadId: threadId, graphId: "support").ToJsonString(), Encoding.UTF8, "application/json"),
            };
            request.Headers.Add("traceparent", $"00-{callerTraceId}-{callerSpanId}-01");
            using var response = await client.SendAsync(request);
            Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
            webhookId = (await Json.ReadAsync(response))["id"]!.GetValue<long>();

            // The failed attempt is exported, then the process dies before its retry (SIGKILL: no shutdown code runs).
            await Eventually.MatchAsync(() => Task.FromResult(collector.Spans),
                spans => spans.Any(s => s.Name == "process crm" && s.StatusCode == 2) && spans.Any(s => s.Name == "process log"));
            Assert.Single(target.Received);
            await first.KillAsync();
            firstOutput = string.Join('\n', first.Output);
        }
        finally
        {
            await first.DisposeAsync();
        }

        await using var second = await ServiceProcess.StartAsync(settings);
        await target.WaitForRequestsAsync(2, timeoutSeconds: 30);
        var spans = await Eventually.MatchAsync(() => Task.FromResult(collector.Spans),
            all => all.Count(s => s.Name == "process crm") == 2 && all.Any(s => s.Name == "process crm" && (long)s["webhookreceiver.delivery.attempt"]! == 2),
            timeoutSeconds: 30);
        foreach (var span in spans.Where(s => s.TraceId == callerTraceId))
        {
            output.WriteLine(span.ToString());
        }

        // The receive span: ASP.NET Core's server span of the POST, continuing the caller's trace, described by the receiver.
        var receive = Assert.Single(spans, s => s.Kind == 2 && s.TraceId == callerTraceId);
        Assert.Equal(callerSpanId, receive.ParentSpanId);
        Assert.Equal("Microsoft.AspNetCore", receive.Scope);
        Assert.Equal(webhookId.ToString(System.Globalization.CultureInfo.InvariantCulture), receive["messaging.message.id"]);
        Assert.Equal(runId, receive["langgraph.run.id"]);
        Assert.Equal(threadId, receive["langgraph.thread.id"]);
        Assert.Equal("support", receive["langgraph.graph.id"]);
        Assert.Equal("success", receive["langgraph.run.status"]);
        Assert.Equal("accepted", receive["webhookreceiver.ingest.outcome"]);
        Assert.Equal("receiver-under-test", receive.Resource["service.name"]);
        Assert.Equal("tracing-test", receive.Resource["deployment.environment.name"]);

        // Each attempt, in either process, is a child of the receive span.
        var attempts = spans.Where(s => s.Scope == "WebhookReceiver" && s.Name.StartsWith("process ", StringComparison.Ordinal)).ToList();
        Assert.All(attempts, a => Assert.Equal((callerTraceId, receive.SpanId), (a.TraceId, a.ParentSpanId)));
        Assert.All(attempts, a => Assert.Equal(5, a.Kind)); // consumer
        var log = Assert.Single(attempts, a => a.Name == "process log");
        Assert.Equal(("succeeded", 1L), (log["webhookreceiver.delivery.outcome"], log["webhookreceiver.delivery.attempt"]));
        var failed = Assert.Single(attempts, a => a.Name == "process crm" && (long)a["webhookreceiver.delivery.attempt"]! == 1);
        Assert.Equal(("failed", "HttpRequestException", 2), (failed["webhookreceiver.delivery.outcome"], failed["error.type"], failed.StatusCode));
        Assert.Contains("answered 500", failed.StatusMessage, StringComparison.Ordinal);
        var retried = Assert.Single(attempts, a => a.Name == "process crm" && (long)a["webhookreceiver.delivery.attempt"]! == 2);
        Assert.Equal("succeeded", retried["webhookreceiver.delivery.outcome"]);
        Assert.Equal("crm", retried["messaging.destination.name"]);
        Assert.Equal(receive["messaging.message.id"], retried["messaging.message.id"]);
        // The retry ran in the second process: another service.instance.id than the failure's.
        Assert.NotEqual(failed.Resource["service.instance.id"], retried.Resource["service.instance.id"]);

        // The forward target got the trace: each POST's traceparent is of the receive span's trace, sent by a span of it.
        Assert.Equal(2, target.Received.Count);
        var sent = spans.Where(s => s.TraceId == callerTraceId).Select(s => s.SpanId).ToHashSet();
        Assert.All(target.Received, r =>
        {
            var parts = r.Headers["traceparent"].Split('-');
            Assert.Equal(callerTraceId, parts[1]);
            Assert.Contains(parts[2], sent);
        });

        // The logs join the traces: the failure's warning carries the trace id and the failed attempt's span id.
        var warning = Assert.Single(firstOutput.Split('\n'), line => line.Contains("failed delivery", StringComparison.Ordinal) && line.Contains("\"Handler\":\"crm\"", StringComparison.Ordinal));
        Assert.Contains($"\"@tr\":\"{callerTraceId}\"", warning, StringComparison.Ordinal);
        Assert.Contains($"\"@sp\":\"{failed.SpanId}\"", warning, StringComparison.Ordinal);

        // No secret in any byte exported (traces and metrics), nor the query string it came in (url.query is redacted).
        var exported = collector.Exports.Select(e => Encoding.UTF8.GetString(e.Body)).ToList();
        Assert.Contains(exported, e => e.Contains(ReceiveRoute, StringComparison.Ordinal));
        foreach (var secret in new[] { TestApp.Token, TestApp.SecondToken, TestApp.AdminKey, ForwardSecret, ForwardSecret["whsec_".Length..] })
        {
            Assert.DoesNotContain(exported, e => e.Contains(secret, StringComparison.Ordinal));
        }
    }

    [Fact]
    public async Task Without_an_OTLP_endpoint_nothing_listens_and_no_trace_context_is_stored()
    {
        using var data = new TempDirectory();
        await using (var service = await ServiceProcess.StartAsync(ServiceProcess.Settings(data.Path)))
        {
            using var client = service.CreateClient();
            using var request = new HttpRequestMessage(HttpMethod.Post, $"{ReceiveRoute}?token={TestApp.Token}")
            {
                Content = new StringContent(Payloads.Run().ToJsonString(), Encoding.UTF8, "application/json"),
            };
            request.Headers.Add("traceparent", $"00-{ActivityTraceId.CreateRandom().ToHexString()}-{ActivitySpanId.CreateRandom().ToHexString()}-01");
            using var response = await client.SendAsync(request);
            Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        }

        await using var connection = new SqliteConnection($"Data Source={Path.Combine(data.Path, "webhooks.db")};Pooling=false");
        await connection.OpenAsync();
        await using var read = connection.CreateCommand();
        read.CommandText = "SELECT COUNT(*), COUNT(traceparent) FROM webhooks";
        await using var reader = await read.ExecuteReaderAsync();
        Assert.True(await reader.ReadAsync());
        Assert.Equal((1L, 0L), (reader.GetInt64(0), reader.GetInt64(1)));
    }
}
