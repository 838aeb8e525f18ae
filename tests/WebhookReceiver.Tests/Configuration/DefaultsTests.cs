using System.Text.Json;
using Microsoft.Extensions.Configuration;
using WebhookReceiver.Configuration;
using WebhookReceiver.Dispatch;
using WebhookReceiver.Handlers;
using WebhookReceiver.Inbox;
using WebhookReceiver.Ingress;
using WebhookReceiver.LangGraphApi;
using WebhookReceiver.Observability;
using WebhookReceiver.Tests.Infrastructure;

namespace WebhookReceiver.Tests.Configuration;

/// <summary>The C# options hold every default; the service's appsettings.json holds only what differs from them.</summary>
public sealed class DefaultsTests
{
    // Every section the library binds, each to the options class beside its feature.
    private static readonly (Type Options, string Section)[] Sections =
    [
        (typeof(WebhookReceiverOptions), WebhookReceiverOptions.Section),
        (typeof(StorageOptions), StorageOptions.Section),
        (typeof(RetentionOptions), RetentionOptions.Section),
        (typeof(IngestOptions), IngestOptions.Section),
        (typeof(AbuseLimitOptions), AbuseLimitOptions.Section),
        (typeof(DispatchOptions), DispatchOptions.Section),
        (typeof(BuiltInHandlerOptions), BuiltInHandlerOptions.Section),
        (typeof(MetricsOptions), MetricsOptions.Section),
        (typeof(LangGraphOptions), LangGraphOptions.Section),
    ];

    [Fact]
    public void The_repository_appsettings_json_sets_no_receiver_value_equal_to_its_CSharp_default()
    {
        var file = new ConfigurationBuilder().AddJsonFile(Path.Combine(BuiltService.RepositoryRoot, "appsettings.json")).Build();

        foreach (var (key, value) in file.GetSection(WebhookReceiverOptions.Section).AsEnumerable().Where(e => e.Value is not null))
        {
            Assert.True(ChangesSomeOptions(key, value!), $"{key} = '{value}' repeats its C# default; remove it from appsettings.json.");
        }
    }

    [Theory]
    [InlineData("WebhookReceiver:Dispatch:MaxAttempts", "8", false)]
    [InlineData("WebhookReceiver:Dispatch:MaxAttempts", "9", true)]
    [InlineData("WebhookReceiver:Path", "/webhooks/langgraph", false)]
    [InlineData("WebhookReceiver:LangGraph:Sweep:Grace", "00:05:00", true)]
    public void A_key_changes_options_only_when_it_differs_from_the_default(string key, string value, bool changes) =>
        Assert.Equal(changes, ChangesSomeOptions(key, value));

    // Bound alone, a key that merely repeats its default leaves every section's options as new ones are.
    private static bool ChangesSomeOptions(string key, string value)
    {
        var alone = new ConfigurationBuilder().AddInMemoryCollection([new(key, value)]).Build();
        return Sections.Any(s =>
            JsonSerializer.Serialize(alone.GetSection(s.Section).Get(s.Options) ?? Activator.CreateInstance(s.Options), s.Options)
            != JsonSerializer.Serialize(Activator.CreateInstance(s.Options), s.Options));
    }
}
