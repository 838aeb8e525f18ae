using System.Text.Json;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using WebhookReceiver.Kernel;
using WebhookReceiver.Tests.Infrastructure;
using WebhookReceiver.Webhooks;

namespace WebhookReceiver.Tests.Configuration;

/// <summary>The C# options hold every default; the service's appsettings.json holds only what differs from them.</summary>
public sealed class DefaultsTests
{
    [Fact]
    public async Task The_repository_appsettings_json_sets_no_receiver_value_equal_to_its_CSharp_default()
    {
        var sections = await SectionsAsync();
        var file = new ConfigurationBuilder().AddJsonFile(Path.Combine(BuiltService.RepositoryRoot, "appsettings.json")).Build();

        foreach (var (key, value) in file.GetSection(WebhookReceiverOptions.Section).AsEnumerable().Where(e => e.Value is not null))
        {
            Assert.True(ChangesSomeOptions(sections, key, value!), $"{key} = '{value}' repeats its C# default; remove it from appsettings.json.");
        }
    }

    [Theory]
    [InlineData("WebhookReceiver:Dispatch:MaxAttempts", "8", false)]
    [InlineData("WebhookReceiver:Dispatch:MaxAttempts", "9", true)]
    [InlineData("WebhookReceiver:Path", "/webhooks/langgraph", false)]
    [InlineData("WebhookReceiver:LangGraph:Sweep:Grace", "00:05:00", true)]
    public async Task A_key_changes_options_only_when_it_differs_from_the_default(string key, string value, bool changes) =>
        Assert.Equal(changes, ChangesSomeOptions(await SectionsAsync(), key, value));

    // Every section the service binds, each to its options type, as its container holds them (no list kept here).
    private static async Task<List<(Type Options, string Section)>> SectionsAsync()
    {
        await using var app = new TestApp();
        return app.Services.GetServices<BoundSection>().Select(b => (b.OptionsType, b.Section.Path)).ToList();
    }

    // Bound alone, a key that merely repeats its default leaves every section's options as new ones are.
    private static bool ChangesSomeOptions(List<(Type Options, string Section)> sections, string key, string value)
    {
        var alone = new ConfigurationBuilder().AddInMemoryCollection([new(key, value)]).Build();
        return sections.Any(s =>
            JsonSerializer.Serialize(alone.GetSection(s.Section).Get(s.Options) ?? Activator.CreateInstance(s.Options), s.Options)
            != JsonSerializer.Serialize(Activator.CreateInstance(s.Options), s.Options));
    }
}
