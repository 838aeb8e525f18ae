using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace WebhookReceiver.Tests.Infrastructure;

/// <summary>The ids of a run the driver made, as the LangGraph server announced them.</summary>
public sealed record DrivenRun(string RunId, string? ThreadId);

/// <summary>What one driver scenario made: its runs in order, and the default assistant of the graph they ran.</summary>
public sealed record DriverResult(string AssistantId, IReadOnlyList<DrivenRun> Runs);

/// <summary>
/// A real LangGraph JS dev server (<c>langgraphjs dev</c> from tests/langgraph-e2e) on a free loopback port, run from a
/// temporary folder that holds its state (.langgraph_api) and is deleted with it. The test owns the process: it is
/// stopped by its handle, with the processes it started, when disposed, and a server that does not answer
/// <c>GET /ok</c> in time fails the test.
/// </summary>
public sealed class LangGraphDevServer : IAsyncDisposable
{
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(90);
    private static readonly TimeSpan StopTimeout = TimeSpan.FromSeconds(15);
    private readonly Process _process;
    private readonly TempDirectory _directory;
    private readonly ConcurrentQueue<string> _output = new();
    private readonly HttpClient _api;

    private LangGraphDevServer(Process process, TempDirectory directory, Uri baseAddress)
    {
        _process = process;
        _directory = directory;
        BaseAddress = baseAddress;
        _api = new HttpClient { BaseAddress = baseAddress, Timeout = TimeSpan.FromSeconds(60) };
    }

    /// <summary>tests/langgraph-e2e: package.json, its lockfile, langgraph.json, the graphs and the driver.</summary>
    public static string ProjectDirectory { get; } = Path.Combine(BuiltService.RepositoryRoot, "tests", "langgraph-e2e");

    public Uri BaseAddress { get; }

    /// <summary>Everything the server wrote so far, for failure messages.</summary>
    public string Output => string.Join('\n', _output);

