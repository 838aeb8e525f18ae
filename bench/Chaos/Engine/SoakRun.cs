using System.Globalization;
using System.Text;
using Microsoft.Data.Sqlite;
using WebhookReceiver.Tests.Infrastructure;

namespace WebhookReceiver.Chaos;

public sealed record SoakSettings
{
    public required string ServiceDll { get; init; }

    /// <summary>Holds the SQLite file, the service's log, the sender's log and the samples (soak.csv).</summary>
    public required string Directory { get; init; }

    public TimeSpan Duration { get; init; } = TimeSpan.FromHours(1);

    /// <summary>Samples before this are drawn but not judged: the JIT, the pools and the first retention cycles settle.</summary>
    public TimeSpan WarmUp { get; init; } = TimeSpan.FromMinutes(10);

    public int Rate { get; init; } = 300;

    public TimeSpan SampleEvery { get; init; } = TimeSpan.FromSeconds(10);

    public TimeSpan RetentionMaxAge { get; init; } = TimeSpan.FromMinutes(1);

    public TimeSpan RetentionInterval { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>Bounds: growth of the mean from the first to the last fifth of the judged samples.</summary>
    public double MaxRssGrowth { get; init; } = 0.10;

    public double MaxDbGrowth { get; init; } = 0.10;

    public int MaxFdGrowth { get; init; } = 20;

    /// <summary>The checkpoint starts the log over past 64 MiB; it may pass that by what is written between two checkpoints.</summary>
    public double MaxWalMb { get; init; } = 80;

    public double MaxThreadGrowth { get; init; } = 0.25;

    /// <summary>Every judged sample's stored-to-first-attempt p99 must be under this.</summary>
    public TimeSpan MaxLagP99 { get; init; } = TimeSpan.FromSeconds(2);

    public Action<string> Log { get; init; } = System.Console.WriteLine;
}

/// <param name="Seconds">Since the load started.</param>
/// <param name="LagP50Ms">Stored to the first attempt of each delivery, for the webhooks stored 10 to 20 s before the sample (one not started yet counts as 10 s).</param>
public sealed record SoakSample(long Seconds, double RssMb, double DbMb, double WalMb, int Fds, int Threads, double LagP50Ms, double LagP99Ms, double AckedPerSecond, long Unfinished, long Stored)
{
    public const string Header = "seconds,rss_mb,db_mb,wal_mb,fds,threads,lag_p50_ms,lag_p99_ms,acked_per_s,unfinished_deliveries,stored_webhooks";

    public string ToCsv() => string.Join(',', Seconds, F(RssMb), F(DbMb), F(WalMb), Fds, Threads, F(LagP50Ms), F(LagP99Ms), F(AckedPerSecond), Unfinished, Stored);

