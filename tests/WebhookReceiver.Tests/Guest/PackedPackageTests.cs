using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using WebhookReceiver.Tests.Infrastructure;

namespace WebhookReceiver.Tests.Guest;

/// <summary>
/// A fresh app, as a newcomer writes it: a minimal web csproj that references the packed <c>LangGraph.WebhookReceiver</c>
/// .nupkg from a local folder feed (not the project), and a Program.cs that is the README's adoption snippet verbatim,
/// with the app's own settings around it. Built, started on a loopback socket, sent a webhook.
/// </summary>
public sealed class PackedPackageFixture : IAsyncLifetime
{
    public const string SnippetStart = "<!-- adoption-snippet:start -->";
    public const string SnippetEnd = "<!-- adoption-snippet:end -->";
    public const string BuilderLine = "var builder = WebApplication.CreateBuilder(args);";
    public const string BuildLine = "var app = builder.Build();";

    // The app's own settings, which the receiver must leave alone: a problem-details customization, forwarded headers
    // believed from loopback, health checks of its own.
    private const string GuestServices = """
        builder.Services.AddProblemDetails(problems => problems.CustomizeProblemDetails = context => context.ProblemDetails.Extensions["app"] = "guest");
        builder.Services.Configure<ForwardedHeadersOptions>(forwarded => forwarded.ForwardedHeaders = Microsoft.AspNetCore.HttpOverrides.ForwardedHeaders.XForwardedFor);
        builder.Services.AddHealthChecks();
        """;

    // The app's own endpoints, in its own JSON casing, and its own readiness route listing the checks it runs.
    private const string GuestPipeline = """
        app.UseForwardedHeaders();
        app.MapGet("/mine", () => new { MyValue = 1 });
        app.MapGet("/client", (HttpContext context) => context.Connection.RemoteIpAddress?.ToString());
        app.MapGet("/problem", () => Results.Problem("the guest's own problem"));
        app.MapHealthChecks("/health/ready", new Microsoft.AspNetCore.Diagnostics.HealthChecks.HealthCheckOptions
        {
            ResponseWriter = (context, report) => context.Response.WriteAsync("guest-ready:" + string.Join(",", report.Entries.Keys)),
        });
        """;

    private readonly TempDirectory _directory = new();
    private ServiceProcess? _app;

    public ServiceProcess App => _app ?? throw new InvalidOperationException("Not started.");

    public string PackagePath { get; private set; } = "";

    public static string ReadmeSnippet(string file)
    {
        var text = File.ReadAllText(Path.Combine(BuiltService.RepositoryRoot, file)).ReplaceLineEndings("\n");
        var start = text.IndexOf(SnippetStart, StringComparison.Ordinal);
        var end = text.IndexOf(SnippetEnd, StringComparison.Ordinal);
        Assert.True(start >= 0 && end > start, $"{file} has no adoption snippet between {SnippetStart} and {SnippetEnd}.");
        var block = text[(start + SnippetStart.Length)..end].Trim();
        Assert.StartsWith("```csharp\n", block, StringComparison.Ordinal);
        Assert.EndsWith("\n```", block, StringComparison.Ordinal);
        return block["```csharp\n".Length..^"\n```".Length] + "\n";
    }

    public async Task InitializeAsync()
    {
        var feed = Directory.CreateDirectory(Path.Combine(_directory.Path, "feed")).FullName;
        var appDirectory = Directory.CreateDirectory(Path.Combine(_directory.Path, "app")).FullName;

        // The library as this test run built it, packed as CI packs it.
        var library = Path.Combine(BuiltService.RepositoryRoot, "src", "WebhookReceiver.Core", "WebhookReceiver.Core.csproj");
        await Command.RunAsync("dotnet", ["pack", library, "-c", BuiltService.Configuration, "--no-build", "-o", feed], TimeSpan.FromSeconds(120));
        PackagePath = Directory.GetFiles(feed, "LangGraph.WebhookReceiver.*.nupkg").Single();
        var version = Path.GetFileNameWithoutExtension(PackagePath)["LangGraph.WebhookReceiver.".Length..];

        // Its own packages folder, so an older package of the same version cannot be taken from the machine's cache;
        // the machine's cache is a source (offline and quick), nuget.org the last resort.
        var machineCache = Environment.GetEnvironmentVariable("NUGET_PACKAGES")
            ?? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages");
        await File.WriteAllTextAsync(Path.Combine(appDirectory, "nuget.config"), $"""
            <?xml version="1.0" encoding="utf-8"?>
            <configuration>
              <config><add key="globalPackagesFolder" value="{Path.Combine(_directory.Path, "packages")}" /></config>
              <packageSources>
                <clear />
                <add key="local" value="{feed}" />
                <add key="machine-cache" value="{machineCache}" />
                <add key="nuget.org" value="https://api.nuget.org/v3/index.json" />
              </packageSources>
            </configuration>
            """);
        await File.WriteAllTextAsync(Path.Combine(appDirectory, "GuestApp.csproj"), $"""
            <Project Sdk="Microsoft.NET.Sdk.Web">
              <PropertyGroup>
                <TargetFramework>net10.0</TargetFramework>
                <Nullable>enable</Nullable>
                <ImplicitUsings>enable</ImplicitUsings>
              </PropertyGroup>
              <ItemGroup>
                <PackageReference Include="LangGraph.WebhookReceiver" Version="{version}" />
              </ItemGroup>
            </Project>
            """);
        await File.WriteAllTextAsync(Path.Combine(appDirectory, "Program.cs"), GuestProgram(ReadmeSnippet("README.md")));

        await Command.RunAsync("dotnet", ["build", Path.Combine(appDirectory, "GuestApp.csproj"), "-c", "Release", "-o", Path.Combine(appDirectory, "out")], TimeSpan.FromSeconds(180));

        var settings = ServiceProcess.Settings(_directory.Path);
        _app = await ServiceProcess.StartAsync(settings, appDirectory, Path.Combine(appDirectory, "out", "GuestApp.dll"));
    }

