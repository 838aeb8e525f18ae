using System.Net;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using WebhookReceiver.Tests.Infrastructure;

namespace WebhookReceiver.Tests.Dispatch;

public sealed class DispatcherTests
{
    private static readonly DateTimeOffset Start = new(2026, 3, 1, 9, 0, 0, TimeSpan.Zero);

    private static Dictionary<string, string?> Retries(int maxAttempts, string initialDelay = "00:00:10") => new()
    {
        ["WebhookReceiver:Handlers:Log:Enabled"] = "false",
        ["WebhookReceiver:Dispatch:InitialRetryDelay"] = initialDelay,
        ["WebhookReceiver:Dispatch:MaxRetryDelay"] = "00:05:00",
        ["WebhookReceiver:Dispatch:RetryJitter"] = "0",
        ["WebhookReceiver:Dispatch:MaxAttempts"] = maxAttempts.ToString(System.Globalization.CultureInfo.InvariantCulture),
    };

    private static Action<IServiceCollection> Handlers(FakeTimeProvider? clock, params (string Name, HandlerScript Script)[] handlers) => services =>
    {
        if (clock is not null)
        {
            services.AddSingleton<TimeProvider>(clock);
        }

        var receiver = services.AddWebhookReceiver(new ConfigurationBuilder().Build());
        foreach (var (name, script) in handlers)
        {
            receiver.AddHandler(name, _ => script.CreateHandler());
        }
    };

    [Fact]
    public async Task A_handler_that_fails_twice_then_succeeds_is_attempted_three_times_at_the_configured_backoff()
    {
        var clock = new FakeTimeProvider(Start);
        var script = new HandlerScript(clock).FailFirst(2);
        await using var app = new TestApp(Retries(maxAttempts: 5), Handlers(clock, ("flaky", script)));
        var run = Payloads.Run();

        await app.PostWebhookAsync(run.ToJsonString());
        await FailureRecordedAsync(app, run, "flaky", attempts: 1);
        clock.Advance(TimeSpan.FromSeconds(9.9));
        await Task.Delay(300);
        Assert.Single(script.Calls); // not before the 10 s backoff
        await AdvanceUntilCalledAsync(clock, script, calls: 2);
        await FailureRecordedAsync(app, run, "flaky", attempts: 2);
        clock.Advance(TimeSpan.FromSeconds(19.9));
        await Task.Delay(300);
        Assert.Equal(2, script.Calls.Count); // the second delay doubles
        await AdvanceUntilCalledAsync(clock, script, calls: 3);

        var at = script.Calls.Select(c => c.At - Start).ToList();
        Assert.Equal(TimeSpan.Zero, at[0]);
        // Not before the backoff; after it, as soon as the dispatcher's next poll sees the clock moved.
        Assert.InRange(at[1], TimeSpan.FromSeconds(10), TimeSpan.FromSeconds(12));
        Assert.InRange(at[2] - at[1], TimeSpan.FromSeconds(20), TimeSpan.FromSeconds(22));
        Assert.Equal([1, 2, 3], script.Calls.Select(c => c.Context.Attempt));
        Assert.Single(script.Calls.Select(c => c.Context.DeliveryId).Distinct());
        var delivery = await DeliveryAsync(app, run, "flaky", d => (string?)d["state"] == "succeeded");
        Assert.Equal(3, (int)delivery["attempts"]!);
        var history = delivery["history"]!.AsArray();
        Assert.Equal([false, false, true], history.Select(a => (bool)a!["succeeded"]!));
        Assert.Equal("InvalidOperationException: planned failure 1", (string?)history[0]!["error"]);
    }

    [Fact]
    public async Task A_handler_that_always_fails_is_dead_after_max_attempts()
    {
        var clock = new FakeTimeProvider(Start);
        var script = new HandlerScript(clock).AlwaysFail();
        await using var app = new TestApp(Retries(maxAttempts: 3), Handlers(clock, ("broken", script)));
        var run = Payloads.Run();

        await app.PostWebhookAsync(run.ToJsonString());
        await FailureRecordedAsync(app, run, "broken", attempts: 1);
        clock.Advance(TimeSpan.FromSeconds(9.9));
        await AdvanceUntilCalledAsync(clock, script, calls: 2);
        await FailureRecordedAsync(app, run, "broken", attempts: 2);
        clock.Advance(TimeSpan.FromSeconds(19.9));
        await AdvanceUntilCalledAsync(clock, script, calls: 3);
        var delivery = await DeliveryAsync(app, run, "broken", d => (string?)d["state"] == "dead");
        clock.Advance(TimeSpan.FromHours(1));
        await Task.Delay(300);

        Assert.Equal(3, script.Calls.Count);
        Assert.Equal(3, (int)delivery["attempts"]!);
        Assert.Null(delivery["next_attempt_at"]);
        Assert.Equal("InvalidOperationException: planned failure", (string?)delivery["last_error"]);
        var dead = await app.GetAdminAsync<JsonObject>("/api/webhooks?delivery_state=dead");
        Assert.Equal((string?)run["run_id"], (string?)dead["items"]![0]!["run_id"]);
    }

