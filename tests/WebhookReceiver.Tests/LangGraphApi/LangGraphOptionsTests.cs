using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using WebhookReceiver.Kernel;
using WebhookReceiver.LangGraph;
using WebhookReceiver.Tests.Infrastructure;

namespace WebhookReceiver.Tests.LangGraphApi;

/// <summary>
/// LangGraph deployments in configuration: a bad one stops the start with one line naming the setting, the API key is
/// scrubbed like every other secret, the client is there only when a deployment is, and webhooks are attributed by token.
/// </summary>
public sealed class LangGraphOptionsTests
{
    private const string ApiKey = "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";

    [Theory]
    [InlineData("WebhookReceiver:LangGraph:Deployments:0:ApiUrl", "ftp://agent.example.com", "WebhookReceiver:LangGraph:Deployments:0:ApiUrl")]
    [InlineData("WebhookReceiver:LangGraph:Deployments:0:ApiUrl", "agent.example.com/api", "WebhookReceiver:LangGraph:Deployments:0:ApiUrl")]
    [InlineData("WebhookReceiver:LangGraph:Deployments:0:ApiUrl", "", "WebhookReceiver:LangGraph:Deployments:0:ApiUrl")]
    [InlineData("WebhookReceiver:LangGraph:Deployments:0:Name", "", "WebhookReceiver:LangGraph:Deployments:0:Name")]
    [InlineData("WebhookReceiver:LangGraph:Deployments:1:Name", "PROD", "WebhookReceiver:LangGraph:Deployments:1:Name")]
    [InlineData("WebhookReceiver:LangGraph:PublicUrl", "/webhooks/langgraph", "WebhookReceiver:LangGraph:PublicUrl")]
    public async Task A_bad_deployment_setting_stops_the_start_with_one_line_naming_it(string key, string value, string named)
    {
        using var directory = new TempDirectory();
        var settings = Deployment(directory);
        settings["WebhookReceiver:LangGraph:Deployments:1:Name"] = "staging";
        settings["WebhookReceiver:LangGraph:Deployments:1:ApiUrl"] = "https://staging.example.com";
        settings[key] = value;

        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => StartAsync(settings));

