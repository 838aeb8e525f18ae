using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using StandardWebhooks;
using WebhookReceiver.Interrupts;
using WebhookReceiver.Tests.Infrastructure;
using WebhookReceiver.Tests.LangGraphApi;
using WebhookReceiver.Tests.Sweep;

namespace WebhookReceiver.Tests.Alerts;

/// <summary>
/// Alerts end to end, in the real service on its own SQLite file: a dead handler, a sweep that recovers runs (a canned LangGraph
/// server on a real socket) and an interrupt waiting too long each open an alert; an operator acknowledges it through the API; each
/// resolves by itself when its cause goes; the operational webhook (a real Kestrel listener) receives the opening and the
/// resolution, signed as a Standard Webhooks library verifies, without a token, key or secret.
/// </summary>
public sealed class AlertTests
{
    private const string ViewerKey = "viewer-key-dddddddddddddddddddddddddddddddd";
    private const string OperatorKey = "operator-key-eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee";
    private static readonly string WebhookSecret = "whsec_" + Convert.ToBase64String("alert-webhook-secret-0123456789"u8.ToArray());

    private static Dictionary<string, string?> Settings(Uri? webhook = null, Dictionary<string, string?>? more = null)
    {
        var settings = new Dictionary<string, string?>
        {
            ["WebhookReceiver:Handlers:Log:Enabled"] = "false",
            ["WebhookReceiver:Dispatch:MaxAttempts"] = "1",
            ["WebhookReceiver:Alerts:Interval"] = "00:00:00.100",
            ["WebhookReceiver:Operators:0:Name"] = "vera",
            ["WebhookReceiver:Operators:0:Key"] = ViewerKey,
            ["WebhookReceiver:Operators:0:Role"] = "viewer",
            ["WebhookReceiver:Operators:1:Name"] = "olga",
            ["WebhookReceiver:Operators:1:Key"] = OperatorKey,
            ["WebhookReceiver:Operators:1:Role"] = "operator",
        };
        if (webhook is not null)
        {
            settings["WebhookReceiver:Alerts:Webhook:Url"] = new Uri(webhook, "/ops/alerts").ToString();
            settings["WebhookReceiver:Alerts:Webhook:Secret"] = WebhookSecret;
        }

        foreach (var (key, value) in more ?? [])
        {
            settings[key] = value;
        }

        return settings;
    }

    [Fact]
    public async Task A_dead_handler_opens_one_alert_an_operator_acknowledges_that_resolves_when_its_dead_letters_are_replayed_and_the_webhook_gets_both_signed()
    {
        await using var ops = await LoopbackListener.StartAsync();
        var failing = true;
        // The error quotes the webhook token: it must reach neither the alert nor the operational webhook.
        var script = new HandlerScript { Behaviour = (_, _) => failing ? throw new InvalidOperationException($"billing refused {TestApp.Token}") : Task.CompletedTask };
        await using var app = new TestApp(Settings(ops.Url), services =>
            services.AddWebhookReceiver(new ConfigurationBuilder().Build()).AddHandler("billing", _ => script.CreateHandler()));
        var admin = app.CreateAdminClient();

        await app.PostWebhookAsync(Payloads.Run().ToJsonString());
        await app.PostWebhookAsync(Payloads.Run().ToJsonString());
        var open = await AlertAsync(app, "dead_handler", a => (long?)a["occurrences"] == 2);

        Assert.Equal(("billing", "open", "dead_handler:billing"), ((string?)open["subject"], (string?)open["state"], (string?)open["cause"]));
        Assert.Equal("InvalidOperationException: billing refused [REDACTED]", (string?)open["first_error"]);
        Assert.Equal("InvalidOperationException: billing refused [REDACTED]", (string?)open["last_error"]);
        await ops.WaitForRequestsAsync(1);
        var opened = Verified(ops.Received[0]);
        Assert.Equal(("alert.opened", (long)open["id"]!, "dead_handler"), ((string?)opened["event"], (long)opened["alert"]!["id"]!, (string?)opened["alert"]!["kind"]));

        // A viewer reads alerts but may not acknowledge them; an operator does, and the audit trail names her.
        var viewer = Client(app, ViewerKey);
        var byViewer = await viewer.PostAsync($"/api/alerts/{open["id"]}/acknowledge", null);
        var anonymous = await app.CreateClient().PostAsync($"/api/alerts/{open["id"]}/acknowledge", null);
        var acknowledged = await Client(app, OperatorKey).PostAsync($"/api/alerts/{open["id"]}/acknowledge", null);
        var unknown = await admin.PostAsync("/api/alerts/999999/acknowledge", null);
        Assert.Equal(HttpStatusCode.OK, (await viewer.GetAsync("/api/alerts")).StatusCode);
        Assert.Equal((HttpStatusCode.Forbidden, "application/problem+json"), (byViewer.StatusCode, byViewer.Content.Headers.ContentType?.MediaType));
        Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);
        var view = (await acknowledged.EnsureSuccessStatusCode().Content.ReadFromJsonAsync<JsonObject>())!;
        Assert.Equal(("acknowledged", "olga"), ((string?)view["state"], (string?)view["acknowledged_by"]));
        Assert.Equal((HttpStatusCode.NotFound, "application/problem+json"), (unknown.StatusCode, unknown.Content.Headers.ContentType?.MediaType));
        var audit = await app.GetAdminAsync<JsonObject>("/api/audit?action=acknowledge_alert");
        var record = Assert.Single(audit["items"]!.AsArray(), r => (string?)r!["outcome"] == "succeeded")!;
        Assert.Equal(("olga", $"alert:{open["id"]}", "dead_handler billing"), ((string?)record["actor"], (string?)record["target"], (string?)record["detail"]));

