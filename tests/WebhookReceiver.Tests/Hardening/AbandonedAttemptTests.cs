using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using WebhookReceiver.Tests.Infrastructure;
using WebhookReceiver.Tests.ScaleOut;
using WebhookReceiver.Webhooks;
using Xunit.Abstractions;

namespace WebhookReceiver.Tests.Hardening;

/// <summary>
/// Issue #11, item 1: a handler attempt that takes its process down (SIGKILL mid-attempt, FailFast, an out-of-memory
/// kill) must count, or a supervisor restarting the service runs it forever. The built service forwards to a target
/// that never answers, and the process is SIGKILLed as soon as the attempt reaches it, as if the handler had killed it;
/// then it is started again (SQLite: recovery at start-up) or another replica takes the lease over (PostgreSQL).
/// </summary>
[Collection(ServiceFleet.Name)]
[Trait("Category", "System")]
public sealed class AbandonedAttemptTests(ITestOutputHelper output)
{
    private const int MaxAttempts = 3;
    private const string Handler = "crashing";

    [Fact]
    public async Task SQLite_a_delivery_whose_attempt_kills_the_process_is_dead_after_max_attempts_restarts_with_every_attempt_abandoned()
    {
        var clock = Stopwatch.StartNew();
        using var data = new TempDirectory();
        await using var target = await HangingTargetAsync();
        var settings = Settings(ServiceProcess.Settings(data.Path), target.Url);
        settings["WebhookReceiver__Dispatch__AttemptTimeout"] = "00:00:30";

        var service = await ServiceProcess.StartAsync(settings);
        try
        {
            var id = await SendAsync(service);
            for (var kill = 1; kill <= MaxAttempts; kill++)
            {
                await target.WaitForRequestsAsync(kill);
                await service.KillAsync();
                output.WriteLine($"attempt {kill} reached the target; SIGKILLed at {clock.Elapsed.TotalSeconds:0.0} s");
                await service.DisposeAsync();
                service = await ServiceProcess.StartAsync(settings); // the supervisor's restart
            }

            using var admin = service.CreateClient(admin: true);
            var delivery = await DeliveryWhenDeadAsync(admin, id);
            var deadLetters = await DeadLettersAsync(service);
            output.WriteLine($"dead at {clock.Elapsed.TotalSeconds:0.0} s: {delivery.ToJsonString()}; dead letters counted: {deadLetters}");

            AssertAbandonedThrice(delivery);
            Assert.Equal(1, deadLetters);
            // This process found the last of the three abandoned: counted as such, not as a failure of its own.
            Assert.Equal(1, await AttemptsAsync(service, "abandoned"));
            await Task.Delay(500); // a fourth attempt would be running by now
            Assert.Equal(MaxAttempts, target.Received.Count);
        }
        finally
        {
            await service.DisposeAsync();
        }
    }

    [Fact]
    public async Task PostgreSQL_a_delivery_whose_attempt_kills_its_replica_is_dead_after_max_attempts_taken_over_each_time_by_another()
    {
        var clock = Stopwatch.StartNew();
        using var data = new TempDirectory();
        await using var database = await PostgresDatabase.CreateAsync();
        await using var target = await HangingTargetAsync();
        var settings = Settings(ServiceProcess.Settings(data.Path), target.Url);
        settings["WebhookReceiver__Storage__Provider"] = "Postgres";
        settings["WebhookReceiver__Storage__ConnectionString"] = database.ConnectionString;
        // A lease of 10 + 0 + 1 = 11 s, so that a dead replica's attempt is taken over soon; the attempt timeout leaves the
        // test time to find and kill the replica running it before it times out (up to 1.4 s seen on a loaded machine,
        // where 4 s left too little margin for one loaded more than that).
        settings["WebhookReceiver__Dispatch__AttemptTimeout"] = "00:00:10";
        settings["WebhookReceiver__Dispatch__ShutdownGrace"] = "00:00:00";
        settings["WebhookReceiver__Dispatch__LeaseMargin"] = "00:00:01";

        // One replica per attempt to kill, and one left to take the last lease over.
        var starts = Enumerable.Range(0, MaxAttempts + 1).Select(_ => ServiceProcess.StartAsync(settings)).ToList();
        try
        {
            var replicas = (await Task.WhenAll(starts)).ToList();
            var id = await SendAsync(replicas[0]);
            for (var kill = 1; kill <= MaxAttempts; kill++)
            {
                await target.WaitForRequestsAsync(kill, 60); // after the killed replica's lease of 11 s
                // The replica running the attempt is the one holding the lease (its owner name holds its process id).
                var owner = await database.ScalarAsync<string>("SELECT lease_owner FROM deliveries");
                var holder = replicas.Single(r => owner.Contains($"/{r.Id}/", StringComparison.Ordinal));
                await holder.KillAsync();
                replicas.Remove(holder);
                output.WriteLine($"attempt {kill} reached the target; its replica SIGKILLed at {clock.Elapsed.TotalSeconds:0.0} s");
            }

            using var admin = replicas[0].CreateClient(admin: true);
            var delivery = await DeliveryWhenDeadAsync(admin, id);
            var deadLetters = 0.0;
            foreach (var replica in replicas)
            {
                deadLetters += await DeadLettersAsync(replica);
            }

            output.WriteLine($"dead at {clock.Elapsed.TotalSeconds:0.0} s: {delivery.ToJsonString()}; dead letters counted: {deadLetters}");
            AssertAbandonedThrice(delivery);
            Assert.Equal(1, deadLetters);
            Assert.Equal(0, await database.ScalarAsync<long>("SELECT COUNT(*) FROM deliveries WHERE lease_owner IS NOT NULL"));
            Assert.Equal(MaxAttempts, target.Received.Count);
        }
        finally
        {
            foreach (var start in starts.Where(s => s.IsCompletedSuccessfully))
            {
                await (await start).DisposeAsync();
            }
        }
    }