    [Fact]
    public async Task Of_two_handlers_the_one_that_succeeded_runs_exactly_once_while_the_other_retries()
    {
        var clock = new FakeTimeProvider(Start);
        var good = new HandlerScript(clock);
        var bad = new HandlerScript(clock).AlwaysFail();
        await using var app = new TestApp(Retries(maxAttempts: 4), Handlers(clock, ("good", good), ("bad", bad)));

        var run = Payloads.Run();
        await app.PostWebhookAsync(run.ToJsonString());
        await DeliveryAsync(app, run, "good", d => (string?)d["state"] == "succeeded"); // recorded before the clock moves
        for (var i = 1; i <= 3; i++)
        {
            await FailureRecordedAsync(app, run, "bad", attempts: i);
            clock.Advance(TimeSpan.FromMinutes(5));
            await AdvanceUntilCalledAsync(clock, bad, calls: i + 1);
        }


        await Task.Delay(300);
        Assert.Single(good.Calls);
        Assert.Equal(4, bad.Calls.Count);
    }

    [Fact]
    public async Task A_handler_that_hangs_is_cancelled_at_the_timeout_and_counted_as_a_failed_attempt()
    {
        var cancelled = new TaskCompletionSource();
        var script = new HandlerScript
        {
            Behaviour = async (_, token) =>
            {
                token.Register(() => cancelled.TrySetResult());
                await Task.Delay(Timeout.Infinite, token);
            },
        };
        var settings = Retries(maxAttempts: 5, initialDelay: "00:10:00");
        settings["WebhookReceiver:Dispatch:AttemptTimeout"] = "00:00:00.300";
        await using var app = new TestApp(settings, Handlers(null, ("sleepy", script)));
        var run = Payloads.Run();

        await app.PostWebhookAsync(run.ToJsonString());

        await cancelled.Task.WaitAsync(TimeSpan.FromSeconds(20));
        var delivery = await DeliveryAsync(app, run, "sleepy", d => (string?)d["state"] == "failed");
        Assert.Equal(1, (int)delivery["attempts"]!);
        Assert.Equal("Timed out after 0.3 s.", (string?)delivery["last_error"]);
        Assert.NotNull(delivery["next_attempt_at"]);
    }

    [Fact]
    public async Task A_dead_delivery_replayed_runs_again_and_can_succeed()
    {
        var script = new HandlerScript().AlwaysFail();
        await using var app = new TestApp(Retries(maxAttempts: 1), Handlers(null, ("crm", script)));
        var run = Payloads.Run();
        var id = (long)(await Json.ReadAsync(await app.PostWebhookAsync(run.ToJsonString())))["id"]!;
        await DeliveryAsync(app, run, "crm", d => (string?)d["state"] == "dead");

        script.Behaviour = (_, _) => Task.CompletedTask; // the outage is over
        var replay = await app.CreateAdminClient().PostAsync($"/api/webhooks/{id}/replay", null);

        Assert.Equal(HttpStatusCode.Accepted, replay.StatusCode);
        Assert.Equal(1, (int)(await Json.ReadAsync(replay))["replayed"]!);
        var delivery = await DeliveryAsync(app, run, "crm", d => (string?)d["state"] == "succeeded");
        Assert.Equal(2, (int)delivery["attempts"]!);
        Assert.Equal([1, 2], script.Calls.Select(c => c.Context.Attempt));
    }