        // Fixed, then its dead letters replayed: they succeed, and the alert resolves by itself.
        failing = false;
        (await admin.PostAsync("/api/dead-letters/replay?handler=billing", null)).EnsureSuccessStatusCode();
        var resolved = await AlertAsync(app, "dead_handler", a => (string?)a["state"] == "resolved");
        Assert.Equal((long)open["id"]!, (long)resolved["id"]!);
        Assert.Equal("olga", (string?)resolved["acknowledged_by"]);
        await ops.WaitForRequestsAsync(2);
        var resolvedNotice = Verified(ops.Received[1]);
        Assert.Equal(("alert.resolved", (long)open["id"]!), ((string?)resolvedNotice["event"], (long)resolvedNotice["alert"]!["id"]!));
        var afterResolved = await admin.PostAsync($"/api/alerts/{open["id"]}/acknowledge", null);
        Assert.Equal(HttpStatusCode.Conflict, afterResolved.StatusCode);

        // The cause comes back: a new alert, the resolved one stays resolved.
        failing = true;
        await app.PostWebhookAsync(Payloads.Run().ToJsonString());
        var again = await AlertAsync(app, "dead_handler", a => (string?)a["state"] == "open");
        Assert.NotEqual((long)open["id"]!, (long)again["id"]!);
        Assert.Equal(1, (long)again["occurrences"]!);

