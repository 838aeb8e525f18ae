using System.Diagnostics;
using System.Net;
using WebhookReceiver.Tests.Infrastructure;
using WebhookReceiver.Tests.ScaleOut;
using Xunit.Abstractions;

namespace WebhookReceiver.Tests.Hardening;

/// <summary>
/// Issue #7: the store fails for real while webhooks arrive (the SQLite file's disk full; the PostgreSQL server
/// stopped). The service must refuse with 503 + Retry-After and never 2xx, say it is not ready, take webhooks again by
/// itself once the store is back, and lose nothing it acknowledged.
/// </summary>
[Collection(ServiceFleet.Name)]
[Trait("Category", "System")]
public sealed class StoreFaultTests(ITestOutputHelper output)
{
    private const int Senders = 4;
    private static readonly TimeSpan PauseBetweenSends = TimeSpan.FromMilliseconds(10);

    [Fact]
    public async Task SQLite_on_a_full_disk_refuses_with_503_is_not_ready_and_takes_webhooks_again_once_space_is_freed()
    {
        using var folder = new TempDirectory();
        await using var disk = await TinyDisk.MountAsync(Path.Combine(folder.Path, "disk"), megabytes: 32);
        // Declared after the disk, so disposed before it: the file system is unmounted once the service let go of it.
        await using var service = await ServiceProcess.StartAsync(Settings(ServiceProcess.Settings(Path.Combine(disk.Path, "data"))));

        long filled = 0;
        await RideOutAStoreFaultAsync(service,
            breakStore: () =>
            {
                filled = disk.Fill();
                return Task.FromResult($"tmpfs filled ({filled / 1024} KiB filler)");
            },
            repairStore: () =>
            {
                disk.Free();
                return Task.FromResult("filler deleted");
            });
    }

    [Fact]
    public async Task PostgreSQL_stopped_refuses_with_503_is_not_ready_and_takes_webhooks_again_once_it_is_started()
    {
        using var folder = new TempDirectory();
        await using var cluster = await PostgresCluster.StartAsync();
        var settings = Settings(ServiceProcess.Settings(folder.Path));
        settings["WebhookReceiver__Storage__Provider"] = "Postgres";
        settings["WebhookReceiver__Storage__ConnectionString"] = cluster.ConnectionString;
        await using var service = await ServiceProcess.StartAsync(settings);

        await RideOutAStoreFaultAsync(service,
            breakStore: async () =>
            {
                await cluster.StopServerAsync();
                return "pg_ctl stop -m fast";
            },
            repairStore: async () =>
            {
                await cluster.StartServerAsync();
                return "pg_ctl start";
            });
    }