    [Fact]
    public async Task Replay_of_one_handler_leaves_the_others_alone()
    {
        var first = new HandlerScript();
        var second = new HandlerScript();
        await using var app = new TestApp(Retries(maxAttempts: 1), Handlers(null, ("first", first), ("second", second)));
        var run = Payloads.Run();
        var id = (long)(await Json.ReadAsync(await app.PostWebhookAsync(run.ToJsonString())))["id"]!;
        await first.WaitForCallsAsync(1);
        await second.WaitForCallsAsync(1);

        var replay = await app.CreateAdminClient().PostAsync($"/api/webhooks/{id}/replay?handler=second", null);
        await second.WaitForCallsAsync(2);
        await Task.Delay(300);

        Assert.Equal(HttpStatusCode.Accepted, replay.StatusCode);
        Assert.Single(first.Calls);
        Assert.Equal(2, second.Calls.Count);
        var unknown = await app.CreateAdminClient().PostAsync($"/api/webhooks/{id}/replay?handler=nobody", null);
        Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
    }

    [Fact]
    public async Task Bulk_replay_of_dead_letters_touches_only_what_matched()
    {
        var script = new HandlerScript().AlwaysFail();
        await using var app = new TestApp(Retries(maxAttempts: 1), Handlers(null, ("crm", script)));
        var succeeded = Payloads.Run(status: "success");
        var errored = Payloads.Run(status: "error");
        await app.PostWebhookAsync(succeeded.ToJsonString());
        await app.PostWebhookAsync(errored.ToJsonString());
        await DeliveryAsync(app, succeeded, "crm", d => (string?)d["state"] == "dead");
        await DeliveryAsync(app, errored, "crm", d => (string?)d["state"] == "dead");

        script.Behaviour = (_, _) => Task.CompletedTask;
        var replay = await app.CreateAdminClient().PostAsync("/api/dead-letters/replay?status=error", null);

        Assert.Equal(1, (int)(await Json.ReadAsync(replay))["replayed"]!);
        await DeliveryAsync(app, errored, "crm", d => (string?)d["state"] == "succeeded");
        var untouched = await DeliveryAsync(app, succeeded, "crm", _ => true);
        Assert.Equal("dead", (string?)untouched["state"]);
        Assert.Equal(3, script.Calls.Count);
        Assert.Equal((string?)errored["run_id"], script.Calls[^1].Run.RunId);
    }

    [Fact]
    public async Task A_host_stopped_with_a_delivery_due_resumes_it_on_a_new_host_over_the_same_database()
    {
        using var directory = new TempDirectory();
        var run = Payloads.Run();
        var settings = Retries(maxAttempts: 5, initialDelay: "00:00:00.500");
        var failing = new HandlerScript().AlwaysFail();
        await using (var before = new TestApp(settings, Handlers(null, ("crm", failing)), directory: directory))
        {
            await before.PostWebhookAsync(run.ToJsonString());
            await DeliveryAsync(before, run, "crm", d => (string?)d["state"] == "failed");
        }

        var healthy = new HandlerScript();
        await using var after = new TestApp(settings, Handlers(null, ("crm", healthy)), directory: directory);
        _ = after.Server; // start the host: the dispatcher runs without any request
        await healthy.WaitForCallsAsync(1);

        Assert.Equal((string?)run["run_id"], healthy.Calls[0].Run.RunId);
        Assert.True(healthy.Calls[0].Context.Attempt >= 2);
        await DeliveryAsync(after, run, "crm", d => (string?)d["state"] == "succeeded");
    }

    [Fact]
    public async Task On_shutdown_a_running_attempt_finishes_within_the_grace_period()
    {
        var started = new TaskCompletionSource();
        var release = new TaskCompletionSource();
        var script = new HandlerScript
        {
            Behaviour = async (_, _) =>
            {
                started.TrySetResult();
                await release.Task;
            },
        };
        var settings = Retries(maxAttempts: 5);
        settings["WebhookReceiver:Dispatch:ShutdownGrace"] = "00:00:10";
        var run = Payloads.Run();
        using var directory = new TempDirectory();
        var app = new TestApp(settings, Handlers(null, ("slow", script)), directory: directory);
        await app.PostWebhookAsync(run.ToJsonString());
        await started.Task.WaitAsync(TimeSpan.FromSeconds(20));

        var stopping = app.DisposeAsync().AsTask();
        await Task.Delay(300);
        Assert.False(stopping.IsCompleted, "the host waits for the running attempt");
        release.SetResult();
        await stopping;

        await using var after = new TestApp(settings, Handlers(null, ("slow", new HandlerScript())), directory: directory);
        var delivery = await DeliveryAsync(after, run, "slow", _ => true);
        Assert.Equal("succeeded", (string?)delivery["state"]);
        Assert.Equal(1, (int)delivery["attempts"]!);
    }

