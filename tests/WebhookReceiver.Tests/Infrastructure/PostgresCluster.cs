namespace WebhookReceiver.Tests.Infrastructure;

/// <summary>
/// A PostgreSQL server of one test's own, on a free loopback port, for a test that stops and starts the server:
/// the shared one that scripts/test.sh starts serves every other test. Created like that one (initdb, pg_ctl, as the
/// postgres user when run as root), and stopped and deleted when disposed, even when the test fails.
/// </summary>
public sealed class PostgresCluster : IAsyncDisposable
{
    private readonly string _bin;
    private readonly string _directory;
    private readonly int _port;

    private PostgresCluster(string bin, string directory, int port)
    {
        _bin = bin;
        _directory = directory;
        _port = port;
    }

    /// <summary>Npgsql connection string of the server's <c>postgres</c> database.</summary>
    public string ConnectionString => $"Host=127.0.0.1;Port={_port};Username=postgres;Database=postgres";

    private string Data => Path.Combine(_directory, "data");

    public static async Task<PostgresCluster> StartAsync()
    {
        var bin = Directory.Exists("/usr/lib/postgresql")
            ? Directory.GetDirectories("/usr/lib/postgresql").Select(v => Path.Combine(v, "bin"))
                .Where(b => File.Exists(Path.Combine(b, "initdb"))).OrderBy(b => Version(b)).LastOrDefault()
            : null;
        if (bin is null)
        {
            throw new InvalidOperationException("No PostgreSQL server binaries under /usr/lib/postgresql/*/bin: run the tests with scripts/test.sh, which installs them.");
        }

        var directory = Directory.CreateTempSubdirectory("webhook-receiver-pg-").FullName;
        if (Command.IsRoot)
        {
            await Command.RunAsync("chown", ["postgres", directory]); // PostgreSQL refuses to run as root.
        }

        var cluster = new PostgresCluster(bin, directory, LoopbackPorts.Free());
        try
        {
            await cluster.AsPostgresAsync("initdb", "-D", cluster.Data, "-U", "postgres", "--auth=trust", "--no-sync");
            await cluster.StartServerAsync();
        }
        catch
        {
            await cluster.DisposeAsync();
            throw;
        }

        return cluster;
    }

    /// <summary>Starts the server (again) and waits until it accepts connections.</summary>
    public Task StartServerAsync() => AsPostgresAsync("pg_ctl", "-D", Data, "-l", Path.Combine(_directory, "server.log"), "-w", "-t", "30",
        "-o", $"-p {_port} -k {_directory} -c listen_addresses=127.0.0.1 -c fsync=off", "start");

    /// <summary>Stops the server as an operator would for maintenance: sessions are ended, running transactions rolled back.</summary>
    public Task StopServerAsync() => AsPostgresAsync("pg_ctl", "-D", Data, "-m", "fast", "-w", "-t", "30", "stop");

    public async ValueTask DisposeAsync()
    {
        try
        {
            await AsPostgresAsync("pg_ctl", "-D", Data, "-m", "immediate", "-w", "stop");
        }
        catch (InvalidOperationException)
        {
            // Not running (stopped by the test, or never started).
        }

        Directory.Delete(_directory, recursive: true);
    }

    private Task<string> AsPostgresAsync(string program, params string[] arguments)
    {
        var path = Path.Combine(_bin, program);
        return Command.IsRoot ? Command.RunAsync("runuser", ["-u", "postgres", "--", path, .. arguments]) : Command.RunAsync(path, arguments);
    }

    private static int Version(string bin) =>
        int.TryParse(Path.GetFileName(Path.GetDirectoryName(bin)), out var major) ? major : 0;
}
