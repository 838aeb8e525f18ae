using System.Diagnostics;
using System.Net;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using WebhookReceiver.Tests.Infrastructure;

namespace WebhookReceiver.Tests.LangGraph;

/// <summary>
/// Shared by the tests of one class: the service on a real Kestrel socket (a free loopback port) with a recording
/// handler and a record of every request that reached it, and one real LangGraph JS dev server that posts to it.
/// </summary>
public sealed class LangGraphServerFixture : IAsyncLifetime
{
    private static readonly TimeSpan DriverTimeout = TimeSpan.FromSeconds(60);
    private readonly Stopwatch _lifetime = Stopwatch.StartNew();

    public RunRecorder Recorder { get; } = new();
    public IngressRecorder Ingress { get; } = new();
    public TestApp Receiver { get; private set; } = null!;
    public Uri ReceiverAddress { get; private set; } = null!;
    public LangGraphDevServer LangGraph { get; private set; } = null!;

    /// <summary>A client of the query API over the socket, with the admin key.</summary>
    public HttpClient Admin { get; private set; } = null!;

    /// <summary>How long starting both servers took.</summary>
    public TimeSpan StartedIn { get; private set; }

    public async Task InitializeAsync()
    {
        try
        {
            Receiver = new TestApp(services: services =>
            {
                services.AddRecordingHandler(Recorder);
                services.AddSingleton<IStartupFilter>(Ingress);
            });
            Receiver.UseKestrel(kestrel => kestrel.Listen(IPAddress.Loopback, 0));
            Receiver.StartServer();
            var addresses = Receiver.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()
                ?? throw new InvalidOperationException("Kestrel reports no addresses.");
            ReceiverAddress = new Uri(addresses.Addresses.Single());
            Admin = new HttpClient { BaseAddress = ReceiverAddress, Timeout = TimeSpan.FromSeconds(30) };
            Admin.DefaultRequestHeaders.Add("X-Api-Key", TestApp.AdminKey);

            LangGraph = await LangGraphDevServer.StartAsync();
            StartedIn = _lifetime.Elapsed;
        }
        catch
        {
            await DisposeAsync();
            throw;
        }
    }

    /// <summary>The URL a run is pointed at; without a token when <paramref name="token"/> is null.</summary>
    public string WebhookUrl(string? token = TestApp.Token) =>
        new Uri(ReceiverAddress, token is null ? "/webhooks/langgraph" : $"/webhooks/langgraph?token={Uri.EscapeDataString(token)}").ToString();

    public Task<DriverResult> DriveAsync(string scenario, string? token = TestApp.Token) =>
        LangGraph.DriveAsync(scenario, WebhookUrl(token), DriverTimeout);

    public async Task DisposeAsync()
    {
        // The LangGraph server goes first: a webhook it sends to a closed port kills its worker loop, and it should not outlive the test.
        try
        {
            if (LangGraph is not null)
            {
                await LangGraph.DisposeAsync();
            }
        }
        finally
        {
            Admin?.Dispose();
            if (Receiver is not null)
            {
                await Receiver.DisposeAsync();
            }
        }
    }
}