        foreach (var received in ops.Received)
        {
            foreach (var secret in new[] { TestApp.Token, TestApp.AdminKey, OperatorKey, ViewerKey, WebhookSecret })
            {
                Assert.DoesNotContain(secret, received.Body, StringComparison.Ordinal);
                Assert.DoesNotContain(secret, string.Join('\n', received.Headers.Values), StringComparison.Ordinal);
            }
        }
    }

    [Fact]
    public async Task Runs_a_sweep_recovered_open_an_alert_with_their_run_ids_that_the_next_sweep_recovering_nothing_resolves_and_a_failed_sweep_opens_its_own()
    {
        await using var langGraph = await CannedLangGraphServer.StartAsync();
        var server = new FakeLangGraph.Server(FakeLangGraph.Flavor.Python, FakeLangGraph.Threads(DateTimeOffset.UtcNow, 2, runsPerThread: 1));
        langGraph.Answer = server.Answer;
        await using var ops = await LoopbackListener.StartAsync();
        await using var app = new TestApp(Settings(ops.Url, new()
        {
            ["WebhookReceiver:LangGraph:Deployments:0:Name"] = "prod",
            ["WebhookReceiver:LangGraph:Deployments:0:ApiUrl"] = langGraph.Url.ToString(),
            ["WebhookReceiver:LangGraph:Verify"] = "Off",
            ["WebhookReceiver:LangGraph:DetectInterrupts"] = "false",
            ["WebhookReceiver:LangGraph:RetryDelay"] = "00:00:00.010",
            ["WebhookReceiver:LangGraph:Sweep:Interval"] = "00:00:00",
            ["WebhookReceiver:LangGraph:Sweep:Grace"] = "00:00:00",
        }));
        var admin = app.CreateAdminClient();

        Assert.Equal(2, (int)(await SweepAsync(app))["recovered"]!);
        var open = await AlertAsync(app, "sweep_recovered", a => (string?)a["state"] == "open");
        Assert.Equal(("prod", 2L), ((string?)open["subject"], (long)open["occurrences"]!));
        Assert.Equal(server.Threads.Select(t => t.Runs[0].RunId).Order(StringComparer.Ordinal),
            open["run_ids"]!.AsArray().Select(r => (string)r!).Order(StringComparer.Ordinal));
        (await admin.PostAsync($"/api/alerts/{open["id"]}/acknowledge", null)).EnsureSuccessStatusCode();

        Assert.Equal(0, (int)(await SweepAsync(app))["recovered"]!); // Both are held now.
        var resolved = await AlertAsync(app, "sweep_recovered", a => (string?)a["state"] == "resolved");
        Assert.Equal(((long)open["id"]!, "admin"), ((long)resolved["id"]!, (string?)resolved["acknowledged_by"]));

        langGraph.Answer = (_, _) => CannedAnswer.PythonError(500, "Internal Server Error");
        Assert.Equal("failed", (string?)(await SweepAsync(app))["status"]);
        var failed = await AlertAsync(app, "sweep_failed", a => (string?)a["state"] == "open");
        Assert.Equal(("prod", 1L), ((string?)failed["subject"], (long)failed["occurrences"]!));
        Assert.NotNull((string?)failed["last_error"]);
        langGraph.Answer = server.Answer;
        Assert.Equal("swept", (string?)(await SweepAsync(app))["status"]);
        await AlertAsync(app, "sweep_failed", a => (string?)a["state"] == "resolved");

        await ops.WaitForRequestsAsync(4);
        Assert.Equal(["alert.opened", "alert.resolved", "alert.opened", "alert.resolved"], ops.Received.Select(r => (string?)Verified(r)["event"]));
        Assert.Equal(["sweep_recovered", "sweep_recovered", "sweep_failed", "sweep_failed"], ops.Received.Select(r => (string?)Verified(r)["alert"]!["kind"]));
    }

    [Fact]
    public async Task An_interrupt_waiting_past_the_threshold_opens_an_alert_counted_by_the_gauge_that_resolves_once_it_is_resumed_or_expires()
    {
        await using var app = new TestApp(Settings(more: new() { ["WebhookReceiver:Alerts:InterruptWaitingThreshold"] = "00:30:00" }));
        var interrupts = app.Services.GetRequiredService<IInboxInterrupts>();
        var hourAgo = DateTimeOffset.UtcNow.AddHours(-1);
        var resumed = (await interrupts.RecordInterruptAsync(Pause("thread-a", hourAgo), CancellationToken.None)).Id;
        var expired = (await interrupts.RecordInterruptAsync(Pause("thread-b", hourAgo), CancellationToken.None)).Id;
        await interrupts.RecordInterruptAsync(Pause("thread-recent", DateTimeOffset.UtcNow), CancellationToken.None);

        var alerts = await Eventually.MatchAsync(() => app.GetAdminAsync<JsonObject>("/api/alerts?kind=interrupt_waiting&state=open"),
            list => list["items"]!.AsArray().Count == 2, timeoutSeconds: 60, what: "Two interrupt_waiting alerts");
        Assert.Equal([expired.ToString(CultureInfo.InvariantCulture), resumed.ToString(CultureInfo.InvariantCulture)],
            alerts["items"]!.AsArray().Select(a => (string?)a!["subject"]));
        Assert.Contains("thread-a", (string?)alerts["items"]![1]!["summary"], StringComparison.Ordinal);
        await Eventually.MatchAsync(async () => new PrometheusText(await app.CreateClient().GetStringAsync("/metrics")),
            m => m.Value("webhookreceiver_alerts_open", ("kind", "interrupt_waiting")) == 2, what: "alerts_open{kind=interrupt_waiting} 2");

        await interrupts.MarkInterruptResumedAsync(resumed, "run-resumed", DateTimeOffset.UtcNow, "admin", CancellationToken.None);
        await interrupts.MarkInterruptExpiredAsync(expired, "the thread no longer waits here", DateTimeOffset.UtcNow, CancellationToken.None);

        var after = await Eventually.MatchAsync(() => app.GetAdminAsync<JsonObject>("/api/alerts?kind=interrupt_waiting&state=resolved"),
            list => list["items"]!.AsArray().Count == 2, timeoutSeconds: 60, what: "Both interrupt_waiting alerts resolved");
        Assert.All(after["items"]!.AsArray(), a => Assert.NotNull((string?)a!["resolved_at"]));
        await Eventually.MatchAsync(async () => new PrometheusText(await app.CreateClient().GetStringAsync("/metrics")),
            m => m.Value("webhookreceiver_alerts_open", ("kind", "interrupt_waiting")) == 0, what: "alerts_open{kind=interrupt_waiting} 0");
    }

    [Fact]
    public async Task The_list_refuses_an_unknown_state_kind_or_parameter_with_problem_details()
    {
        await using var app = new TestApp(Settings());
        var admin = app.CreateAdminClient();

        foreach (var query in new[] { "state=closed", "kind=weather", "limit=0", "colour=red" })
        {
            var response = await admin.GetAsync($"/api/alerts?{query}");
            Assert.Equal((HttpStatusCode.BadRequest, "application/problem+json"), (response.StatusCode, response.Content.Headers.ContentType?.MediaType));
        }

        Assert.Equal(HttpStatusCode.Unauthorized, (await app.CreateClient().GetAsync("/api/alerts")).StatusCode);
    }

    private static HttpClient Client(TestApp app, string key)
    {
        var client = app.CreateClient();
        client.DefaultRequestHeaders.Add("X-Api-Key", key);
        return client;
    }

    /// <summary>The body of an operational webhook request, after its signature verified (throws when it does not).</summary>
    private static JsonObject Verified(ReceivedRequest request)
    {
        var headers = new HeaderDictionary();
        foreach (var name in new[] { "webhook-id", "webhook-timestamp", "webhook-signature" })
        {
            headers[name] = request.Headers[name];
        }

        new StandardWebhook(WebhookSecret).Verify(request.Body, headers);
        Assert.Equal("/ops/alerts", request.Path);
        return JsonNode.Parse(request.Body)!.AsObject();
    }

    private static async Task<JsonObject> AlertAsync(TestApp app, string kind, Func<JsonObject, bool> done) =>
        (await Eventually.MatchAsync(
            async () => (await app.GetAdminAsync<JsonObject>($"/api/alerts?kind={kind}"))["items"]!.AsArray().Select(a => a!.AsObject()).FirstOrDefault(),
            a => a is not null && done(a), timeoutSeconds: 60, what: $"The newest {kind} alert"))!;

    private static async Task<JsonNode> SweepAsync(TestApp app)
    {
        using var response = await app.CreateAdminClient().PostAsync("/api/langgraph/sweep", null);
        var body = await response.EnsureSuccessStatusCode().Content.ReadFromJsonAsync<JsonNode>();
        return body!["deployments"]!.AsArray().Single()!;
    }

    private static NewInterrupt Pause(string threadId, DateTimeOffset seenAt) =>
        new("prod", threadId, "interrupts:i-1", "run-paused", "assistant-a", "ask", null, "[]", """["ask"]""", "c-1", seenAt, []);
}
