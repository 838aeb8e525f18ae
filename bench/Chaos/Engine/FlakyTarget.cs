using System.Collections.Concurrent;
using System.Net;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace WebhookReceiver.Chaos;

/// <summary>One request the forward target got: the delivery (<c>webhook-id</c>), its run, and whether it answered 2xx.</summary>
public sealed record Hit(string DeliveryId, string? RunId, bool Succeeded, long AtMs);

/// <summary>
/// The forward handler's target, on a loopback port: answers most deliveries 200 at once, fails some with 500, and
/// hangs some past the attempt timeout before answering 503 (a hang is never a success). Every request is a hit.
/// </summary>
public sealed class FlakyTarget : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly double _failRate;
    private readonly double _hangRate;
    private readonly TimeSpan _hang;
    private readonly bool _keepHits;
    private readonly ConcurrentQueue<Hit> _hits = new();
    private long _requests;

    private FlakyTarget(WebApplication app, double failRate, double hangRate, TimeSpan hang, bool keepHits)
    {
        _app = app;
        _failRate = failRate;
        _hangRate = hangRate;
        _hang = hang;
        _keepHits = keepHits;
    }

    public Uri Url { get; private set; } = null!;

    public IReadOnlyCollection<Hit> Hits => _hits;

    public long Requests => Interlocked.Read(ref _requests);

    /// <summary>Called for every request as it is answered (the soak measures the delivery lag with it).</summary>
    public Action<Hit>? OnHit { get; set; }

    /// <param name="keepHits">Keep every hit for the checker (chaos); off for the soak, whose memory must stay flat.</param>
    public static async Task<FlakyTarget> StartAsync(double failRate, double hangRate, TimeSpan hang, bool keepHits)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.WebHost.ConfigureKestrel(k => k.Limits.MaxRequestBodySize = null);
        var app = builder.Build();
        var target = new FlakyTarget(app, failRate, hangRate, hang, keepHits);
        app.MapPost("/target", target.HandleAsync);
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        target.Url = new Uri(new Uri(address), "/target");
        return target;
    }

    private async Task HandleAsync(HttpContext context)
    {
        Interlocked.Increment(ref _requests);
        var deliveryId = context.Request.Headers["webhook-id"].ToString();
        string? runId = null;
        try
        {
            using var body = await JsonDocument.ParseAsync(context.Request.Body, cancellationToken: context.RequestAborted);
            if (body.RootElement.ValueKind == JsonValueKind.Object && body.RootElement.TryGetProperty("run_id", out var id) && id.ValueKind == JsonValueKind.String)
            {
                runId = id.GetString();
            }
        }
        catch (Exception ex) when (ex is JsonException or OperationCanceledException or IOException or BadHttpRequestException)
        {
            // A body cut by a kill: not a success either way.
        }

        var roll = Random.Shared.NextDouble();
        var status = roll < _failRate ? HttpStatusCode.InternalServerError
            : roll < _failRate + _hangRate ? HttpStatusCode.ServiceUnavailable
            : HttpStatusCode.OK;
        if (status == HttpStatusCode.ServiceUnavailable)
        {
            try
            {
                await Task.Delay(_hang, context.RequestAborted);
            }
            catch (OperationCanceledException)
            {
                // The attempt timed out and the handler hung up: the hang did its work.
            }
        }

        context.Response.StatusCode = (int)status;
        var hit = new Hit(deliveryId, runId, status == HttpStatusCode.OK, Clock.Ms);
        if (_keepHits)
        {
            _hits.Enqueue(hit);
        }

        OnHit?.Invoke(hit);
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