    [Fact]
    public async Task On_shutdown_an_attempt_past_the_grace_period_is_cancelled_released_and_resumed_by_the_next_host()
    {
        var started = new TaskCompletionSource();
        var script = new HandlerScript
        {
            Behaviour = async (_, token) =>
            {
                started.TrySetResult();
                await Task.Delay(Timeout.Infinite, token);
            },
        };
        var settings = Retries(maxAttempts: 5);
        settings["WebhookReceiver:Dispatch:ShutdownGrace"] = "00:00:00.300";
        var run = Payloads.Run();
        using var directory = new TempDirectory();
        await using (var before = new TestApp(settings, Handlers(null, ("hung", script)), directory: directory))
        {
            await before.PostWebhookAsync(run.ToJsonString());
            await started.Task.WaitAsync(TimeSpan.FromSeconds(20)); // running, and it will not end by itself
        }

        var resumed = new HandlerScript();
        await using var after = new TestApp(settings, Handlers(null, ("hung", resumed)), directory: directory);
        _ = after.Server;
        await resumed.WaitForCallsAsync(1);

        Assert.Single(script.Calls); // cancelled at shutdown
        Assert.Equal(1, resumed.Calls[0].Context.Attempt); // the released attempt did not count
        await DeliveryAsync(after, run, "hung", d => (string?)d["state"] == "succeeded");
    }

    [Fact]
    public async Task Handlers_receive_the_typed_run_with_its_raw_json_and_the_token_redacted()
    {
        var script = new HandlerScript();
        await using var app = new TestApp(Retries(maxAttempts: 1), Handlers(null, ("typed", script)));
        var run = Payloads.Run(status: "error", metadata: new JsonObject { ["order_id"] = "A-7" });
        run["error"] = new JsonObject { ["error"] = "ValueError", ["message"] = "bad input" };
        run["run_started_at"] = "2025-06-01T10:00:00.000000+00:00";
        run["run_ended_at"] = "2025-06-01T10:00:01.500000+00:00";

        var response = await Json.ReadAsync(await app.PostWebhookAsync(run.ToJsonString()));
        await script.WaitForCallsAsync(1);

        var call = script.Calls[0];
        Assert.Equal((string?)run["run_id"], call.Run.RunId);
        Assert.Equal("error", call.Run.Status);
        Assert.Equal("agent", call.Run.GraphId);
        Assert.Equal("A-7", call.Run.MetadataValue("order_id"));
        Assert.Equal("ValueError: bad input", call.Run.ErrorMessage);
        Assert.Equal(TimeSpan.FromSeconds(1.5), call.Run.Duration);
        Assert.DoesNotContain(TestApp.Token, call.Run.RawJson, StringComparison.Ordinal);
        Assert.Contains("token=[REDACTED]", call.Run.RawJson, StringComparison.Ordinal);
        Assert.Equal((long)response["id"]!, call.Context.WebhookId);
        Assert.Equal("typed", call.Context.Handler);
        Assert.Equal(1, call.Context.Attempt);
    }

    /// <summary>
    /// Moves the fake clock on in small steps until the handler has been called <paramref name="calls"/> times: the
    /// dispatcher sets its next poll timer only after it has looked, so one big step can land before that timer exists.
    /// After each step of 20 ms the dispatcher gets up to 100 ms of real time to make the call, so that a dispatcher slowed
    /// by a loaded machine sees the clock move on by a step, not by seconds, while it claims and calls.
    /// </summary>
    private static async Task AdvanceUntilCalledAsync(FakeTimeProvider clock, HandlerScript script, int calls)
    {
        for (var step = 0; script.Calls.Count < calls && step < 1000; step++)
        {
            clock.Advance(TimeSpan.FromMilliseconds(20));
            await script.CalledWithinAsync(calls, TimeSpan.FromMilliseconds(100));
        }

        await script.WaitForCallsAsync(calls);
    }

    /// <summary>Waits until the dispatcher has recorded the n-th failed attempt, so that the clock moves only after it.</summary>
    private static Task<JsonObject> FailureRecordedAsync(TestApp app, JsonObject run, string handler, int attempts) =>
        DeliveryAsync(app, run, handler, d => (string?)d["state"] == "failed" && (int)d["attempts"]! == attempts);

    private static async Task<JsonObject> DeliveryAsync(TestApp app, JsonObject run, string handler, Func<JsonObject, bool> done) =>
        await Eventually.MatchAsync(
            async () => (await app.GetAdminAsync<JsonObject>($"/api/runs/{run["run_id"]}"))["deliveries"]!.AsArray()
                .Select(d => d!.AsObject()).Single(d => (string?)d["handler"] == handler),
            done);
}
