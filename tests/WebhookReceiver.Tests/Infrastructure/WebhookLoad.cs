using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Text;
using System.Text.Json.Nodes;

namespace WebhookReceiver.Tests.Infrastructure;

/// <param name="RunId">The run the webhook reported; every send is a new run.</param>
/// <param name="Status">The answer's status code; null when no answer came (connection refused or reset, timed out).</param>
/// <param name="RetryAfter">The answer's Retry-After header, if any.</param>
/// <param name="PhaseAtStart">The load's <see cref="WebhookLoad.Phase"/> when the request was sent.</param>
/// <param name="PhaseAtEnd">... and when its answer (or failure) came.</param>
public sealed record SendOutcome(string RunId, HttpStatusCode? Status, string? RetryAfter, int PhaseAtStart, int PhaseAtEnd)
{
    public bool Acknowledged => Status is { } status && (int)status is >= 200 and < 300;

    public bool ServerError => Status is { } status && (int)status >= 500;
}

/// <summary>
/// Concurrent senders posting new webhooks to the service, as a LangGraph server with many runs finishing would, and
/// recording every outcome. The address can change while it runs (a restarted service listens on a new port), and the
/// senders can be held back while there is no service to send to. A test labels stretches of time with
/// <see cref="Phase"/> so that it can tell which answers came before, during and after what it did to the service.
/// </summary>
public sealed class WebhookLoad : IAsyncDisposable
{
    private readonly HttpClient _http;
    private readonly CancellationTokenSource _stop = new();
    private readonly ConcurrentQueue<SendOutcome> _outcomes = new();
    private readonly Func<long, JsonObject> _payload;
    private readonly TimeSpan _pause;
    private readonly Task[] _senders;
    private TaskCompletionSource _open = NewGate(open: true);
    private Uri _address;
    private long _sent;
    private int _phase;

    private WebhookLoad(Uri address, int senders, TimeSpan pauseBetweenSends, Func<long, JsonObject>? payload)
    {
        _address = address;
        _pause = pauseBetweenSends;
        _payload = payload ?? (_ => Payloads.Run());
        // A short connect timeout: a killed service's port refuses at once, but a stalled one must not hold a sender long.
        _http = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = senders, ConnectTimeout = TimeSpan.FromSeconds(5) })
        {
            Timeout = TimeSpan.FromSeconds(30),
        };
        _senders = Enumerable.Range(0, senders).Select(_ => Task.Run(SendUntilStoppedAsync)).ToArray();
    }

    /// <summary>Starts <paramref name="senders"/> senders, each waiting <paramref name="pauseBetweenSends"/> after every answer.</summary>
    public static WebhookLoad Start(Uri address, int senders, TimeSpan pauseBetweenSends, Func<long, JsonObject>? payload = null) =>
        new(address, senders, pauseBetweenSends, payload);

    public IReadOnlyCollection<SendOutcome> Outcomes => _outcomes;

    public int Phase
    {
        get => Volatile.Read(ref _phase);
        set => Volatile.Write(ref _phase, value);
    }

    public int AcknowledgedCount => _outcomes.Count(o => o.Acknowledged);

    /// <summary>Senders finish what they are sending and wait before the next.</summary>
    public void Hold() => Volatile.Write(ref _open, NewGate(open: false));

    /// <summary>Senders go on, to <paramref name="address"/> from now on.</summary>
    public void Resume(Uri address)
    {
        Volatile.Write(ref _address, address);
        Volatile.Read(ref _open).TrySetResult();
    }

    /// <summary>Waits until <paramref name="condition"/> holds for the outcomes so far, failing after <paramref name="timeout"/>.</summary>
    public async Task WaitUntilAsync(Func<IReadOnlyCollection<SendOutcome>, bool> condition, TimeSpan timeout, string what)
    {
        var clock = Stopwatch.StartNew();
        while (!condition(_outcomes))
        {
            if (clock.Elapsed > timeout)
            {
                throw new TimeoutException($"Not within {timeout.TotalSeconds:0} s: {what}. {Summary()}");
            }

            await Task.Delay(20);
        }
    }

    /// <summary>Stops sending and waits for the requests in flight to be answered or to fail.</summary>
    public async Task StopAsync()
    {
        await _stop.CancelAsync();
        Volatile.Read(ref _open).TrySetResult();
        await Task.WhenAll(_senders);
    }

    public string Summary() =>
        $"{_outcomes.Count} sent: " + string.Join(", ", _outcomes.GroupBy(o => o.Status?.ToString() ?? "no answer").Select(g => $"{g.Count()} {g.Key}"));

    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        _http.Dispose();
        _stop.Dispose();
    }

    private async Task SendUntilStoppedAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            try
            {
                await Volatile.Read(ref _open).Task.WaitAsync(_stop.Token);
            }
            catch (OperationCanceledException)
            {
                return;
            }

            if (_stop.IsCancellationRequested)
            {
                return;
            }

            var body = _payload(Interlocked.Increment(ref _sent));
            var runId = (string)body["run_id"]!;
            var phase = Phase;
            var address = Volatile.Read(ref _address);
            try
            {
                using var content = new ByteArrayContent(Encoding.UTF8.GetBytes(body.ToJsonString()));
                using var response = await _http.PostAsync(new Uri(address, $"/webhooks/langgraph?token={TestApp.Token}"), content);
                var retryAfter = response.Headers.TryGetValues("Retry-After", out var values) ? values.FirstOrDefault() : null;
                _outcomes.Enqueue(new SendOutcome(runId, response.StatusCode, retryAfter, phase, Phase));
            }
            catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException)
            {
                // Refused, reset or timed out: the sender does not know whether the webhook was stored.
                _outcomes.Enqueue(new SendOutcome(runId, null, null, phase, Phase));
                await Task.Delay(TimeSpan.FromMilliseconds(20));
            }

            if (_pause > TimeSpan.Zero)
            {
                await Task.Delay(_pause);
            }
        }
    }

    private static TaskCompletionSource NewGate(bool open)
    {
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        if (open)
        {
            gate.SetResult();
        }

        return gate;
    }
}
