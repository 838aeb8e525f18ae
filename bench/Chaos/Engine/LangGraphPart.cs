using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace WebhookReceiver.Chaos;

/// <summary>
/// The real LangGraph JS dev server the suite uses (tests/langgraph-e2e, <c>langgraphjs dev</c>), on a free loopback
/// port, run from a folder of its own that holds its state; the whole process tree is stopped when disposed.
/// </summary>
public sealed class LangGraphServer : IAsyncDisposable
{
    private readonly Process _process;
    private readonly string _directory;

    private LangGraphServer(Process process, string directory, Uri baseAddress)
    {
        _process = process;
        _directory = directory;
        BaseAddress = baseAddress;
    }

    public Uri BaseAddress { get; }

    public string LogFile => Path.Combine(_directory, "server.log");

    public static async Task<LangGraphServer> StartAsync(string repositoryRoot, string directory)
    {
        var project = Path.Combine(repositoryRoot, "tests", "langgraph-e2e");
        var cli = Path.Combine(project, "node_modules", "@langchain", "langgraph-cli", "dist", "cli", "cli.mjs");
        if (!File.Exists(cli))
        {
            throw new InvalidOperationException($"The LangGraph CLI is not installed: run `npm ci` in {project}.");
        }

        System.IO.Directory.CreateDirectory(directory);
        var config = JsonNode.Parse(await File.ReadAllTextAsync(Path.Combine(project, "langgraph.json")))!.AsObject();
        foreach (var (_, graph) in config["graphs"]!.AsObject().ToList())
        {
            var spec = (string)graph!;
            var separator = spec.LastIndexOf(':');
            // Relative to the server's folder: it joins the path to its folder even when it is absolute.
            graph!.ReplaceWith(Path.GetRelativePath(directory, Path.GetFullPath(Path.Combine(project, spec[..separator]))) + spec[separator..]);
        }

        await File.WriteAllTextAsync(Path.Combine(directory, "langgraph.json"), config.ToJsonString());
        var port = Tests.Infrastructure.LoopbackPorts.Free();
        var start = new ProcessStartInfo("/bin/sh") { UseShellExecute = false, WorkingDirectory = directory };
        start.ArgumentList.Add("-c");
        start.ArgumentList.Add("exec node \"$0\" dev --config langgraph.json --host 127.0.0.1 --port \"$1\" --no-browser --no-reload --studio-url http://127.0.0.1:9 >server.log 2>&1");
        start.ArgumentList.Add(cli);
        start.ArgumentList.Add(port.ToString(System.Globalization.CultureInfo.InvariantCulture));
        start.Environment["LANGGRAPH_CLI_NO_ANALYTICS"] = "1";
        start.Environment["BROWSER"] = "none";
        start.Environment["LANGSMITH_TRACING"] = "false";
        start.Environment["NO_COLOR"] = "1";
        start.Environment["TMPDIR"] = System.IO.Directory.CreateDirectory(Path.Combine(directory, "tmp")).FullName;
        var server = new LangGraphServer(Process.Start(start)!, directory, new Uri($"http://127.0.0.1:{port}"));
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < TimeSpan.FromSeconds(120))
        {
            if (server._process.HasExited)
            {
                break;
            }

            try
            {
                using var ok = await http.GetAsync(new Uri(server.BaseAddress, "/ok"));
                if (ok.IsSuccessStatusCode)
                {
                    return server;
                }
            }
            catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException or System.Net.Sockets.SocketException)
            {
                // Not listening yet.
            }

            await Task.Delay(250);
        }

        var log = File.Exists(server.LogFile) ? await File.ReadAllTextAsync(server.LogFile) : "";
        await server.DisposeAsync();
        throw new InvalidOperationException($"The LangGraph dev server did not answer GET /ok:\n{log}");
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }

        _process.Dispose();
    }
}

