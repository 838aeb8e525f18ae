using System.Collections.Concurrent;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace WebhookReceiver.Tests.Infrastructure;

/// <summary>
/// A real Kestrel server on a free 127.0.0.1 port that records every request it receives: the far side of a forward
/// target. It can answer slowly, as a slow downstream service would, to keep deliveries in flight.
/// </summary>
public sealed class LoopbackListener : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly ConcurrentQueue<ReceivedRequest> _received = new();
    private readonly SemaphoreSlim _arrived = new(0);

    private LoopbackListener(WebApplication app) => _app = app;

    /// <summary>The status code to answer the n-th request (1-based) with; 200 by default.</summary>
    public Func<int, int> Answer { get; set; } = _ => StatusCodes.Status200OK;

    /// <summary>How long to wait before answering each request.</summary>
    public TimeSpan AnswerDelay { get; set; }

    public IReadOnlyList<ReceivedRequest> Received => _received.ToList();

    /// <summary>How many times each run was delivered, by the <c>run_id</c> of the bodies received.</summary>
    public IReadOnlyDictionary<string, int> DeliveriesByRunId() => _received
        .GroupBy(r => JsonNode.Parse(r.Body)?["run_id"]?.GetValue<string>() ?? "")
        .ToDictionary(g => g.Key, g => g.Count(), StringComparer.Ordinal);

    public Uri Url { get; private set; } = null!;

    /// <param name="port">0 for any free port; a given one to stand in, on the same address, for a receiver that is down.</param>
    public static async Task<LoopbackListener> StartAsync(int port = 0)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls($"http://127.0.0.1:{port}");
        builder.Logging.ClearProviders();
        var app = builder.Build();
        var listener = new LoopbackListener(app);
        app.MapPost("/{**path}", async (HttpContext context) =>
        {
            using var reader = new StreamReader(context.Request.Body);
            var body = await reader.ReadToEndAsync();
            var headers = context.Request.Headers.ToDictionary(h => h.Key, h => h.Value.ToString(), StringComparer.OrdinalIgnoreCase);
            listener._received.Enqueue(new ReceivedRequest(context.Request.Path, headers, body));
            listener._arrived.Release();
            var answer = listener.Answer(listener._received.Count);
            if (listener.AnswerDelay > TimeSpan.Zero)
            {
                await Task.Delay(listener.AnswerDelay, context.RequestAborted);
            }

            return Results.StatusCode(answer);
        });
        await app.StartAsync();
        listener.Url = new Uri(app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First());
        return listener;
    }

    public async Task WaitForRequestsAsync(int count, int timeoutSeconds = 20)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(timeoutSeconds));
        while (_received.Count < count)
        {
            try
            {
                await _arrived.WaitAsync(timeout.Token);
            }
            catch (OperationCanceledException)
            {
                throw new TimeoutException($"Expected {count} requests within {timeoutSeconds} s, saw {_received.Count}.");
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}

public sealed record ReceivedRequest(string Path, IReadOnlyDictionary<string, string> Headers, string Body);
