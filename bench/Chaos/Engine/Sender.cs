using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace WebhookReceiver.Chaos;

/// <summary>
/// One send and its answer, as the sender's log records it. <see cref="Status"/> 0: no answer (refused, reset, timed
/// out). <see cref="Kind"/>: new, duplicate (the bytes of a run answered 2xx before), retry (the bytes of a run answered
/// 503 or not at all, as LangGraph's Python server retries), interrupted, large (near the body limit).
/// </summary>
public sealed record Answer(long Seq, string RunId, string Kind, int Status, bool Duplicate, bool RetryAfter, long StartMs, long EndMs, string Replica)
{
    public bool Acknowledged => Status is >= 200 and < 300;

    public long Millis => EndMs - StartMs;

    public string ToLogLine() => string.Join('\t', Seq, RunId, Kind, Status, Duplicate ? 1 : 0, RetryAfter ? 1 : 0, StartMs, EndMs, Replica);
}

/// <summary>What the senders send, and how fast.</summary>
public sealed record LoadShape
{
    public int Senders { get; init; } = 4;

    /// <summary>Each sender's pause after an answer (chaos); ignored when <see cref="Rate"/> is set.</summary>
    public TimeSpan Pause { get; init; } = TimeSpan.FromMilliseconds(20);

    /// <summary>Webhooks per second across all senders (the soak's steady rate); 0: as the pauses allow.</summary>
    public int Rate { get; init; }

    public double DuplicateShare { get; init; } = 0.08;

    public double RetryShare { get; init; } = 0.04;

    public double InterruptedShare { get; init; } = 0.06;

    public double LargeShare { get; init; } = 0.02;

    /// <summary>The service's MaxBodyBytes: "large" bodies are just under it.</summary>
    public int MaxBodyBytes { get; init; } = 64 * 1024;

    public bool KeepAnswers { get; init; } = true;
}

/// <summary>
/// Senders posting webhooks to the up replicas (a load balancer's choice), logging every answer to a file and, for the
/// checker, in memory. A 2xx answer adds the body to the pool its duplicates are drawn from.
/// </summary>
public sealed class Sender : IAsyncDisposable
{
    private const int PoolSize = 2000;
    private readonly HttpClient _http;
    private readonly LoadShape _shape;
    private readonly Func<IReadOnlyList<Receiver>> _replicas;
    private readonly string _token;
    private readonly CancellationTokenSource _stop = new();
    private readonly ConcurrentQueue<Answer> _answers = new();
    private readonly StreamWriter _log;
    private readonly Lock _logLock = new();
    private readonly ConcurrentQueue<(string RunId, byte[] Body)> _acknowledged = new();
    private readonly ConcurrentQueue<(string RunId, byte[] Body)> _unanswered = new();
    private readonly Task[] _workers;
    private readonly Task? _pacer;
    private readonly SemaphoreSlim _permits = new(0);
    private readonly string _prefix = Guid.NewGuid().ToString("N")[..8];
    private long _seq;
    private long _acked;
    private long _sent;

    public Sender(LoadShape shape, Func<IReadOnlyList<Receiver>> replicas, string token, string logFile)
    {
        _shape = shape;
        _replicas = replicas;
        _token = token;
        _log = new StreamWriter(logFile, append: false, Encoding.UTF8) { AutoFlush = false };
        _log.WriteLine("seq\trun_id\tkind\tstatus\tduplicate\tretry_after\tstart_ms\tend_ms\treplica");
        _http = new HttpClient(new SocketsHttpHandler
        {
            MaxConnectionsPerServer = shape.Senders,
            ConnectTimeout = TimeSpan.FromSeconds(3),
            PooledConnectionLifetime = TimeSpan.FromMinutes(1),
        })
        {
            Timeout = TimeSpan.FromSeconds(60),
        };
        _workers = Enumerable.Range(0, shape.Senders).Select(_ => Task.Run(WorkAsync)).ToArray();
        if (shape.Rate > 0)
        {
            _pacer = Task.Run(PaceAsync);
        }
    }