/// <summary>
/// What the LangGraph server's webhooks are sent to: a stand-in on a port of its own that passes each webhook to an up
/// replica and returns its answer, and answers 503 itself when no replica answers (killed, restarting). The JS dev
/// server's queue loop dies on a webhook send that is refused or reset, so something must always answer on this port;
/// a run whose webhook got the stand-in's 503 is lost to the sender (the JS server does not retry) and must come back
/// through the receiver's sweep.
/// </summary>
public sealed class WebhookStandIn : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly Func<IReadOnlyList<Receiver>> _replicas;
    private readonly HttpClient _http = new(new SocketsHttpHandler { ConnectTimeout = TimeSpan.FromSeconds(2) }) { Timeout = TimeSpan.FromSeconds(30) };
    private long _passed;
    private long _stoodIn;

    private WebhookStandIn(WebApplication app, Func<IReadOnlyList<Receiver>> replicas)
    {
        _app = app;
        _replicas = replicas;
    }

    public Uri Url { get; private set; } = null!;

    public long Passed => Interlocked.Read(ref _passed);

    public long StoodIn => Interlocked.Read(ref _stoodIn);

    public static async Task<WebhookStandIn> StartAsync(Func<IReadOnlyList<Receiver>> replicas)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.WebHost.ConfigureKestrel(k => k.Limits.MaxRequestBodySize = null);
        var app = builder.Build();
        var standIn = new WebhookStandIn(app, replicas);
        app.MapPost("/webhooks/langgraph", standIn.PassAsync);
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        standIn.Url = new Uri(new Uri(address), "/webhooks/langgraph");
        return standIn;
    }

    private async Task PassAsync(HttpContext context)
    {
        using var body = new MemoryStream();
        await context.Request.Body.CopyToAsync(body);
        var up = _replicas().Where(r => r.Up).ToList();
        if (up.Count > 0)
        {
            var replica = up[Random.Shared.Next(up.Count)];
            try
            {
                using var content = new ByteArrayContent(body.ToArray());
                if (context.Request.ContentType is { } type)
                {
                    content.Headers.TryAddWithoutValidation("Content-Type", type);
                }

                using var response = await _http.PostAsync(new Uri(replica.BaseAddress, "/webhooks/langgraph" + context.Request.QueryString), content);
                context.Response.StatusCode = (int)response.StatusCode;
                await context.Response.Body.WriteAsync(await response.Content.ReadAsByteArrayAsync());
                Interlocked.Increment(ref _passed);
                return;
            }
            catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException or IOException or System.Net.Sockets.SocketException)
            {
                // The replica went down under the request: answered like no replica at all.
            }
        }

        Interlocked.Increment(ref _stoodIn);
        context.Response.StatusCode = StatusCodes.Status503ServiceUnavailable;
        context.Response.Headers.RetryAfter = "1";
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
        _http.Dispose();
    }
}

/// <summary>
/// Real runs on the LangGraph server, each with the stand-in as its webhook: most of the graph <c>echo</c>, some of
/// <c>ask</c>, which pauses at <c>interrupt()</c>; the pauses the receiver records are resumed through its API.
/// </summary>
public sealed class LangGraphDriver : IAsyncDisposable
{
    private readonly HttpClient _langGraph;
    private readonly HttpClient _receiver = new() { Timeout = TimeSpan.FromSeconds(40) };
    private readonly string _webhook;
    private readonly Func<IReadOnlyList<Receiver>> _replicas;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _making;
    private readonly Task _resuming;
    private readonly ConcurrentDictionary<string, string> _runs = new();
    private readonly ConcurrentDictionary<long, string> _resumed = new();
    private readonly ConcurrentDictionary<long, string?> _unanswered = new();
    private readonly ConcurrentDictionary<string, bool> _pausedRunsResumed = new();
    private long _failedCalls;

    public LangGraphDriver(Uri langGraph, string webhook, string adminKey, Func<IReadOnlyList<Receiver>> replicas, TimeSpan every)
    {
        _langGraph = new HttpClient { BaseAddress = langGraph, Timeout = TimeSpan.FromSeconds(30) };
        _receiver.DefaultRequestHeaders.Add("X-Api-Key", adminKey);
        _webhook = webhook;
        _replicas = replicas;
        _making = Task.Run(() => MakeRunsAsync(every));
        _resuming = Task.Run(ResumeAsync);
    }

    /// <summary>Every run made: run id to how (echo, ask, resume).</summary>
    public IReadOnlyDictionary<string, string> Runs => _runs;

    public int Resumed => _resumed.Count;

    /// <summary>The runs of <c>ask</c> whose pause was not resumed through the receiver (yet).</summary>
    public IReadOnlyList<string> NotResumed => _runs.Where(r => r.Value == "ask" && !_pausedRunsResumed.ContainsKey(r.Key)).Select(r => r.Key).ToList();

    public long FailedCalls => Interlocked.Read(ref _failedCalls);

    /// <summary>Stops making runs; pauses are still resumed until <see cref="DisposeAsync"/>.</summary>
    public Task StopMakingAsync() => _stop.CancelAsync();

