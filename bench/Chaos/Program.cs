using System.Globalization;
using WebhookReceiver.Chaos;

// bench/chaos.sh and bench/soak.sh run this; see docs/reliability.md.
//   Chaos chaos <service dll> <work dir> [sqlite|postgres|both] [kills] [max minutes]
//   Chaos soak  <service dll> <work dir> [minutes] [warm-up minutes] [rate]
if (args.Length < 3)
{
    Console.Error.WriteLine("usage: Chaos chaos <service dll> <work dir> [sqlite|postgres|both] [kills] [max minutes] | Chaos soak <service dll> <work dir> [minutes] [warm-up minutes] [rate]");
    return 2;
}

var (mode, dll, directory) = (args[0], Path.GetFullPath(args[1]), Path.GetFullPath(args[2]));
string? Arg(int i) => args.Length > i ? args[i] : null;
using var cancel = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) =>
{
    e.Cancel = true;
    cancel.Cancel();
};

if (mode == "soak")
{
    var minutes = double.Parse(Arg(3) ?? "60", CultureInfo.InvariantCulture);
    var result = await SoakRun.RunAsync(new SoakSettings
    {
        ServiceDll = dll,
        Directory = directory,
        Duration = TimeSpan.FromMinutes(minutes),
        WarmUp = TimeSpan.FromMinutes(double.Parse(Arg(4) ?? "10", CultureInfo.InvariantCulture)),
        Rate = int.Parse(Arg(5) ?? "300", CultureInfo.InvariantCulture),
    }, cancel.Token);
    Console.WriteLine(result.Summary);
    await File.WriteAllTextAsync(Path.Combine(directory, "soak-summary.txt"), result.Summary + "\n");
    return result.Violations.Count == 0 ? 0 : 1;
}

if (mode == "chaos")
{
    var engines = (Arg(3) ?? "both") switch
    {
        "both" => new[] { "Sqlite", "Postgres" },
        "sqlite" => ["Sqlite"],
        "postgres" => ["Postgres"],
        var other => throw new ArgumentException($"unknown engine {other}: sqlite, postgres or both"),
    };
    var failed = false;
    var lines = new List<string>();
    foreach (var engine in engines)
    {
        var result = await ChaosRun.RunAsync(new ChaosSettings
        {
            Engine = engine,
            ServiceDll = dll,
            Directory = Path.Combine(directory, engine.ToLowerInvariant()),
            Kills = int.Parse(Arg(4) ?? "100", CultureInfo.InvariantCulture),
            MaxDuration = TimeSpan.FromMinutes(double.Parse(Arg(5) ?? "30", CultureInfo.InvariantCulture)),
            LangGraphRepository = Environment.GetEnvironmentVariable("CHAOS_LANGGRAPH") == "0" ? null : Arg(6),
        }, cancel.Token);
        lines.Add(result.Summary);
        failed |= result.Violations.Count > 0;
        foreach (var violation in result.Violations)
        {
            Console.WriteLine($"  VIOLATION: {violation}");
        }
    }

    foreach (var line in lines)
    {
        Console.WriteLine(line);
    }

    await File.WriteAllLinesAsync(Path.Combine(directory, "chaos-summary.txt"), lines);
    return failed ? 1 : 0;
}

Console.Error.WriteLine($"unknown mode {mode}: chaos or soak");
return 2;
