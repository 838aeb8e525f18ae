namespace WebhookReceiver.Chaos;

public sealed record ChaosSettings
{
    public required string Engine { get; init; }
    public required string ServiceDll { get; init; }
    public required string Directory { get; init; }
    public int Kills { get; init; } = 100;
    public TimeSpan MaxDuration { get; init; } = TimeSpan.FromMinutes(30);
    public Action<string> Log { get; init; } = Console.WriteLine;
}

public sealed record ChaosResult(string Summary, IReadOnlyList<string> Violations);

public static class ChaosRun
{
    public static Task<ChaosResult> RunAsync(ChaosSettings settings, CancellationToken cancellationToken = default) => throw new NotImplementedException();
}
