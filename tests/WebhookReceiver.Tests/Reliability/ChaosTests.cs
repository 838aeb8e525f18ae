using WebhookReceiver.Chaos;
using WebhookReceiver.Tests.Infrastructure;
using WebhookReceiver.Tests.ScaleOut;
using Xunit.Abstractions;

namespace WebhookReceiver.Tests.Reliability;

/// <summary>
/// Issue #27, the short version of <c>bench/chaos.sh</c> (same engine, bench/Chaos/Engine): ten SIGKILLs and one store
/// fault per engine under mixed webhooks and a flaky forward target, then the sender's log of every answer checked against
/// the store and the target's log. The full run (100+ kills per engine) and its latest figures: docs/reliability.md.
/// </summary>
[Collection(ServiceFleet.Name)]
[Trait("Category", "System")]
public sealed class ChaosTests(ITestOutputHelper output)
{
    [Fact]
    public async Task Ten_kills_and_a_full_disk_on_SQLite_with_LangGraph_runs_lose_nothing_acknowledged()
    {
        using var folder = new TempDirectory();
        var result = await ChaosRun.RunAsync(new ChaosSettings
        {
            Engine = "Sqlite",
            ServiceDll = BuiltService.Dll,
            Directory = folder.Path,
            Kills = 10,
            StoreFaults = 1,
            MaxDuration = TimeSpan.FromMinutes(2),
            TmpfsMegabytes = 96,
            LangGraphRepository = BuiltService.RepositoryRoot,
            Log = output.WriteLine,
        });

        Assert.Empty(result.Violations);
    }

    [Fact]
    public async Task Ten_kills_of_two_replicas_and_a_PostgreSQL_restart_lose_nothing_acknowledged()
    {
        using var folder = new TempDirectory();
        var result = await ChaosRun.RunAsync(new ChaosSettings
        {
            Engine = "Postgres",
            ServiceDll = BuiltService.Dll,
            Directory = folder.Path,
            Kills = 10,
            StoreFaults = 1,
            MaxDuration = TimeSpan.FromMinutes(2),
            Log = output.WriteLine,
        });

        Assert.Empty(result.Violations);
    }
}
