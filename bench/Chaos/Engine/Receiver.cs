using System.Diagnostics;
using System.Net;

namespace WebhookReceiver.Chaos;

/// <summary>
/// One replica of the built service as a process on a fixed loopback port (kept across restarts, so senders and the
/// LangGraph server keep one address), its console appended to a log file. Killed with SIGKILL, started again at will.
/// </summary>
public sealed class Receiver : IAsyncDisposable
{
    private static readonly HttpClient Probe = new() { Timeout = TimeSpan.FromSeconds(3) };
    private readonly string _dll;
    private readonly IReadOnlyDictionary<string, string> _environment;
    private readonly string _log;
    private Process? _process;

    public Receiver(string name, string dll, int port, IReadOnlyDictionary<string, string> environment, string logDirectory)
    {
        Name = name;
        _dll = dll;
        Port = port;
        _environment = environment;
        _log = Path.Combine(logDirectory, $"{name}.log");
        BaseAddress = new Uri($"http://127.0.0.1:{port}");
    }

    public string Name { get; }

    public int Port { get; }

    public Uri BaseAddress { get; }

    /// <summary>Marked up once ready and down just before a kill: senders (a load balancer) pick among the up ones.</summary>
    public bool Up { get; private set; }

    public int? Pid => _process is { HasExited: false } p ? p.Id : null;

    public bool Running => _process is { HasExited: false };

    public int Starts { get; private set; }

    public string LogFile => _log;

    /// <summary>Starts the process and waits until <c>/health/ready</c> answers 200.</summary>
    public async Task StartAsync(TimeSpan timeout)
    {
        if (Running)
        {
            throw new InvalidOperationException($"{Name} is already running.");
        }

        // exec: the shell becomes dotnet, so the PID is the service's and SIGKILL reaches it, not a shell.
        var start = new ProcessStartInfo("/bin/sh") { UseShellExecute = false };
        start.ArgumentList.Add("-c");
        start.ArgumentList.Add("exec dotnet \"$0\" --urls \"$1\" >>\"$2\" 2>&1");
        start.ArgumentList.Add(_dll);
        start.ArgumentList.Add(BaseAddress.ToString().TrimEnd('/'));
        start.ArgumentList.Add(_log);
        start.Environment["ASPNETCORE_ENVIRONMENT"] = "Production";
        start.Environment["DOTNET_NOLOGO"] = "1";
        foreach (var (key, value) in _environment)
        {
            start.Environment[key] = value;
        }

        await File.AppendAllTextAsync(_log, $"--- start {Starts + 1} at {Clock.Ms} ms\n");
        _process = Process.Start(start) ?? throw new InvalidOperationException("dotnet did not start");
        Starts++;
        await WaitReadyAsync(timeout);
        Up = true;
    }

    public async Task WaitReadyAsync(TimeSpan timeout)
    {
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < timeout)
        {
            if (_process is not { HasExited: false })
            {
                throw new InvalidOperationException($"{Name} exited ({_process?.ExitCode}); see {_log}:\n{Tail()}");
            }

            if (await ReadinessAsync() == HttpStatusCode.OK)
            {
                return;
            }

            await Task.Delay(50);
        }

        throw new TimeoutException($"{Name} was not ready within {timeout.TotalSeconds:0} s; see {_log}:\n{Tail()}");
    }

    /// <summary>The status of <c>/health/ready</c>, or null without an answer.</summary>
    public async Task<HttpStatusCode?> ReadinessAsync()
    {
        try
        {
            using var response = await Probe.GetAsync(new Uri(BaseAddress, "/health/ready"));
            return response.StatusCode;
        }
        catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException or System.Net.Sockets.SocketException)
        {
            return null;
        }
    }

    /// <summary>SIGKILL: no shutdown code runs.</summary>
    public async Task KillAsync()
    {
        Up = false;
        if (_process is { HasExited: false } process)
        {
            process.Kill();
            await process.WaitForExitAsync();
        }
    }

    /// <summary>SIGTERM, and waits for the exit (SIGKILL past the timeout).</summary>
    public async Task StopAsync(TimeSpan timeout)
    {
        Up = false;
        if (_process is not { HasExited: false } process)
        {
            return;
        }

        using (var term = Process.Start("kill", ["-TERM", process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]))
        {
            await term.WaitForExitAsync();
        }

        try
        {
            await process.WaitForExitAsync().WaitAsync(timeout);
        }
        catch (TimeoutException)
        {
            await KillAsync();
        }
    }

    public string Tail(int lines = 30)
    {
        try
        {
            return string.Join('\n', File.ReadLines(_log).TakeLast(lines));
        }
        catch (IOException)
        {
            return "";
        }
    }

    public async ValueTask DisposeAsync()
    {
        await KillAsync();
        _process?.Dispose();
    }
}