    private static string F(double v) => v.ToString("0.0", CultureInfo.InvariantCulture);
}

public sealed record SoakResult(IReadOnlyList<SoakSample> Samples, string Summary, IReadOnlyList<string> Violations, string CsvFile);

/// <summary>
/// The soak: one service on SQLite, a steady rate well below capacity, retention short enough that the purge runs all
/// along, a flaky forward target; the process and the store sampled at a fixed interval, and judged flat after warm-up.
/// </summary>
public static class SoakRun
{
    public static async Task<SoakResult> RunAsync(SoakSettings settings, CancellationToken cancellationToken = default)
    {
        var log = settings.Log;
        Directory.CreateDirectory(settings.Directory);
        var db = Path.Combine(settings.Directory, "soak.db");
        foreach (var stale in Directory.GetFiles(settings.Directory, "soak.db*"))
        {
            File.Delete(stale);
        }

        var token = Secrets.New();
        await using var target = await FlakyTarget.StartAsync(failRate: 0.05, hangRate: 0.01, hang: TimeSpan.FromSeconds(3), keepHits: false);
        var environment = new Dictionary<string, string>
        {
            ["WebhookReceiver__Tokens__0"] = token,
            ["WebhookReceiver__AdminKeys__0"] = Secrets.New(),
            ["WebhookReceiver__Storage__ConnectionString"] = $"Data Source={db}",
            ["WebhookReceiver__Limits__PermitsPerSecond"] = "0",
            ["WebhookReceiver__MaxBodyBytes"] = "65536",
            ["WebhookReceiver__Retention__MaxAge"] = settings.RetentionMaxAge.ToString(),
            ["WebhookReceiver__Retention__DeadLetterMaxAge"] = settings.RetentionMaxAge.ToString(),
            ["WebhookReceiver__Retention__Interval"] = settings.RetentionInterval.ToString(),
            ["WebhookReceiver__Dispatch__AttemptTimeout"] = "00:00:02",
            ["WebhookReceiver__Dispatch__InitialRetryDelay"] = "00:00:01",
            ["WebhookReceiver__Dispatch__MaxRetryDelay"] = "00:00:05",
            ["WebhookReceiver__Dispatch__MaxAttempts"] = "4",
            ["WebhookReceiver__Handlers__Forward__0__Name"] = "target",
            ["WebhookReceiver__Handlers__Forward__0__Url"] = target.Url.ToString(),
            ["WebhookReceiver__Handlers__Forward__0__Secret"] = "whsec_" + Convert.ToBase64String(Encoding.UTF8.GetBytes(Secrets.New())),
            ["Serilog__MinimumLevel__Default"] = "Warning",
        };
        await using var service = new Receiver("soak-service", settings.ServiceDll, LoopbackPorts.Free(), environment, settings.Directory);
        await service.StartAsync(TimeSpan.FromSeconds(60));
        var pid = service.Pid!.Value;
        log($"soak: service pid {pid} on {service.BaseAddress}, {settings.Rate} webhooks/s for {settings.Duration}, warm-up {settings.WarmUp}, " +
            $"retention {settings.RetentionMaxAge} every {settings.RetentionInterval}; target fails 5%, hangs 1%");

        var csv = Path.Combine(settings.Directory, "soak.csv");
        await using var samplesFile = new StreamWriter(csv, append: false);
        await samplesFile.WriteLineAsync(SoakSample.Header);
        var shape = new LoadShape
        {
            Senders = 16, Rate = settings.Rate, KeepAnswers = false, DuplicateShare = 0.05, RetryShare = 0.02, InterruptedShare = 0.05, LargeShare = 0.005,
        };
        long serverErrors = 0, other503 = 0;
        var sender = new Sender(shape, () => [service], token, Path.Combine(settings.Directory, "sender.tsv"));
        sender.OnAnswer = a =>
        {
            if (a.Status == 503)
            {
                Interlocked.Increment(ref other503);
            }
            else if (a.Status >= 500 || a.Status == 0)
            {
                Interlocked.Increment(ref serverErrors);
            }
        };

        var samples = new List<SoakSample>();
        var started = DateTime.UtcNow;
        var lastAcked = 0L;
        try
        {
            using var timer = new PeriodicTimer(settings.SampleEvery);
            while (DateTime.UtcNow - started < settings.Duration && await timer.WaitForNextTickAsync(cancellationToken))
            {
                if (!service.Running)
                {
                    throw new InvalidOperationException($"The service stopped during the soak:\n{service.Tail()}");
                }

                var acked = sender.Acknowledged;
                var sample = await SampleAsync(pid, db, (long)(DateTime.UtcNow - started).TotalSeconds, (acked - lastAcked) / settings.SampleEvery.TotalSeconds);
                lastAcked = acked;
                samples.Add(sample);
                await samplesFile.WriteLineAsync(sample.ToCsv());
                await samplesFile.FlushAsync(cancellationToken);
                if (samples.Count % 6 == 0)
                {
                    log($"soak: {sample.ToCsv()}");
                }
            }
        }
        finally
        {
            await sender.DisposeAsync();
            await service.StopAsync(TimeSpan.FromSeconds(30));
        }

        var (summary, violations) = Judge(settings, samples, sender.Sent, serverErrors, other503);
        return new SoakResult(samples, summary, violations, csv);
    }

