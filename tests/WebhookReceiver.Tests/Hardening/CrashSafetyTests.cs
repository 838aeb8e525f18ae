using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;
using Microsoft.Data.Sqlite;
using WebhookReceiver.Tests.Infrastructure;
using WebhookReceiver.Tests.ScaleOut;
using Xunit.Abstractions;

namespace WebhookReceiver.Tests.Hardening;

/// <summary>
/// Issue #7: the built service on a real SQLite file, under load from concurrent senders, killed (SIGKILL) at random
/// moments and started again on the same file, or stopped (SIGTERM) mid-load. Whatever was answered 2xx must be stored
/// and dispatched afterwards; nothing may be answered 5xx.
/// </summary>
[Collection(ServiceFleet.Name)]
[Trait("Category", "System")]
public sealed partial class CrashSafetyTests(ITestOutputHelper output)
{
    private const int Senders = 8;
    private const int KillPoints = 6;
    private const int AcknowledgedBeforeEachKill = 20;
    private static readonly TimeSpan PauseBetweenSends = TimeSpan.FromMilliseconds(5);
    private static readonly TimeSpan ShutdownGrace = TimeSpan.FromSeconds(2);
    // Kestrel drains its requests, the writer its queue, then the dispatcher waits out the grace and gives leases back.
    private static readonly TimeSpan ShutdownMargin = TimeSpan.FromSeconds(5);

    [Fact]
    public async Task Every_webhook_acknowledged_before_a_SIGKILL_is_stored_and_dispatched_after_the_restart()
    {
        var clock = Stopwatch.StartNew();
        var seed = Environment.TickCount;
        var random = new Random(seed);
        using var data = new TempDirectory();
        var settings = Settings(data.Path);
        var services = new List<ServiceProcess>();
        try
        {
            var service = await ServiceProcess.StartAsync(settings);
            services.Add(service);
            await using var load = WebhookLoad.Start(service.BaseAddress, Senders, PauseBetweenSends);

            var kills = new List<string>();
            for (var kill = 1; kill <= KillPoints + 1; kill++)
            {
                // Under load (some acknowledged by this life of the service), then a random moment: mid-request, mid-commit,
                // mid-dispatch, wherever it falls.
                var acknowledgedSoFar = load.AcknowledgedCount;
                await load.WaitUntilAsync(o => o.Count(x => x.Acknowledged) >= acknowledgedSoFar + AcknowledgedBeforeEachKill,
                    TimeSpan.FromSeconds(30), $"{AcknowledgedBeforeEachKill} acknowledged after start {kill}");
                if (kill > KillPoints)
                {
                    break; // The last life is not killed: it is the one that is checked.
                }

                await Task.Delay(random.Next(0, 1500));
                await service.KillAsync();
                load.Hold();
                kills.Add($"#{kill} at {clock.Elapsed.TotalSeconds:0.0} s ({load.AcknowledgedCount - acknowledgedSoFar} acknowledged in that life)");
                load.Phase = kill;

                service = await ServiceProcess.StartAsync(settings);
                services.Add(service);
                load.Resume(service.BaseAddress);
            }

            await load.StopAsync();
            var sentIn = clock.Elapsed;

            using var admin = service.CreateClient(admin: true);
            var deliveries = await StoredRuns.WaitUntilDispatchedAsync(admin, TimeSpan.FromSeconds(45));
            var stored = await StoredRuns.ReadAllAsync(admin);
            var integrity = await IntegrityCheckAsync(Path.Combine(data.Path, "webhooks.db"));

            var outcomes = load.Outcomes.ToList();
            var acknowledged = outcomes.Where(o => o.Acknowledged).Select(o => o.RunId).ToList();
            var unanswered = outcomes.Where(o => o.Status is null).Select(o => o.RunId).ToList();
            var serverErrors = outcomes.Where(o => o.ServerError).ToList();
            var lost = acknowledged.Where(runId => !stored.ContainsKey(runId)).ToList();
            var undelivered = stored.Where(s => s.Value.Length == 0 || s.Value.Any(state => state != "succeeded")).Select(s => s.Key).ToList();

            output.WriteLine($"seed {seed}; {Senders} senders; {KillPoints} SIGKILLs: {string.Join("; ", kills)}");
            output.WriteLine($"sent {outcomes.Count} in {sentIn.TotalSeconds:0.0} s: {load.Summary()}");
            output.WriteLine($"acknowledged {acknowledged.Count}, found after the restarts {acknowledged.Count - lost.Count}, lost {lost.Count}; " +
                             $"answered 5xx {serverErrors.Count}; unanswered {unanswered.Count}, of which stored {unanswered.Count(stored.ContainsKey)}");
            output.WriteLine($"stored {stored.Count}; deliveries {string.Join(", ", deliveries.Select(d => $"{d.Value} {d.Key}"))}; " +
                             $"checked at {clock.Elapsed.TotalSeconds:0.0} s; integrity_check: {integrity}");

            Assert.Equal(KillPoints, kills.Count);
            Assert.Equal("ok", integrity);
            Assert.Empty(serverErrors);
            Assert.Empty(lost);
            Assert.Empty(undelivered);
            Assert.True(acknowledged.Count >= (KillPoints + 1) * AcknowledgedBeforeEachKill);
            Assert.Equal(acknowledged.Count + unanswered.Count(stored.ContainsKey), stored.Count);
        }
        finally
        {
            foreach (var service in services)
            {
                await service.DisposeAsync();
            }
        }
    }

