using WebhookReceiver.LangGraph;

namespace WebhookReceiver.Tests.LangGraphApi;

public sealed class PublicWebhookUrlTests
{
    [Theory]
    [InlineData("https://hooks.example.com", "https://hooks.example.com/webhooks/langgraph")]
    [InlineData("https://hooks.example.com/", "https://hooks.example.com/webhooks/langgraph")]
    [InlineData("https://hooks.example.com/webhooks/langgraph", "https://hooks.example.com/webhooks/langgraph")]
    [InlineData("https://hooks.example.com/webhooks/langgraph?token=abc&x=1#top", "https://hooks.example.com/webhooks/langgraph")]
    [InlineData("https://hooks.example.com/?token=abc", "https://hooks.example.com/webhooks/langgraph")]
    [InlineData("http://10.0.0.5:8080/base/in", "http://10.0.0.5:8080/base/in")]
    public void Every_way_of_writing_it_means_one_webhook_URL_without_a_query(string configured, string meant) =>
        Assert.Equal(meant, PublicWebhookUrl.Resolve(configured, "/webhooks/langgraph")!.AbsoluteUri);

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("ftp://hooks.example.com")]
    public void Unset_or_not_http_means_none(string? configured) =>
        Assert.Null(PublicWebhookUrl.Resolve(configured, "/webhooks/langgraph"));
}
