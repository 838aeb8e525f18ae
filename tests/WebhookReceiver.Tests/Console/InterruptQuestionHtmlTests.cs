using System.Text.Json;
using WebhookReceiver.Console;
using WebhookReceiver.Webhooks;
using WebhookReceiver.Interrupts;

namespace WebhookReceiver.Tests.Console;

/// <summary>What a graph asked, as the interrupt page writes it: indented JSON or the actions, every value HTML-encoded.</summary>
public sealed class InterruptQuestionHtmlTests
{
    [Fact]
    public void A_free_form_value_is_shown_as_indented_json_with_markup_encoded()
    {
        var question = InterruptQuestion.Read(new PendingInterrupt { Value = JsonElement.Parse("""{"question": "<script>alert(1)</script> ok?"}""") });

        var html = InterruptQuestionHtml.Asked(question).Value;

        Assert.Contains("&lt;script&gt;alert(1)&lt;/script&gt;", html, StringComparison.Ordinal);
        Assert.DoesNotContain("<script>", html, StringComparison.Ordinal);
        var shown = System.Net.WebUtility.HtmlDecode(html);
        Assert.Contains("{\n  \"question\": \"<script>alert(1)</script> ok?\"\n}", shown.Replace("\r\n", "\n", StringComparison.Ordinal), StringComparison.Ordinal);
    }

    [Fact]
    public void The_buttons_of_an_agent_inbox_item_are_only_those_its_config_allows()
    {
        var question = InterruptQuestion.Read(new PendingInterrupt
        {
            Value = JsonElement.Parse("""[{"action_request": {"action": "a<b", "args": {"x": 1}}, "config": {"allow_accept": true, "allow_ignore": true}}]"""),
        });

        var html = InterruptQuestionHtml.Fields(0, question, new Dictionary<string, string?>(), soleInboxItem: true).Value;

        Assert.Contains("value=\"accept\">Accept</button>", html, StringComparison.Ordinal);
        Assert.Contains("value=\"ignore\">Ignore</button>", html, StringComparison.Ordinal);
        Assert.DoesNotContain(">Edit<", html, StringComparison.Ordinal);
        Assert.DoesNotContain(">Respond<", html, StringComparison.Ordinal);
        Assert.Contains("a&lt;b", html, StringComparison.Ordinal);
    }
}
