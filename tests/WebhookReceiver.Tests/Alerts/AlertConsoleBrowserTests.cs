using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;
using Microsoft.Playwright;
using WebhookReceiver.Tests.Console;
using WebhookReceiver.Tests.Infrastructure;
using static Microsoft.Playwright.Assertions;

namespace WebhookReceiver.Tests.Alerts;

/// <summary>
/// The console's alerts as people use them: the built service on a real socket, a forward target that always answers 503 (a dead
/// handler), and the real headless Chromium: the overview counts the open alert, a viewer sees it without the button, an
/// operator acknowledges it.
/// </summary>
[Trait("Category", "System")]
public sealed class AlertConsoleBrowserTests
{
    [Fact]
    public async Task An_operator_sees_the_dead_handler_alert_counted_on_the_overview_and_acknowledges_it_a_viewer_cannot()
    {
        await using var target = await LoopbackListener.StartAsync();
        target.Answer = _ => StatusCodes.Status503ServiceUnavailable;
        using var data = new TempDirectory();
        var settings = ServiceProcess.Settings(data.Path);
        settings["WebhookReceiver__Operators__0__Name"] = "vera";
        settings["WebhookReceiver__Operators__0__Key"] = ConsoleBrowserTests.ViewerKey;
        settings["WebhookReceiver__Operators__0__Role"] = "viewer";
        settings["WebhookReceiver__Operators__1__Name"] = "otto";
        settings["WebhookReceiver__Operators__1__Key"] = ConsoleBrowserTests.OperatorKey;
        settings["WebhookReceiver__Operators__1__Role"] = "operator";
        settings["WebhookReceiver__Dispatch__MaxAttempts"] = "1";
        settings["WebhookReceiver__Handlers__Log__Enabled"] = "false";
        settings["WebhookReceiver__Handlers__Forward__0__Name"] = "crm";
        settings["WebhookReceiver__Handlers__Forward__0__Url"] = new Uri(target.Url, "/hooks").ToString();
        settings["WebhookReceiver__Handlers__Forward__0__Secret"] = "whsec_Y29uc29sZS10ZXN0LWZvcndhcmQtc2VjcmV0LTAxMjM=";
        settings["WebhookReceiver__Alerts__Interval"] = "00:00:00.200";
        await using var service = await ServiceProcess.StartAsync(settings);
        using (var body = new StringContent(Payloads.Run().ToJsonString()))
        {
            (await service.CreateClient().PostAsync($"/webhooks/langgraph?token={TestApp.Token}", body)).EnsureSuccessStatusCode();
        }

        using var admin = service.CreateClient(admin: true);
        var alert = (await Eventually.MatchAsync(() => admin.GetFromJsonAsync<JsonObject>("/api/alerts?kind=dead_handler&state=open", Json.Options),
            list => list!["items"]!.AsArray().Count == 1, what: "The dead_handler alert of crm"))!["items"]![0]!;
        var id = (long)alert["id"]!;
        await using var browser = await ConsoleBrowser.LaunchAsync();

        // The viewer: the overview counts it; the alerts page shows it, with its error, and no Acknowledge button.
        var viewer = await browser.NewPageAsync();
        await viewer.GotoAsync(ConsoleBrowserTests.Url(service, "/console/sign-in"));
        await ConsoleBrowserTests.SignInAsync(viewer, ConsoleBrowserTests.ViewerKey);
        await Expect(viewer.Locator("#open-alerts [data-open-alerts]")).ToHaveTextAsync("1");
        await viewer.GetByRole(AriaRole.Navigation).GetByRole(AriaRole.Link, new() { Name = "Alerts", Exact = true }).ClickAsync();
        var row = viewer.Locator($"tr[data-alert='{id}']");
        await Expect(row).ToContainTextAsync("dead_handler");
        await Expect(row.Locator("code")).ToHaveTextAsync("crm");
        await Expect(row).ToContainTextAsync("answered 503");
        await Expect(row.GetByRole(AriaRole.Button, new() { Name = "Acknowledge" })).ToHaveCountAsync(0);

        // The operator acknowledges it from the page; the row says who, the overview no longer counts it as open.
        var operatorPage = await browser.NewPageAsync();
        await operatorPage.GotoAsync(ConsoleBrowserTests.Url(service, "/console/alerts"));
        await ConsoleBrowserTests.SignInAsync(operatorPage, ConsoleBrowserTests.OperatorKey);
        await operatorPage.Locator($"tr[data-alert='{id}']").GetByRole(AriaRole.Button, new() { Name = "Acknowledge" }).ClickAsync();
        await Expect(operatorPage.Locator(".notice")).ToContainTextAsync($"Alert {id} acknowledged");
        await Expect(operatorPage.Locator($"tr[data-alert='{id}']")).ToHaveAttributeAsync("data-state", "acknowledged");
        await Expect(operatorPage.Locator($"tr[data-alert='{id}']")).ToContainTextAsync("by otto");
        await operatorPage.GotoAsync(ConsoleBrowserTests.Url(service, "/console"));
        await Expect(operatorPage.Locator("#open-alerts [data-open-alerts]")).ToHaveTextAsync("0");

        var stored = (await admin.GetFromJsonAsync<JsonObject>($"/api/alerts?kind=dead_handler", Json.Options))!["items"]![0]!;
        Assert.Equal(("acknowledged", "otto"), ((string?)stored["state"], (string?)stored["acknowledged_by"]));
        var audit = (await admin.GetFromJsonAsync<JsonObject>("/api/audit?action=acknowledge_alert", Json.Options))!["items"]!.AsArray();
        Assert.Equal(("otto", $"alert:{id}", "succeeded"), ((string?)audit[0]!["actor"], (string?)audit[0]!["target"], (string?)audit[0]!["outcome"]));
    }
}
