using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text.RegularExpressions;

namespace WebhookReceiver.Tests.Infrastructure;

/// <summary>
/// The built service as a process of its own on a free loopback port: a real Kestrel socket, a real SQLite file,
/// and its console output captured. The test owns it: stopped by its handle when disposed, even when the test fails.
/// </summary>
public sealed partial class ServiceProcess : IAsyncDisposable
{
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(30);
    private readonly Process _process;
    private readonly ConcurrentQueue<string> _output = new();
    private readonly TaskCompletionSource<Uri> _listening = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private ServiceProcess(Process process) => _process = process;

    public Uri BaseAddress { get; private set; } = null!;

    public int Id => _process.Id;

    /// <summary>Every line the service wrote to stdout and stderr so far.</summary>
    public IReadOnlyCollection<string> Output => _output;

    public bool HasExited => _process.HasExited;

    /// <summary>Starts the service from its build output with the given environment (settings as <c>WebhookReceiver__...</c>).</summary>
    public static async Task<ServiceProcess> StartAsync(IDictionary<string, string> environment, string? workingDirectory = null, string? dll = null)
    {
        var start = new ProcessStartInfo("dotnet")
        {
            WorkingDirectory = workingDirectory ?? Path.GetTempPath(),
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(dll ?? BuiltService.Dll);
        start.ArgumentList.Add("--urls");
        start.ArgumentList.Add("http://127.0.0.1:0");
        start.Environment["ASPNETCORE_ENVIRONMENT"] = "Production";
        start.Environment["DOTNET_NOLOGO"] = "1";
        foreach (var (key, value) in environment)
        {
            start.Environment[key] = value;
        }

        var service = new ServiceProcess(new Process { StartInfo = start, EnableRaisingEvents = true });
        service._process.OutputDataReceived += (_, e) => service.Capture(e.Data);
        service._process.ErrorDataReceived += (_, e) => service.Capture(e.Data);
        service._process.Exited += (_, _) =>
        {
            // Exited can come before the last lines are read; this WaitForExit() returns once the output is read to its end.
            service._process.WaitForExit();
            service._listening.TrySetException(
                new InvalidOperationException("The service exited before it listened:\n" + string.Join('\n', service._output)));
        };
        service._process.Start();
        service._process.BeginOutputReadLine();
        service._process.BeginErrorReadLine();

        try
        {
            service.BaseAddress = await service._listening.Task.WaitAsync(StartTimeout);
        }
        catch
        {
            await service.DisposeAsync();
            throw;
        }

        return service;
    }

    /// <summary>The default settings of a test service: its own SQLite file, test secrets, quick polling.</summary>
    public static Dictionary<string, string> Settings(string dataDirectory) => new()
    {
        ["WebhookReceiver__Tokens__0"] = TestApp.Token,
        ["WebhookReceiver__Tokens__1"] = TestApp.SecondToken,
        ["WebhookReceiver__AdminKeys__0"] = TestApp.AdminKey,
        ["WebhookReceiver__Storage__ConnectionString"] = $"Data Source={Path.Combine(dataDirectory, "webhooks.db")}",
        ["WebhookReceiver__Dispatch__PollInterval"] = "00:00:00.100",
    };

    public HttpClient CreateClient(bool admin = false)
    {
        var client = new HttpClient { BaseAddress = BaseAddress, Timeout = TimeSpan.FromSeconds(60) };
        if (admin)
        {
            client.DefaultRequestHeaders.Add("X-Api-Key", TestApp.AdminKey);
        }

        return client;
    }

    /// <summary>Sends SIGKILL: no shutdown code runs.</summary>
    public async Task KillAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
        }

        await _process.WaitForExitAsync();
    }

    /// <summary>Sends SIGTERM and waits for the process to exit; returns how long it took.</summary>
    public async Task<TimeSpan> TerminateAsync(TimeSpan timeout)
    {
        var stopwatch = Stopwatch.StartNew();
        if (!_process.HasExited)
        {
            using var kill = Process.Start("kill", ["-TERM", _process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
            await kill.WaitForExitAsync();
        }

        await _process.WaitForExitAsync().WaitAsync(timeout);
        return stopwatch.Elapsed;
    }

    public int ExitCode => _process.ExitCode;

    public async ValueTask DisposeAsync()
    {
        try
        {
            await KillAsync();
        }
        catch (InvalidOperationException)
        {
            // Never started.
        }

        _process.Dispose();
    }

    private void Capture(string? line)
    {
        if (line is null)
        {
            return;
        }

        _output.Enqueue(line);
        if (ListeningLine().Match(line) is { Success: true } match)
        {
            _listening.TrySetResult(new Uri(match.Groups[1].Value));
        }
    }

    [GeneratedRegex(@"Now listening on:?\W*(http://127\.0\.0\.1:\d+)")]
    private static partial Regex ListeningLine();
}

/// <summary>
/// Where the build put the service, and the repository it was built from: recorded in this test assembly by the build
/// (the <c>RecordBuiltServiceLocation</c> target of the test project), so that they are found wherever the build output
/// lands. A missing one fails the test that needs it with what was looked for and where.
/// </summary>
public static class BuiltService
{
    /// <summary>The folder of <c>WebhookReceiver.sln</c>.</summary>
    public static string RepositoryRoot => Existing(Recorded("WebhookReceiver.RepositoryRoot"), "the repository (the folder of WebhookReceiver.sln)", "WebhookReceiver.sln");

    /// <summary>The configuration the service and these tests were built in (Debug or Release).</summary>
    public static string Configuration => Recorded("WebhookReceiver.Configuration");

    public static string OutputDirectory => Path.GetDirectoryName(Dll)!;

    public static string Dll => Existing(Recorded("WebhookReceiver.ServiceDll"), "the built service", null);

    private static string Recorded(string key) =>
        typeof(BuiltService).Assembly.GetCustomAttributes(typeof(System.Reflection.AssemblyMetadataAttribute), inherit: false)
            .Cast<System.Reflection.AssemblyMetadataAttribute>().SingleOrDefault(a => a.Key == key)?.Value
        ?? throw new InvalidOperationException(
            $"The test assembly {typeof(BuiltService).Assembly.Location} has no [AssemblyMetadata(\"{key}\")]: it is written by the " +
            "RecordBuiltServiceLocation target of WebhookReceiver.Tests.csproj; build the tests with that project file.");

    /// <summary><paramref name="path"/>, once it is there (a file, or a folder holding <paramref name="marker"/>).</summary>
    private static string Existing(string path, string what, string? marker)
    {
        var found = marker is null ? File.Exists(path) : File.Exists(Path.Combine(path, marker));
        return found ? path : throw new InvalidOperationException(
            $"Looked for {what} at {(marker is null ? path : Path.Combine(path, marker))}, where the build of the tests recorded it, " +
            $"and it is not there (test assembly: {typeof(BuiltService).Assembly.Location}). Build the solution again (dotnet build WebhookReceiver.sln).");
    }
}