    /// <summary>
    /// Load before, during and after the fault, labelled by phase: 0 healthy; 1 breaking (answers may go either way);
    /// 2 broken, from the moment readiness says so until the store is repaired; 3 repaired.
    /// </summary>
    private async Task RideOutAStoreFaultAsync(ServiceProcess service, Func<Task<string>> breakStore, Func<Task<string>> repairStore)
    {
        var clock = Stopwatch.StartNew();
        using var client = service.CreateClient();
        using var admin = service.CreateClient(admin: true);
        await using var load = WebhookLoad.Start(service.BaseAddress, Senders, PauseBetweenSends);
        await load.WaitUntilAsync(o => o.Count(x => x.Acknowledged) >= 100, TimeSpan.FromSeconds(30), "100 acknowledged before the fault");
        Assert.Equal(HttpStatusCode.OK, (await ReadinessAsync(client)).Status);

        load.Phase = 1;
        var broken = await breakStore();
        var brokenAt = clock.Elapsed;
        var unready = await Eventually.MatchAsync(() => ReadinessAsync(client), r => r.Status == HttpStatusCode.ServiceUnavailable);
        var unreadyAfter = clock.Elapsed - brokenAt;

        load.Phase = 2;
        await load.WaitUntilAsync(o => o.Count(x => x.PhaseAtStart == 2 && x.PhaseAtEnd == 2) >= 40, TimeSpan.FromSeconds(30), "40 answered during the fault");
        var stillUnready = await ReadinessAsync(client);

        load.Phase = 3;
        var repaired = await repairStore();
        var repairedAt = clock.Elapsed;
        await Eventually.MatchAsync(() => ReadinessAsync(client), r => r.Status == HttpStatusCode.OK, timeoutSeconds: 30);
        var readyAfter = clock.Elapsed - repairedAt;
        await load.WaitUntilAsync(o => o.Any(x => x.PhaseAtStart == 3 && x.Acknowledged), TimeSpan.FromSeconds(30), "one acknowledged after the repair");
        var resumedAfter = clock.Elapsed - repairedAt;
        await load.WaitUntilAsync(o => o.Count(x => x.PhaseAtStart == 3 && x.Acknowledged) >= 50, TimeSpan.FromSeconds(30), "50 acknowledged after the repair");
        await load.StopAsync();

        var outcomes = load.Outcomes.ToList();
        var duringFault = outcomes.Where(o => o.PhaseAtStart == 2 && o.PhaseAtEnd == 2).ToList();
        var badDuringFault = duringFault.Where(o => o.Status != HttpStatusCode.ServiceUnavailable || string.IsNullOrEmpty(o.RetryAfter)).ToList();
        var otherServerErrors = outcomes.Where(o => o.ServerError && o.Status != HttpStatusCode.ServiceUnavailable).ToList();
        var acknowledged = outcomes.Where(o => o.Acknowledged).Select(o => o.RunId).ToList();
        var stored = await StoredRuns.ReadAllAsync(admin);
        var lost = acknowledged.Where(runId => !stored.ContainsKey(runId)).ToList();

        string Phase(int phase) => string.Join(", ", outcomes.Where(o => o.PhaseAtStart == phase)
            .GroupBy(o => o.Status?.ToString() ?? "no answer").Select(g => $"{g.Count()} {g.Key}"));
        output.WriteLine($"broken: {broken}; readiness 503 after {unreadyAfter.TotalSeconds:0.00} s ({unready.ContentType}: {unready.Body})");
        output.WriteLine($"repaired: {repaired}; readiness 200 after {readyAfter.TotalSeconds:0.00} s, first 2xx after {resumedAfter.TotalSeconds:0.00} s");
        output.WriteLine($"answers before: {Phase(0)} | breaking: {Phase(1)} | broken: {Phase(2)} | repaired: {Phase(3)}");
        output.WriteLine($"acknowledged {acknowledged.Count}, found stored {acknowledged.Count - lost.Count}, stored {stored.Count}; test took {clock.Elapsed.TotalSeconds:0.0} s");

        Assert.Equal("application/problem+json", unready.ContentType);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, stillUnready.Status);
        Assert.True(duringFault.Count >= 40);
        Assert.Empty(badDuringFault);
        Assert.Empty(otherServerErrors);
        Assert.Empty(lost);
    }

    private sealed record Readiness(HttpStatusCode Status, string? ContentType, string Body);

    private static async Task<Readiness> ReadinessAsync(HttpClient client)
    {
        using var response = await client.GetAsync("/health/ready");
        return new Readiness(response.StatusCode, response.Content.Headers.ContentType?.MediaType, await response.Content.ReadAsStringAsync());
    }

    /// <summary>No rate limit (the senders are one client); warnings only, but the line that says where it listens.</summary>
    private static Dictionary<string, string> Settings(Dictionary<string, string> settings)
    {
        settings["WebhookReceiver__Limits__PermitsPerSecond"] = "0";
        settings["Serilog__MinimumLevel__Default"] = "Warning";
        settings["Serilog__MinimumLevel__Override__Microsoft.Hosting.Lifetime"] = "Information";
        return settings;
    }
}
