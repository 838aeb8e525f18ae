using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using System.Threading.RateLimiting;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.HttpOverrides;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using WebhookReceiver.Tests.Infrastructure;

namespace WebhookReceiver.Tests.Guest;

/// <summary>
/// The library as a guest in an app of its own (in memory): the app's JSON casing, problem details, forwarded headers,
/// health routes, shutdown timeout and OpenAPI document stay the app's; the receiver adds its endpoints and nothing else.
/// </summary>
public sealed class GuestAppTests : IDisposable
{
    private readonly TempDirectory _directory = new();

    public void Dispose() => _directory.Dispose();

    /// <summary>A small app that configures what it owns, then adopts the receiver as the README says.</summary>
    private async Task<WebApplication> StartGuestAsync(
        Action<WebApplicationBuilder>? configure = null,
        Dictionary<string, string?>? settings = null,
        ILoggerProvider? logs = null,
        bool problemDetails = true)
    {
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { EnvironmentName = Environments.Development });
        builder.WebHost.UseTestServer();
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["WebhookReceiver:Tokens:0"] = TestApp.Token,
            ["WebhookReceiver:Storage:ConnectionString"] = $"Data Source={Path.Combine(_directory.Path, "webhooks.db")}",
        });
        builder.Configuration.AddInMemoryCollection(settings ?? []);
        if (logs is not null)
        {
            builder.Logging.AddProvider(logs).SetMinimumLevel(LogLevel.Trace);
        }

        if (problemDetails)
        {
            builder.Services.AddProblemDetails(problems => problems.CustomizeProblemDetails = context => context.ProblemDetails.Extensions["app"] = "guest");
        }

        builder.Services.Configure<ForwardedHeadersOptions>(forwarded =>
        {
            forwarded.ForwardedHeaders = ForwardedHeaders.XForwardedFor;
            // The test server's requests have no remote address: believe every sender, as this app decided.
            forwarded.KnownProxies.Clear();
            forwarded.KnownIPNetworks.Clear();
        });
        builder.Services.AddHealthChecks();
        configure?.Invoke(builder);
        builder.Services.AddWebhookReceiver(builder.Configuration);

        var app = builder.Build();
        app.UseForwardedHeaders();
        app.UseWebhookReceiver();
        app.MapWebhookReceiver();
        app.MapGet("/mine", () => new { MyValue = 1 });
        app.MapGet("/client", (HttpContext context) => context.Connection.RemoteIpAddress?.ToString() ?? "none");
        app.MapGet("/problem", () => Results.Problem("the guest's own problem"));
        app.MapHealthChecks("/health/ready", new HealthCheckOptions
        {
            ResponseWriter = (context, report) => context.Response.WriteAsync("guest-ready:" + string.Join(",", report.Entries.Keys)),
        });
        await app.StartAsync();
        return app;
    }

    [Fact]
    public async Task The_apps_own_endpoints_keep_its_json_casing()
    {
        await using var app = await StartGuestAsync();

        Assert.Equal("""{"myValue":1}""", await app.GetTestClient().GetStringAsync("/mine"));
    }

    [Fact]
    public async Task The_apps_problem_details_customization_is_kept_and_the_receivers_errors_get_it_too()
    {
        await using var app = await StartGuestAsync();
        var client = app.GetTestClient();

        var own = await (await client.GetAsync("/problem")).Content.ReadFromJsonAsync<JsonElement>();
        var receivers = await client.PostAsync("/webhooks/langgraph?token=wrong", new StringContent("{}"));

        Assert.Equal("guest", own.GetProperty("app").GetString());
        Assert.Equal(HttpStatusCode.Unauthorized, receivers.StatusCode);
        Assert.Equal("guest", (await receivers.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("app").GetString());
    }

    [Fact]
    public async Task An_app_without_problem_details_is_given_none_and_the_receivers_errors_are_problem_details_all_the_same()
    {
        await using var app = await StartGuestAsync(problemDetails: false);

        var receivers = await app.GetTestClient().PostAsync("/webhooks/langgraph?token=wrong", new StringContent("{}"));

        Assert.Null(app.Services.GetService<IProblemDetailsService>());
        Assert.Equal(HttpStatusCode.Unauthorized, receivers.StatusCode);
        Assert.Equal("application/problem+json", receivers.Content.Headers.ContentType?.MediaType);
        Assert.Equal(401, (await receivers.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("status").GetInt32());
    }

    [Fact]
    public async Task The_apps_unknown_routes_stay_bare_404s_without_a_problem_body()
    {
        await using var app = await StartGuestAsync();

        var response = await app.GetTestClient().GetAsync("/nothing-here");

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Empty(await response.Content.ReadAsByteArrayAsync());
    }

    [Fact]
    public async Task The_apps_forwarded_headers_settings_are_kept()
    {
        await using var app = await StartGuestAsync();
        using var request = new HttpRequestMessage(HttpMethod.Get, "/client");
        request.Headers.Add("X-Forwarded-For", "203.0.113.7");

        var response = await app.GetTestClient().SendAsync(request);

        Assert.Equal("203.0.113.7", await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task The_apps_own_health_route_answers_and_runs_the_receivers_check()
    {
        await using var app = await StartGuestAsync();

        var response = await app.GetTestClient().GetAsync("/health/ready");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("guest-ready:webhook-receiver-inbox", await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task A_longer_shutdown_timeout_of_the_app_is_not_lowered()
    {
        await using var app = await StartGuestAsync(builder => builder.Services.Configure<HostOptions>(host => host.ShutdownTimeout = TimeSpan.FromMinutes(5)));

        Assert.Equal(TimeSpan.FromMinutes(5), app.Services.GetRequiredService<IOptions<HostOptions>>().Value.ShutdownTimeout);
    }

    [Fact]
    public async Task A_shorter_shutdown_timeout_is_raised_to_fit_the_dispatchers_grace()
    {
        await using var app = await StartGuestAsync(builder => builder.Services.Configure<HostOptions>(host => host.ShutdownTimeout = TimeSpan.FromSeconds(1)));

        Assert.Equal(TimeSpan.FromSeconds(20), app.Services.GetRequiredService<IOptions<HostOptions>>().Value.ShutdownTimeout);
    }

    [Fact]
    public async Task No_bare_framework_limiter_is_left_in_the_apps_container()
    {
        await using var app = await StartGuestAsync();

        Assert.Null(app.Services.GetService<ConcurrencyLimiter>());
    }

    [Fact]
    public async Task The_receivers_openapi_document_is_its_own_and_the_apps_document_keeps_only_the_apps_endpoints()
    {
        await using var documented = await StartGuestWithOpenApiAsync();
        var documentedClient = documented.GetTestClient();
        var appsDocument = await documentedClient.GetStringAsync("/openapi/v1.json");
        var receiversDocument = await documentedClient.GetStringAsync("/openapi/webhook-receiver.json");

        Assert.Contains("\"/mine\"", appsDocument, StringComparison.Ordinal);
        Assert.DoesNotContain("/webhooks/langgraph", appsDocument, StringComparison.Ordinal);
        Assert.Contains("\"/webhooks/langgraph\"", receiversDocument, StringComparison.Ordinal);
        Assert.Contains("\"/api/webhooks\"", receiversDocument, StringComparison.Ordinal);
        Assert.DoesNotContain("/mine", receiversDocument, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Without_a_token_in_development_one_warning_says_so_at_start_up()
    {
        var logs = new CapturedLogs();
        await using var app = await StartGuestAsync(settings: new() { ["WebhookReceiver:Tokens:0"] = "" }, logs: logs);

        var warnings = logs.Entries.Where(e => e.Level == LogLevel.Warning && e.Message.Contains("No webhook token is configured", StringComparison.Ordinal)).ToList();
        Assert.Single(warnings);
        Assert.Contains("WebhookReceiver:Tokens:0", warnings[0].Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task With_a_token_in_development_there_is_no_such_warning()
    {
        var logs = new CapturedLogs();
        await using var app = await StartGuestAsync(logs: logs);

        Assert.DoesNotContain(logs.Entries, e => e.Message.Contains("No webhook token is configured", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Without_serilog_the_librarys_own_logs_never_carry_the_token_while_aspnets_request_line_does_at_information()
    {
        var logs = new CapturedLogs();
        await using var app = await StartGuestAsync(logs: logs);
        var run = Payloads.Run();
        run["kwargs"] = new System.Text.Json.Nodes.JsonObject { ["webhook"] = $"https://host/webhooks/langgraph?token={TestApp.Token}" };

        var answer = await app.GetTestClient().PostAsync($"/webhooks/langgraph?token={TestApp.Token}", new StringContent(run.ToJsonString()));
        Assert.Equal(HttpStatusCode.Accepted, answer.StatusCode);
        await Eventually.MatchAsync(() => Task.FromResult(logs.Entries.ToList()),
            entries => entries.Any(e => e.Category.StartsWith("WebhookReceiver.Webhooks", StringComparison.Ordinal)));

        Assert.DoesNotContain(logs.Entries, e => e.Category.StartsWith("WebhookReceiver", StringComparison.Ordinal) && e.Message.Contains(TestApp.Token, StringComparison.Ordinal));
        // Why the README tells a host without Serilog to keep this category at Warning.
        Assert.Contains(logs.Entries, e => e.Category == "Microsoft.AspNetCore.Hosting.Diagnostics" && e.Level == LogLevel.Information
            && e.Message.Contains(TestApp.Token, StringComparison.Ordinal));
    }

    private async Task<WebApplication> StartGuestWithOpenApiAsync()
    {
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { EnvironmentName = Environments.Development });
        builder.WebHost.UseTestServer();
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["WebhookReceiver:Tokens:0"] = TestApp.Token,
            ["WebhookReceiver:Storage:ConnectionString"] = $"Data Source={Path.Combine(_directory.Path, "openapi.db")}",
        });
        builder.Services.AddOpenApi();
        builder.Services.AddWebhookReceiver(builder.Configuration);
        builder.Services.AddWebhookReceiverOpenApi();
        var app = builder.Build();
        app.MapWebhookReceiver();
        app.MapGet("/mine", () => new { MyValue = 1 });
        app.MapOpenApi();
        await app.StartAsync();
        return app;
    }
}

/// <summary>Every log entry of a host, in memory.</summary>
public sealed class CapturedLogs : ILoggerProvider
{
    private readonly System.Collections.Concurrent.ConcurrentQueue<(string Category, LogLevel Level, string Message)> _entries = new();

    public IReadOnlyCollection<(string Category, LogLevel Level, string Message)> Entries => _entries;

    public ILogger CreateLogger(string categoryName) => new Logger(categoryName, _entries);

    public void Dispose()
    {
    }

    private sealed class Logger(string category, System.Collections.Concurrent.ConcurrentQueue<(string, LogLevel, string)> entries) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            entries.Enqueue((category, logLevel, formatter(state, exception) + (exception is null ? "" : " " + exception)));
    }
}
