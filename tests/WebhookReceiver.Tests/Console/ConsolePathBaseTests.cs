using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;
using WebhookReceiver.Tests.Infrastructure;
using static Microsoft.Playwright.Assertions;

namespace WebhookReceiver.Tests.Console;

/// <summary>
/// The console under a host's path base (<c>UsePathBase("/ops")</c>, as behind a proxy that serves the app below a prefix)
/// and a configured <c>Console:Path</c>: every link, form, asset and redirect stays below both.
/// </summary>
[Trait("Category", "System")]
public sealed class ConsolePathBaseTests
{
    [Fact]
    public async Task Under_a_path_base_sign_in_redirects_links_forms_and_assets_stay_below_it()
    {
        await using var receiver = await LiveReceiver.StartAsync(new()
        {
            ["WebhookReceiver:Operators:0:Name"] = "otto",
            ["WebhookReceiver:Operators:0:Key"] = ConsoleBrowserTests.OperatorKey,
            ["WebhookReceiver:Operators:0:Role"] = "operator",
            ["WebhookReceiver:Console:Path"] = "/admin/console",
        }, services => services.AddSingleton<IStartupFilter>(new PathBase("/ops")));
        var root = receiver.Address;
        await using var browser = await ConsoleBrowser.LaunchAsync();
        var page = await browser.NewPageAsync();

        await page.GotoAsync(new Uri(root, "/ops/admin/console/webhooks").ToString());
        Assert.Equal("/ops/admin/console/sign-in", new Uri(page.Url).AbsolutePath);
        await ConsoleBrowserTests.SignInAsync(page, ConsoleBrowserTests.OperatorKey);
        Assert.Equal("/ops/admin/console/webhooks", new Uri(page.Url).AbsolutePath);

        var links = await page.Locator("a[href]").EvaluateAllAsync<string[]>("els => els.map(e => e.getAttribute('href'))");
        var actions = await page.Locator("form[action]").EvaluateAllAsync<string[]>("els => els.map(e => e.getAttribute('action'))");
        var assets = await page.Locator("link[href], script[src]").EvaluateAllAsync<string[]>("els => els.map(e => e.getAttribute('href') || e.getAttribute('src'))");
        Assert.NotEmpty(links);
        Assert.All(links.Concat(actions).Concat(assets), url => Assert.StartsWith("/ops/admin/console", url, StringComparison.Ordinal));
        // The stylesheet was served and applied from there.
        Assert.Equal("rgb(246, 247, 249)", await page.EvaluateAsync<string>("getComputedStyle(document.body).backgroundColor"));

        await page.GetByRole(AriaRole.Link, new() { Name = "Handlers" }).ClickAsync();
        Assert.Equal("/ops/admin/console/handlers", new Uri(page.Url).AbsolutePath);
        await page.GetByRole(AriaRole.Button, new() { Name = "Sign out" }).ClickAsync();
        await Expect(page.GetByLabel("Operator key")).ToBeVisibleAsync();
        Assert.Equal("/ops/admin/console/sign-in", new Uri(page.Url).AbsolutePath);
    }

    private sealed class PathBase(string pathBase) : IStartupFilter
    {
        public Action<IApplicationBuilder> Configure(Action<IApplicationBuilder> next) => app =>
        {
            app.UsePathBase(pathBase);
            next(app);
        };
    }
}
