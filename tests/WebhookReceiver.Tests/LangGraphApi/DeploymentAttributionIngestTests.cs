using System.Net;
using System.Text.Json.Nodes;
using WebhookReceiver.Tests.Infrastructure;

namespace WebhookReceiver.Tests.LangGraphApi;

/// <summary>
/// Ingest attributes each webhook to the deployment whose Tokens hold the token it carried (those tokens are accepted like
/// WebhookReceiver:Tokens), stores the name, and the query API shows and filters it, on both engines; with no deployment
/// configured nothing is attributed.
/// </summary>
public sealed class DeploymentAttributionIngestTests
{
    private const string ProdToken = "prod-webhook-token-0123456789abcdef0123";
    private const string StagingToken = "staging-webhook-token-0123456789abcdef";

    [Theory]
    [InlineData("Sqlite")]
    [InlineData("Postgres")]
    [Trait("Category", "System")]
    public async Task Each_webhook_is_attributed_by_its_token_and_the_deployment_is_shown_and_filterable(string engine)
    {
        await using var database = engine == "Postgres" ? await PostgresDatabase.CreateAsync() : null;
        var settings = new Dictionary<string, string?>
        {
            ["WebhookReceiver:LangGraph:Deployments:0:Name"] = "prod",
            ["WebhookReceiver:LangGraph:Deployments:0:ApiUrl"] = "http://127.0.0.1:9/",
            ["WebhookReceiver:LangGraph:Deployments:0:Tokens:0"] = ProdToken,
            ["WebhookReceiver:LangGraph:Deployments:1:Name"] = "staging",
            ["WebhookReceiver:LangGraph:Deployments:1:ApiUrl"] = "http://127.0.0.1:9/",
            ["WebhookReceiver:LangGraph:Deployments:1:Tokens:0"] = StagingToken,
            ["WebhookReceiver:LangGraph:Verify"] = "Off",
        };
        if (database is not null)
        {
            settings["WebhookReceiver:Storage:Provider"] = "Postgres";
            settings["WebhookReceiver:Storage:ConnectionString"] = database.ConnectionString;
        }

        await using var app = new TestApp(settings);
        var prod = await PostAsync(app, ProdToken);
        var staging = await PostAsync(app, StagingToken);
        var neither = await PostAsync(app, TestApp.Token); // Accepted, but two deployments and this token is neither's.

        Assert.Equal("prod", (await app.GetAdminAsync<JsonNode>($"/api/runs/{prod}"))["deployment"]?.GetValue<string>());
        Assert.Equal("staging", (await app.GetAdminAsync<JsonNode>($"/api/runs/{staging}"))["deployment"]?.GetValue<string>());
        Assert.Null((await app.GetAdminAsync<JsonNode>($"/api/runs/{neither}"))["deployment"]);
        var listed = await app.GetAdminAsync<JsonNode>("/api/webhooks?deployment=staging");
        Assert.Equal([staging], listed["items"]!.AsArray().Select(w => w!["run_id"]!.GetValue<string>()));
    }

    [Fact]
    public async Task With_one_deployment_a_webhook_with_a_receiver_token_is_attributed_to_it_and_without_any_to_none()
    {
        await using var one = new TestApp(new()
        {
            ["WebhookReceiver:LangGraph:Deployments:0:Name"] = "only",
            ["WebhookReceiver:LangGraph:Deployments:0:ApiUrl"] = "http://127.0.0.1:9/",
            ["WebhookReceiver:LangGraph:Verify"] = "Off",
        });
        await using var none = new TestApp();

        var attributed = await PostAsync(one, TestApp.Token);
        var unattributed = await PostAsync(none, TestApp.Token);

        Assert.Equal("only", (await one.GetAdminAsync<JsonNode>($"/api/runs/{attributed}"))["deployment"]?.GetValue<string>());
        var plain = await none.GetAdminAsync<JsonNode>($"/api/runs/{unattributed}");
        Assert.Null(plain["deployment"]);
        Assert.Null(plain["verification"]);
    }

    private static async Task<string> PostAsync(TestApp app, string token)
    {
        var runId = Payloads.NewRunId();
        using var response = await app.PostWebhookAsync(Payloads.Run(runId, token: token).ToJsonString(), token);
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        return runId;
    }
}
