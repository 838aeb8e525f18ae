using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;

namespace WebhookReceiver.Tests.Infrastructure;

/// <summary>
/// The service (a <see cref="TestApp"/>) on a real Kestrel socket on 127.0.0.1, for what must reach it over the network
/// (a LangGraph server posting webhooks, a browser): its address, a query API client with the admin key, and the calls
/// the tests make. Each test or fixture <c>await using</c>s its own.
/// </summary>
public sealed class LiveReceiver : IAsyncDisposable
{
    private LiveReceiver(TestApp app)
    {
        App = app;
        var addresses = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()
            ?? throw new InvalidOperationException("Kestrel reports no addresses.");
        Address = new Uri(addresses.Addresses.Single());
        Admin = new HttpClient { BaseAddress = Address, Timeout = TimeSpan.FromSeconds(60) };
        Admin.DefaultRequestHeaders.Add("X-Api-Key", TestApp.AdminKey);
    }

    public TestApp App { get; }

    public IServiceProvider Services => App.Services;

    /// <summary>http://127.0.0.1:{port}/</summary>
    public Uri Address { get; }

    /// <summary>A client of the query API over the socket, with the admin key.</summary>
    public HttpClient Admin { get; }

    /// <summary>
    /// Starts the service on <paramref name="port"/> (0: one Kestrel chooses). <paramref name="directory"/> is where its
    /// SQLite file is: one an earlier receiver used, to restart on the same store.
    /// </summary>
    public static async Task<LiveReceiver> StartAsync(
        Dictionary<string, string?>? settings = null, Action<IServiceCollection>? services = null, int port = 0, TempDirectory? directory = null)
    {
        var app = new TestApp(settings, services, directory: directory);
        try
        {
            app.UseKestrel(kestrel => kestrel.Listen(IPAddress.Loopback, port));
            app.StartServer();
            return new LiveReceiver(app);
        }
        catch
        {
            await app.DisposeAsync();
            throw;
        }
    }

    /// <summary>
    /// Starts the service on a port chosen first, for settings that name its own address (<c>LangGraph:PublicUrl</c>).
    /// Another process may take the port before the service binds it: then another port, up to three times.
    /// </summary>
    public static async Task<LiveReceiver> StartAtKnownAddressAsync(Func<Uri, Dictionary<string, string?>> settings, Action<IServiceCollection>? services = null)
    {
        for (var attempt = 1; ; attempt++)
        {
            var port = LoopbackPorts.Free();
            try
            {
                return await StartAsync(settings(new Uri($"http://127.0.0.1:{port}/")), services, port);
            }
            catch (Exception ex) when (attempt < 3 && LoopbackPorts.WasTaken(ex.ToString()))
            {
                // Taken between choosing and binding it: another port.
            }
        }
    }

    /// <summary>The URL a run is pointed at; without a token when <paramref name="token"/> is null.</summary>
    public string WebhookUrl(string? token = TestApp.Token) =>
        new Uri(Address, token is null ? "/webhooks/langgraph" : $"/webhooks/langgraph?token={Uri.EscapeDataString(token)}").ToString();

    /// <summary>Posts a webhook body over the socket as the JS server sends it (text/plain), with the token.</summary>
    public async Task<HttpResponseMessage> PostAsync(string body)
    {
        using var client = new HttpClient();
        using var content = new StringContent(body, Encoding.UTF8, "text/plain");
        return await client.PostAsync(WebhookUrl(), content);
    }

    public async Task<JsonNode> GetAsync(string path) =>
        await TryGetAsync(path) ?? throw new InvalidOperationException($"GET {path} found nothing.");

    /// <summary>GET with the admin key; null on 404.</summary>
    public async Task<JsonNode?> TryGetAsync(string path)
    {
        using var response = await Admin.GetAsync(path);
        return response.StatusCode == HttpStatusCode.NotFound ? null : await Json.ReadAsync(response.EnsureSuccessStatusCode());
    }

    /// <summary>The stored webhook of a run (<c>GET /api/runs/{runId}</c>), or null.</summary>
    public Task<JsonNode?> RunAsync(string runId) => TryGetAsync($"/api/runs/{runId}");

    public async Task<List<JsonNode>> WebhooksOfThreadAsync(string threadId) =>
        (await Admin.GetFromJsonAsync<JsonNode>($"/api/webhooks?thread_id={threadId}"))!["items"]!.AsArray().Select(w => w!).ToList();

    /// <summary>POST /api/langgraph/sweep until it is not turned away because the background sweep holds the lease.</summary>
    public async Task<JsonNode> SweepAsync()
    {
        for (var attempt = 0; ; attempt++)
        {
            using var response = await Admin.PostAsync("/api/langgraph/sweep", null);
            var report = (await response.EnsureSuccessStatusCode().Content.ReadFromJsonAsync<JsonNode>())!;
            if (report["deployments"]!.AsArray().All(d => d!["status"]!.GetValue<string>() != "busy") || attempt == 20)
            {
                return report;
            }

            await Task.Delay(200);
        }
    }

    public async ValueTask DisposeAsync()
    {
        Admin.Dispose();
        await App.DisposeAsync();
    }
}