    private static (string Summary, List<string> Violations) Judge(SoakSettings s, List<SoakSample> samples, long sent, long serverErrors, long answered503)
    {
        var violations = new List<string>();
        var judged = samples.Where(x => x.Seconds >= s.WarmUp.TotalSeconds).ToList();
        if (judged.Count < 5)
        {
            return ($"soak: only {judged.Count} samples after the warm-up", ["too few samples after the warm-up"]);
        }

        var fifth = Math.Max(2, judged.Count / 5);
        var first = judged.Take(fifth).ToList();
        var last = judged.TakeLast(fifth).ToList();
        double Growth(Func<SoakSample, double> f) => last.Average(f) / first.Average(f) - 1;
        var rss = Growth(x => x.RssMb);
        var dbGrowth = Growth(x => x.DbMb);
        var fds = last.Max(x => x.Fds) - first.Max(x => x.Fds);
        var threads = (double)last.Max(x => x.Threads) / first.Max(x => x.Threads) - 1;
        var worstLag = judged.Max(x => x.LagP99Ms);
        var rate = judged.Average(x => x.AckedPerSecond);
        if (rss > s.MaxRssGrowth)
        {
            violations.Add($"RSS grew {rss:P1} (bound {s.MaxRssGrowth:P0})");
        }

        if (dbGrowth > s.MaxDbGrowth)
        {
            violations.Add($"database grew {dbGrowth:P1} (bound {s.MaxDbGrowth:P0})");
        }

        var wal = judged.Max(x => x.WalMb);
        if (wal > s.MaxWalMb)
        {
            violations.Add($"write-ahead log reached {wal:0} MB (bound {s.MaxWalMb:0} MB)");
        }

        if (fds > s.MaxFdGrowth)
        {
            violations.Add($"open file descriptors grew by {fds} (bound {s.MaxFdGrowth})");
        }

        if (threads > s.MaxThreadGrowth)
        {
            violations.Add($"threads grew {threads:P1} (bound {s.MaxThreadGrowth:P0})");
        }

        if (worstLag > s.MaxLagP99.TotalMilliseconds)
        {
            violations.Add($"delivery lag p99 reached {worstLag:0} ms (bound {s.MaxLagP99.TotalMilliseconds:0} ms)");
        }

        if (serverErrors > 0)
        {
            violations.Add($"{serverErrors} answers were 5xx other than 503, or none");
        }

        var summary = string.Create(CultureInfo.InvariantCulture,
            $"soak: {samples.Last().Seconds} s at {rate:0}/s acked ({sent} sent, {answered503} 503s, {serverErrors} other 5xx/none); after {s.WarmUp.TotalMinutes:0.#} min warm-up, " +
            $"first to last fifth: RSS {first.Average(x => x.RssMb):0} -> {last.Average(x => x.RssMb):0} MB ({rss:+0.0%;-0.0%}), " +
            $"DB file {first.Average(x => x.DbMb):0.0} -> {last.Average(x => x.DbMb):0.0} MB ({dbGrowth:+0.0%;-0.0%}), WAL at most {wal:0} MB, " +
            $"fds {first.Max(x => x.Fds)} -> {last.Max(x => x.Fds)}, threads {first.Max(x => x.Threads)} -> {last.Max(x => x.Threads)}, " +
            $"lag p50 {judged.Average(x => x.LagP50Ms):0} ms, worst p99 {worstLag:0} ms; {(violations.Count == 0 ? "flat" : "NOT FLAT: " + string.Join("; ", violations))}");
        return (summary, violations);
    }

    private static async Task<SoakSample> SampleAsync(int pid, string db, long seconds, double ackedPerSecond)
    {
        var status = await File.ReadAllLinesAsync($"/proc/{pid}/status");
        long Field(string name) => long.Parse(status.First(l => l.StartsWith(name + ":", StringComparison.Ordinal)).Split(':')[1].Trim().Split(' ')[0], CultureInfo.InvariantCulture);
        var rssKb = Field("VmRSS");
        var threads = (int)Field("Threads");
        var fds = Directory.GetFiles($"/proc/{pid}/fd").Length;
        long Size(string f) => File.Exists(f) ? new FileInfo(f).Length : 0;

        await using var connection = new SqliteConnection($"Data Source={db};Mode=ReadOnly;Pooling=False");
        await connection.OpenAsync();
        await using (var wait = connection.CreateCommand())
        {
            wait.CommandText = "PRAGMA busy_timeout = 10000";
            await wait.ExecuteNonQueryAsync();
        }

        var nowMs = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        await using var command = connection.CreateCommand();
        command.CommandText = """
            SELECT COALESCE(a.started_at, $now) - w.received_at FROM webhooks w JOIN deliveries d ON d.webhook_id = w.id
            LEFT JOIN attempts a ON a.delivery_id = d.id AND a.attempt = 1
            WHERE w.received_at >= $from AND w.received_at < $to
            """;
        command.Parameters.AddWithValue("$now", nowMs);
        command.Parameters.AddWithValue("$from", nowMs - 20_000);
        command.Parameters.AddWithValue("$to", nowMs - 10_000);
        var lags = new List<long>();
        await using (var reader = await command.ExecuteReaderAsync())
        {
            while (await reader.ReadAsync())
            {
                lags.Add(Math.Min(reader.GetInt64(0), 10_000));
            }
        }

        lags.Sort();
        double Percentile(double p) => lags.Count == 0 ? 0 : lags[Math.Min(lags.Count - 1, (int)Math.Ceiling(p * lags.Count) - 1)];
        await using var counts = connection.CreateCommand();
        counts.CommandText = "SELECT (SELECT COUNT(*) FROM deliveries WHERE state IN ('pending', 'failed')), (SELECT COUNT(*) FROM webhooks)";
        await using var row = await counts.ExecuteReaderAsync();
        await row.ReadAsync();
        return new SoakSample(seconds, rssKb / 1024.0, Size(db) / 1048576.0, Size(db + "-wal") / 1048576.0, fds, threads, Percentile(0.5), Percentile(0.99), ackedPerSecond, row.GetInt64(0), row.GetInt64(1));
    }
}
