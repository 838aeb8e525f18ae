using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using WebhookReceiver.Tests.Infrastructure;
using Xunit.Abstractions;

namespace WebhookReceiver.Tests.ScaleOut;

/// <summary>Tests that start several service processes: run after the others, one at a time, so their timings hold on a small machine.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class ServiceFleet
{
    public const string Name = "Service fleet";
}

/// <summary>
/// Issue #5: several replicas of the real service on one PostgreSQL inbox, one of them SIGKILLed part-way and started
/// again. Nothing acknowledged may be lost or stored twice, and nothing may be delivered twice except what the killed
/// replica had in flight (at-least-once: its leases expire and another replica runs those deliveries again).
/// </summary>
[Collection(ServiceFleet.Name)]
[Trait("Category", "System")]
public sealed class ReplicasOnOnePostgresTests(ITestOutputHelper output)
{
    private const int ReplicaCount = 3;
    private const int DistinctRuns = 3000;
    private const int Repeats = 1000;
    private const int Senders = 24;
    private const int KillAfterAnswers = 1500;
    private const int KilledReplica = 2;
    private const int DispatchConcurrency = 16;
    private static readonly TimeSpan TestDeadline = TimeSpan.FromMinutes(3);
    // A slow downstream: every replica's dispatcher is kept full, so the killed one dies holding leases to take over.
    private static readonly TimeSpan CounterAnswerDelay = TimeSpan.FromMilliseconds(400);

    private sealed record Answer(string RunId, HttpStatusCode Status, bool Duplicate, int Tries);

    [Fact]
    public async Task Three_replicas_store_each_acknowledged_webhook_once_and_deliver_it_while_one_is_killed_and_restarted()
    {
        var clock = Stopwatch.StartNew();
        using var deadline = new CancellationTokenSource(TestDeadline);
        await using var database = await PostgresDatabase.CreateAsync();
        await using var counter = await LoopbackListener.StartAsync();
        counter.AnswerDelay = CounterAnswerDelay;
        using var directory = new TempDirectory();
        var settings = ReplicaSettings(directory.Path, database.ConnectionString, counter.Url);

        var processes = new ConcurrentBag<ServiceProcess>();
        try
        {
            // Started together: their schema migrations race, as in a real roll-out.
            foreach (var replica in await Task.WhenAll(Enumerable.Range(0, ReplicaCount).Select(_ => ServiceProcess.StartAsync(settings))))
            {
                processes.Add(replica);
            }

            var replicas = processes.ToArray();
            var addresses = replicas.Select(r => r.BaseAddress).ToArray();
            var startedIn = clock.Elapsed;

            // --- send: 3,000 new runs and 1,000 repeats of runs already acknowledged, round-robin, by concurrent senders ---
            var plan = Enumerable.Range(0, DistinctRuns + Repeats).Select(i => i % 4 == 3 ? null : Payloads.NewRunId()).ToArray();
            var acknowledgedNew = new List<string>();
            var answers = new ConcurrentBag<Answer>();
            var unanswered = new ConcurrentBag<string>();
            var answered = 0;
            var next = -1;
            var killNow = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            using var http = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = Senders }) { Timeout = TimeSpan.FromSeconds(30) };

            async Task SendAllAsync()
            {
                for (var job = Interlocked.Increment(ref next); job < plan.Length; job = Interlocked.Increment(ref next))
                {
                    var runId = plan[job] ?? PickAcknowledged(acknowledgedNew) ?? plan[job - 1]!;
                    var answer = await SendAsync(http, addresses, job, runId, deadline.Token);
                    if (answer is null)
                    {
                        unanswered.Add(runId);
                    }
                    else
                    {
                        answers.Add(answer);
                        if (answer.Status == HttpStatusCode.Accepted)
                        {
                            lock (acknowledgedNew)
                            {
                                acknowledgedNew.Add(runId);
                            }
                        }
                    }

                    if (Interlocked.Increment(ref answered) == KillAfterAnswers)
                    {
                        killNow.SetResult();
                    }
                }
            }

            TimeSpan killedAt = default, restartedAt = default;
            async Task KillAndRestartAsync()
            {
                await killNow.Task.WaitAsync(deadline.Token);
                // Killed while it holds leases (its owner name holds its process id), so that there is work to take over.
                var leasesHeld = $"SELECT COUNT(*) FROM deliveries WHERE lease_owner LIKE '%/{replicas[KilledReplica].Id}/%'";
                for (var wait = Stopwatch.StartNew(); wait.Elapsed < TimeSpan.FromSeconds(10) && await database.ScalarAsync<long>(leasesHeld) == 0;)
                {
                    await Task.Delay(TimeSpan.FromMilliseconds(20), deadline.Token);
                }

                await replicas[KilledReplica].KillAsync();
                killedAt = clock.Elapsed;
                await Task.Delay(TimeSpan.FromSeconds(1), deadline.Token);
                var restarted = await ServiceProcess.StartAsync(settings);
                processes.Add(restarted);
                Volatile.Write(ref addresses[KilledReplica], restarted.BaseAddress);
                restartedAt = clock.Elapsed;
            }

