using System.Net;
using WebhookReceiver.Tests.Infrastructure;

namespace WebhookReceiver.Tests.SwaggerUi;

/// <summary>The service's OpenAPI document and Swagger UI: public by default, each can be switched off or put behind the admin key.</summary>
public sealed class ApiDocsSettingsTests
{
    private const string Document = "/openapi/webhook-receiver.json";
    private const string SwaggerUi = "/swagger/index.html";

    [Fact]
    public async Task By_default_the_document_and_swagger_ui_are_served_without_a_key_and_the_document_lists_the_receiver()
    {
        await using var app = new TestApp();
        var client = app.CreateClient();

        var document = await client.GetAsync(Document);
        var ui = await client.GetAsync(SwaggerUi);

        Assert.Equal(HttpStatusCode.OK, document.StatusCode);
        Assert.Contains("\"/webhooks/langgraph\"", await document.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.OK, ui.StatusCode);
        Assert.Contains(Document, await client.GetStringAsync("/swagger/index.js"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_document_switched_off_takes_swagger_ui_with_it()
    {
        await using var app = new TestApp(new() { ["WebhookReceiver:OpenApi:Enabled"] = "false" });
        var client = app.CreateAdminClient();

        Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync(Document)).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync(SwaggerUi)).StatusCode);
    }

    [Fact]
    public async Task Swagger_ui_can_be_switched_off_alone()
    {
        await using var app = new TestApp(new() { ["WebhookReceiver:SwaggerUi:Enabled"] = "false" });
        var client = app.CreateClient();

        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync(Document)).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync(SwaggerUi)).StatusCode);
    }

    [Theory]
    [InlineData("WebhookReceiver:OpenApi:RequireAdminKey", Document)]
    [InlineData("WebhookReceiver:SwaggerUi:RequireAdminKey", SwaggerUi)]
    public async Task Each_can_require_the_admin_key(string setting, string path)
    {
        await using var app = new TestApp(new() { [setting] = "true" });

        var without = await app.CreateClient().GetAsync(path);
        var with = await app.CreateAdminClient().GetAsync(path);

        Assert.Equal(HttpStatusCode.Unauthorized, without.StatusCode);
        Assert.Equal("application/problem+json", without.Content.Headers.ContentType?.MediaType);
        Assert.Equal(HttpStatusCode.OK, with.StatusCode);
    }
}