    /// <summary>
    /// Creates a thread (<c>POST /threads</c>) and returns its id: test set-up, so a connection the dev server drops before
    /// it answers ("the response ended prematurely", seen once in a loaded CI run) is tried again, up to three times.
    /// </summary>
    public async Task<string> CreateThreadAsync()
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                using var response = await _api.PostAsJsonAsync("/threads", new JsonObject());
                response.EnsureSuccessStatusCode();
                return (string)(await response.Content.ReadFromJsonAsync<JsonObject>())!["thread_id"]!;
            }
            catch (HttpRequestException) when (attempt < 3)
            {
                await Task.Delay(TimeSpan.FromMilliseconds(200));
            }
        }
    }

    /// <summary>Starts a background run of <paramref name="graph"/> (<c>POST /threads/{id}/runs</c>), its webhook sent to <paramref name="webhook"/> (none when null); returns its run id.</summary>
    public async Task<string> StartRunAsync(string threadId, string graph, JsonObject input, string? webhook)
    {
        var run = new JsonObject { ["assistant_id"] = graph, ["input"] = input };
        if (webhook is not null)
        {
            run["webhook"] = webhook;
        }

        using var response = await _api.PostAsJsonAsync($"/threads/{threadId}/runs", run);
        response.EnsureSuccessStatusCode();
        return (string)(await Json.ReadAsync(response))["run_id"]!;
    }

    /// <summary>A thread as the server has it (<c>GET /threads/{id}</c>): its status, values and interrupts.</summary>
    public async Task<JsonNode> ThreadAsync(string threadId) => (await _api.GetFromJsonAsync<JsonNode>($"/threads/{threadId}"))!;

    /// <summary>The runs of a thread, newest first (<c>GET /threads/{id}/runs</c>).</summary>
    public async Task<JsonArray> RunsAsync(string threadId) => (await _api.GetFromJsonAsync<JsonArray>($"/threads/{threadId}/runs"))!;

    /// <summary>A thread whose run stopped at <c>interrupt()</c> (graph <c>ask</c>), left waiting: its thread id and run id.</summary>
    public async Task<(string ThreadId, string RunId)> RunUntilInterruptedAsync(string webhook)
    {
        var threadId = await CreateThreadAsync();
        using var response = await _api.PostAsJsonAsync($"/threads/{threadId}/runs/wait", new JsonObject
        {
            ["assistant_id"] = "ask", ["input"] = Input("ship it"), ["webhook"] = webhook,
        });
        response.EnsureSuccessStatusCode();
        var runId = response.Content.Headers.ContentLocation?.OriginalString.Split('/').Last()
            ?? throw new InvalidOperationException("runs/wait named no run (Content-Location)");
        Assert.Equal("interrupted", (await ThreadAsync(threadId))["status"]!.GetValue<string>());
        return (threadId, runId);
    }

    /// <summary>A stateless run of graph <c>slow</c> (30 s) started in the background: its temporary thread id and run id.</summary>
    public async Task<(string ThreadId, string RunId)> StartStatelessSlowRunAsync(string webhook)
    {
        using var response = await _api.PostAsJsonAsync("/runs", new JsonObject { ["assistant_id"] = "slow", ["input"] = Input("stateless, slow"), ["webhook"] = webhook });
        var run = await Json.ReadAsync(response.EnsureSuccessStatusCode());
        return (run["thread_id"]!.GetValue<string>(), run["run_id"]!.GetValue<string>());
    }

    /// <summary>Cancels a run and waits for it to stop (<c>action=interrupt</c>).</summary>
    public async Task CancelAsync(string threadId, string runId)
    {
        using var response = await _api.PostAsync($"/threads/{threadId}/runs/{runId}/cancel?wait=true&action=interrupt", null);
    }

    /// <summary>A graph's input: one user message.</summary>
    public static JsonObject Input(string text) =>
        new() { ["messages"] = new JsonArray(new JsonObject { ["role"] = "user", ["content"] = text }) };

    /// <summary>
    /// Starts a server on a free port. The port is chosen before the server binds it, seconds later under load, and meanwhile
    /// another process may take it: a server that could not bind its port is started again on another, up to three times.
    /// </summary>
    public static async Task<LangGraphDevServer> StartAsync()
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                return await StartOnAsync(LoopbackPorts.Free());
            }
            catch (Exception ex) when (ex is InvalidOperationException or TimeoutException && attempt < 3 && LoopbackPorts.WasTaken(ex.Message))
            {
                // Taken between choosing and binding it: another port.
            }
        }
    }

    private static async Task<LangGraphDevServer> StartOnAsync(int port)
    {
        var cli = Path.Combine(ProjectDirectory, "node_modules", "@langchain", "langgraph-cli", "dist", "cli", "cli.mjs");
        if (!File.Exists(cli))
        {
            throw new InvalidOperationException(
                $"The LangGraph CLI is not installed in {ProjectDirectory}: run `npm ci` there (scripts/test.sh does it when node_modules is missing).");
        }

        var directory = new TempDirectory();
        var start = new ProcessStartInfo("node")
        {
            WorkingDirectory = directory.Path,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in new[]
                 {
                     cli, "dev", "--config", WriteConfig(directory.Path), "--host", "127.0.0.1", "--port", port.ToString(CultureInfo.InvariantCulture),
                     "--no-browser", "--no-reload", "--studio-url", "http://127.0.0.1:9",
                 })
        {
            start.ArgumentList.Add(argument);
        }

        start.Environment["LANGGRAPH_CLI_NO_ANALYTICS"] = "1";
        start.Environment["BROWSER"] = "none";
        start.Environment["LANGSMITH_TRACING"] = "false";
        start.Environment["NO_COLOR"] = "1";
        // tsx keeps its cache and IPC pipes in the temp folder; a killed server cannot clean them, so they go with its folder.
        start.Environment["TMPDIR"] = Directory.CreateDirectory(Path.Combine(directory.Path, "tmp")).FullName;

        var process = new Process { StartInfo = start };
        var server = new LangGraphDevServer(process, directory, new Uri($"http://127.0.0.1:{port}"));
        process.OutputDataReceived += (_, e) => server.Capture(e.Data);
        process.ErrorDataReceived += (_, e) => server.Capture(e.Data);
        try
        {
            process.Start();
            process.BeginOutputReadLine();
            process.BeginErrorReadLine();
            await server.WaitUntilHealthyAsync();
            return server;
        }
        catch
        {
            await server.DisposeAsync();
            throw;
        }
    }

    /// <summary>Runs one scenario of driver.mjs (the official SDK) against this server, every run pointed at <paramref name="webhook"/>.</summary>
    public async Task<DriverResult> DriveAsync(string scenario, string webhook, TimeSpan timeout)
    {
        var start = new ProcessStartInfo("node")
        {
            WorkingDirectory = _directory.Path,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in new[] { Path.Combine(ProjectDirectory, "driver.mjs"), BaseAddress.ToString().TrimEnd('/'), webhook, scenario })
        {
            start.ArgumentList.Add(argument);
        }

        using var driver = Process.Start(start) ?? throw new InvalidOperationException("node did not start");
        var stdout = driver.StandardOutput.ReadToEndAsync();
        var stderr = driver.StandardError.ReadToEndAsync();
        try
        {
            await driver.WaitForExitAsync().WaitAsync(timeout);
        }
        catch (TimeoutException)
        {
            driver.Kill(entireProcessTree: true);
            await driver.WaitForExitAsync();
            throw new TimeoutException($"The driver's scenario '{scenario}' did not finish within {timeout.TotalSeconds:0} s.\n{await stderr}\nServer:\n{Output}");
        }

        if (driver.ExitCode != 0)
        {
            throw new InvalidOperationException($"The driver's scenario '{scenario}' failed ({driver.ExitCode}):\n{await stderr}\nServer:\n{Output}");
        }

        var result = JsonNode.Parse(await stdout) ?? throw new InvalidOperationException("The driver printed nothing.");
        return new DriverResult(
            (string)result["assistant_id"]!,
            result["runs"]!.AsArray().Select(r => new DrivenRun((string)r!["run_id"]!, (string?)r["thread_id"])).ToList());
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            if (!_process.HasExited)
            {
                // The CLI runs the API server as a child (tsx), which runs another: the whole tree goes, and nothing else.
                _process.Kill(entireProcessTree: true);
            }

            await _process.WaitForExitAsync().WaitAsync(StopTimeout);
        }
        catch (InvalidOperationException)
        {
            // Never started.
        }
        finally
        {
            _api.Dispose();
            _process.Dispose();
            _directory.Dispose();
        }
    }

    /// <summary>Writes a langgraph.json into <paramref name="directory"/> naming the committed graphs.</summary>
    /// <remarks>The server keeps its state in the folder of its config, so the committed folder stays clean.</remarks>
    private static string WriteConfig(string directory)
    {
        var config = JsonNode.Parse(File.ReadAllText(Path.Combine(ProjectDirectory, "langgraph.json")))!.AsObject();
        foreach (var (_, graph) in config["graphs"]!.AsObject().ToList())
        {
            var spec = (string)graph!;
            var separator = spec.LastIndexOf(':');
            // Relative to the temporary folder: the server joins the path to its folder even when it is absolute.
            var file = Path.GetFullPath(Path.Combine(ProjectDirectory, spec[..separator]));
            graph!.ReplaceWith(Path.GetRelativePath(directory, file) + spec[separator..]);
        }

        var path = Path.Combine(directory, "langgraph.json");
        File.WriteAllText(path, config.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
        return path;
    }

    private async Task WaitUntilHealthyAsync()
    {
        using var client = new HttpClient { BaseAddress = BaseAddress, Timeout = TimeSpan.FromSeconds(5) };
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < StartTimeout)
        {
            if (_process.HasExited)
            {
                _process.WaitForExit(); // returns once its output has been read to the end
                throw new InvalidOperationException($"The LangGraph dev server exited ({_process.ExitCode}) before it answered GET /ok:\n{Output}");
            }

            if (LoopbackPorts.WasTaken(Output))
            {
                // It logs "listen EADDRINUSE" and goes on running without a listener.
                throw new InvalidOperationException($"The LangGraph dev server could not listen on {BaseAddress}:\n{Output}");
            }

            try
            {
                using var response = await client.GetAsync(new Uri("/ok", UriKind.Relative));
                if (response.StatusCode == HttpStatusCode.OK)
                {
                    return;
                }
            }
            catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException)
            {
                // Not listening yet.
            }

            await Task.Delay(250);
        }

        throw new TimeoutException($"The LangGraph dev server did not answer GET /ok within {StartTimeout.TotalSeconds:0} s:\n{Output}");
    }

    private void Capture(string? line)
    {
        if (line is not null)
        {
            _output.Enqueue(line);
        }
    }
}
