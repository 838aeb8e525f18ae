using System.Text.Json;
using Microsoft.Extensions.Configuration;
using WebhookReceiver.Configuration;
using WebhookReceiver.Tests.Infrastructure;

namespace WebhookReceiver.Tests.Configuration;

/// <summary>The C# options hold every default; the service's appsettings.json holds only what differs from them.</summary>
public sealed class DefaultsTests
{
    [Fact]
    public void The_repository_appsettings_json_sets_no_receiver_value_equal_to_its_CSharp_default()
    {
        var file = new ConfigurationBuilder().AddJsonFile(Path.Combine(BuiltService.RepositoryRoot, "appsettings.json")).Build();
        var defaults = JsonSerializer.Serialize(new WebhookReceiverOptions());

        foreach (var (key, value) in file.GetSection(WebhookReceiverOptions.Section).AsEnumerable(makePathsRelative: true).Where(e => e.Value is not null))
        {
            // Bound alone, a key that merely repeats its default leaves the options unchanged.
            var alone = new ConfigurationBuilder().AddInMemoryCollection([new(key, value)]).Build().Get<WebhookReceiverOptions>() ?? new();
            Assert.True(JsonSerializer.Serialize(alone) != defaults, $"WebhookReceiver:{key} = '{value}' repeats its C# default; remove it from appsettings.json.");
        }
    }
}
