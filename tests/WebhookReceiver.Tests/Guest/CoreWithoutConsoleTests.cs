using System.Net;
using System.Text;
using Microsoft.AspNetCore.Antiforgery;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using WebhookReceiver.Access;
using WebhookReceiver.Tests.Infrastructure;

namespace WebhookReceiver.Tests.Guest;

/// <summary>
/// The core package is what a handler writer adds, the console package what an operator adds: an app that calls only
/// <c>AddWebhookReceiver</c>/<c>MapWebhookReceiver</c> gets the receiver's API-key and policy schemes and nothing of the
/// console (no cookie scheme, no antiforgery, no <c>/console</c>, no cookie on any response); the same app plus
/// <c>AddWebhookReceiverConsole</c>/<c>MapWebhookReceiverConsole</c> gets them. On a real Kestrel socket.
/// </summary>
public sealed class CoreWithoutConsoleTests : IDisposable
{
    private readonly TempDirectory _directory = new();

    public void Dispose() => _directory.Dispose();

    [Fact]
    public async Task The_core_alone_registers_only_the_receivers_schemes_and_no_antiforgery()
    {
        await using var app = await StartAsync(console: false);

        var schemes = await app.Services.GetRequiredService<IAuthenticationSchemeProvider>().GetAllSchemesAsync();

        Assert.Equal(
            new[] { ReceiverAuthentication.ApiKeyScheme, ReceiverAuthentication.Scheme }.Order(StringComparer.Ordinal),
            schemes.Select(s => s.Name).Order(StringComparer.Ordinal));
        Assert.DoesNotContain(schemes, s => typeof(CookieAuthenticationHandler).IsAssignableFrom(s.HandlerType));
        Assert.Null(app.Services.GetService<IAntiforgery>());
    }

    [Fact]
    public async Task The_core_alone_serves_no_console_and_sets_no_cookie()
    {
        await using var app = await StartAsync(console: false);
        using var client = Client(app);

        var responses = await ReceiverResponsesAsync(client);

        Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync("/console")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync("/console/sign-in")).StatusCode);
        Assert.All(responses, r => Assert.False(r.Headers.Contains("Set-Cookie"), $"{r.RequestMessage!.RequestUri} set a cookie"));
    }

    [Fact]
    public async Task With_the_console_added_the_app_gets_its_cookie_scheme_antiforgery_and_pages_and_the_api_still_sets_no_cookie()
    {
        await using var app = await StartAsync(console: true);
        using var client = Client(app);

        var cookie = await app.Services.GetRequiredService<IAuthenticationSchemeProvider>().GetSchemeAsync(ReceiverAuthentication.ConsoleCookieScheme);
        var signIn = await client.GetAsync("/console/sign-in");
        var overview = await client.GetAsync("/console");
        var responses = await ReceiverResponsesAsync(client);

        Assert.Equal(typeof(CookieAuthenticationHandler), cookie?.HandlerType);
        Assert.NotNull(app.Services.GetService<IAntiforgery>());
        Assert.Equal(HttpStatusCode.OK, signIn.StatusCode);
        Assert.True(signIn.Headers.Contains("Set-Cookie"), "the sign-in form's antiforgery cookie");
        Assert.Equal(HttpStatusCode.Redirect, overview.StatusCode);
        Assert.StartsWith("/console/sign-in", overview.Headers.Location?.PathAndQuery, StringComparison.Ordinal);
        Assert.All(responses, r => Assert.False(r.Headers.Contains("Set-Cookie"), $"{r.RequestMessage!.RequestUri} set a cookie"));
    }

    [Fact]
    public async Task The_consoles_forms_raise_no_antiforgery_cache_header_warning_in_the_host_log()
    {
        var builder = Builder();
        builder.Logging.AddFakeLogging();
        builder.Services.AddWebhookReceiver(builder.Configuration);
        builder.Services.AddWebhookReceiverConsole(builder.Configuration);
        await using var app = builder.Build();
        app.MapWebhookReceiver();
        app.MapWebhookReceiverConsole();
        await app.StartAsync();
        using var client = Client(app);

        var signIn = await client.GetAsync("/console/sign-in");

        Assert.Equal(HttpStatusCode.OK, signIn.StatusCode);
        Assert.True(signIn.Headers.Contains("Set-Cookie"), "the form's antiforgery cookie was issued");
        Assert.Equal(["no-cache", "no-store"], signIn.Headers.CacheControl!.ToString().Split(", ").Order(StringComparer.Ordinal));
        Assert.DoesNotContain(app.Services.GetFakeLogCollector().GetSnapshot(), r => r.Level >= LogLevel.Warning
            && r.Category?.StartsWith("Microsoft.AspNetCore.Antiforgery", StringComparison.Ordinal) == true);
    }

    [Fact]
    public async Task Mapping_the_console_without_adding_it_says_which_call_is_missing()
    {
        var builder = Builder();
        builder.Services.AddWebhookReceiver(builder.Configuration);
        await using var app = builder.Build();

        var error = Assert.Throws<InvalidOperationException>(() => app.MapWebhookReceiverConsole());

        Assert.Contains("AddWebhookReceiverConsole", error.Message, StringComparison.Ordinal);
    }

    // A webhook accepted, the API read with a key and refused without one.
    private static async Task<List<HttpResponseMessage>> ReceiverResponsesAsync(HttpClient client)
    {
        using var webhook = new StringContent("""{"run_id":"no-console-run","status":"success"}""", Encoding.UTF8, "application/json");
        var accepted = await client.PostAsync($"/webhooks/langgraph?token={TestApp.Token}", webhook);
        using var withKey = new HttpRequestMessage(HttpMethod.Get, "/api/webhooks");
        withKey.Headers.Add("X-Api-Key", TestApp.AdminKey);
        var read = await client.SendAsync(withKey);
        var refused = await client.GetAsync("/api/webhooks");

        Assert.Equal(HttpStatusCode.Accepted, accepted.StatusCode);
        Assert.Equal(HttpStatusCode.OK, read.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
        return [accepted, read, refused];
    }

    private WebApplicationBuilder Builder()
    {
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { EnvironmentName = Environments.Development });
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["WebhookReceiver:Tokens:0"] = TestApp.Token,
            ["WebhookReceiver:AdminKeys:0"] = TestApp.AdminKey,
            ["WebhookReceiver:Storage:ConnectionString"] = $"Data Source={Path.Combine(_directory.Path, "webhooks.db")}",
        });
        return builder;
    }

    private async Task<WebApplication> StartAsync(bool console)
    {
        var builder = Builder();
        builder.Services.AddWebhookReceiver(builder.Configuration);
        if (console)
        {
            builder.Services.AddWebhookReceiverConsole(builder.Configuration);
        }

        var app = builder.Build();
        app.MapWebhookReceiver();
        if (console)
        {
            app.MapWebhookReceiverConsole();
        }

        await app.StartAsync();
        return app;
    }

    private static HttpClient Client(WebApplication app) => new(new HttpClientHandler { AllowAutoRedirect = false, UseCookies = false })
    {
        BaseAddress = new Uri(app.Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses.Single()),
    };
}
