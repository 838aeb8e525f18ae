using System.Globalization;
using System.Net;
using System.Text;
using WebhookReceiver.Tests.Infrastructure;

namespace WebhookReceiver.Chaos;

public sealed record ChaosSettings
{
    /// <summary><c>Sqlite</c> (one service on a small tmpfs that is filled now and then) or <c>Postgres</c> (two replicas on a server that is restarted now and then).</summary>
    public required string Engine { get; init; }

    public required string ServiceDll { get; init; }

    /// <summary>Holds the logs (the sender's answers, the target's hits, each replica's console) and, for SQLite, the mount point.</summary>
    public required string Directory { get; init; }

    public int Kills { get; init; } = 100;

    /// <summary>The run stops killing after this even short of <see cref="Kills"/> (and says so).</summary>
    public TimeSpan MaxDuration { get; init; } = TimeSpan.FromMinutes(30);

    /// <summary>PostgreSQL restarts (Postgres) or disk fills (Sqlite), spread over the kills.</summary>
    public int StoreFaults { get; init; } = 3;

    /// <summary>How long the store stays broken once every replica says it is not ready.</summary>
    public TimeSpan StoreFaultHold { get; init; } = TimeSpan.FromSeconds(4);

    /// <summary>Each life of a replica lasts a random time up to this before it is killed.</summary>
    public TimeSpan MaxLife { get; init; } = TimeSpan.FromSeconds(3);

    public int TmpfsMegabytes { get; init; } = 1024;

    public LoadShape Load { get; init; } = new() { Senders = 4, Pause = TimeSpan.FromMilliseconds(15), LargeShare = 0.01 };

    public int Seed { get; init; } = Environment.TickCount;

    /// <summary>
    /// The repository whose tests/langgraph-e2e holds the LangGraph dev server: with it, real runs are made on that server
    /// (webhooks through <see cref="WebhookStandIn"/>), their pauses resumed through the receiver, and what the stand-in
    /// had to refuse recovered by the receiver's sweep; null: no LangGraph server.
    /// </summary>
    public string? LangGraphRepository { get; init; }

    public Action<string> Log { get; init; } = System.Console.WriteLine;
}

public sealed record ChaosResult(string Summary, IReadOnlyList<string> Violations, string Details);

/// <summary>
/// The chaos run of issue #27: webhooks streamed at the service while it is SIGKILLed at random moments and restarted,
/// its store is broken and repaired under it, and its forward target fails and hangs; then the sender's log of every
/// answer is checked against the store and the target's log of every request.
/// </summary>
public static class ChaosRun
{
    private static readonly TimeSpan AttemptTimeout = TimeSpan.FromSeconds(2);
    private static readonly TimeSpan ShutdownGrace = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan LeaseMargin = TimeSpan.FromSeconds(2);
    private static readonly TimeSpan MaxQueueWait = TimeSpan.FromSeconds(5);
    private static readonly TimeSpan Lease = AttemptTimeout + ShutdownGrace + LeaseMargin;

    /// <summary>An answer slower than this is a hang: the ingest waits at most MaxQueueWait, plus room for a loaded machine.</summary>
    public static readonly TimeSpan HangLimit = MaxQueueWait + TimeSpan.FromSeconds(5);