    public IReadOnlyCollection<Answer> Answers => _answers;

    public long Acknowledged => Interlocked.Read(ref _acked);

    public long Sent => Interlocked.Read(ref _sent);

    /// <summary>Called with every answer (the soak keeps only what it needs).</summary>
    public Action<Answer>? OnAnswer { get; set; }

    public async Task WaitForAcknowledgedAsync(long count, TimeSpan timeout, string what)
    {
        var clock = Stopwatch.StartNew();
        while (Acknowledged < count)
        {
            if (clock.Elapsed > timeout)
            {
                throw new TimeoutException($"Not within {timeout.TotalSeconds:0} s: {what} ({Acknowledged} acknowledged of {count}).");
            }

            await Task.Delay(20);
        }
    }

    public async Task StopAsync()
    {
        if (!_stop.IsCancellationRequested)
        {
            await _stop.CancelAsync();
        }

        await Task.WhenAll(_workers);
        if (_pacer is not null)
        {
            await _pacer;
        }

        lock (_logLock)
        {
            _log.Flush();
        }
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        await _log.DisposeAsync();
        _http.Dispose();
        _stop.Dispose();
        _permits.Dispose();
    }

    private async Task PaceAsync()
    {
        var clock = Stopwatch.StartNew();
        long issued = 0;
        while (!_stop.IsCancellationRequested)
        {
            var due = (long)(clock.Elapsed.TotalSeconds * _shape.Rate);
            // Never bank more than a second of permits: a stall is not made up for with a burst.
            if (due - issued > _shape.Rate)
            {
                issued = due - _shape.Rate;
            }

            if (due > issued)
            {
                _permits.Release((int)(due - issued));
                issued = due;
            }

            try
            {
                await Task.Delay(10, _stop.Token);
            }
            catch (OperationCanceledException)
            {
                break;
            }
        }

        _permits.Release(_shape.Senders);
    }

    private async Task WorkAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            if (_shape.Rate > 0)
            {
                await _permits.WaitAsync();
                if (_stop.IsCancellationRequested)
                {
                    return;
                }
            }

