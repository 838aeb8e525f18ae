using System.Net.Http.Json;
using System.Text;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace WebhookReceiver.Tests.Infrastructure;

/// <summary>
/// The real service in memory, on its own SQLite file in a temporary folder, with test secrets.
/// Each test <c>await using</c>s its own.
/// </summary>
public sealed class TestApp : WebApplicationFactory<Program>
{
    public const string Token = "test-token-aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
    public const string SecondToken = "test-token-bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb";
    public const string AdminKey = "test-admin-key-cccccccccccccccccccccccccccc";

    private readonly Dictionary<string, string?> _settings;
    private readonly Action<IServiceCollection>? _services;
    private readonly string _environment;

    public TestApp(
        Dictionary<string, string?>? settings = null,
        Action<IServiceCollection>? services = null,
        string environment = "Development",
        TempDirectory? directory = null)
    {
        Directory = directory ?? new TempDirectory();
        OwnsDirectory = directory is null;
        _environment = environment;
        _services = services;
        _settings = new Dictionary<string, string?>
        {
            ["WebhookReceiver:Tokens:0"] = Token,
            ["WebhookReceiver:Tokens:1"] = SecondToken,
            ["WebhookReceiver:AdminKeys:0"] = AdminKey,
            ["WebhookReceiver:Storage:ConnectionString"] = $"Data Source={Path.Combine(Directory.Path, "webhooks.db")}",
            ["WebhookReceiver:Dispatch:PollInterval"] = "00:00:00.100",
            ["Serilog:MinimumLevel:Default"] = "Warning",
        };
        foreach (var (key, value) in settings ?? [])
        {
            _settings[key] = value;
        }
    }

    public TempDirectory Directory { get; }

    private bool OwnsDirectory { get; }

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseEnvironment(_environment);
        builder.ConfigureAppConfiguration(config => config.AddInMemoryCollection(_settings));
        if (_services is not null)
        {
            builder.ConfigureServices(_services);
        }
    }

    /// <summary>A client that sends the admin key.</summary>
    public HttpClient CreateAdminClient()
    {
        var client = CreateClient();
        client.DefaultRequestHeaders.Add("X-Api-Key", AdminKey);
        return client;
    }

    public async Task<HttpResponseMessage> PostWebhookAsync(string body, string? token = Token, string contentType = "application/json")
    {
        using var content = new StringContent(body, Encoding.UTF8);
        content.Headers.ContentType = System.Net.Http.Headers.MediaTypeHeaderValue.Parse(contentType);
        var url = token is null ? "/webhooks/langgraph" : $"/webhooks/langgraph?token={Uri.EscapeDataString(token)}";
        return await CreateClient().PostAsync(url, content);
    }

    public async Task<T> GetAdminAsync<T>(string url) =>
        (await CreateAdminClient().GetFromJsonAsync<T>(url, Json.Options))!;

    public override async ValueTask DisposeAsync()
    {
        await base.DisposeAsync();
        if (OwnsDirectory)
        {
            Directory.Dispose();
        }
    }
}