        var failure = Assert.Single(error.Failures);
        Assert.StartsWith(named, failure, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_verify_mode_that_does_not_exist_stops_the_start_naming_the_setting()
    {
        using var directory = new TempDirectory();
        var settings = Deployment(directory);
        settings["WebhookReceiver:LangGraph:Verify"] = "Sometimes";

        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => StartAsync(settings));

        Assert.Contains("WebhookReceiver:LangGraph:Verify", error.Message, StringComparison.Ordinal);
        Assert.Contains("use one of Off, Annotate, Require", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Without_a_deployment_the_clients_resolve_with_none_and_the_defaults_are_the_issues()
    {
        using var directory = new TempDirectory();
        using var host = Build(new() { ["WebhookReceiver:Storage:ConnectionString"] = $"Data Source={Path.Combine(directory.Path, "w.db")}" });

        var options = host.Services.GetRequiredService<IOptions<LangGraphOptions>>().Value;

        var clients = host.Services.GetRequiredService<ILangGraphClients>();
        Assert.Empty(clients.Deployments);
        Assert.Throws<KeyNotFoundException>(() => clients.ForDeployment("prod"));
        Assert.False(options.Enabled);
        Assert.Equal(VerifyMode.Annotate, options.Verify);
        Assert.Equal(TimeSpan.FromMinutes(5), options.Sweep.Interval);
        Assert.Equal(TimeSpan.FromMinutes(2), options.Sweep.Grace);
        Assert.Equal(SweepScope.ThisReceiver, options.Sweep.Scope);
    }

    [Fact]
    public void With_deployments_each_has_a_client_by_name_and_settings_bind()
    {
        using var directory = new TempDirectory();
        var settings = Deployment(directory);
        settings["WebhookReceiver:LangGraph:Deployments:1:Name"] = "staging";
        settings["WebhookReceiver:LangGraph:Deployments:1:ApiUrl"] = "http://127.0.0.1:2024";
        settings["WebhookReceiver:LangGraph:Verify"] = "Require";
        settings["WebhookReceiver:LangGraph:PublicUrl"] = "https://hooks.example.com/webhooks/langgraph";
        settings["WebhookReceiver:LangGraph:Sweep:Interval"] = "00:00:00";
        settings["WebhookReceiver:LangGraph:Sweep:Scope"] = "AllRuns";
        using var host = Build(settings);

        var clients = host.Services.GetRequiredService<ILangGraphClients>();
        var options = host.Services.GetRequiredService<IOptions<LangGraphOptions>>().Value;

        Assert.Equal(["prod", "staging"], clients.Deployments);
        Assert.Equal("staging", clients.ForDeployment("STAGING").Deployment);
        Assert.Throws<KeyNotFoundException>(() => clients.ForDeployment("other"));
        Assert.Equal((VerifyMode.Require, TimeSpan.Zero, SweepScope.AllRuns), (options.Verify, options.Sweep.Interval, options.Sweep.Scope));
    }

    [Fact]
    public void A_deployments_api_key_and_tokens_are_redacted_like_every_other_secret()
    {
        using var directory = new TempDirectory();
        var settings = Deployment(directory);
        settings["WebhookReceiver:LangGraph:Deployments:0:Tokens:0"] = "deployment-webhook-token-0123456789abcdef";
        using var host = Build(settings);
        var redactor = host.Services.GetRequiredService<SecretRedactor>();

        var redacted = redactor.Redact($"called with x-api-key: {ApiKey}; token deployment-webhook-token-0123456789abcdef");

        Assert.DoesNotContain(ApiKey, redacted, StringComparison.Ordinal);
        Assert.DoesNotContain("deployment-webhook-token-0123456789abcdef", redacted, StringComparison.Ordinal);
        Assert.True(redactor.ContainsSecret(ApiKey));
    }

    [Fact]
    public void A_webhook_is_attributed_to_the_deployment_whose_token_it_carried()
    {
        var attribution = new DeploymentAttribution(
        [
            new LangGraphDeploymentOptions { Name = "prod", Tokens = ["prod-token-a", "prod-token-b"] },
            new LangGraphDeploymentOptions { Name = "staging", Tokens = ["staging-token"] },
        ]);

        Assert.Equal("prod", attribution.DeploymentFor("prod-token-b"));
        Assert.Equal("staging", attribution.DeploymentFor("staging-token"));
        Assert.Null(attribution.DeploymentFor("a-shared-receiver-token")); // Two deployments, no token of theirs: unknown.
        Assert.Null(attribution.DeploymentFor(""));
    }

    [Fact]
    public void With_one_deployment_every_webhook_is_attributed_to_it()
    {
        var attribution = new DeploymentAttribution([new LangGraphDeploymentOptions { Name = "local" }]);

        Assert.Equal("local", attribution.DeploymentFor("any-token"));
        Assert.Equal("local", attribution.DeploymentFor(""));
        Assert.Null(new DeploymentAttribution([]).DeploymentFor("any-token"));
    }

    private static Dictionary<string, string?> Deployment(TempDirectory directory) => new()
    {
        ["WebhookReceiver:Storage:ConnectionString"] = $"Data Source={Path.Combine(directory.Path, "webhooks.db")}",
        ["WebhookReceiver:LangGraph:Deployments:0:Name"] = "prod",
        ["WebhookReceiver:LangGraph:Deployments:0:ApiUrl"] = "https://agent.example.com",
        ["WebhookReceiver:LangGraph:Deployments:0:ApiKey"] = ApiKey,
    };

    private static async Task StartAsync(Dictionary<string, string?> settings)
    {
        using var host = Build(settings);
        await host.StartAsync();
        await host.StopAsync();
    }

    private static IHost Build(Dictionary<string, string?> settings)
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { EnvironmentName = "Development" });
        builder.Configuration.AddInMemoryCollection(settings);
        builder.Services.AddWebhookReceiver(builder.Configuration);
        return builder.Build();
    }
}