    public static async Task<ChaosResult> RunAsync(ChaosSettings s, CancellationToken cancellationToken = default)
    {
        var log = s.Log;
        var sqlite = s.Engine == "Sqlite";
        var random = new Random(s.Seed);
        System.IO.Directory.CreateDirectory(s.Directory);
        var faults = new List<Fault>();
        var violations = new List<string>();
        var token = Secrets.New();
        var name = sqlite ? "sqlite" : "postgres";

        TinyDisk? disk = null;
        LangGraphServer? langGraph = null;
        WebhookStandIn? standIn = null;
        LangGraphDriver? driver = null;
        PostgresCluster? cluster = null;
        var receivers = new List<Receiver>();
        await using var target = await FlakyTarget.StartAsync(failRate: 0.10, hangRate: 0.03, hang: AttemptTimeout + TimeSpan.FromSeconds(1), keepHits: true);
        try
        {
            string connectionString;
            if (sqlite)
            {
                disk = await TinyDisk.MountAsync(Path.Combine(s.Directory, "disk"), s.TmpfsMegabytes);
                connectionString = $"Data Source={Path.Combine(disk.Path, "webhooks.db")}";
            }
            else
            {
                cluster = await PostgresCluster.StartAsync();
                connectionString = cluster.ConnectionString + ";Maximum Pool Size=20";
            }

            var environment = new Dictionary<string, string>
            {
                ["WebhookReceiver__Tokens__0"] = token,
                ["WebhookReceiver__AdminKeys__0"] = Secrets.New(),
                ["WebhookReceiver__Storage__Provider"] = sqlite ? "Sqlite" : "Postgres",
                ["WebhookReceiver__Storage__ConnectionString"] = connectionString,
                ["WebhookReceiver__Limits__PermitsPerSecond"] = "0",
                ["WebhookReceiver__MaxBodyBytes"] = s.Load.MaxBodyBytes.ToString(CultureInfo.InvariantCulture),
                ["WebhookReceiver__Ingest__MaxQueueWait"] = MaxQueueWait.ToString(),
                ["WebhookReceiver__Dispatch__Concurrency"] = "16",
                ["WebhookReceiver__Dispatch__AttemptTimeout"] = AttemptTimeout.ToString(),
                ["WebhookReceiver__Dispatch__ShutdownGrace"] = ShutdownGrace.ToString(),
                ["WebhookReceiver__Dispatch__LeaseMargin"] = LeaseMargin.ToString(),
                ["WebhookReceiver__Dispatch__InitialRetryDelay"] = "00:00:00.200",
                ["WebhookReceiver__Dispatch__MaxRetryDelay"] = "00:00:02",
                ["WebhookReceiver__Dispatch__MaxAttempts"] = "12",
                ["WebhookReceiver__Dispatch__PollInterval"] = "00:00:00.200",
                ["WebhookReceiver__Retention__Enabled"] = "false",
                ["WebhookReceiver__Handlers__Forward__0__Name"] = "target",
                ["WebhookReceiver__Handlers__Forward__0__Url"] = target.Url.ToString(),
                ["WebhookReceiver__Handlers__Forward__0__Secret"] = "whsec_" + Convert.ToBase64String(Encoding.UTF8.GetBytes(Secrets.New())),
                ["Serilog__MinimumLevel__Default"] = "Warning",
                ["Serilog__MinimumLevel__Override__Microsoft.Hosting.Lifetime"] = "Information",
            };
            var adminKey = environment["WebhookReceiver__AdminKeys__0"];
            if (s.LangGraphRepository is { } repository)
            {
                langGraph = await LangGraphServer.StartAsync(repository, Path.Combine(s.Directory, "langgraph"));
                standIn = await WebhookStandIn.StartAsync(() => receivers);
                environment["WebhookReceiver__LangGraph__Deployments__0__Name"] = "dev";
                environment["WebhookReceiver__LangGraph__Deployments__0__ApiUrl"] = langGraph.BaseAddress.ToString();
                environment["WebhookReceiver__LangGraph__PublicUrl"] = standIn.Url.ToString();
                // Verification would ask the server about every synthetic webhook too; the sweep and the resumes are the point here.
                environment["WebhookReceiver__LangGraph__Verify"] = "Off";
                environment["WebhookReceiver__LangGraph__Sweep__Interval"] = "00:00:10";
                environment["WebhookReceiver__LangGraph__Sweep__Grace"] = "00:00:05";
            }

            foreach (var replica in sqlite ? new[] { "sqlite-1" } : ["pg-1", "pg-2"])
            {
                receivers.Add(new Receiver(replica, s.ServiceDll, LoopbackPorts.Free(), environment, s.Directory));
            }

            await Task.WhenAll(receivers.Select(r => r.StartAsync(TimeSpan.FromSeconds(90))));
            var store = new Store(sqlite ? "Sqlite" : "Postgres", connectionString);
            log($"chaos {name}: seed {s.Seed}; {receivers.Count} replica(s) on {string.Join(", ", receivers.Select(r => r.BaseAddress))}; " +
                $"{s.Kills} kills, {s.StoreFaults} {(sqlite ? "disk fills" : "PostgreSQL restarts")}; target {target.Url} fails 10%, hangs 3%");

            await using var sender = new Sender(s.Load, () => receivers, token, Path.Combine(s.Directory, "sender.tsv"));
            await sender.WaitForAcknowledgedAsync(20, TimeSpan.FromSeconds(60), "the first webhooks");
            if (langGraph is not null)
            {
                driver = new LangGraphDriver(langGraph.BaseAddress, $"{standIn!.Url}?token={token}", adminKey, () => receivers, TimeSpan.FromMilliseconds(700));
                log($"chaos {name}: LangGraph dev server on {langGraph.BaseAddress}, its webhooks to the stand-in {standIn.Url}");
            }

            var clock = System.Diagnostics.Stopwatch.StartNew();
            var faultAt = Enumerable.Range(1, s.StoreFaults).Select(i => Math.Max(1, s.Kills * i / (s.StoreFaults + 1))).ToList();
            var storeFaults = 0;
            var kills = 0;
            var killedBoth = 0;
            while (kills < s.Kills && clock.Elapsed < s.MaxDuration && !cancellationToken.IsCancellationRequested)
            {
                await Task.Delay(TimeSpan.FromMilliseconds(random.Next(200, (int)s.MaxLife.TotalMilliseconds)), cancellationToken);
                var victims = receivers.Count == 1 || random.NextDouble() >= 0.15
                    ? [receivers[random.Next(receivers.Count)]]
                    : receivers.ToList();
                foreach (var victim in victims)
                {
                    await victim.KillAsync();
                    faults.Add(new Fault("kill", victim.Name, Clock.Ms, Clock.Ms));
                    kills++;
                }

                killedBoth += victims.Count > 1 ? 1 : 0;
                await Task.Delay(random.Next(0, 500), cancellationToken);
                foreach (var victim in victims)
                {
                    await StartAgainAsync(victim, violations);
                }

                // Due once the kills pass each of the evenly spread marks (a round that kills both replicas counts two).
                if (storeFaults < faultAt.Count(k => k <= kills))
                {
                    storeFaults++;
                    var fault = await BreakAndRepairAsync(s, receivers, disk, cluster, storeFaults, violations);
                    faults.Add(fault);
                }

                if (kills % 10 == 0 || kills >= s.Kills)
                {
                    log($"chaos {name}: {kills} kills at {clock.Elapsed.TotalSeconds:0} s; {sender.Sent} sent, {sender.Acknowledged} acknowledged; " +
                        $"target requests {target.Requests}");
                }
            }

            while (storeFaults < s.StoreFaults && !cancellationToken.IsCancellationRequested)
            {
                storeFaults++;
                faults.Add(await BreakAndRepairAsync(s, receivers, disk, cluster, storeFaults, violations));
            }

            // The last lives are not killed: a little more load, then the check.
            await sender.WaitForAcknowledgedAsync(sender.Acknowledged + 50, TimeSpan.FromSeconds(60), "webhooks after the last fault");
            await sender.StopAsync();
            var sentFor = clock.Elapsed;
            var langGraphLine = "";
            if (driver is not null)
            {
                await driver.StopMakingAsync();
                var stillWaiting = await driver.ResumeAllAsync(TimeSpan.FromSeconds(180));
                // A run whose webhook the stand-in refused comes back with a sweep: every 10 s, runs finished 5 s ago.
                var runs = driver.Runs.Keys.ToList();
                var lgClock = System.Diagnostics.Stopwatch.StartNew();
                HashSet<string> held;
                while ((held = await store.HeldAsync(runs)).Count < runs.Count && lgClock.Elapsed < TimeSpan.FromSeconds(90))
                {
                    await Task.Delay(1000, cancellationToken);
                }

                var swept = await store.SweptAsync();
                var missing = runs.Where(r => !held.Contains(r)).ToList();
                if (missing.Count > 0)
                {
                    violations.Add($"{missing.Count} LangGraph runs never reached the store: {string.Join(", ", missing.Take(10))}");
                }

                if (stillWaiting > 0)
                {
                    var states = new List<string>();
                    foreach (var run in driver.NotResumed.Take(10))
                    {
                        states.Add($"{run}: webhook {(held.Contains(run) ? "stored" : "not stored")}{(swept.Contains(run) ? " by the sweep" : "")}, interrupt {await store.InterruptStateAsync(run)}");
                    }

                    violations.Add($"{stillWaiting} pauses were not resumed through the receiver: {string.Join("; ", states)}");
                }

                langGraphLine = $"; LangGraph runs {runs.Count} ({driver.Runs.Values.Count(v => v == "ask")} paused, {driver.Resumed} resumed through the receiver), " +
                    $"stored {held.Count} ({runs.Count(swept.Contains)} by the sweep), stand-in 503s {standIn!.StoodIn}";
                log($"chaos {name}: LangGraph: {runs.Count} runs made ({string.Join(", ", driver.Runs.Values.GroupBy(v => v).Select(g => $"{g.Count()} {g.Key}"))}), " +
                    $"{held.Count} stored, {runs.Count(swept.Contains)} of them recovered by the sweep; {missing.Count} missing; stand-in passed {standIn.Passed}, answered 503 {standIn.StoodIn}; " +
                    $"failed calls {driver.FailedCalls}");
            }

            if (kills < s.Kills)
            {
                violations.Add($"only {kills} kills of {s.Kills} within {s.MaxDuration.TotalMinutes:0} min");
            }

            // Every delivery must reach a final state; a lease left by the last kills runs out first.
            var drainClock = System.Diagnostics.Stopwatch.StartNew();
            long unfinished;
            while ((unfinished = await store.UnfinishedDeliveriesAsync()) > 0 && drainClock.Elapsed < TimeSpan.FromMinutes(3))
            {
                await Task.Delay(1000, cancellationToken);
            }

            var contents = await store.ReadAsync();
            foreach (var receiver in receivers)
            {
                if (!receiver.Running)
                {
                    violations.Add($"{receiver.Name} was not running at the end:\n{receiver.Tail()}");
                }

                await receiver.StopAsync(TimeSpan.FromSeconds(30));
            }

            var integrity = await store.IntegrityAsync();
            var (summary, details) = Check(s, name, sender.Answers.ToList(), target.Hits.ToList(), contents, faults, kills, killedBoth, storeFaults,
                unfinished, integrity, sentFor, violations);
            await WriteLogsAsync(s.Directory, target.Hits, faults);
            summary += langGraphLine;
            log(details);
            log(summary);
            return new ChaosResult(summary, violations, details);
        }
        finally
        {
            if (driver is not null)
            {
                await driver.DisposeAsync();
            }

            foreach (var receiver in receivers)
            {
                await receiver.DisposeAsync();
            }

            if (disk is not null)
            {
                disk.Free();
                await disk.DisposeAsync();
            }

            if (cluster is not null)
            {
                await cluster.DisposeAsync();
            }

            if (standIn is not null)
            {
                await standIn.DisposeAsync();
            }

            if (langGraph is not null)
            {
                await langGraph.DisposeAsync();
            }
        }
    }

