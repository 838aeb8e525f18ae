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

    [Theory]
    [InlineData("WebhookReceiver__Console__Path", "/api", "WebhookReceiver:Console:Path", "the query API")]
    [InlineData("WebhookReceiver__Metrics__Path", "/health/metrics", "WebhookReceiver:Metrics:Path", "the health checks")]
    [InlineData("WebhookReceiver__Path", "/console/webhooks", "WebhookReceiver:Path", "WebhookReceiver:Console:Path")]
    public async Task A_configured_path_that_equals_or_holds_another_stops_the_start_up_naming_both(string variable, string path, string named, string other)
    {
        using var data = new TempDirectory();
        var settings = ServiceProcess.Settings(data.Path);
        settings[variable] = path;

        var (exitCode, output) = await RunToExitAsync(settings);

        Assert.Equal(1, exitCode);
        var fatal = Assert.Single(output, l => l.Contains("could not start", StringComparison.Ordinal));
        Assert.Contains($"{named}", fatal, StringComparison.Ordinal);
        Assert.Contains(other, fatal, StringComparison.Ordinal);
        Assert.Contains("collide", fatal, StringComparison.Ordinal);
    }

    [Fact]
    public async Task In_Development_the_development_secrets_are_named_in_a_warning_and_the_environment_in_the_features_line()
    {
        using var data = new TempDirectory();
        var settings = ServiceProcess.Settings(data.Path);
        // appsettings.Development.json's token and key stay in effect (index 0 is theirs): only a second token is added.
        settings.Remove("WebhookReceiver__Tokens__0");
        settings.Remove("WebhookReceiver__AdminKeys__0");
        settings["ASPNETCORE_ENVIRONMENT"] = "Development";

        await using var service = await ServiceProcess.StartAsync(settings);

        await Eventually.MatchAsync(() => Task.FromResult(service.Output.ToList()),
            lines => lines.Any(l => l.Contains("accepts the development webhook token and admin key", StringComparison.Ordinal)), what: "the warning");
        Assert.Contains(service.Output, l => l.Contains("Features: environment Development;", StringComparison.Ordinal)); // plain text in Development
        Assert.DoesNotContain(service.Output, l => l.Contains("dev-webhook-token", StringComparison.Ordinal) || l.Contains("dev-admin-key", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Outside_Development_with_its_own_secrets_nothing_warns_of_development_secrets()
    {
        using var data = new TempDirectory();

        await using var service = await ServiceProcess.StartAsync(ServiceProcess.Settings(data.Path));

        await Eventually.MatchAsync(() => Task.FromResult(service.Output.ToList()),
            lines => lines.Any(l => l.Contains("Features: environment \\\"Production\\\";", StringComparison.Ordinal)), what: "the features line"); // compact JSON
        Assert.DoesNotContain(service.Output, l => l.Contains("accepts the development", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_PostgreSQL_connection_string_with_the_provider_left_at_Sqlite_stops_the_start_up_with_one_line_saying_what_to_set()
    {
        using var data = new TempDirectory();
        var settings = ServiceProcess.Settings(data.Path);
        settings["WebhookReceiver__Storage__ConnectionString"] = "Host=db.internal;Database=webhooks;Username=webhooks;Password=pg-secret-in-the-string";

        var (exitCode, output) = await RunToExitAsync(settings);

        Assert.Equal(1, exitCode);
        var fatal = Assert.Single(output, l => l.Contains("could not start", StringComparison.Ordinal));
        Assert.Contains("is a PostgreSQL connection string but WebhookReceiver:Storage:Provider is Sqlite", fatal, StringComparison.Ordinal);
        Assert.Contains("WebhookReceiver__Storage__Provider=Postgres", fatal, StringComparison.Ordinal);
        Assert.DoesNotContain(output, l => l.Contains("pg-secret-in-the-string", StringComparison.Ordinal) || l.Contains("   at ", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("WebhookReceiver__Dispatch__AttemptTimeout", "00:00:00", "WebhookReceiver:Dispatch:AttemptTimeout (env WebhookReceiver__Dispatch__AttemptTimeout) must be between 1 ms and 1 day.")]
    [InlineData("WebhookReceiver__Dispatch__MaxAttempts", "0", "WebhookReceiver:Dispatch:MaxAttempts (env WebhookReceiver__Dispatch__MaxAttempts) must be between")]
    public async Task An_out_of_range_value_names_the_setting_its_environment_variable_and_the_range_in_a_persons_units(string variable, string value, string expected)
    {
        using var data = new TempDirectory();
        var settings = ServiceProcess.Settings(data.Path);
        settings[variable] = value;

        var (exitCode, output) = await RunToExitAsync(settings);

        Assert.Equal(1, exitCode);
        var fatal = Assert.Single(output, l => l.Contains("could not start", StringComparison.Ordinal));
        Assert.Contains(expected, fatal, StringComparison.Ordinal);
        Assert.DoesNotContain("DispatchOptions.", fatal, StringComparison.Ordinal);
    }

    [Fact]
    public async Task With_verification_on_the_features_line_says_handlers_wait_for_it()
    {
        using var data = new TempDirectory();
        var settings = ServiceProcess.Settings(data.Path);
        settings["WebhookReceiver__LangGraph__Deployments__0__Name"] = "prod";
        settings["WebhookReceiver__LangGraph__Deployments__0__ApiUrl"] = "http://127.0.0.1:9/";

        await using var service = await ServiceProcess.StartAsync(settings);

        Assert.Contains(service.Output, l => l.Contains("verify Annotate (handlers wait for each run's verification)", StringComparison.Ordinal));
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

    [Theory]
    [InlineData("WebhookReceiver__Storage__Provider", "Postgress", "WebhookReceiver:Storage:Provider", "use one of Sqlite, Postgres")]
    [InlineData("WebhookReceiver__Dispatch__AttemptTimeout", "30s", "WebhookReceiver:Dispatch:AttemptTimeout", "such as 00:00:30 for 30 seconds")]
    [InlineData("WebhookReceiver__LangGraph__DetectInterrupts", "yes", "WebhookReceiver:LangGraph:DetectInterrupts", "use true or false")]
    public async Task A_value_the_binder_cannot_read_stops_the_start_up_with_one_line_naming_key_value_and_what_is_accepted_and_no_stack_trace(
        string variable, string value, string key, string accepted)
    {
        using var data = new TempDirectory();
        var settings = ServiceProcess.Settings(data.Path);
        settings[variable] = value;

        var (exitCode, output) = await RunToExitAsync(settings);

        Assert.Equal(1, exitCode);
        var fatal = Assert.Single(output, l => l.Contains("could not start", StringComparison.Ordinal));
        Assert.Contains($"{key} (env {variable}) is '{value}'", fatal, StringComparison.Ordinal);
        Assert.Contains(accepted, fatal, StringComparison.Ordinal);
        Assert.DoesNotContain(output, l => l.TrimStart().StartsWith("at ", StringComparison.Ordinal) || l.Contains("Exception", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_misspelled_key_is_warned_about_by_name_with_the_key_it_probably_meant_and_the_feature_line_says_what_is_on()
    {
        using var data = new TempDirectory();
        var settings = ServiceProcess.Settings(data.Path);
        // Singular "Deployment": today's silent way to turn verify, sweep and human in the loop off.
        settings["WebhookReceiver__LangGraph__Deployment__0__Name"] = "prod";
        settings["WebhookReceiver__LangGraph__Deployment__0__ApiUrl"] = "http://127.0.0.1:9";
        settings["WebhookReceiver__Dispatch__MaxAttempt"] = "3";
        settings["WebhookReceiver__Colour"] = "blue";

        await using var service = await ServiceProcess.StartAsync(settings);

        Assert.Contains(service.Output, l => l.Contains("WebhookReceiver:LangGraph:Deployment (env WebhookReceiver__LangGraph__Deployment) binds to nothing", StringComparison.Ordinal)
                                             && l.Contains("did you mean WebhookReceiver:LangGraph:Deployments?", StringComparison.Ordinal));
        Assert.Contains(service.Output, l => l.Contains("WebhookReceiver:Dispatch:MaxAttempt (env", StringComparison.Ordinal)
                                             && l.Contains("did you mean WebhookReceiver:Dispatch:MaxAttempts?", StringComparison.Ordinal));
        Assert.Contains(service.Output, l => l.Contains("WebhookReceiver:Colour (env WebhookReceiver__Colour) binds to nothing and is ignored.\"", StringComparison.Ordinal));
        Assert.DoesNotContain(service.Output, l => l.Contains("WebhookReceiver:Tokens", StringComparison.Ordinal) && l.Contains("binds to nothing", StringComparison.Ordinal));
        var features = Assert.Single(service.Output, l => l.Contains("Features: environment", StringComparison.Ordinal));
        Assert.Contains("off (no WebhookReceiver:LangGraph:Deployments)", features, StringComparison.Ordinal);
    }

    [Fact]
    public async Task With_a_deployment_and_no_PublicUrl_the_feature_line_says_resume_is_off_and_why()
    {
        using var data = new TempDirectory();
        var settings = ServiceProcess.Settings(data.Path);
        settings["WebhookReceiver__LangGraph__Deployments__0__Name"] = "prod";
        settings["WebhookReceiver__LangGraph__Deployments__0__ApiUrl"] = "http://127.0.0.1:9";

        await using var service = await ServiceProcess.StartAsync(settings);

        var features = Assert.Single(service.Output, l => l.Contains("Features: environment", StringComparison.Ordinal));
        Assert.Contains("deployments prod;", features, StringComparison.Ordinal);
        Assert.Contains("resume off (WebhookReceiver:LangGraph:PublicUrl is not set)", features, StringComparison.Ordinal);
        Assert.Contains("sweep every 00:05:00", features, StringComparison.Ordinal);
        Assert.Contains("interrupt detection on", features, StringComparison.Ordinal);
    }

    [Fact]
    public async Task In_Development_without_an_admin_key_a_warning_says_the_query_API_answers_401()
    {
        using var data = new TempDirectory();
        var settings = new Dictionary<string, string>
        {
            ["ASPNETCORE_ENVIRONMENT"] = "Development",
            ["WebhookReceiver__Storage__ConnectionString"] = $"Data Source={Path.Combine(data.Path, "webhooks.db")}",
            ["WebhookReceiver__AdminKeys__0"] = "",
        };

        await using var service = await ServiceProcess.StartAsync(settings);

        Assert.Contains(service.Output, l => l.Contains("No admin key is configured", StringComparison.Ordinal) && l.Contains("answers 401", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Calls_to_LangGraph_that_succeed_leave_no_resilience_pipeline_lines_in_the_log()
    {
        await using var langGraph = await WebhookReceiver.Tests.LangGraphApi.CannedLangGraphServer.StartAsync();
        langGraph.Answer = (_, _) => WebhookReceiver.Tests.LangGraphApi.CannedAnswer.Json(new System.Text.Json.Nodes.JsonArray());
        using var data = new TempDirectory();
        var settings = ServiceProcess.Settings(data.Path);
        settings["WebhookReceiver__LangGraph__Deployments__0__Name"] = "prod";
        settings["WebhookReceiver__LangGraph__Deployments__0__ApiUrl"] = langGraph.Url.ToString();
        await using var service = await ServiceProcess.StartAsync(settings);

        using var sweep = await service.CreateClient(admin: true).PostAsync("/api/langgraph/sweep", null);

        sweep.EnsureSuccessStatusCode();
        Assert.NotEmpty(langGraph.Received);
        Assert.DoesNotContain(service.Output, l => l.Contains("\"SourceContext\":\"Polly", StringComparison.Ordinal));
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
