using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;

namespace WebhookReceiver.Tests.Infrastructure;

/// <summary>
/// One real LangGraph JS dev server (<see cref="LangGraphDevServer"/>, the pinned langgraphjs from tests/langgraph-e2e)
/// shared by the tests of a class (<c>IClassFixture</c>) or of several (<see cref="SharedLangGraphServer"/>): each test
/// makes its own threads and runs on it.
/// </summary>
public class LangGraphServerFixture : IAsyncLifetime
{
    public LangGraphDevServer LangGraph { get; private set; } = null!;

    public virtual async Task InitializeAsync() => LangGraph = await LangGraphDevServer.StartAsync();

    public virtual async Task DisposeAsync()
    {
        if (LangGraph is not null)
        {
            await LangGraph.DisposeAsync();
        }
    }
}

/// <summary>
/// The LangGraph dev server, then one <see cref="LiveReceiver"/> that takes its webhooks (and, unless a subclass says
/// otherwise, has it as deployment <c>local</c>), shared by the tests of a class. A subclass gives the receiver's settings
/// (they may name its own address, chosen first) and services.
/// </summary>
public abstract class LangGraphReceiverFixture : LangGraphServerFixture
{
    private static readonly TimeSpan DriverTimeout = TimeSpan.FromSeconds(60);

    public LiveReceiver Receiver { get; private set; } = null!;

    public Uri ReceiverAddress => Receiver.Address;

    /// <summary>A client of the query API over the socket, with the admin key.</summary>
    public HttpClient Admin => Receiver.Admin;

    public override async Task InitializeAsync()
    {
        try
        {
            await base.InitializeAsync();
            Receiver = await LiveReceiver.StartAtKnownAddressAsync(
                address =>
                {
                    var settings = Settings(address);
                    if (IsDeployment)
                    {
                        settings["WebhookReceiver:LangGraph:Deployments:0:Name"] = "local";
                        settings["WebhookReceiver:LangGraph:Deployments:0:ApiUrl"] = LangGraph.BaseAddress.ToString();
                    }

                    return settings;
                },
                AddServices);
        }
        catch
        {
            await DisposeAsync();
            throw;
        }
    }

    /// <summary>The receiver's settings beside its deployment; <paramref name="address"/> is where it will listen.</summary>
    protected abstract Dictionary<string, string?> Settings(Uri address);

    protected virtual void AddServices(IServiceCollection services)
    {
    }

    /// <summary>Whether the receiver has the server as its deployment <c>local</c> (verify, sweep, interrupts); without, it only takes its webhooks.</summary>
    protected virtual bool IsDeployment => true;

    /// <summary>Runs one scenario of the driver, every run's webhook sent to the receiver (without a token when <paramref name="token"/> is null).</summary>
    public Task<DriverResult> DriveAsync(string scenario, string? token = TestApp.Token) => LangGraph.DriveAsync(scenario, WebhookUrl(token), DriverTimeout);

    public string WebhookUrl(string? token = TestApp.Token) => Receiver.WebhookUrl(token);

    public Task<string> CreateThreadAsync() => LangGraph.CreateThreadAsync();

    /// <summary>Starts a background run whose webhook goes to the receiver (to <paramref name="webhook"/> when given, none when null).</summary>
    public Task<string> StartRunAsync(string threadId, string graph, JsonObject input, string? webhook = "") =>
        LangGraph.StartRunAsync(threadId, graph, input, webhook is { Length: 0 } ? WebhookUrl() : webhook);

    public Task<JsonNode> LangGraphThreadAsync(string threadId) => LangGraph.ThreadAsync(threadId);

    public Task<JsonNode> GetAsync(string path) => Receiver.GetAsync(path);

    public Task<JsonNode?> TryGetAsync(string path) => Receiver.TryGetAsync(path);

    // The LangGraph server goes first: a webhook it sends to a closed port kills its worker loop, and it should not outlive the test.
    public override async Task DisposeAsync()
    {
        try
        {
            await base.DisposeAsync();
        }
        finally
        {
            if (Receiver is not null)
            {
                await Receiver.DisposeAsync();
            }
        }
    }
}

/// <summary>
/// The classes that need only a LangGraph server, and start their own receivers, share one: a collection fixture, so they
/// run one after another. Their tests tell their runs apart by thread, run id or webhook URL.
/// </summary>
[CollectionDefinition(Name)]
public sealed class SharedLangGraphServer : ICollectionFixture<LangGraphServerFixture>
{
    public const string Name = "One LangGraph server";
}
