using System.Net;
using System.Text;
using WebhookReceiver.Tests.Infrastructure;

namespace WebhookReceiver.Tests.Ingress;

/// <summary>
/// The service's request log at its shipped level: a webhook acknowledged with a 2xx is logged at Debug (a flood of them
/// cost ~10% of the CPU, and the log handler writes a line for each stored webhook anyway); every other answer, of the
/// webhook route or any other, is still one event at Information or above.
/// </summary>
[Trait("Category", "System")]
public sealed class RequestLogTests
{
    [Fact]
    public async Task Acknowledged_webhooks_are_logged_at_Debug_and_every_other_answer_at_Information()
    {
        using var data = new TempDirectory();
        var settings = ServiceProcess.Settings(data.Path);
        settings["ASPNETCORE_ENVIRONMENT"] = "Production";
        settings["WebhookReceiver__Handlers__Log__Enabled"] = "false";
        var lines = await RequestLogAsync(settings);

        Assert.Empty(RequestEvents(lines, 202));
        Assert.Empty(RequestEvents(lines, 200, "/webhooks/langgraph"));
        Assert.Single(RequestEvents(lines, 401));
        Assert.Single(RequestEvents(lines, 400));
        Assert.Single(RequestEvents(lines, 200, "/api/webhooks"));
        Assert.All(lines.Where(l => l.Contains("\"RequestPath\":", StringComparison.Ordinal)), l => Assert.DoesNotContain("\"@l\":\"Debug\"", l, StringComparison.Ordinal));
    }

    [Fact]
    public async Task With_the_request_log_at_Debug_acknowledged_webhooks_are_logged_too()
    {
        using var data = new TempDirectory();
        var settings = ServiceProcess.Settings(data.Path);
        settings["ASPNETCORE_ENVIRONMENT"] = "Production";
        settings["WebhookReceiver__Handlers__Log__Enabled"] = "false";
        settings["Serilog__MinimumLevel__Override__Serilog.AspNetCore.RequestLoggingMiddleware"] = "Debug";
        var lines = await RequestLogAsync(settings);

        var accepted = Assert.Single(RequestEvents(lines, 202));
        Assert.Contains("\"@l\":\"Debug\"", accepted, StringComparison.Ordinal);
        Assert.Contains("\"@l\":\"Debug\"", Assert.Single(RequestEvents(lines, 200, "/webhooks/langgraph")), StringComparison.Ordinal);
        Assert.DoesNotContain("\"@l\"", Assert.Single(RequestEvents(lines, 401)), StringComparison.Ordinal); // Information: no level written
    }

    // A new webhook (202), its repeat (200), a wrong token (401), a body that is not JSON (400) and a query (200).
    private static async Task<List<string>> RequestLogAsync(Dictionary<string, string> settings)
    {
        await using var service = await ServiceProcess.StartAsync(settings);
        using var client = service.CreateClient();
        using var admin = service.CreateClient(admin: true);
        var run = Payloads.Run().ToJsonString();
        var before = service.Output.Count;

        Assert.Equal(HttpStatusCode.Accepted, await PostAsync(client, $"/webhooks/langgraph?token={TestApp.Token}", run));
        Assert.Equal(HttpStatusCode.OK, await PostAsync(client, $"/webhooks/langgraph?token={TestApp.Token}", run));
        Assert.Equal(HttpStatusCode.Unauthorized, await PostAsync(client, "/webhooks/langgraph?token=wrong", run));
        Assert.Equal(HttpStatusCode.BadRequest, await PostAsync(client, $"/webhooks/langgraph?token={TestApp.Token}", "not json"));
        Assert.Equal(HttpStatusCode.OK, (await admin.GetAsync("/api/webhooks")).StatusCode);

        await service.TerminateAsync(TimeSpan.FromSeconds(30));
        return service.Output.Skip(before).ToList();
    }

    private static async Task<HttpStatusCode> PostAsync(HttpClient client, string url, string body)
    {
        using var response = await client.PostAsync(url, new StringContent(body, Encoding.UTF8, "application/json"));
        return response.StatusCode;
    }

    private static List<string> RequestEvents(List<string> lines, int status, string? path = null) => lines
        .Where(l => l.Contains($"\"StatusCode\":{status}", StringComparison.Ordinal) && l.Contains("\"RequestPath\":", StringComparison.Ordinal))
        .Where(l => path is null || l.Contains($"\"RequestPath\":\"{path}\"", StringComparison.Ordinal))
        .ToList();
}
