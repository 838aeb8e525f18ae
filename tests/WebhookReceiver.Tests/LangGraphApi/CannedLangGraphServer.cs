using System.Collections.Concurrent;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using WebhookReceiver.LangGraph;

namespace WebhookReceiver.Tests.LangGraphApi;

/// <summary>What the canned server answers one request with.</summary>
public sealed record CannedAnswer(int Status, string Body = "", string ContentType = "application/json", TimeSpan Delay = default)
{
    public static CannedAnswer Json(JsonNode body, int status = 200) => new(status, body.ToJsonString());

    /// <summary>The Python server's error: <c>{"detail": ...}</c>.</summary>
    public static CannedAnswer PythonError(int status, string detail) => new(status, new JsonObject { ["detail"] = detail }.ToJsonString());

    /// <summary>The JS server's error: plain text.</summary>
    public static CannedAnswer JsError(int status, string text) => new(status, text, "text/plain; charset=UTF-8");
}

public sealed record CannedRequest(string Method, string Path, IReadOnlyDictionary<string, string> Query, IReadOnlyDictionary<string, string> Headers, string Body)
{
    public JsonNode? Json => Body.Length == 0 ? null : JsonNode.Parse(Body);
}

/// <summary>
/// A real Kestrel server on a free 127.0.0.1 port standing in for a LangGraph server: it answers every request with what
/// <see cref="Answer"/> gives for it (and its 1-based number), and records what it was asked.
/// </summary>
public sealed class CannedLangGraphServer : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly ConcurrentQueue<CannedRequest> _received = new();

    private CannedLangGraphServer(WebApplication app) => _app = app;

    public Func<CannedRequest, int, CannedAnswer> Answer { get; set; } = (_, _) => new CannedAnswer(500, "no answer set");

    public IReadOnlyList<CannedRequest> Received => _received.ToList();

    public Uri Url { get; private set; } = null!;

    public static async Task<CannedLangGraphServer> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        var app = builder.Build();
        var server = new CannedLangGraphServer(app);
        app.Run(async context =>
        {
            using var reader = new StreamReader(context.Request.Body);
            var request = new CannedRequest(
                context.Request.Method,
                context.Request.Path.Value ?? "",
                context.Request.Query.ToDictionary(q => q.Key, q => q.Value.ToString(), StringComparer.Ordinal),
                context.Request.Headers.ToDictionary(h => h.Key, h => h.Value.ToString(), StringComparer.OrdinalIgnoreCase),
                await reader.ReadToEndAsync());
            server._received.Enqueue(request);
            var answer = server.Answer(request, server._received.Count);
            if (answer.Delay > TimeSpan.Zero)
            {
                try
                {
                    await Task.Delay(answer.Delay, context.RequestAborted);
                }
                catch (OperationCanceledException)
                {
                    return; // The client gave up, as it should.
                }
            }

            context.Response.StatusCode = answer.Status;
            context.Response.ContentType = answer.ContentType;
            await context.Response.WriteAsync(answer.Body);
        });
        await app.StartAsync();
        server.Url = new Uri(app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First());
        return server;
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}

/// <summary>The receiver's own DI (<c>AddWebhookReceiver</c>) with one LangGraph deployment, <c>prod</c>, to take clients from.</summary>
public static class LangGraphClientHost
{
    /// <summary>
    /// The receiver's own DI (<c>AddWebhookReceiver</c>) with one deployment, <c>prod</c>, pointed at <paramref name="apiUrl"/>;
    /// retries wait 10 ms so tests do not sleep.
    /// </summary>
    public static IHost Build(Uri apiUrl, string? apiKey = null, Dictionary<string, string?>? settings = null)
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { EnvironmentName = "Development" });
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["WebhookReceiver:LangGraph:Deployments:0:Name"] = "prod",
            ["WebhookReceiver:LangGraph:Deployments:0:ApiUrl"] = apiUrl.ToString(),
            ["WebhookReceiver:LangGraph:Deployments:0:ApiKey"] = apiKey,
            ["WebhookReceiver:LangGraph:RetryDelay"] = "00:00:00.010",
        });
        builder.Configuration.AddInMemoryCollection(settings ?? []);
        builder.Logging.ClearProviders();
        builder.Services.AddWebhookReceiver(builder.Configuration);
        return builder.Build();
    }

    public static LangGraphClient Client(IHost host) => host.Services.GetRequiredService<ILangGraphClients>().ForDeployment("prod");
}