    private static async Task StartAgainAsync(Receiver receiver, List<string> violations)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                await receiver.StartAsync(TimeSpan.FromSeconds(90));
                return;
            }
            catch (Exception ex) when (ex is InvalidOperationException or TimeoutException && attempt < 3)
            {
                violations.Add($"{receiver.Name} did not start again after a kill (attempt {attempt}): {ex.Message}");
                await receiver.KillAsync();
            }
        }
    }

    /// <summary>Fills the SQLite file's disk, or stops PostgreSQL; holds it; repairs it; the replicas must come back by themselves.</summary>
    private static async Task<Fault> BreakAndRepairAsync(ChaosSettings s, List<Receiver> receivers, TinyDisk? disk, PostgresCluster? cluster, int number,
        List<string> violations)
    {
        var start = Clock.Ms;
        var what = disk is not null ? "disk full" : "PostgreSQL restart";
        var pids = receivers.Select(r => r.Pid).ToList();
        if (disk is not null)
        {
            disk.Fill();
        }
        else
        {
            await cluster!.StopServerAsync();
        }

        var unready = await WaitForAsync(receivers, HttpStatusCode.ServiceUnavailable, TimeSpan.FromSeconds(30));
        if (!unready)
        {
            violations.Add($"{what} #{number}: not every replica said it was unready within 30 s");
        }

        await Task.Delay(s.StoreFaultHold);
        if (disk is not null)
        {
            disk.Free();
        }
        else
        {
            await cluster!.StartServerAsync();
        }

        var repairedAt = Clock.Ms;
        var ready = await WaitForAsync(receivers, HttpStatusCode.OK, TimeSpan.FromSeconds(60));
        if (!ready)
        {
            violations.Add($"{what} #{number}: the replicas were not ready again within 60 s of the repair");
        }

        if (!receivers.Select(r => r.Pid).SequenceEqual(pids))
        {
            violations.Add($"{what} #{number}: a replica stopped during the fault");
        }

        s.Log($"chaos: {what} #{number}: unready {(unready ? "yes" : "NO")}, ready again {(Clock.Ms - repairedAt) / 1000.0:0.0} s after the repair");
        return new Fault(disk is not null ? "disk-full" : "postgres-restart", "store", start, Clock.Ms);
    }

    private static async Task<bool> WaitForAsync(List<Receiver> receivers, HttpStatusCode status, TimeSpan timeout)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (clock.Elapsed < timeout)
        {
            var all = await Task.WhenAll(receivers.Select(r => r.ReadinessAsync()));
            if (all.All(a => a == status))
            {
                return true;
            }

            await Task.Delay(100);
        }

        return false;
    }

    private static (string Summary, string Details) Check(ChaosSettings s, string name, List<Answer> answers, List<Hit> hits, StoreContents store,
        List<Fault> faults, int kills, int killedBoth, int storeFaults, long unfinished, string integrity, TimeSpan sentFor, List<string> violations)
    {
        var details = new StringBuilder();
        var acked = answers.Where(a => a.Acknowledged).Select(a => a.RunId).ToHashSet();
        var lost = acked.Where(r => !store.Runs.ContainsKey(r)).ToList();
        var storedTwice = store.Runs.Where(r => r.Value > 1).Select(r => r.Key).ToList();
        // A run answered 2xx and later answered 202 "new" again was not held in between.
        var firstAck = answers.Where(a => a.Acknowledged).GroupBy(a => a.RunId).ToDictionary(g => g.Key, g => g.Min(a => a.EndMs));
        var takenAgain = answers.Where(a => a.Status == 202 && !a.Duplicate && firstAck.TryGetValue(a.RunId, out var at) && a.StartMs > at).ToList();
        var other5xx = answers.Where(a => a.Status >= 500 && a.Status != 503).ToList();
        var answered503 = answers.Count(a => a.Status == 503);
        var without = answers.Count(a => a.Status == 503 && !a.RetryAfter);
        var unexpected = answers.Where(a => a.Status is > 0 and (< 200 or (>= 300 and < 500))).ToList();
        var hangs = answers.Where(a => a.Millis > HangLimit.TotalMilliseconds).ToList();
        var noAnswer = answers.Count(a => a.Status == 0);
        var storedUnacked = answers.Where(a => !a.Acknowledged).Select(a => a.RunId).Distinct().Count(r => !acked.Contains(r) && store.Runs.ContainsKey(r));

        var deliveries = store.Deliveries.SelectMany(d => d.Value).ToList();
        var missingHandlers = store.Runs.Keys.Where(r => !store.Deliveries.TryGetValue(r, out var d)
            || !d.Any(x => x.Handler == "log") || !d.Any(x => x.Handler == "target")).ToList();
        var notFinal = deliveries.Where(d => d.State is not ("succeeded" or "dead")).ToList();
        var dead = deliveries.Count(d => d.State == "dead");
        var byDelivery = hits.GroupBy(h => h.DeliveryId).ToDictionary(g => g.Key, g => g.OrderBy(h => h.AtMs).ToList());
        var targetDeliveries = deliveries.Where(d => d.Handler == "target").ToList();
        var neverReached = targetDeliveries.Where(d => d.State == "succeeded"
            && !(byDelivery.TryGetValue($"delivery_{d.Id}", out var h) && h.Any(x => x.Succeeded))).ToList();
        var known = targetDeliveries.Select(d => $"delivery_{d.Id}").ToHashSet();
        var unknownHits = byDelivery.Keys.Where(k => !known.Contains(k)).ToList();
        var deadButDelivered = targetDeliveries.Where(d => d.State == "dead"
            && byDelivery.TryGetValue($"delivery_{d.Id}", out var h) && h.Any(x => x.Succeeded)).ToList();

        // Done more than once: the target answered 2xx more than once for one delivery. Explained when a kill, or a store
        // outage that kept the outcome from being recorded, fell between that first 2xx and the end of its lease.
        var doubles = byDelivery.Where(kv => kv.Value.Count(h => h.Succeeded) > 1).ToList();
        var explainedByKill = 0;
        var explainedByStore = 0;
        var unexplained = new List<string>();
        foreach (var (delivery, list) in doubles)
        {
            var first = list.First(h => h.Succeeded).AtMs;
            if (faults.Any(f => f.Kind == "kill" && f.StartMs >= first - 500 && f.StartMs <= first + Lease.TotalMilliseconds))
            {
                explainedByKill++;
            }
            else if (faults.Any(f => f.Kind != "kill" && f.StartMs <= first + Lease.TotalMilliseconds && f.EndMs >= first - 500))
            {
                explainedByStore++;
            }
            else
            {
                unexplained.Add($"{delivery} (run {list[0].RunId}): 2xx at {string.Join(", ", list.Where(h => h.Succeeded).Select(h => $"{h.AtMs} ms"))}");
            }
        }

        void Expect(bool ok, string violation)
        {
            if (!ok)
            {
                violations.Add(violation);
            }
        }

        Expect(lost.Count == 0, $"{lost.Count} webhooks answered 2xx are not in the store: {string.Join(", ", lost.Take(10))}");
        Expect(storedTwice.Count == 0, $"{storedTwice.Count} runs stored more than once");
        Expect(takenAgain.Count == 0, $"{takenAgain.Count} runs answered 2xx were later taken as new (202, not duplicate): {string.Join(", ", takenAgain.Take(10).Select(a => a.RunId))}");
        Expect(other5xx.Count == 0, $"{other5xx.Count} answers were 5xx other than 503: {string.Join(", ", other5xx.GroupBy(a => a.Status).Select(g => $"{g.Count()} x {g.Key}"))}");
        Expect(without == 0, $"{without} answers 503 without Retry-After");
        Expect(unexpected.Count == 0, $"{unexpected.Count} unexpected answers: {string.Join(", ", unexpected.GroupBy(a => $"{a.Status} {a.Kind}").Select(g => $"{g.Count()} x {g.Key}"))}");
        Expect(hangs.Count == 0, $"{hangs.Count} answers took longer than {HangLimit.TotalSeconds:0} s (longest {hangs.DefaultIfEmpty().Max(a => a?.Millis ?? 0)} ms)");
        Expect(missingHandlers.Count == 0, $"{missingHandlers.Count} stored webhooks without a delivery to the log and the target");
        Expect(unfinished == 0 && notFinal.Count == 0, $"{notFinal.Count} deliveries not delivered or dead at the end");
        Expect(neverReached.Count == 0, $"{neverReached.Count} deliveries marked delivered that never reached the target: {string.Join(", ", neverReached.Take(10).Select(d => d.Id))}");
        Expect(unknownHits.Count == 0, $"{unknownHits.Count} deliveries reached the target that the store does not hold: {string.Join(", ", unknownHits.Take(10))}");
        Expect(unexplained.Count == 0, $"{unexplained.Count} deliveries done more than once without a kill or store outage within their lease: {string.Join("; ", unexplained.Take(10))}");
        Expect(integrity == "ok", $"integrity: {integrity}");
        Expect(acked.Count > 0, "nothing was acknowledged");

        var kinds = string.Join(", ", answers.GroupBy(a => a.Kind).OrderBy(g => g.Key, StringComparer.Ordinal).Select(g => $"{g.Count()} {g.Key}"));
        var statuses = string.Join(", ", answers.GroupBy(a => a.Status).OrderBy(g => g.Key).Select(g => $"{g.Count()} x {(g.Key == 0 ? "no answer" : g.Key)}"));
        details.AppendLine($"chaos {name}: seed {s.Seed}; sent {answers.Count} in {sentFor.TotalMinutes:0.0} min ({kinds}); answers: {statuses}");
        details.AppendLine(($"chaos {name}: stored {store.Runs.Count} runs, of which {storedUnacked} never answered 2xx (stored, then the answer was lost to a kill); ") +
            ($"deliveries {deliveries.Count}: {deliveries.Count(d => d.State == "succeeded")} delivered, {dead} dead, {notFinal.Count} other; abandoned attempts {deliveries.Sum(d => d.Abandoned)}; " +
            $"target requests {hits.Count} ({hits.Count(h => h.Succeeded)} answered 2xx); dead but delivered {deadButDelivered.Count}; slowest answer {answers.Max(a => a.Millis)} ms"));
        foreach (var violation in violations)
        {
            details.AppendLine($"chaos {name}: VIOLATION {violation}");
        }

        var summary = (
            $"chaos {name}: kills {kills}{(killedBoth > 0 ? $" ({killedBoth} rounds killing both replicas)" : "")}, {storeFaults} {(name == "sqlite" ? "disk fills" : "PostgreSQL restarts")}; " +
            $"webhooks acked {acked.Count}, lost {lost.Count}; deliveries {deliveries.Count} final {deliveries.Count - notFinal.Count}, lost {neverReached.Count}; " +
            $"doubles {doubles.Count} ({explainedByKill} by a kill, {explainedByStore} by a store outage, {unexplained.Count} unexplained); " +
            $"503s {answered503}, other 5xx {other5xx.Count}, no answer {noAnswer}, hangs {hangs.Count}; integrity {integrity}" +
            (violations.Count == 0 ? "" : $"; {violations.Count} VIOLATIONS"));
        return (summary, details.ToString());
    }

    private static async Task WriteLogsAsync(string directory, IEnumerable<Hit> hits, List<Fault> faults)
    {
        await File.WriteAllLinesAsync(Path.Combine(directory, "target.tsv"),
            hits.Select(h => $"{h.DeliveryId}\t{h.RunId}\t{(h.Succeeded ? 1 : 0)}\t{h.AtMs}").Prepend("delivery\trun_id\tsucceeded\tat_ms"));
        await File.WriteAllLinesAsync(Path.Combine(directory, "faults.tsv"),
            faults.Select(f => $"{f.Kind}\t{f.Target}\t{f.StartMs}\t{f.EndMs}").Prepend("kind\ttarget\tstart_ms\tend_ms"));
    }
}
