using System.Diagnostics;
using System.Net;
using Microsoft.Playwright;
using WebhookReceiver.Tests.Infrastructure;
using Xunit.Abstractions;
using static Microsoft.Playwright.Assertions;

namespace WebhookReceiver.Tests.SwaggerUi;

/// <summary>Swagger UI as a person uses it: in a real browser, against the service on a real socket.</summary>
[Trait("Category", "System")]
public sealed class SwaggerUiBrowserTests(ITestOutputHelper output)
{
    private static readonly LocatorAssertionsToBeVisibleOptions Visible = new() { Timeout = 20_000 };
    private static readonly LocatorAssertionsToContainTextOptions Contains = new() { Timeout = 20_000 };

    [Fact]
    public async Task Swagger_UI_lists_the_operations_and_shows_a_stored_webhook_after_Authorize_and_Execute()
    {
        var stopwatch = Stopwatch.StartNew();
        var chromium = Chromium.ExecutablePath();
        using var data = new TempDirectory();
        await using var service = await ServiceProcess.StartAsync(ServiceProcess.Settings(data.Path));
        var runId = Payloads.NewRunId();
        using (var body = new StringContent(Payloads.Run(runId).ToJsonString()))
        {
            var stored = await service.CreateClient().PostAsync($"/webhooks/langgraph?token={TestApp.Token}", body);
            Assert.Equal(HttpStatusCode.Accepted, stored.StatusCode);
        }

        using var playwright = await Playwright.CreateAsync();
        await using var browser = await playwright.Chromium.LaunchAsync(new()
        {
            ExecutablePath = chromium,
            Headless = true,
            Args = Chromium.Flags,
            Timeout = 60_000,
        });
        var page = await browser.NewPageAsync(new() { ViewportSize = new() { Width = 1280, Height = 1400 } });
        page.SetDefaultTimeout(20_000);
        try
        {
            await page.GotoAsync(new Uri(service.BaseAddress, "/swagger/index.html").ToString());

            // Every endpoint group is listed, each operation under its OpenAPI id.
            foreach (var operation in new[] { "Webhooks-ReceiveWebhook", "Webhooks-ListWebhooks", "Webhooks-GetWebhook", "Webhooks-GetRun",
                         "Replay-ReplayWebhook", "Replay-ReplayDeadLetters", "Handlers-ListHandlers" })
            {
                await Expect(page.Locator($"#operations-{operation}")).ToBeVisibleAsync(Visible);
            }

            // Authorize with the admin key, as the page's description says.
            await page.Locator(".auth-wrapper button.authorize").ClickAsync();
            var dialog = page.Locator(".modal-ux");
            await dialog.Locator("input").FillAsync(TestApp.AdminKey);
            await dialog.Locator("button.authorize").ClickAsync();
            await dialog.Locator("button.btn-done").ClickAsync();

            // GET /api/webhooks: Try it out, Execute, and the stored run is in the answer.
            var list = page.Locator("#operations-Webhooks-ListWebhooks");
            await list.Locator(".opblock-summary").First.ClickAsync();
            await list.Locator("button.try-out__btn").ClickAsync();
            await list.Locator("button.execute").ClickAsync();
            var response = list.Locator(".live-responses-table tr.response");
            await Expect(response.Locator(".response-col_status")).ToHaveTextAsync("200", new() { Timeout = 20_000 });
            await Expect(response.Locator(".response-col_description .highlight-code")).ToContainTextAsync(runId, Contains);
        }
        finally
        {
            // An artifact of every run, passed or failed: what the page looked like at the end.
            var screenshot = Path.Combine(BuiltService.RepositoryRoot, "TestResults", "swagger-ui.png");
            Directory.CreateDirectory(Path.GetDirectoryName(screenshot)!);
            await page.ScreenshotAsync(new() { Path = screenshot, FullPage = true });
            output.WriteLine($"Screenshot: {screenshot}; browser test took {stopwatch.Elapsed.TotalSeconds:0.0} s");
        }
    }
}
