using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using WebhookReceiver.Tests.Infrastructure;

namespace WebhookReceiver.Tests.QueryApi;

/// <summary>A host app keeps its own JSON naming after adopting the receiver; the receiver's answers and their OpenAPI schemas stay snake_case.</summary>
public sealed class HostJsonTests
{
    [Theory]
    [InlineData("default", """{"myValue":1}""")]
    [InlineData("pascal", """{"MyValue":1}""")]
    [InlineData("kebab", """{"my-value":1}""")]
    public async Task The_host_keeps_its_own_naming_and_the_receiver_answers_in_snake_case(string hostNaming, string hostJson)
    {
        using var directory = new TempDirectory();
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { EnvironmentName = "Development" });
        builder.WebHost.UseTestServer();
        builder.Configuration["WebhookReceiver:Tokens:0"] = TestApp.Token;
        builder.Configuration["WebhookReceiver:AdminKeys:0"] = TestApp.AdminKey;
        builder.Configuration["WebhookReceiver:Storage:ConnectionString"] = $"Data Source={Path.Combine(directory.Path, "webhooks.db")}";
        if (hostNaming != "default")
        {
            builder.Services.ConfigureHttpJsonOptions(json => json.SerializerOptions.PropertyNamingPolicy =
                hostNaming == "pascal" ? null : JsonNamingPolicy.KebabCaseLower);
        }

        builder.Services.AddWebhookReceiver(builder.Configuration);
        builder.Services.AddWebhookReceiverOpenApi();
        await using var app = builder.Build();
        app.UseWebhookReceiver();
        app.MapGet("/mine", () => new { MyValue = 1 });
        app.MapWebhookReceiver();
        app.MapOpenApi();
        await app.StartAsync();
        var client = app.GetTestClient();

        Assert.Equal(hostJson, await client.GetStringAsync("/mine"));

        var run = Payloads.Run();
        var accepted = await client.PostAsync($"/webhooks/langgraph?token={TestApp.Token}", new StringContent(run.ToJsonString(), Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.Accepted, accepted.StatusCode);
        Assert.Equal(["id", "run_id", "duplicate"], (await accepted.Content.ReadFromJsonAsync<JsonObject>())!.Select(p => p.Key));

        client.DefaultRequestHeaders.Add("X-Api-Key", TestApp.AdminKey);
        var list = (await client.GetFromJsonAsync<JsonObject>("/api/webhooks"))!;
        Assert.Equal(["items", "next_cursor"], list.Select(p => p.Key));
        var item = list["items"]![0]!.AsObject();
        Assert.Equal(["id", "run_id", "thread_id", "assistant_id", "graph_id", "status", "received_at", "deliveries", "source"], item.Select(p => p.Key));
        Assert.Contains("next_attempt_at", item["deliveries"]![0]!.AsObject().Select(p => p.Key));
        var handlers = (await client.GetFromJsonAsync<JsonArray>("/api/handlers"))!;
        Assert.Contains("assistant_ids", handlers[0]!["filter"]!.AsObject().Select(p => p.Key));

        // The OpenAPI document describes the receiver's types as they are written.
        var schemas = (await client.GetFromJsonAsync<JsonObject>("/openapi/webhook-receiver.json"))!["components"]!["schemas"]!;
        Assert.Equal(["items", "next_cursor"], schemas["WebhookList"]!["properties"]!.AsObject().Select(p => p.Key));
        Assert.Contains("received_at", schemas["WebhookSummary"]!["properties"]!.AsObject().Select(p => p.Key));
        Assert.Contains("run_id", schemas["IngestResponse"]!["properties"]!.AsObject().Select(p => p.Key));
        Assert.Contains("last_error", schemas["DeliveryView"]!["properties"]!.AsObject().Select(p => p.Key));
        await app.StopAsync();
    }
}