    private static void AssertAbandonedThrice(JsonNode delivery)
    {
        Assert.Equal(DeliveryState.Dead, (string?)delivery["state"]);
        Assert.Equal(MaxAttempts, (int)delivery["attempts"]!);
        Assert.Equal(AbandonedAttempt.Error, (string?)delivery["last_error"]);
        var history = delivery["history"]!.AsArray();
        Assert.Equal(Enumerable.Range(1, MaxAttempts), history.Select(a => (int)a!["attempt"]!));
        Assert.All(history, a => Assert.Equal((AttemptOutcome.Abandoned, false, AbandonedAttempt.Error),
            ((string?)a!["outcome"], (bool)a["succeeded"]!, (string?)a["error"])));
    }

    /// <summary>A forward target that takes every request and never answers: the attempt is in flight until the kill.</summary>
    private static async Task<LoopbackListener> HangingTargetAsync()
    {
        var target = await LoopbackListener.StartAsync();
        target.AnswerDelay = TimeSpan.FromMinutes(5);
        return target;
    }

    private static Dictionary<string, string> Settings(Dictionary<string, string> settings, Uri target)
    {
        settings["WebhookReceiver__Handlers__Log__Enabled"] = "false";
        settings["WebhookReceiver__Handlers__Forward__0__Name"] = Handler;
        settings["WebhookReceiver__Handlers__Forward__0__Url"] = target.ToString();
        settings["WebhookReceiver__Handlers__Forward__0__Secret"] = "crashing-signing-secret-0123456789";
        settings["WebhookReceiver__Dispatch__MaxAttempts"] = MaxAttempts.ToString(System.Globalization.CultureInfo.InvariantCulture);
        settings["WebhookReceiver__Dispatch__InitialRetryDelay"] = "00:00:00";
        settings["Serilog__MinimumLevel__Default"] = "Warning";
        settings["Serilog__MinimumLevel__Override__Microsoft.Hosting.Lifetime"] = "Information";
        return settings;
    }

    private static async Task<long> SendAsync(ServiceProcess service)
    {
        using var client = service.CreateClient();
        using var response = await client.PostAsJsonAsync($"/webhooks/langgraph?token={TestApp.Token}", Payloads.Run());
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        return (long)JsonNode.Parse(await response.Content.ReadAsStringAsync())!["id"]!;
    }

    private static async Task<JsonNode> DeliveryWhenDeadAsync(HttpClient admin, long id) =>
        await Eventually.MatchAsync(
            async () => JsonNode.Parse(await admin.GetStringAsync($"/api/webhooks/{id}"))!["deliveries"]!.AsArray().Single()!,
            delivery => (string?)delivery["state"] == DeliveryState.Dead, 60);

    private static async Task<double> DeadLettersAsync(ServiceProcess service)
    {
        using var client = service.CreateClient();
        var metrics = new PrometheusText(await client.GetStringAsync("/metrics"));
        return metrics.Value("webhookreceiver_dead_letters_total", ("handler", Handler)) ?? 0;
    }

    private static async Task<double> AttemptsAsync(ServiceProcess service, string outcome)
    {
        using var client = service.CreateClient();
        var metrics = new PrometheusText(await client.GetStringAsync("/metrics"));
        return metrics.Value("webhookreceiver_delivery_attempts_total", ("handler", Handler), ("outcome", outcome)) ?? 0;
    }
}
