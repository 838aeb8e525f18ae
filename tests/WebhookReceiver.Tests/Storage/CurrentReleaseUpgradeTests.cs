using System.Collections.Concurrent;
using System.Data.Common;
using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using WebhookReceiver.Tests.Infrastructure;
using WebhookReceiver.Tests.LangGraphApi;
using WebhookReceiver.Webhooks;

namespace WebhookReceiver.Tests.Storage;

/// <summary>
/// A store made by the current release upgrades in place on each engine with nothing lost (issue 31). Fixtures/current-release.*.sql
/// are that release's own store, dumped as text (each file's first line says how). The test loads a dump into a fresh file or
/// database, reads its rows with the release's schema, starts the receiver on it and finds every row through the HTTP API with
/// its values; then the receiver goes on: it delivers what was waiting, replays the dead letters, refuses the stored runs again
/// as duplicates, sweeps from the stored watermark, and numbers a new webhook after the stored ones. Only the HTTP surface is
/// asserted, so the store underneath may be rewritten: this is what proves the rewrite lost nothing.
/// </summary>
public sealed class CurrentReleaseUpgradeTests
{
    [Fact]
    public async Task A_sqlite_file_made_by_the_current_release_upgrades_in_place_with_nothing_lost()
    {
        using var directory = new TempDirectory();
        var file = Path.Combine(directory.Path, "webhooks.db");
        Released store;
        await using (var connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = file, Pooling = false }.ToString()))
        {
            await connection.OpenAsync();
            await LoadAsync(connection, "current-release.sqlite.sql");
            store = await Released.ReadAsync(connection);
        }

        await UpgradeAndCheckAsync(store, new() { ["WebhookReceiver:Storage:ConnectionString"] = $"Data Source={file}" }, directory);
    }

    [Fact]
    public async Task A_postgres_database_made_by_the_current_release_upgrades_in_place_with_nothing_lost()
    {
        await using var database = await PostgresDatabase.CreateAsync();
        var unpooled = new NpgsqlConnectionStringBuilder(database.ConnectionString) { Pooling = false }.ToString();
        await using (var load = new NpgsqlConnection(unpooled))
        {
            await load.OpenAsync();
            await LoadAsync(load, "current-release.postgres.sql");
        }

        Released store;
        await using (var read = new NpgsqlConnection(unpooled)) // A session of its own: the dump emptied its loader's search_path.
        {
            await read.OpenAsync();
            store = await Released.ReadAsync(read);
        }

        using var directory = new TempDirectory();
        await UpgradeAndCheckAsync(store, new()
        {
            ["WebhookReceiver:Storage:Provider"] = "Postgres",
            ["WebhookReceiver:Storage:ConnectionString"] = database.ConnectionString,
        }, directory);
    }

    /// <summary>Runs a dump as it is; psql's own meta-commands (<c>\restrict</c>) are not SQL and are left out.</summary>
    private static async Task LoadAsync(DbConnection connection, string fixture)
    {
        var lines = await File.ReadAllLinesAsync(Path.Combine(BuiltService.RepositoryRoot, "tests", "WebhookReceiver.Tests", "Storage", "Fixtures", fixture));
        await using var command = connection.CreateCommand();
        command.CommandText = string.Join('\n', lines.Where(line => !line.StartsWith('\\')));
        await command.ExecuteNonQueryAsync();
    }

    private static async Task UpgradeAndCheckAsync(Released store, Dictionary<string, string?> storage, TempDirectory directory)
    {
        store.AssertCoversEveryKindOfRow();
        await using var langGraph = await CannedLangGraphServer.StartAsync();
        langGraph.Answer = (request, _) => request.Path == "/threads/search" ? CannedAnswer.Json(new JsonArray()) : CannedAnswer.PythonError(404, "Not Found");
        var runs = new RunRecorder();
        var interrupts = new InterruptLog();
        var settings = new Dictionary<string, string?>(storage)
        {
            // Nothing may change the stored rows behind the test's back: no purge (the fixture only gets older), no alert evaluation.
            ["WebhookReceiver:Retention:Enabled"] = "false",
            ["WebhookReceiver:Audit:MaxAge"] = "36500.00:00:00",
            ["WebhookReceiver:Alerts:Enabled"] = "false",
            ["WebhookReceiver:LangGraph:Deployments:0:Name"] = "prod",
            ["WebhookReceiver:LangGraph:Deployments:0:ApiUrl"] = langGraph.Url.ToString(),
            ["WebhookReceiver:LangGraph:Verify"] = "Off",
            ["WebhookReceiver:LangGraph:DetectInterrupts"] = "false",
            ["WebhookReceiver:LangGraph:Sweep:Interval"] = "00:00:00",
        };
        await using var app = new TestApp(settings, services: services =>
        {
            services.AddRecordingHandler(runs);
            services.AddSingleton(interrupts);
            new WebhookReceiverBuilder(services).AddHandler<RecordingHandler>("billing").AddInterruptHandler<LoggingInterruptHandler>("people");
        }, directory: directory);
        var api = app.CreateAdminClient();

        // What was waiting (pending, or failed and due again) is delivered, with the bytes stored.
        var waiting = store.Deliveries.Where(d => d.IsWaiting).ToList();
        Assert.NotEmpty(waiting);
        foreach (var delivery in waiting)
        {
            var webhook = store.Webhooks.Single(w => w.Id == delivery.WebhookId);
            await Eventually.MatchAsync(() => Task.FromResult(runs.All().Where(r => r.Context.DeliveryId == delivery.Id).ToList()), r => r.Count > 0,
                what: $"Delivery {delivery.Id} ({delivery.State} in the dump) reaching its handler");
            var received = runs.All().First(r => r.Context.DeliveryId == delivery.Id);
            Assert.Equal((webhook.Id, delivery.Handler, (int)delivery.Attempts + 1), (received.Context.WebhookId, received.Context.Handler, received.Context.Attempt));
            Assert.Equal(webhook.Payload, Encoding.UTF8.GetBytes(received.Run.RawJson));
        }

        await Eventually.MatchAsync(() => ReadDeliveryStatesAsync(api, waiting), states => states.All(s => s == "succeeded"),
            what: "The waiting deliveries recorded as succeeded");

        await CheckWebhooksAsync(api, store);
        await CheckInterruptsAsync(api, store);
        await CheckAlertsAsync(api, store);
        await CheckAuditAsync(api, store.Audit);
        await CheckHandlerCountsAsync(api, store);

        // Stored runs are still known: the same run_id, or the same bytes without one, is a duplicate of the stored webhook.
        foreach (var stored in new[] { store.Webhooks.First(w => w.RunId is not null), store.Webhooks.Single(w => w.RunId is null) })
        {
            using var again = await app.PostWebhookAsync(Encoding.UTF8.GetString(stored.Payload));
            Assert.Equal(HttpStatusCode.OK, again.StatusCode);
            var duplicate = await Json.ReadAsync(again);
            Assert.Equal((stored.Id, true), (duplicate["id"]!.GetValue<long>(), duplicate["duplicate"]!.GetValue<bool>()));
        }

        // The sweep goes on from the watermark the release stored.
        using (var sweep = await api.PostAsync("/api/langgraph/sweep", null))
        {
            Assert.Equal(HttpStatusCode.OK, sweep.StatusCode);
            var report = (await Json.ReadAsync(sweep))["deployments"]!.AsArray().Single()!;
            var stored = store.Sweeps.Single(s => s.Deployment == "prod");
            Assert.Equal(("prod", "swept", Time(stored.Watermark)), (report["deployment"]!.GetValue<string>(), report["status"]!.GetValue<string>(), Time(report["watermark"])));
        }

        // Dead letters of webhooks and of interrupts replay, and reach their handlers.
        var dead = store.Deliveries.Where(d => d.State == "dead").ToList();
        using (var replay = await api.PostAsync("/api/dead-letters/replay", null))
        {
            Assert.Equal(HttpStatusCode.Accepted, replay.StatusCode);
            Assert.Equal(dead.Count, (await Json.ReadAsync(replay))["replayed"]!.GetValue<int>());
        }

        foreach (var delivery in dead)
        {
            if (delivery.WebhookId is { } webhookId)
            {
                var received = (await Eventually.MatchAsync(() => Task.FromResult(runs.All().Where(r => r.Context.DeliveryId == delivery.Id).ToList()), r => r.Count > 0,
                    what: $"Dead delivery {delivery.Id} replayed to {delivery.Handler}"))[0];
                Assert.Equal(store.Webhooks.Single(w => w.Id == webhookId).Payload, Encoding.UTF8.GetBytes(received.Run.RawJson));
            }
            else
            {
                await Eventually.MatchAsync(() => Task.FromResult(interrupts.Delivered.ToList()), d => d.Contains((delivery.Id, delivery.InterruptId!.Value)),
                    what: $"Dead delivery {delivery.Id} of interrupt {delivery.InterruptId} replayed to {delivery.Handler}");
            }
        }

        await Eventually.MatchAsync(() => ReadDeliveryStatesAsync(api, dead), states => states.All(s => s == "succeeded"), what: "The replayed deliveries recorded as succeeded");

        // A new webhook is numbered after the stored ones (ids go on from the release's sequences) and dispatched.
        var runId = Payloads.NewRunId();
        using (var posted = await app.PostWebhookAsync(Payloads.PythonRun(runId).ToJsonString()))
        {
            Assert.Equal(HttpStatusCode.Accepted, posted.StatusCode);
            // Above every stored id (not max + 1: the duplicates above may have drawn a number from the sequence).
            Assert.True((await Json.ReadAsync(posted))["id"]!.GetValue<long>() > store.Webhooks.Max(w => w.Id));
        }

        await runs.WaitForAsync(runId, TimeSpan.FromSeconds(20));
        var fresh = await Eventually.MatchAsync(() => GetAsync(api, $"/api/runs/{runId}"), w => w["deliveries"]!.AsArray().All(d => d!["state"]!.GetValue<string>() == "succeeded"),
            what: "The new webhook's deliveries succeeding");
        Assert.All(fresh["deliveries"]!.AsArray(), d => Assert.True(d!["id"]!.GetValue<long>() > store.Deliveries.Max(s => s.Id)));
        var newest = (await GetAsync(api, "/api/audit?limit=500"))["items"]!.AsArray();
        Assert.True(newest[0]!["id"]!.GetValue<long>() > store.Audit.Max(a => a.Id), "The sweep and the replay are audited after the stored records.");
    }

    private static async Task CheckWebhooksAsync(HttpClient api, Released store)
    {
        var listed = (await GetAsync(api, "/api/webhooks?limit=500"))["items"]!.AsArray();
        Assert.Equal(store.Webhooks.Select(w => w.Id).OrderDescending(), listed.Select(w => w!["id"]!.GetValue<long>()));
        foreach (var webhook in store.Webhooks)
        {
            var summary = listed.Single(w => w!["id"]!.GetValue<long>() == webhook.Id)!;
            AssertWebhook(store, webhook, summary, withHistory: false);

            using var response = await api.GetAsync($"/api/webhooks/{webhook.Id}");
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            var text = await response.Content.ReadAsStringAsync();
            var detail = JsonNode.Parse(text)!;
            AssertWebhook(store, webhook, detail, withHistory: true);
            // The payload goes out as its stored bytes: the raw JSON of the property, byte for byte.
            using var document = JsonDocument.Parse(text);
            Assert.Equal(webhook.Payload, Encoding.UTF8.GetBytes(document.RootElement.GetProperty("payload").GetRawText()));

            if (webhook.RunId is { } runId)
            {
                Assert.Equal(webhook.Id, (await GetAsync(api, $"/api/runs/{runId}"))["id"]!.GetValue<long>());
            }
        }
    }

    private static void AssertWebhook(Released store, Webhook webhook, JsonNode actual, bool withHistory)
    {
        var what = $"webhook {webhook.Id}";
        AssertFields(what, actual, ("run_id", webhook.RunId), ("thread_id", webhook.ThreadId), ("assistant_id", webhook.AssistantId), ("graph_id", webhook.GraphId),
            ("status", webhook.Status), ("received_at", Time(webhook.ReceivedAt)), ("deployment", webhook.Deployment), ("source", webhook.Source));
        if (webhook.Verification is null)
        {
            Assert.Null(actual["verification"]);
        }
        else
        {
            AssertFields(what + " verification", actual["verification"], ("result", webhook.Verification), ("detail", webhook.VerificationDetail),
                ("checked_at", Time(webhook.VerifiedAt)));
        }

        AssertDeliveries(store, what, store.Deliveries.Where(d => d.WebhookId == webhook.Id).ToList(), actual["deliveries"]!.AsArray(), withHistory);
    }

    /// <summary>Each stored delivery as it was; one that was waiting is now delivered, its history one attempt longer.</summary>
    private static void AssertDeliveries(Released store, string of, List<Delivery> expected, JsonArray actual, bool withHistory)
    {
        Assert.Equal(expected.Select(d => d.Id).Order(), actual.Select(d => d!["id"]!.GetValue<long>()).Order());
        foreach (var delivery in expected)
        {
            var what = $"{of} delivery {delivery.Id}";
            var view = actual.Single(d => d!["id"]!.GetValue<long>() == delivery.Id)!;
            AssertFields(what, view, ("handler", delivery.Handler));
            if (delivery.IsWaiting)
            {
                AssertFields(what, view, ("state", "succeeded"), ("attempts", delivery.Attempts + 1), ("last_error", null));
                Assert.True(DateTimeOffset.Parse(view["updated_at"]!.GetValue<string>(), CultureInfo.InvariantCulture) > Time(delivery.UpdatedAt), what + ": updated");
            }
            else
            {
                AssertFields(what, view, ("state", delivery.State), ("attempts", delivery.Attempts), ("last_error", delivery.LastError),
                    ("next_attempt_at", Time(delivery.NextAttemptAt)), ("updated_at", Time(delivery.UpdatedAt)));
            }

            if (!withHistory)
            {
                continue;
            }

            var history = view["history"]!.AsArray();
            var attempts = store.Attempts.Where(a => a.DeliveryId == delivery.Id).OrderBy(a => a.Number).ToList();
            Assert.Equal(attempts.Count + (delivery.IsWaiting ? 1 : 0), history.Count);
            foreach (var (attempt, seen) in attempts.Zip(history))
            {
                AssertFields($"{what} attempt {attempt.Number}", seen, ("attempt", attempt.Number), ("started_at", Time(attempt.StartedAt)), ("ended_at", Time(attempt.EndedAt)),
                    ("succeeded", attempt.Succeeded), ("error", attempt.Error), ("outcome", attempt.Succeeded ? "succeeded" : attempt.Abandoned ? "abandoned" : "failed"));
            }

            if (delivery.IsWaiting)
            {
                AssertFields(what + " new attempt", history[^1], ("attempt", delivery.Attempts + 1), ("succeeded", true), ("outcome", "succeeded"));
            }
        }
    }

    private static async Task CheckInterruptsAsync(HttpClient api, Released store)
    {
        var listed = (await GetAsync(api, "/api/interrupts?limit=500"))["items"]!.AsArray();
        Assert.Equal(store.Interrupts.Select(i => i.Id).OrderDescending(), listed.Select(i => i!["id"]!.GetValue<long>()));
        foreach (var interrupt in store.Interrupts)
        {
            foreach (var view in new[] { listed.Single(i => i!["id"]!.GetValue<long>() == interrupt.Id)!, await GetAsync(api, $"/api/interrupts/{interrupt.Id}") })
            {
                var what = $"interrupt {interrupt.Id}";
                var pending = JsonNode.Parse(interrupt.Pending)!.AsArray();
                AssertFields(what, view, ("state", interrupt.State), ("deployment", interrupt.Deployment), ("thread_id", interrupt.ThreadId), ("run_id", interrupt.RunId),
                    ("webhook_id", interrupt.WebhookId), ("assistant_id", interrupt.AssistantId), ("graph_id", interrupt.GraphId), ("next", JsonNode.Parse(interrupt.NextNodes)),
                    ("checkpoint_id", interrupt.CheckpointId), ("is_breakpoint", pending.Count == 0), ("seen_at", Time(interrupt.SeenAt)),
                    ("resumed_at", Time(interrupt.ResumedAt)), ("resumed_run_id", interrupt.ResumedRunId),
                    ("resumed_webhook_id", store.Webhooks.SingleOrDefault(w => interrupt.ResumedRunId is not null && w.RunId == interrupt.ResumedRunId)?.Id),
                    ("expired_at", Time(interrupt.EndedAt)), ("expired_reason", interrupt.Detail), ("resumed_by", interrupt.ResumedBy));
                var asked = view["pending"]!.AsArray();
                Assert.Equal(pending.Count, asked.Count);
                foreach (var (stored, seen) in pending.Zip(asked))
                {
                    AssertFields(what + " pending", seen, ("id", stored!["id"]!.GetValue<string>()), ("value", stored["value"]), ("response_schema", stored["response_schema"]));
                }

                AssertDeliveries(store, what, store.Deliveries.Where(d => d.InterruptId == interrupt.Id).ToList(), view["deliveries"]!.AsArray(), withHistory: false);
            }
        }
    }

    private static async Task CheckAlertsAsync(HttpClient api, Released store)
    {
        var listed = (await GetAsync(api, "/api/alerts?limit=500"))["items"]!.AsArray();
        Assert.Equal(store.Alerts.Select(a => a.Id).OrderDescending(), listed.Select(a => a!["id"]!.GetValue<long>()));
        foreach (var alert in store.Alerts)
        {
            AssertFields($"alert {alert.Id}", listed.Single(a => a!["id"]!.GetValue<long>() == alert.Id), ("kind", alert.Kind), ("cause", alert.Cause),
                ("subject", alert.Subject), ("state", alert.State), ("summary", alert.Summary), ("occurrences", alert.Occurrences), ("first_error", alert.FirstError),
                ("last_error", alert.LastError), ("run_ids", alert.RunIds is null ? new JsonArray() : JsonNode.Parse(alert.RunIds)), ("opened_at", Time(alert.OpenedAt)),
                ("updated_at", Time(alert.UpdatedAt)), ("acknowledged_at", Time(alert.AcknowledgedAt)), ("acknowledged_by", alert.AcknowledgedBy),
                ("resolved_at", Time(alert.ResolvedAt)));
        }
    }

    private static async Task CheckAuditAsync(HttpClient api, List<AuditRecord> audit)
    {
        var listed = (await GetAsync(api, "/api/audit?limit=500"))["items"]!.AsArray();
        Assert.Equal(audit.Select(a => a.Id).OrderDescending(), listed.Select(a => a!["id"]!.GetValue<long>()));
        foreach (var record in audit)
        {
            AssertFields($"audit record {record.Id}", listed.Single(a => a!["id"]!.GetValue<long>() == record.Id), ("at", Time(record.At)), ("actor", record.Actor),
                ("action", record.Action), ("target", record.Target), ("outcome", record.Outcome), ("detail", record.Detail));
        }
    }

    /// <summary>Each handler's deliveries by state, counted from the dump (what was waiting now delivered), runs apart from interrupts.</summary>
    private static async Task CheckHandlerCountsAsync(HttpClient api, Released store)
    {
        var handlers = (await GetAsync(api, "/api/handlers")).AsArray();
        foreach (var (name, handles, ofInterrupts) in new[] { ("recorder", "runs", false), ("billing", "runs", false), ("people", "interrupts", true) })
        {
            var counts = handlers.Single(h => h!["name"]!.GetValue<string>() == name && h["handles"]!.GetValue<string>() == handles)!["deliveries"]!;
            var stored = store.Deliveries.Where(d => d.Handler == name && d.InterruptId.HasValue == ofInterrupts).ToList();
            Assert.NotEmpty(stored);
            foreach (var state in new[] { "pending", "succeeded", "failed", "dead", "rejected" })
            {
                var expected = stored.Count(d => (d.IsWaiting ? "succeeded" : d.State) == state);
                Assert.True(expected == counts[state]!.GetValue<long>(), $"{name} {state}: expected {expected}, got {counts[state]}");
            }
        }
    }

    private static async Task<List<string>> ReadDeliveryStatesAsync(HttpClient api, List<Delivery> deliveries)
    {
        var states = new List<string>();
        foreach (var delivery in deliveries)
        {
            var owner = delivery.WebhookId is { } webhookId ? $"/api/webhooks/{webhookId}" : $"/api/interrupts/{delivery.InterruptId}";
            var view = (await GetAsync(api, owner))["deliveries"]!.AsArray().Single(d => d!["id"]!.GetValue<long>() == delivery.Id)!;
            states.Add(view["state"]!.GetValue<string>());
        }

        return states;
    }

    private static async Task<JsonNode> GetAsync(HttpClient api, string url)
    {
        using var response = await api.GetAsync(url);
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"GET {url}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
        return await Json.ReadAsync(response);
    }

    /// <summary>
    /// Each expected field against the response's: times as instants, JSON by value, null as null or left out; any other value
    /// by its JSON text.
    /// </summary>
    private static void AssertFields(string what, JsonNode? actual, params (string Key, object? Value)[] expected)
    {
        Assert.True(actual is not null, what + ": missing");
        foreach (var (key, value) in expected)
        {
            var node = actual[key];
            var same = value switch
            {
                null => node is null,
                DateTimeOffset time => node is not null && DateTimeOffset.Parse(node.GetValue<string>(), CultureInfo.InvariantCulture) == time,
                JsonNode json => JsonNode.DeepEquals(json, node),
                _ => node is not null && JsonNode.DeepEquals(JsonSerializer.SerializeToNode(value), node),
            };
            Assert.True(same, $"{what}: {key} should be {(value is null ? "null" : JsonSerializer.Serialize(value))}, is {node?.ToJsonString() ?? "null"}");
        }
    }

    private static DateTimeOffset Time(long unixMilliseconds) => DateTimeOffset.FromUnixTimeMilliseconds(unixMilliseconds);

    private static DateTimeOffset? Time(JsonNode? node) => node is null ? null : DateTimeOffset.Parse(node.GetValue<string>(), CultureInfo.InvariantCulture);

    private static DateTimeOffset? Time(long? unixMilliseconds) => unixMilliseconds is { } ms ? Time(ms) : null;

    private sealed record Webhook(long Id, string? RunId, string? ThreadId, string? AssistantId, string? GraphId, string? Status, long ReceivedAt, byte[] Payload,
        string? Deployment, string? Verification, string? VerificationDetail, long? VerifiedAt, string Source);

    private sealed record Delivery(long Id, long? WebhookId, long? InterruptId, string Handler, string State, long Attempts, string? LastError, long? NextAttemptAt, long UpdatedAt)
    {
        /// <summary>Pending, or failed and due again: the upgraded receiver delivers it.</summary>
        public bool IsWaiting => State is "pending" or "failed";
    }

    private sealed record Attempt(long DeliveryId, long Number, long StartedAt, long EndedAt, bool Succeeded, string? Error, bool Abandoned);

    private sealed record Interrupt(long Id, string Deployment, string ThreadId, string? RunId, string? AssistantId, string? GraphId, long? WebhookId, string Pending,
        string NextNodes, string? CheckpointId, long SeenAt, string State, long? ResumedAt, string? ResumedRunId, long? EndedAt, string? Detail, string? ResumedBy);

    private sealed record Alert(long Id, string Kind, string Cause, string Subject, string State, string Summary, long Occurrences, string? FirstError, string? LastError,
        string? RunIds, long OpenedAt, long UpdatedAt, long? AcknowledgedAt, string? AcknowledgedBy, long? ResolvedAt);

    private sealed record AuditRecord(long Id, long At, string Actor, string Action, string Target, string Outcome, string? Detail);

    private sealed record Sweep(string Deployment, long Watermark);

    /// <summary>The rows of the loaded dump, read with the release's schema (the dump's own, which never changes).</summary>
    private sealed record Released(List<Webhook> Webhooks, List<Delivery> Deliveries, List<Attempt> Attempts, List<Interrupt> Interrupts, List<Alert> Alerts,
        List<AuditRecord> Audit, List<Sweep> Sweeps)
    {
        public static async Task<Released> ReadAsync(DbConnection connection) => new(
            await RowsAsync(connection, """
                SELECT id, run_id, thread_id, assistant_id, graph_id, status, received_at, payload, deployment, verification, verification_detail, verified_at, source
                FROM webhooks
                """, r => new Webhook(Long(r, 0), Text(r, 1), Text(r, 2), Text(r, 3), Text(r, 4), Text(r, 5), Long(r, 6), (byte[])r.GetValue(7), Text(r, 8), Text(r, 9),
                Text(r, 10), NullableLong(r, 11), r.GetString(12))),
            await RowsAsync(connection, "SELECT id, webhook_id, interrupt_id, handler, state, attempts, last_error, next_attempt_at, updated_at FROM deliveries",
                r => new Delivery(Long(r, 0), NullableLong(r, 1), NullableLong(r, 2), r.GetString(3), r.GetString(4), Long(r, 5), Text(r, 6), NullableLong(r, 7), Long(r, 8))),
            await RowsAsync(connection, "SELECT delivery_id, attempt, started_at, ended_at, succeeded, error, abandoned FROM attempts",
                r => new Attempt(Long(r, 0), Long(r, 1), Long(r, 2), Long(r, 3), Long(r, 4) == 1, Text(r, 5), Long(r, 6) == 1)),
            await RowsAsync(connection, """
                SELECT id, deployment, thread_id, run_id, assistant_id, graph_id, webhook_id, pending, next_nodes, checkpoint_id, seen_at, state, resumed_at,
                       resumed_run_id, ended_at, detail, resumed_by
                FROM interrupts
                """, r => new Interrupt(Long(r, 0), r.GetString(1), r.GetString(2), Text(r, 3), Text(r, 4), Text(r, 5), NullableLong(r, 6), r.GetString(7), r.GetString(8),
                Text(r, 9), Long(r, 10), r.GetString(11), NullableLong(r, 12), Text(r, 13), NullableLong(r, 14), Text(r, 15), Text(r, 16))),
            await RowsAsync(connection, """
                SELECT id, kind, cause, subject, state, summary, occurrences, first_error, last_error, run_ids, opened_at, updated_at, acknowledged_at,
                       acknowledged_by, resolved_at
                FROM alerts
                """, r => new Alert(Long(r, 0), r.GetString(1), r.GetString(2), r.GetString(3), r.GetString(4), r.GetString(5), Long(r, 6), Text(r, 7), Text(r, 8),
                Text(r, 9), Long(r, 10), Long(r, 11), NullableLong(r, 12), Text(r, 13), NullableLong(r, 14))),
            await RowsAsync(connection, "SELECT id, at, actor, action, target, outcome, detail FROM audit_records",
                r => new AuditRecord(Long(r, 0), Long(r, 1), r.GetString(2), r.GetString(3), r.GetString(4), r.GetString(5), Text(r, 6))),
            await RowsAsync(connection, "SELECT deployment, watermark FROM sweeps", r => new Sweep(r.GetString(0), Long(r, 1))));

        /// <summary>The dump holds every kind of row the release writes, so that none can be lost unnoticed.</summary>
        public void AssertCoversEveryKindOfRow()
        {
            Assert.Superset(new HashSet<string> { "pending", "failed", "succeeded", "dead", "rejected" }, Deliveries.Select(d => d.State).ToHashSet());
            Assert.Contains(Deliveries, d => d.State == "dead" && d.InterruptId is not null);
            Assert.Contains(Attempts, a => a.Abandoned);
            Assert.Contains(Attempts, a => a.Succeeded);
            Assert.Contains(Webhooks, w => w.Source == "sweep");
            Assert.Contains(Webhooks, w => w.RunId is null);
            Assert.Contains(Webhooks, w => w.Verification is not null && w.VerificationDetail is not null);
            Assert.Superset(new HashSet<string> { "waiting", "resumed", "expired" }, Interrupts.Select(i => i.State).ToHashSet());
            Assert.Superset(new HashSet<string> { "open", "acknowledged", "resolved" }, Alerts.Select(a => a.State).ToHashSet());
            Assert.Contains(Audit, a => a.Action == "sign_out");
            Assert.NotEmpty(Sweeps);
        }

        private static async Task<List<T>> RowsAsync<T>(DbConnection connection, string sql, Func<DbDataReader, T> row)
        {
            await using var command = connection.CreateCommand();
            command.CommandText = sql;
            await using var reader = await command.ExecuteReaderAsync();
            var rows = new List<T>();
            while (await reader.ReadAsync())
            {
                rows.Add(row(reader));
            }

            return rows;
        }

        private static long Long(DbDataReader reader, int ordinal) => Convert.ToInt64(reader.GetValue(ordinal), CultureInfo.InvariantCulture);

        private static long? NullableLong(DbDataReader reader, int ordinal) => reader.IsDBNull(ordinal) ? null : Long(reader, ordinal);

        private static string? Text(DbDataReader reader, int ordinal) => reader.IsDBNull(ordinal) ? null : reader.GetString(ordinal);
    }

    /// <summary>Every interrupt delivery the <c>people</c> handler was given: (delivery id, interrupt id).</summary>
    public sealed class InterruptLog
    {
        public ConcurrentQueue<(long DeliveryId, long InterruptId)> Delivered { get; } = new();
    }

    public sealed class LoggingInterruptHandler(InterruptLog log) : IInterruptHandler
    {
        public Task HandleAsync(WebhookReceiver.Webhooks.Interrupt interrupt, DeliveryContext context, CancellationToken cancellationToken)
        {
            log.Delivered.Enqueue((context.DeliveryId, interrupt.Id));
            return Task.CompletedTask;
        }
    }
}