    /// <summary>The README's lines in their order, untouched; the app's own lines after the two lines every web app has.</summary>
    public static string GuestProgram(string snippet)
    {
        Assert.Contains(BuilderLine + "\n", snippet, StringComparison.Ordinal);
        Assert.Contains(BuildLine + "\n", snippet, StringComparison.Ordinal);
        return snippet
            .Replace(BuilderLine + "\n", BuilderLine + "\n" + GuestServices.ReplaceLineEndings("\n") + "\n", StringComparison.Ordinal)
            .Replace(BuildLine + "\n", BuildLine + "\n" + GuestPipeline.ReplaceLineEndings("\n") + "\n", StringComparison.Ordinal);
    }

    public async Task DisposeAsync()
    {
        if (_app is not null)
        {
            await _app.DisposeAsync();
        }

        _directory.Dispose();
    }
}

[Trait("Category", "System")]
public sealed class PackedPackageTests(PackedPackageFixture fixture) : IClassFixture<PackedPackageFixture>
{
    [Fact]
    public async Task The_readme_snippet_built_against_the_package_receives_a_webhook_and_calls_the_handler()
    {
        using var client = fixture.App.CreateClient();
        using var content = new StringContent("""{"run_id":"packed-package-run","status":"success","metadata":{"graph_id":"agent"}}""", Encoding.UTF8, "application/json");
        var response = await client.PostAsync($"/webhooks/langgraph?token={TestApp.Token}", content);

        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        await Eventually.MatchAsync(() => Task.FromResult(fixture.App.Output.ToList()),
            lines => lines.Any(l => l.Contains("Run packed-package-run finished: success", StringComparison.Ordinal)));
    }

    [Fact]
    public void The_package_depends_on_no_logging_or_telemetry_sdk_and_no_prerelease()
    {
        using var package = System.IO.Compression.ZipFile.OpenRead(fixture.PackagePath);
        using var nuspec = new StreamReader(package.Entries.Single(e => e.FullName.EndsWith(".nuspec", StringComparison.Ordinal)).Open());
        var dependencies = System.Xml.Linq.XDocument.Parse(nuspec.ReadToEnd()).Descendants().Where(e => e.Name.LocalName == "dependency")
            .Select(e => (Id: e.Attribute("id")!.Value, Version: e.Attribute("version")!.Value)).ToList();

        Assert.NotEmpty(dependencies);
        Assert.DoesNotContain(dependencies, d => d.Id.StartsWith("Serilog", StringComparison.Ordinal) || d.Id.StartsWith("OpenTelemetry", StringComparison.Ordinal));
        Assert.DoesNotContain(dependencies, d => d.Version.Contains('-', StringComparison.Ordinal));
        Assert.Contains(package.Entries, e => e.FullName == "README.md");
    }

    [Fact]
    public async Task The_app_keeps_its_own_problem_details()
    {
        using var client = fixture.App.CreateClient();
        var problem = await (await client.GetAsync("/problem")).Content.ReadFromJsonAsync<JsonElement>();

        Assert.Equal("guest", problem.GetProperty("app").GetString());
    }

    [Fact]
    public async Task The_app_keeps_its_own_forwarded_headers_settings()
    {
        using var client = fixture.App.CreateClient();
        using var request = new HttpRequestMessage(HttpMethod.Get, "/client");
        request.Headers.Add("X-Forwarded-For", "203.0.113.7");

        Assert.Equal("203.0.113.7", await (await client.SendAsync(request)).Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task The_app_keeps_its_own_health_route_and_runs_the_receivers_check_in_it()
    {
        using var client = fixture.App.CreateClient();

        Assert.Equal("guest-ready:webhook-receiver-inbox", await client.GetStringAsync("/health/ready"));
    }

    [Fact]
    public async Task The_app_keeps_its_own_json_casing()
    {
        using var client = fixture.App.CreateClient();

        Assert.Equal("""{"myValue":1}""", await client.GetStringAsync("/mine"));
    }
}