    [Fact]
    public async Task SIGTERM_mid_load_answers_no_5xx_exits_within_the_grace_and_loses_nothing_acknowledged()
    {
        var clock = Stopwatch.StartNew();
        using var data = new TempDirectory();
        // A slow downstream for some runs keeps attempts running past the grace, so that shutdown has leases to give back.
        await using var slow = await LoopbackListener.StartAsync();
        slow.AnswerDelay = TimeSpan.FromSeconds(3);
        var settings = Settings(data.Path);
        settings["WebhookReceiver__Dispatch__ShutdownGrace"] = ShutdownGrace.ToString();
        settings["WebhookReceiver__Dispatch__Concurrency"] = "32";
        settings["WebhookReceiver__Handlers__Forward__0__Name"] = "slow";
        settings["WebhookReceiver__Handlers__Forward__0__Url"] = slow.Url.ToString();
        settings["WebhookReceiver__Handlers__Forward__0__Secret"] = "slow-signing-secret-0123456789";
        settings["WebhookReceiver__Handlers__Forward__0__Statuses__0"] = "error";

        var first = await ServiceProcess.StartAsync(settings);
        ServiceProcess? second = null;
        try
        {
            TimeSpan exitedIn;
            await using (var load = WebhookLoad.Start(first.BaseAddress, Senders, PauseBetweenSends,
                             n => n % 40 == 0 ? Payloads.Run(status: "error") : Payloads.Run()))
            {
                await load.WaitUntilAsync(o => o.Count(x => x.Acknowledged) >= 300, TimeSpan.FromSeconds(30), "300 acknowledged");
                await Eventually.MatchAsync(() => Task.FromResult(slow.Received.Count), n => n >= 1);

                load.Phase = 1;
                exitedIn = await first.TerminateAsync(ShutdownGrace + TimeSpan.FromSeconds(30));
                load.Phase = 2;
                await Task.Delay(200); // senders meet the closed port too
                await load.StopAsync();

                var outcomes = load.Outcomes.ToList();
                var duringShutdown = outcomes.Where(o => o.PhaseAtEnd >= 1 && o.PhaseAtStart <= 1).ToList();
                var released = Released().Matches(string.Join('\n', first.Output)).Select(m => int.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture)).Sum();
                output.WriteLine($"{Senders} senders; SIGTERM at {clock.Elapsed.TotalSeconds - exitedIn.TotalSeconds:0.0} s, exited (code {first.ExitCode}) in " +
                                 $"{exitedIn.TotalSeconds:0.00} s with ShutdownGrace {ShutdownGrace.TotalSeconds:0} s; {released} leases given back");
                output.WriteLine($"all: {load.Summary()}");
                output.WriteLine($"answered while shutting down: {duringShutdown.Count(o => o.Status is not null)} " +
                                 $"({string.Join(", ", duringShutdown.Where(o => o.Status is not null).GroupBy(o => o.Status).Select(g => $"{g.Count()} {g.Key}"))}), " +
                                 $"no answer {duringShutdown.Count(o => o.Status is null)}");

                var serverErrors = outcomes.Where(o => o.ServerError).ToList();
                Assert.Empty(serverErrors);
                Assert.True(exitedIn < ShutdownGrace + ShutdownMargin, $"Exited in {exitedIn.TotalSeconds:0.00} s.");
                Assert.Equal(0, first.ExitCode);
                Assert.True(released > 0, "No attempt was running past the grace, so the test proved nothing about giving leases back.");

                second = await ServiceProcess.StartAsync(settings);
                using var admin = second.CreateClient(admin: true);
                await StoredRuns.WaitUntilDispatchedAsync(admin, TimeSpan.FromSeconds(40));
                var stored = await StoredRuns.ReadAllAsync(admin);
                var acknowledged = outcomes.Where(o => o.Acknowledged).Select(o => o.RunId).ToList();
                output.WriteLine($"after the restart: acknowledged {acknowledged.Count}, found {acknowledged.Count(stored.ContainsKey)}, stored {stored.Count}, " +
                                 $"slow target reached for {slow.DeliveriesByRunId().Count} runs; checked at {clock.Elapsed.TotalSeconds:0.0} s");

                var lost = acknowledged.Where(runId => !stored.ContainsKey(runId)).ToList();
                var undelivered = stored.Where(s => s.Value.Any(state => state != "succeeded")).Select(s => s.Key).ToList();
                var slowRuns = stored.Where(s => s.Value.Length == 2).Select(s => s.Key).ToList();
                var slowReached = slow.DeliveriesByRunId();
                var slowNeverReached = slowRuns.Where(runId => !slowReached.ContainsKey(runId)).ToList();
                Assert.Empty(lost);
                Assert.Empty(undelivered);
                Assert.NotEmpty(slowRuns);
                Assert.Empty(slowNeverReached);
            }
        }
        finally
        {
            await first.DisposeAsync();
            if (second is not null)
            {
                await second.DisposeAsync();
            }
        }
    }

    /// <summary>SQLite's own check of the file that was killed under six times: every page, index and constraint.</summary>
    private static async Task<string> IntegrityCheckAsync(string file)
    {
        await using var connection = new SqliteConnection($"Data Source={file};Pooling=False");
        await connection.OpenAsync();
        await using var check = connection.CreateCommand();
        check.CommandText = "PRAGMA integrity_check";
        return (string)(await check.ExecuteScalarAsync())!;
    }

    /// <summary>Its own file, no rate limit (the senders are one client), warnings only but the lines the test reads.</summary>
    private static Dictionary<string, string> Settings(string dataDirectory)
    {
        var settings = ServiceProcess.Settings(dataDirectory);
        settings["WebhookReceiver__Limits__PermitsPerSecond"] = "0";
        settings["WebhookReceiver__Dispatch__Concurrency"] = "32";
        settings["Serilog__MinimumLevel__Default"] = "Warning";
        settings["Serilog__MinimumLevel__Override__Microsoft.Hosting.Lifetime"] = "Information";
        settings["Serilog__MinimumLevel__Override__WebhookReceiver.Webhooks.Dispatcher"] = "Information";
        return settings;
    }

    [GeneratedRegex(@"gave back (\d+) deliveries")]
    private static partial Regex Released();
}
