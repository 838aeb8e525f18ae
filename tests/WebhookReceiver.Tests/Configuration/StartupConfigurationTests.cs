using System.Diagnostics;
using WebhookReceiver.Tests.Infrastructure;

namespace WebhookReceiver.Tests.Configuration;

[Trait("Category", "System")]
public sealed class StartupConfigurationTests
{
    [Theory]
    [InlineData("WebhookReceiver__Tokens__0", "WebhookReceiver:Tokens")]
    [InlineData("WebhookReceiver__AdminKeys__0", "WebhookReceiver:AdminKeys")]
    public async Task Outside_Development_the_service_refuses_to_start_without_a_secret_and_says_which(string removed, string named)
    {
        using var data = new TempDirectory();
        var settings = ServiceProcess.Settings(data.Path);
        settings.Remove(removed);
        settings.Remove(removed.Replace("__0", "__1", StringComparison.Ordinal));

        var (exitCode, output) = await RunToExitAsync(settings);

        Assert.Equal(1, exitCode);
        var fatal = Assert.Single(output, l => l.Contains("could not start", StringComparison.Ordinal));
        Assert.Contains(named, fatal, StringComparison.Ordinal);
        Assert.Contains("missing", fatal, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Outside_Development_a_token_shorter_than_32_characters_is_refused()
    {
        using var data = new TempDirectory();
        var settings = ServiceProcess.Settings(data.Path);
        settings["WebhookReceiver__Tokens__1"] = "short-token";

        var (exitCode, output) = await RunToExitAsync(settings);

        Assert.Equal(1, exitCode);
        Assert.Contains(output, l => l.Contains("shorter than 32 characters", StringComparison.Ordinal));
        Assert.DoesNotContain(output, l => l.Contains("short-token", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("ampersand-token-aaaaaaaaaaaaaaaa&aaaaaaaaaaaaaaa")]
    [InlineData("hash-token-aaaaaaaaaaaaaaaaaaaaaa#aaaaaaaaaaaaaaa")]
    [InlineData("space-token-aaaaaaaaaaaaaaaaaaaaa aaaaaaaaaaaaaaa")]
    [InlineData("tab-token-aaaaaaaaaaaaaaaaaaaaaaa\taaaaaaaaaaaaaaa")]
    public async Task A_token_that_cannot_travel_unencoded_in_a_URL_is_refused_with_the_setting_named(string token)
    {
        using var data = new TempDirectory();
        var settings = ServiceProcess.Settings(data.Path);
        settings["WebhookReceiver__Tokens__1"] = token;

        var (exitCode, output) = await RunToExitAsync(settings);

        Assert.Equal(1, exitCode);
        var fatal = Assert.Single(output, l => l.Contains("could not start", StringComparison.Ordinal));
        Assert.Contains("WebhookReceiver:Tokens", fatal, StringComparison.Ordinal);
        Assert.Contains("'&', '#' or whitespace", fatal, StringComparison.Ordinal);
        Assert.DoesNotContain(output, l => l.Contains(token[..20], StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_token_with_a_percent_sign_starts_with_a_warning_suggesting_a_URL_safe_token()
    {
        using var data = new TempDirectory();
        var settings = ServiceProcess.Settings(data.Path);
        settings["WebhookReceiver__Tokens__1"] = "percent-token-aaaaaaaaaaaaaaaaaa%aaaaaaaaaaaaaa";

        await using var service = await ServiceProcess.StartAsync(settings);

        Assert.Contains(service.Output, l => l.Contains("containing '%'", StringComparison.Ordinal) && l.Contains("URL-safe", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Development_starts_with_the_dev_token_and_admin_key_the_README_shows()
    {
        using var data = new TempDirectory();
        var settings = new Dictionary<string, string>
        {
            ["ASPNETCORE_ENVIRONMENT"] = "Development",
            ["WebhookReceiver__Storage__ConnectionString"] = $"Data Source={Path.Combine(data.Path, "webhooks.db")}",
        };
        await using var service = await ServiceProcess.StartAsync(settings);
        using var client = service.CreateClient();

        var webhook = await client.PostAsync("/webhooks/langgraph?token=dev-webhook-token", new StringContent(Payloads.Run().ToJsonString()));
        client.DefaultRequestHeaders.Add("X-Api-Key", "dev-admin-key");
        var list = await client.GetAsync("/api/webhooks");

        Assert.Equal(System.Net.HttpStatusCode.Accepted, webhook.StatusCode);
        Assert.Equal(System.Net.HttpStatusCode.OK, list.StatusCode);
        // Development logs are human-readable lines, not JSON.
        Assert.Contains(service.Output, l => l.StartsWith('[') && l.Contains("Now listening on", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("")]
    [InlineData("src/WebhookReceiver")]
    [InlineData("/")]
    public async Task The_repository_appsettings_json_is_in_effect_whatever_the_working_directory(string workingDirectory)
    {
        using var data = new TempDirectory();
        var directory = workingDirectory.StartsWith('/') ? workingDirectory : Path.Combine(BuiltService.RepositoryRoot, workingDirectory);
        await using var service = await ServiceProcess.StartAsync(ServiceProcess.Settings(data.Path), directory);

        // Only the repository's appsettings.json configures Serilog's compact JSON console output.
        Assert.Contains(service.Output, l => l.StartsWith("{\"@t\":", StringComparison.Ordinal) && l.Contains("Now listening on", StringComparison.Ordinal));
        Assert.Equal(
            await File.ReadAllTextAsync(Path.Combine(BuiltService.RepositoryRoot, "appsettings.json")),
            await File.ReadAllTextAsync(Path.Combine(BuiltService.OutputDirectory, "appsettings.json")));
    }

    private static async Task<(int ExitCode, List<string> Output)> RunToExitAsync(Dictionary<string, string> settings)
    {
        var start = new ProcessStartInfo("dotnet", [BuiltService.Dll, "--urls", "http://127.0.0.1:0"])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = Path.GetTempPath(),
        };
        start.Environment["ASPNETCORE_ENVIRONMENT"] = "Production";
        foreach (var (key, value) in settings)
        {
            start.Environment[key] = value;
        }

        using var process = Process.Start(start)!;
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var stdout = process.StandardOutput.ReadToEndAsync(timeout.Token);
        var stderr = process.StandardError.ReadToEndAsync(timeout.Token);
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        finally
        {
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
            }
        }

        var output = ((await stdout) + (await stderr)).Split('\n', StringSplitOptions.RemoveEmptyEntries).ToList();
        return (process.ExitCode, output);
    }
}
