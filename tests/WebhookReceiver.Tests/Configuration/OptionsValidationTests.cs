using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using WebhookReceiver.Kernel;
using WebhookReceiver.Tests.Infrastructure;

namespace WebhookReceiver.Tests.Configuration;

/// <summary>A bad setting stops the start-up with a message naming it, instead of misbehaving later.</summary>
public sealed class OptionsValidationTests
{
    [Theory]
    [InlineData("WebhookReceiver:Dispatch:AttemptTimeout", "-00:00:01", "AttemptTimeout")]
    [InlineData("WebhookReceiver:Dispatch:PollInterval", "00:00:00", "PollInterval")]
    [InlineData("WebhookReceiver:Retention:Interval", "-01:00:00", "Interval")]
    [InlineData("WebhookReceiver:MaxJsonDepth", "5000", "MaxJsonDepth")]
    [InlineData("WebhookReceiver:Limits:KnownProxies:0", "not-an-address", "KnownProxies")]
    [InlineData("WebhookReceiver:Handlers:Forward:0:Secret", "whsec_***not base64***", "not base64")]
    public async Task A_bad_setting_stops_the_start_up_naming_it(string key, string value, string named)
    {
        using var directory = new TempDirectory();
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { EnvironmentName = "Development" });
        builder.Configuration["WebhookReceiver:Storage:ConnectionString"] = $"Data Source={Path.Combine(directory.Path, "webhooks.db")}";
        builder.Configuration["WebhookReceiver:Handlers:Forward:0:Name"] = "crm";
        builder.Configuration["WebhookReceiver:Handlers:Forward:0:Url"] = "http://127.0.0.1:9/";
        builder.Configuration["WebhookReceiver:Handlers:Forward:0:Secret"] = "a-secret-of-sixteen-or-more";
        builder.Configuration[key] = value;
        builder.Services.AddWebhookReceiver(builder.Configuration);

        var error = await Assert.ThrowsAsync<OptionsValidationException>(async () =>
        {
            using var host = builder.Build();
            await host.StartAsync();
        });

        Assert.Contains(named, error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("3.00:00:00", true)]
    [InlineData("1.00:00:00", false)]
    public async Task A_sweep_lookback_past_the_retention_age_stops_the_start_up(string lookback, bool refused)
    {
        using var directory = new TempDirectory();
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { EnvironmentName = "Development" });
        builder.Configuration["WebhookReceiver:Storage:ConnectionString"] = $"Data Source={Path.Combine(directory.Path, "webhooks.db")}";
        builder.Configuration["WebhookReceiver:LangGraph:Deployments:0:Name"] = "local";
        builder.Configuration["WebhookReceiver:LangGraph:Deployments:0:ApiUrl"] = "http://127.0.0.1:9/";
        builder.Configuration["WebhookReceiver:LangGraph:Sweep:Interval"] = "00:00:00";
        builder.Configuration["WebhookReceiver:LangGraph:Sweep:Lookback"] = lookback;
        builder.Configuration["WebhookReceiver:Retention:MaxAge"] = "2.00:00:00";
        builder.Services.AddWebhookReceiver(builder.Configuration);
        using var host = builder.Build();

        var error = Record.Exception(() => host.Services.GetRequiredService<IOptions<WebhookReceiver.LangGraph.LangGraphOptions>>().Value);

        Assert.Equal(refused, error is OptionsValidationException { Message: var m } && m.Contains("Retention:MaxAge", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("WebhookReceiver:Storage:Provider", "Oracle", "WebhookReceiver:Storage:Provider")]
    [InlineData("WebhookReceiver:Storage:Provider", "7", "WebhookReceiver:Storage:Provider must be Sqlite or Postgres")]
    [InlineData("WebhookReceiver:Storage:Synchronous", "sometimes", "WebhookReceiver:Storage:Synchronous")]
    [InlineData("WebhookReceiver:Storage:Synchronous", "9", "WebhookReceiver:Storage:Synchronous must be Normal, Full or Extra")]
    [InlineData("WebhookReceiver:Storage:Synchronous", "off", "WebhookReceiver:Storage:Synchronous")]
    public async Task A_storage_choice_that_is_not_one_of_its_names_stops_the_start_up_naming_the_setting(string key, string value, string named)
    {
        using var directory = new TempDirectory();
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { EnvironmentName = "Development" });
        builder.Configuration["WebhookReceiver:Storage:ConnectionString"] = $"Data Source={Path.Combine(directory.Path, "webhooks.db")}";
        builder.Configuration[key] = value;
        builder.Services.AddWebhookReceiver(builder.Configuration);

        // A name the enum lacks fails in the binder (InvalidOperationException); a number it lacks, in validation.
        var error = await Assert.ThrowsAnyAsync<Exception>(async () =>
        {
            using var host = builder.Build();
            await host.StartAsync();
        });

        Assert.Contains(named, error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("postgres", StorageProvider.Postgres, "full", SqliteSynchronous.Full)]
    [InlineData("SQLITE", StorageProvider.Sqlite, "Extra", SqliteSynchronous.Extra)]
    // The enums are internal, so a public theory takes them boxed.
    public void Storage_names_are_read_whatever_their_case(string provider, object expectedProvider, string synchronous, object expectedSynchronous)
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { EnvironmentName = "Development" });
        builder.Configuration["WebhookReceiver:Storage:Provider"] = provider;
        builder.Configuration["WebhookReceiver:Storage:Synchronous"] = synchronous;
        builder.Configuration["WebhookReceiver:Storage:ConnectionString"] =
            (StorageProvider)expectedProvider == StorageProvider.Postgres ? "Host=127.0.0.1;Database=webhooks" : "Data Source=webhooks.db";
        builder.Services.AddWebhookReceiver(builder.Configuration);
        using var host = builder.Build();

        var storage = host.Services.GetRequiredService<IOptions<StorageOptions>>().Value;

        Assert.Equal((StorageProvider)expectedProvider, storage.Provider);
        Assert.Equal((SqliteSynchronous)expectedSynchronous, storage.Synchronous);
    }

    [Fact]
    public void A_filter_asking_twice_for_one_metadata_key_is_refused_at_registration()
    {
        var filter = new WebhookReceiver.Webhooks.HandlerFilter().WithMetadata("tenant", "acme");

        Assert.Throws<ArgumentException>(() => filter.WithMetadata("tenant", "other"));
    }
}