            var killer = KillAndRestartAsync();
            await Task.WhenAll(Enumerable.Range(0, Senders).Select(_ => Task.Run(SendAllAsync)));
            await killer;
            var sentIn = clock.Elapsed;

            // --- wait until every stored delivery has succeeded: the killed replica's leases must expire first ---
            long unfinished;
            while ((unfinished = await database.ScalarAsync<long>("SELECT COUNT(*) FROM deliveries WHERE state <> 'succeeded'")) > 0)
            {
                Assert.False(deadline.IsCancellationRequested,
                    $"{unfinished} deliveries had not succeeded after {TestDeadline}. Last output of the replicas:\n{Tail(processes)}");
                await Task.Delay(TimeSpan.FromMilliseconds(500));
            }

            var doneIn = clock.Elapsed;

            // --- what was acknowledged, stored and delivered ---
            var stored = await database.ColumnAsync<string>("SELECT run_id FROM webhooks");
            var storedSet = stored.ToHashSet(StringComparer.Ordinal);
            var acknowledged = answers.Select(a => a.RunId).ToHashSet(StringComparer.Ordinal);
            var answeredNewTwice = answers.Where(a => a.Status == HttpStatusCode.Accepted).GroupBy(a => a.RunId).Where(g => g.Count() > 1).Select(g => g.Key).ToList();
            var duplicatesRejected = answers.Count(a => a.Duplicate);
            var resent = answers.Count(a => a.Tries > 1);
            // Deliveries with an attempt recorded as abandoned: a replica died holding the lease, and another took it over.
            var lostLeases = (await database.ColumnAsync<string>("""
                SELECT w.run_id FROM deliveries d JOIN webhooks w ON w.id = d.webhook_id
                WHERE EXISTS (SELECT 1 FROM attempts a WHERE a.delivery_id = d.id AND a.abandoned = 1)
                """)).ToHashSet(StringComparer.Ordinal);
            // Every attempt counted is in the history: finished, or abandoned by the replica that died.
            var uncountedInHistory = await database.ScalarAsync<long>(
                "SELECT COUNT(*) FROM deliveries d WHERE d.attempts <> (SELECT COUNT(*) FROM attempts a WHERE a.delivery_id = d.id)");
            var failedAttempts = await database.ScalarAsync<long>("SELECT COUNT(*) FROM attempts WHERE succeeded = 0");
            var deliveryCount = await database.ScalarAsync<long>("SELECT COUNT(*) FROM deliveries");
            var deliveries = counter.DeliveriesByRunId();
            var doubles = deliveries.Where(d => d.Value > 1).ToDictionary(d => d.Key, d => d.Value);

            output.WriteLine($"replicas started in {startedIn.TotalSeconds:0.0} s; {plan.Length} webhooks sent by {Senders} senders in {(sentIn - startedIn).TotalSeconds:0.0} s");
            output.WriteLine($"replica {KilledReplica} SIGKILLed at {killedAt.TotalSeconds:0.0} s after {KillAfterAnswers} answers, listening again at {restartedAt.TotalSeconds:0.0} s");
            output.WriteLine($"answers: {answers.Count} 2xx ({answers.Count(a => a.Status == HttpStatusCode.Accepted)} new, {duplicatesRejected} duplicates rejected), {resent} resent to another replica after a failed try, {unanswered.Count} never answered 2xx");
            output.WriteLine($"stored: {stored.Count} webhooks ({storedSet.Count} distinct run ids), {deliveryCount} deliveries");
            output.WriteLine($"delivered: {deliveries.Count} runs, {deliveries.Values.Sum()} deliveries; double deliveries: {doubles.Count} runs ({doubles.Values.Sum() - doubles.Count} extra); " +
                             $"leases lost with the killed replica: {lostLeases.Count}; failed attempts: {failedAttempts}");
            output.WriteLine($"all deliveries succeeded at {doneIn.TotalSeconds:0.0} s ({(doneIn - killedAt).TotalSeconds:0.0} s after the kill)");

