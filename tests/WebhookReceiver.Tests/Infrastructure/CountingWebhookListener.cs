using System.Collections.Concurrent;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace WebhookReceiver.Tests.Infrastructure;

/// <summary>
/// A real Kestrel endpoint on a free loopback port that the service's <c>forward</c> handler posts to: it counts every
/// delivery it receives by the run's <c>run_id</c> and answers 200, so a test can tell what was delivered and how often.
/// An optional delay before the answer keeps deliveries in flight, as a slow downstream service would.
/// </summary>
public sealed class CountingWebhookListener : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly ConcurrentDictionary<string, int> _deliveries = new(StringComparer.Ordinal);

    private readonly TimeSpan _answerDelay;

    private CountingWebhookListener(WebApplication app, TimeSpan answerDelay)
    {
        _app = app;
        _answerDelay = answerDelay;
    }

    /// <summary>Where to point a forward target.</summary>
    public Uri Url { get; private set; } = null!;

    /// <summary>How many times each run was delivered so far.</summary>
    public IReadOnlyDictionary<string, int> Deliveries => _deliveries;

    public static async Task<CountingWebhookListener> StartAsync(TimeSpan answerDelay = default)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        var app = builder.Build();
        var listener = new CountingWebhookListener(app, answerDelay);
        app.MapPost("/deliveries", listener.CountAsync);
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single();
        listener.Url = new Uri(new Uri(address), "/deliveries");
        return listener;
    }

    private async Task<IResult> CountAsync(HttpRequest request)
    {
        using var body = await JsonDocument.ParseAsync(request.Body);
        var runId = body.RootElement.GetProperty("run_id").GetString()!;
        _deliveries.AddOrUpdate(runId, 1, (_, count) => count + 1);
        if (_answerDelay > TimeSpan.Zero)
        {
            await Task.Delay(_answerDelay, request.HttpContext.RequestAborted);
        }

        return Results.Ok();
    }

    public async ValueTask DisposeAsync() => await _app.DisposeAsync();
}