    /// <summary>Resumes what is waiting until nothing is, or the timeout.</summary>
    public async Task<int> ResumeAllAsync(TimeSpan timeout)
    {
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < timeout)
        {
            var waiting = await ResumeWaitingAsync();
            if (waiting == 0 && NotResumed.Count == 0)
            {
                return 0;
            }

            await Task.Delay(1000);
        }

        return NotResumed.Count;
    }

    private async Task MakeRunsAsync(TimeSpan every)
    {
        var n = 0;
        while (!_stop.IsCancellationRequested)
        {
            var graph = n++ % 5 == 4 ? "ask" : "echo";
            try
            {
                using var thread = await _langGraph.PostAsJsonAsync("/threads", new JsonObject());
                var threadId = (string)(await thread.EnsureSuccessStatusCode().Content.ReadFromJsonAsync<JsonObject>())!["thread_id"]!;
                using var run = await _langGraph.PostAsJsonAsync($"/threads/{threadId}/runs", new JsonObject
                {
                    ["assistant_id"] = graph,
                    ["input"] = new JsonObject { ["messages"] = new JsonArray(new JsonObject { ["role"] = "user", ["content"] = $"chaos {n}" }) },
                    ["webhook"] = _webhook,
                });
                var runId = (string)(await run.EnsureSuccessStatusCode().Content.ReadFromJsonAsync<JsonObject>())!["run_id"]!;
                _runs[runId] = graph;
            }
            catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException or System.Text.Json.JsonException)
            {
                Interlocked.Increment(ref _failedCalls);
            }

            try
            {
                await Task.Delay(every, _stop.Token);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    private async Task ResumeAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            await ResumeWaitingAsync();
            try
            {
                await Task.Delay(2000, _stop.Token);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    /// <summary>
    /// Resumes every waiting pause through an up replica, and again every pause whose resume got no answer (its replica was
    /// killed mid-call, or a 5xx: the store may say resumed, so the list no longer shows it, and only a retry's 409 tells); returns how many
    /// were waiting.
    /// </summary>
    private async Task<int> ResumeWaitingAsync()
    {
        var up = _replicas().Where(r => r.Up).ToList();
        if (up.Count == 0)
        {
            return -1;
        }

        var replica = up[Random.Shared.Next(up.Count)];
        JsonArray items;
        try
        {
            var list = await _receiver.GetFromJsonAsync<JsonObject>(new Uri(replica.BaseAddress, "/api/interrupts?state=waiting&limit=100"));
            items = list!["items"]!.AsArray();
        }
        catch (Exception ex) when (Unanswered(ex))
        {
            Interlocked.Increment(ref _failedCalls);
            return -1;
        }

        var pauses = items.Select(item => ((long)item!["id"]!, (string?)item["run_id"])).Concat(_unanswered.Select(u => (u.Key, u.Value))).Distinct().ToList();
        foreach (var (id, pausedRun) in pauses)
        {
            try
            {
                using var resume = await _receiver.PostAsJsonAsync(new Uri(replica.BaseAddress, $"/api/interrupts/{id}/resume"), new JsonObject { ["resume"] = "yes" });
                _unanswered.TryRemove(id, out _);
                if ((int)resume.StatusCode == 202)
                {
                    var runId = (string)(await resume.Content.ReadFromJsonAsync<JsonObject>())!["run_id"]!;
                    _resumed[id] = runId;
                    _runs[runId] = "resume";
                }
                else if ((int)resume.StatusCode == 409)
                {
                    _resumed.TryAdd(id, "");
                }
                else
                {
                    // A 5xx may come after the resume was made (the audit record could not be written, say): asked again until a 202 or 409 says.
                    if ((int)resume.StatusCode >= 500)
                    {
                        _unanswered[id] = pausedRun;
                    }

                    continue;
                }

                if (pausedRun is not null)
                {
                    _pausedRunsResumed[pausedRun] = true;
                }
            }
            catch (Exception ex) when (Unanswered(ex))
            {
                Interlocked.Increment(ref _failedCalls);
                _unanswered[id] = pausedRun;
            }
        }

        return items.Count;
    }

    private static bool Unanswered(Exception ex) =>
        ex is HttpRequestException or TaskCanceledException or IOException or System.Net.Sockets.SocketException or System.Text.Json.JsonException or NullReferenceException;

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        await Task.WhenAll(_making, _resuming);
        _langGraph.Dispose();
        _receiver.Dispose();
        _stop.Dispose();
    }
}
