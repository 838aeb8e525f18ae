using System.Text.Json;
using Microsoft.AspNetCore.Components;
using Microsoft.AspNetCore.Components.Web;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using WebhookReceiver.Console;
using WebhookReceiver.Console.Components;
using WebhookReceiver.Interrupts;
using WebhookReceiver.Webhooks;

namespace WebhookReceiver.Tests.Console;

/// <summary>What a graph asked, as the interrupt page's components write it: indented JSON or the actions, every value HTML-encoded.</summary>
public sealed class InterruptQuestionHtmlTests
{
    [Fact]
    public async Task A_free_form_value_is_shown_as_indented_json_with_markup_encoded()
    {
        var question = InterruptQuestion.Read(new PendingInterrupt { Value = JsonElement.Parse("""{"question": "<script>alert(1)</script> ok?"}""") });

        var html = await RenderAsync<InterruptAsked, InterruptQuestion>(question);

        Assert.Contains("&lt;script&gt;alert(1)&lt;/script&gt;", html, StringComparison.Ordinal);
        Assert.DoesNotContain("<script>", html, StringComparison.Ordinal);
        var shown = System.Net.WebUtility.HtmlDecode(html);
        Assert.Contains("{\n  \"question\": \"<script>alert(1)</script> ok?\"\n}", shown.Replace("\r\n", "\n", StringComparison.Ordinal), StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_buttons_of_an_agent_inbox_item_are_only_those_its_config_allows()
    {
        var question = InterruptQuestion.Read(new PendingInterrupt
        {
            Value = JsonElement.Parse("""[{"action_request": {"action": "a<b", "args": {"x": 1}}, "config": {"allow_accept": true, "allow_ignore": true}}]"""),
        });

        var html = await RenderAsync<InterruptAnswer, InterruptAnswerModel>(new InterruptAnswerModel(0, question, new Dictionary<string, string?>(), SoleInboxItem: true));

        Assert.Contains("value=\"accept\">Accept</button>", html, StringComparison.Ordinal);
        Assert.Contains("value=\"ignore\">Ignore</button>", html, StringComparison.Ordinal);
        Assert.DoesNotContain(">Edit<", html, StringComparison.Ordinal);
        Assert.DoesNotContain(">Respond<", html, StringComparison.Ordinal);
        Assert.Contains("a&lt;b", html, StringComparison.Ordinal);
    }

    // Component TComponent rendered to HTML on the server (as the console renders it), reading model as its cascading value.
    private static async Task<string> RenderAsync<TComponent, TModel>(TModel model)
        where TComponent : IComponent
    {
        await using var services = new ServiceCollection().AddLogging().BuildServiceProvider();
        await using var renderer = new HtmlRenderer(services, services.GetRequiredService<ILoggerFactory>());
        return await renderer.Dispatcher.InvokeAsync(async () =>
        {
            var output = await renderer.RenderComponentAsync<CascadingValue<TModel>>(ParameterView.FromDictionary(new Dictionary<string, object?>
            {
                [nameof(CascadingValue<TModel>.Value)] = model,
                [nameof(CascadingValue<TModel>.IsFixed)] = true,
                [nameof(CascadingValue<TModel>.ChildContent)] = (RenderFragment)(builder =>
                {
                    builder.OpenComponent<TComponent>(0);
                    builder.CloseComponent();
                }),
            }));
            return output.ToHtmlString();
        });
    }
}