            var (runId, kind, body) = NextBody();
            var replicas = _replicas();
            var up = replicas.Where(r => r.Up).ToList();
            var replica = up.Count > 0 ? up[Random.Shared.Next(up.Count)] : replicas[Random.Shared.Next(replicas.Count)];
            var seq = Interlocked.Increment(ref _seq);
            Interlocked.Increment(ref _sent);
            var start = Clock.Ms;
            Answer answer;
            try
            {
                using var content = new ByteArrayContent(body);
                content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
                using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(replica.BaseAddress, "/webhooks/langgraph")) { Content = content };
                request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", _token);
                using var response = await _http.SendAsync(request);
                var text = await response.Content.ReadAsStringAsync();
                var duplicate = text.Contains("\"duplicate\":true", StringComparison.Ordinal);
                answer = new Answer(seq, runId, kind, (int)response.StatusCode, duplicate, response.Headers.RetryAfter is not null, start, Clock.Ms, replica.Name);
            }
            catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException or IOException or System.Net.Sockets.SocketException)
            {
                answer = new Answer(seq, runId, kind, 0, false, false, start, Clock.Ms, replica.Name);
            }

            Record(answer, body);
            if (answer.Status is 0 or 503)
            {
                await Task.Delay(20); // A sender meeting a closed port or a 503 does not spin.
            }

            if (_shape.Rate == 0 && _shape.Pause > TimeSpan.Zero)
            {
                await Task.Delay(_shape.Pause);
            }
        }
    }

    private void Record(Answer answer, byte[] body)
    {
        if (answer.Acknowledged)
        {
            Interlocked.Increment(ref _acked);
            if (body.Length < 8192)
            {
                Remember(_acknowledged, answer.RunId, body);
            }
        }
        else if (answer.Status is 0 or 503 && body.Length < 8192)
        {
            Remember(_unanswered, answer.RunId, body);
        }

        if (_shape.KeepAnswers)
        {
            _answers.Enqueue(answer);
        }

        lock (_logLock)
        {
            _log.WriteLine(answer.ToLogLine());
        }

        OnAnswer?.Invoke(answer);
    }

    private static void Remember(ConcurrentQueue<(string, byte[])> pool, string runId, byte[] body)
    {
        pool.Enqueue((runId, body));
        while (pool.Count > PoolSize && pool.TryDequeue(out _))
        {
        }
    }

    private (string RunId, string Kind, byte[] Body) NextBody()
    {
        var roll = Random.Shared.NextDouble();
        if (roll < _shape.DuplicateShare && Pick(_acknowledged) is { } again)
        {
            return (again.RunId, "duplicate", again.Body);
        }

        roll -= _shape.DuplicateShare;
        if (roll < _shape.RetryShare && Pick(_unanswered) is { } retry)
        {
            return (retry.RunId, "retry", retry.Body);
        }

        roll -= _shape.RetryShare;
        var runId = $"{Guid.CreateVersion7()}";
        if (roll < _shape.InterruptedShare)
        {
            return (runId, "interrupted", Encode(Body(runId, "interrupted", padTo: 0)));
        }

        roll -= _shape.InterruptedShare;
        if (roll < _shape.LargeShare)
        {
            return (runId, "large", Encode(Body(runId, "success", padTo: _shape.MaxBodyBytes - Random.Shared.Next(64, 2048))));
        }

        return (runId, "new", Encode(Body(runId, Random.Shared.Next(10) == 0 ? "error" : "success", padTo: 0)));
    }

    private static (string RunId, byte[] Body)? Pick(ConcurrentQueue<(string RunId, byte[] Body)> pool)
    {
        var items = pool.ToArray();
        return items.Length == 0 ? null : items[Random.Shared.Next(items.Length)];
    }

    private static byte[] Encode(JsonObject body) => JsonSerializer.SerializeToUtf8Bytes(body);

    /// <summary>A JS dev server body; <paramref name="padTo"/> &gt; 0 pads the final state's history to about that many bytes.</summary>
    private JsonObject Body(string runId, string status, int padTo)
    {
        var threadId = Guid.NewGuid().ToString();
        var now = DateTime.UtcNow.ToString("yyyy-MM-ddTHH:mm:ss.fffZ", CultureInfo.InvariantCulture);
        var messages = new JsonArray(
            new JsonObject { ["type"] = "human", ["content"] = $"chaos {_prefix} {runId}" },
            new JsonObject { ["type"] = "ai", ["content"] = "done" });
        var body = new JsonObject
        {
            ["run_id"] = runId,
            ["thread_id"] = threadId,
            ["assistant_id"] = "fe096781-5601-53d2-b2f6-0d3403f7e9ca",
            ["status"] = status,
            ["metadata"] = new JsonObject { ["graph_id"] = "agent", ["created_by"] = "system" },
            ["kwargs"] = new JsonObject
            {
                ["input"] = new JsonObject { ["messages"] = new JsonArray(new JsonObject { ["role"] = "user", ["content"] = "hi" }) },
                ["webhook"] = "http://127.0.0.1:8080/webhooks/langgraph",
            },
            ["multitask_strategy"] = "reject",
            ["created_at"] = now,
            ["updated_at"] = now,
            ["run_started_at"] = now,
            ["run_ended_at"] = now,
            ["webhook_sent_at"] = now,
            ["values"] = new JsonObject { ["messages"] = messages },
        };
        if (status == "error")
        {
            body["error"] = "ValueError: chaos";
        }

        if (padTo > 0)
        {
            var size = JsonSerializer.SerializeToUtf8Bytes(body).Length;
            var fill = Math.Max(0, padTo - size - 64);
            messages.Add(new JsonObject { ["type"] = "ai", ["content"] = new string('x', fill) });
        }

        return body;
    }
}