            Assert.Empty(unanswered);
            Assert.Equal(DistinctRuns, acknowledged.Count);
            Assert.Equal(DistinctRuns, stored.Count);
            Assert.Equal(stored.Count, storedSet.Count);
            Assert.Subset(storedSet, acknowledged);
            Assert.Empty(answeredNewTwice);
            Assert.True(duplicatesRejected >= Repeats, $"{duplicatesRejected} duplicates rejected; at least {Repeats} were sent.");
            Assert.Equal(stored.Count, deliveryCount);
            var undelivered = acknowledged.Where(runId => !deliveries.ContainsKey(runId)).ToList();
            Assert.Empty(undelivered);
            Assert.Equal(0, uncountedInHistory);
            Assert.True(lostLeases.Count > 0, "The killed replica held no lease when it died, so nothing was taken over: the test proved nothing about leases.");
            // A slot frees when its handler returns, while the outcome still waits for its commit under the lease: a replica
            // holds at most its running attempts plus one round of outcomes being written.
            Assert.True(lostLeases.Count <= 2 * DispatchConcurrency,
                $"{lostLeases.Count} leases lost; the killed replica could hold at most {2 * DispatchConcurrency}.");
            var doublesOutsideLostLeases = doubles.Keys.Where(runId => !lostLeases.Contains(runId)).ToList();
            Assert.Empty(doublesOutsideLostLeases);
        }
        finally
        {
            foreach (var process in processes)
            {
                await process.DisposeAsync();
            }
        }
    }

    /// <summary>
    /// The built-in log handler off and a forward target pointed at the counter, so each delivery is a real HTTP request.
    /// Short attempt timeout and shutdown grace keep the lease (attempt timeout + grace + 30 s) at 36 s.
    /// </summary>
    private static Dictionary<string, string> ReplicaSettings(string directory, string connectionString, Uri counter)
    {
        var settings = ServiceProcess.Settings(directory);
        settings["WebhookReceiver__Storage__Provider"] = "Postgres";
        settings["WebhookReceiver__Storage__ConnectionString"] = connectionString;
        settings["WebhookReceiver__Handlers__Log__Enabled"] = "false";
        settings["WebhookReceiver__Handlers__Forward__0__Name"] = "counter";
        settings["WebhookReceiver__Handlers__Forward__0__Url"] = counter.ToString();
        settings["WebhookReceiver__Handlers__Forward__0__Secret"] = "counter-signing-secret-0123456789";
        settings["WebhookReceiver__Dispatch__Concurrency"] = DispatchConcurrency.ToString(System.Globalization.CultureInfo.InvariantCulture);
        settings["WebhookReceiver__Dispatch__AttemptTimeout"] = "00:00:05";
        settings["WebhookReceiver__Dispatch__ShutdownGrace"] = "00:00:01";
        settings["WebhookReceiver__Dispatch__InitialRetryDelay"] = "00:00:01";
        settings["WebhookReceiver__Dispatch__PollInterval"] = "00:00:00.200";
        // Warnings only, but the line that says where it listens is how the test finds a replica.
        settings["Serilog__MinimumLevel__Default"] = "Warning";
        settings["Serilog__MinimumLevel__Override__Microsoft.Hosting.Lifetime"] = "Information";
        return settings;
    }

    /// <summary>
    /// Posts one webhook, starting at its round-robin replica and moving on to the next when a replica is down or
    /// answers 503, as a sender with retries would; null when no replica acknowledged it.
    /// </summary>
    private static async Task<Answer?> SendAsync(HttpClient http, Uri[] addresses, int job, string runId, CancellationToken cancellationToken)
    {
        var body = Encoding.UTF8.GetBytes(Payloads.Run(runId).ToJsonString());
        for (var tries = 1; tries <= 30 && !cancellationToken.IsCancellationRequested; tries++)
        {
            var replica = Volatile.Read(ref addresses[(job + tries - 1) % addresses.Length]);
            try
            {
                using var content = new ByteArrayContent(body);
                content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
                using var response = await http.PostAsync(new Uri(replica, $"/webhooks/langgraph?token={TestApp.Token}"), content, cancellationToken);
                if (response.IsSuccessStatusCode)
                {
                    var answer = JsonNode.Parse(await response.Content.ReadAsStringAsync(cancellationToken))!;
                    return new Answer(runId, response.StatusCode, (bool)answer["duplicate"]!, tries);
                }
            }
            catch (HttpRequestException)
            {
                // The replica is down or went down while answering: the next one gets it.
            }
            catch (TaskCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                // Timed out: as above.
            }

            if (tries % addresses.Length == 0)
            {
                await Task.Delay(TimeSpan.FromMilliseconds(200), CancellationToken.None);
            }
        }

        return null;
    }

    private static string? PickAcknowledged(List<string> acknowledged)
    {
        lock (acknowledged)
        {
            return acknowledged.Count == 0 ? null : acknowledged[Random.Shared.Next(acknowledged.Count)];
        }
    }

    private static string Tail(IEnumerable<ServiceProcess> processes) =>
        string.Join('\n', processes.SelectMany(p => p.Output.TakeLast(20).Select(line => $"[{p.Id}] {line}")));
}
