using Microsoft.Extensions.Options;
using WebhookReceiver.Interrupts;
using WebhookReceiver.LangGraph;
using WebhookReceiver.Webhooks;

namespace WebhookReceiver.Tests.Console;

/// <summary>The console URL interrupt handlers get: the public URL's origin and path base, then the console's path; else null.</summary>
public sealed class InterruptConsoleUrlTests
{
    [Theory]
    [InlineData("https://hooks.example.com/webhooks/langgraph", "/console", "https://hooks.example.com/console/interrupts/42")]
    [InlineData("https://example.com/receiver/webhooks/langgraph", "/ops/console", "https://example.com/receiver/ops/console/interrupts/42")]
    [InlineData("http://127.0.0.1:5000", "/console", "http://127.0.0.1:5000/console/interrupts/42")]
    [InlineData(null, "/console", null)]
    [InlineData("https://hooks.example.com/webhooks/langgraph", null, null)]
    public void An_interrupt_links_to_its_console_page_from_the_public_url_while_the_console_is_mapped(string? publicUrl, string? consolePath, string? expected)
    {
        var links = Links(publicUrl, consolePath);

        var interrupt = links.ToInterrupt(new StoredInterrupt(42, "local", "t-1", "interrupts:a", "r-1", "ask", "ask", 7, "[]", "[]", null,
            DateTimeOffset.UnixEpoch, InterruptState.Waiting, null, null, null, null, null, []));

        Assert.Equal(expected, interrupt.ConsoleUrl);
        Assert.Equal(expected, links.ConsoleUrl(42));
    }

    private static InterruptLinks Links(string? publicUrl, string? consolePath)
    {
        var options = Options.Create(new WebhookReceiverOptions());
        var langGraph = Options.Create(new LangGraphOptions { PublicUrl = publicUrl });
        return new InterruptLinks(options, langGraph, Options.Create(new InterruptLinkOptions { ConsolePath = consolePath }), new PublicWebhookUrl(options, langGraph));
    }
}
