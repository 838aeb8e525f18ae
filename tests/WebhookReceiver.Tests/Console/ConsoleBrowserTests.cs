using System.Net;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;
using Microsoft.Playwright;
using WebhookReceiver.Tests.Infrastructure;
using Xunit.Abstractions;
using static Microsoft.Playwright.Assertions;

namespace WebhookReceiver.Tests.Console;

/// <summary>
/// The operator console as people use it: the built service on a real socket, a real forward target that fails once, and
/// the real headless Chromium signing in as a viewer and as an operator.
/// </summary>
[Trait("Category", "System")]
public sealed class ConsoleBrowserTests(ITestOutputHelper output)
{
    public const string ViewerKey = "console-viewer-key-vvvvvvvvvvvvvvvvvvvvvvvvvvvv";
    public const string OperatorKey = "console-operator-key-oooooooooooooooooooooooooo";
    private static readonly LocatorAssertionsToBeVisibleOptions Visible = new() { Timeout = 20_000 };

    [Fact]
    public async Task A_viewer_sees_a_dead_letter_without_Replay_and_is_refused_an_operator_replays_it_and_sees_the_attempt_succeed()
    {
        await using var target = await LoopbackListener.StartAsync();
        target.Answer = n => n == 1 ? StatusCodes.Status503ServiceUnavailable : StatusCodes.Status200OK;
        using var data = new TempDirectory();
        await using var service = await StartAsync(data, target);
        var (id, runId) = await DeadLetterAsync(service, target);
        await using var browser = await ConsoleBrowser.LaunchAsync();
        var pages = new List<string>();

        // The viewer: signs in, finds the dead letter, sees no Replay.
        var viewer = await browser.NewPageAsync();
        var signIn = await viewer.GotoAsync(Url(service, "/console"));
        Assert.EndsWith("/console/sign-in?returnUrl=%2Fconsole", viewer.Url, StringComparison.Ordinal);
        Assert.Equal(ConsoleCsp, signIn!.Headers["content-security-policy"]);
        await SignInAsync(viewer, ViewerKey);
        Assert.EndsWith("/console", viewer.Url, StringComparison.Ordinal);
        // Every page of the navigation a viewer may open answers 200 with the console's CSP (Interrupts and Alerts are other parts' pages).
        foreach (var (name, path) in new[] { ("Overview", "/console"), ("Webhooks", "/console/webhooks"), ("Sweep", "/console/sweep"), ("Handlers", "/console/handlers") })
        {
            var response = await viewer.RunAndWaitForResponseAsync(
                () => viewer.GetByRole(AriaRole.Navigation).GetByRole(AriaRole.Link, new() { Name = name, Exact = true }).ClickAsync(),
                r => new Uri(r.Url).AbsolutePath == path);
            Assert.Equal(200, response.Status);
            Assert.Equal(ConsoleCsp, response.Headers["content-security-policy"]);
            pages.Add(await viewer.ContentAsync());
        }

        await Expect(viewer.Locator("tr[data-handler='crm']")).ToContainTextAsync("crm");
        await viewer.GetByRole(AriaRole.Link, new() { Name = "Webhooks", Exact = true }).ClickAsync();
        await Expect(viewer.Locator($"tr[data-webhook='{id}']")).ToContainTextAsync("503");
        var audit = await viewer.GotoAsync(Url(service, "/console/audit"));
        Assert.EndsWith("/console/forbidden", new Uri(viewer.Url).AbsolutePath, StringComparison.Ordinal);
        Assert.Equal(403, audit!.Status);
        await viewer.GetByRole(AriaRole.Link, new() { Name = "Dead letters" }).ClickAsync();
        await Expect(viewer.Locator($"tr[data-webhook='{id}']")).ToContainTextAsync("dead");
        pages.Add(await viewer.ContentAsync());
        await viewer.Locator($"tr[data-webhook='{id}'] a").ClickAsync();
        await Expect(viewer.Locator(".delivery[data-handler='crm']")).ToContainTextAsync("503");
        await Expect(viewer.GetByRole(AriaRole.Button, new() { Name = "Replay" })).ToHaveCountAsync(0);
        await Expect(viewer.GetByRole(AriaRole.Link, new() { Name = "Replay all…" })).ToHaveCountAsync(0);
        pages.Add(await viewer.ContentAsync());

        // Its replay posted anyway, from the page's own session with a valid token: 403, and via the API with its key: 403.
        var token = await viewer.Locator("input[name='__RequestVerificationToken']").First.GetAttributeAsync("value");
        Assert.Equal(403, await PostFromPageAsync(viewer, $"/console/webhooks/{id}/replay", token));
        using (var api = new HttpClient { BaseAddress = service.BaseAddress })
        {
            api.DefaultRequestHeaders.Add("X-Api-Key", ViewerKey);
            using var refused = await api.PostAsync($"/api/webhooks/{id}/replay", null);
            Assert.Equal(HttpStatusCode.Forbidden, refused.StatusCode);
            Assert.Equal("application/problem+json", refused.Content.Headers.ContentType?.MediaType);
        }

        Assert.Single(target.Received);

        // The operator: a post without the antiforgery token is refused and changes nothing; Replay delivers again.
        var operatorPage = await browser.NewPageAsync();
        await operatorPage.GotoAsync(Url(service, $"/console/webhooks/{id}"));
        await SignInAsync(operatorPage, OperatorKey);
        Assert.EndsWith($"/console/webhooks/{id}", operatorPage.Url, StringComparison.Ordinal);
        Assert.Equal(400, await PostFromPageAsync(operatorPage, $"/console/webhooks/{id}/replay", token: null));
        Assert.Single(target.Received);
        operatorPage.Dialog += (_, dialog) => dialog.AcceptAsync();
        await operatorPage.GetByRole(AriaRole.Button, new() { Name = "Replay" }).ClickAsync();
        await Expect(operatorPage.Locator(".notice")).ToContainTextAsync("Replay requested");
        await Eventually.MatchAsync(async () =>
        {
            await operatorPage.ReloadAsync();
            return await operatorPage.Locator(".delivery[data-handler='crm']").InnerTextAsync();
        }, text => text.Contains("#2 succeeded", StringComparison.Ordinal), what: "The replayed attempt shown as succeeded");
        await Expect(operatorPage.Locator(".delivery[data-handler='crm'] h3")).ToContainTextAsync("succeeded");
        pages.Add(await operatorPage.ContentAsync());
        Assert.Equal(2, target.Received.Count);

        // The audit page (operator) shows who replayed it, and the sign-ins.
        await operatorPage.GotoAsync(Url(service, "/console/audit"));
        await Expect(operatorPage.Locator("tr", new() { HasText = $"webhook:{id}" }).First).ToContainTextAsync("otto");
        await Expect(operatorPage.Locator("tr", new() { HasText = "sign_in" }).First).ToBeVisibleAsync(Visible);
        pages.Add(await operatorPage.ContentAsync());

        // No key in any page, any cookie a script or person can read, or any log line.
        var cookies = await viewer.Context.CookiesAsync();
        Assert.Contains(cookies, c => c.Name == ".WebhookReceiver.Console" && c.HttpOnly && c.SameSite == SameSiteAttribute.Strict && c.Expires > 0);
        await service.TerminateAsync(TimeSpan.FromSeconds(30));
        foreach (var key in new[] { ViewerKey, OperatorKey, TestApp.AdminKey })
        {
            Assert.DoesNotContain(pages, p => p.Contains(key, StringComparison.Ordinal));
            Assert.DoesNotContain(cookies, c => c.Value.Contains(key, StringComparison.Ordinal));
            Assert.DoesNotContain(service.Output, l => l.Contains(key, StringComparison.Ordinal));
        }

        output.WriteLine($"run {runId}: {pages.Count} pages, {cookies.Count} cookies, {service.Output.Count} log lines checked");
    }

    [Fact]
    public async Task Sign_out_ends_the_session_so_the_old_cookie_no_longer_opens_the_console()
    {
        using var data = new TempDirectory();
        await using var service = await StartAsync(data, target: null);
        await using var browser = await ConsoleBrowser.LaunchAsync();
        var page = await browser.NewPageAsync();
        await page.GotoAsync(Url(service, "/console/sign-in"));
        await SignInAsync(page, ViewerKey);
        var session = (await page.Context.CookiesAsync()).Single(c => c.Name == ".WebhookReceiver.Console");
        using var handler = new HttpClientHandler { AllowAutoRedirect = false, UseCookies = false };
        using var client = new HttpClient(handler) { BaseAddress = service.BaseAddress };
        async Task<HttpStatusCode> WithOldCookieAsync()
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, "/console/webhooks");
            request.Headers.Add("Cookie", $"{session.Name}={session.Value}");
            using var response = await client.SendAsync(request);
            return response.StatusCode;
        }

        Assert.Equal(HttpStatusCode.OK, await WithOldCookieAsync());
        await page.GetByRole(AriaRole.Button, new() { Name = "Sign out" }).ClickAsync();
        await Expect(page.GetByLabel("Operator key")).ToBeVisibleAsync(Visible);
        Assert.DoesNotContain(await page.Context.CookiesAsync(), c => c.Name == ".WebhookReceiver.Console");
        Assert.Equal(HttpStatusCode.Redirect, await WithOldCookieAsync());
        await page.GotoAsync(Url(service, "/console/webhooks"));
        Assert.Contains("/console/sign-in", page.Url, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_signed_out_session_stays_ended_after_a_restart_because_the_sign_out_is_stored()
    {
        using var data = new TempDirectory();
        var service = await StartAsync(data, target: null);
        try
        {
            await using var browser = await ConsoleBrowser.LaunchAsync();
            var page = await browser.NewPageAsync();
            await page.GotoAsync(Url(service, "/console/sign-in"));
            await SignInAsync(page, OperatorKey);
            var session = (await page.Context.CookiesAsync()).Single(c => c.Name == ".WebhookReceiver.Console");
            async Task<HttpStatusCode> WithOldCookieAsync(string path)
            {
                using var handler = new HttpClientHandler { AllowAutoRedirect = false, UseCookies = false };
                using var client = new HttpClient(handler) { BaseAddress = service.BaseAddress };
                using var request = new HttpRequestMessage(HttpMethod.Get, path);
                request.Headers.Add("Cookie", $"{session.Name}={session.Value}");
                using var response = await client.SendAsync(request);
                return response.StatusCode;
            }

            // A restart alone keeps the session: what ends it below is the stored sign-out, not a process that forgot it.
            await service.DisposeAsync();
            service = await StartAsync(data, target: null);
            Assert.Equal(HttpStatusCode.OK, await WithOldCookieAsync("/console/webhooks"));

            await page.GotoAsync(Url(service, "/console"));
            await page.GetByRole(AriaRole.Button, new() { Name = "Sign out" }).ClickAsync();
            await Expect(page.GetByLabel("Operator key")).ToBeVisibleAsync(Visible);
            await service.DisposeAsync();
            service = await StartAsync(data, target: null);
            Assert.Equal(HttpStatusCode.Redirect, await WithOldCookieAsync("/console/webhooks"));

            await page.GotoAsync(Url(service, "/console/sign-in"));
            await SignInAsync(page, OperatorKey);
            await page.GotoAsync(Url(service, "/console/audit?action=sign_out"));
            await Expect(page.Locator("tbody tr")).ToHaveCountAsync(1);
            await Expect(page.Locator("tbody tr")).ToContainTextAsync("otto");
        }
        finally
        {
            await service.DisposeAsync();
        }
    }

    [Fact]
    public async Task A_wrong_key_shows_an_error_and_repeated_failures_refuse_even_the_right_key_and_are_audited()
    {
        using var data = new TempDirectory();
        await using var service = await StartAsync(data, target: null);
        await using var browser = await ConsoleBrowser.LaunchAsync();
        var page = await browser.NewPageAsync();
        await page.GotoAsync(Url(service, "/console/sign-in"));
        for (var i = 0; i < 2; i++)
        {
            await page.GetByLabel("Operator key").FillAsync("not-a-key-" + i);
            var wrong = await page.RunAndWaitForResponseAsync(() => page.GetByRole(AriaRole.Button, new() { Name = "Sign in" }).ClickAsync(), r => r.Request.Method == "POST");
            Assert.Equal(401, wrong.Status);
            await Expect(page.GetByRole(AriaRole.Alert)).ToHaveTextAsync("That key is not valid.");
        }

        // The limit (2 here) reached: refused with 429, whatever the key, until the window passes.
        await page.GetByLabel("Operator key").FillAsync(OperatorKey);
        var refused = await page.RunAndWaitForResponseAsync(() => page.GetByRole(AriaRole.Button, new() { Name = "Sign in" }).ClickAsync(), r => r.Request.Method == "POST");
        Assert.Equal(429, refused.Status);
        Assert.NotNull(refused.Headers.GetValueOrDefault("retry-after"));
        await Expect(page.GetByRole(AriaRole.Alert)).ToContainTextAsync("Too many failed sign-ins");
        Assert.DoesNotContain(await page.Context.CookiesAsync(), c => c.Name == ".WebhookReceiver.Console");

        using var admin = service.CreateClient(admin: true);
        var audit = JsonNode.Parse(await admin.GetStringAsync("/api/audit?action=sign_in_failed"))!.ToJsonString();
        Assert.Contains("sign_in_failed", audit, StringComparison.Ordinal);
        Assert.DoesNotContain("not-a-key-", audit, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_overview_updates_itself_and_the_main_pages_are_captured_as_screenshots()
    {
        await using var target = await LoopbackListener.StartAsync();
        target.Answer = n => n == 1 ? StatusCodes.Status503ServiceUnavailable : StatusCodes.Status200OK;
        using var data = new TempDirectory();
        await using var service = await StartAsync(data, target);
        var (id, _) = await DeadLetterAsync(service, target);
        await using var browser = await ConsoleBrowser.LaunchAsync();
        var page = await browser.NewPageAsync();
        await page.GotoAsync(Url(service, "/console/sign-in"));
        await SignInAsync(page, OperatorKey);
        await Expect(page.Locator("[data-live='dead']")).ToHaveTextAsync("1");

        // Another webhook arrives: the overview shows it without a reload (it polls its JSON).
        await PostRunAsync(service, Payloads.NewRunId());
        await Expect(page.Locator("[data-live='received']").First).ToHaveTextAsync("2", new() { Timeout = 20_000 });

        var folder = Environment.GetEnvironmentVariable("UPDATE_SCREENSHOTS") == "1"
            ? Path.Combine(BuiltService.RepositoryRoot, "docs", "console")
            : Directory.CreateTempSubdirectory("console-screenshots").FullName;
        Directory.CreateDirectory(folder);
        await page.ScreenshotAsync(new() { Path = Path.Combine(folder, "overview.png"), FullPage = true });
        await page.GotoAsync(Url(service, "/console/webhooks"));
        await page.ScreenshotAsync(new() { Path = Path.Combine(folder, "webhooks.png"), FullPage = true });
        await page.GotoAsync(Url(service, $"/console/webhooks/{id}"));
        await page.ScreenshotAsync(new() { Path = Path.Combine(folder, "webhook-detail.png"), FullPage = true });
        await page.GotoAsync(Url(service, "/console/dead-letters"));
        await page.ScreenshotAsync(new() { Path = Path.Combine(folder, "dead-letters.png"), FullPage = true });

        // Replay all asks first, with the count, and then replays that many.
        await page.GetByRole(AriaRole.Link, new() { Name = "Replay all…" }).ClickAsync();
        await Expect(page.Locator("[data-count]")).ToHaveAttributeAsync("data-count", "1");
        page.Dialog += (_, dialog) => dialog.AcceptAsync();
        await page.GetByRole(AriaRole.Button, new() { Name = "Replay 1 dead deliveries" }).ClickAsync();
        await Expect(page.Locator(".notice")).ToContainTextAsync("1 dead deliveries are due again");
        await target.WaitForRequestsAsync(3);
        output.WriteLine($"Screenshots in {folder}");
    }

    [Fact]
    public async Task An_operator_runs_a_sweep_from_the_sweep_page_and_sees_its_report_which_a_viewer_sees_without_the_button()
    {
        // A LangGraph server that fails every call: the sweep ends as "failed", with its reason, and is audited.
        await using var langGraph = await LoopbackListener.StartAsync();
        langGraph.Answer = _ => StatusCodes.Status500InternalServerError;
        using var data = new TempDirectory();
        await using var service = await StartAsync(data, target: null, new()
        {
            ["WebhookReceiver__LangGraph__Deployments__0__Name"] = "prod",
            ["WebhookReceiver__LangGraph__Deployments__0__ApiUrl"] = langGraph.Url.ToString(),
            ["WebhookReceiver__LangGraph__MaxRetries"] = "0",
            ["WebhookReceiver__LangGraph__Sweep__Interval"] = "00:00:00",
        });
        await using var browser = await ConsoleBrowser.LaunchAsync();
        var viewer = await browser.NewPageAsync();
        await viewer.GotoAsync(Url(service, "/console/sweep"));
        await SignInAsync(viewer, ViewerKey);
        await Expect(viewer.GetByText("No sweep has run yet.")).ToBeVisibleAsync(Visible);
        await Expect(viewer.GetByRole(AriaRole.Button, new() { Name = "Run sweep now" })).ToHaveCountAsync(0);

        var page = await browser.NewPageAsync();
        await page.GotoAsync(Url(service, "/console/sweep"));
        await SignInAsync(page, OperatorKey);
        await page.GetByRole(AriaRole.Button, new() { Name = "Run sweep now" }).ClickAsync();
        await Expect(page.Locator("tbody tr").First).ToContainTextAsync("prod");
        await Expect(page.Locator("tbody tr").First).ToContainTextAsync("failed");
        await viewer.ReloadAsync();
        await Expect(viewer.Locator("tbody tr").First).ToContainTextAsync("failed");
        await page.GotoAsync(Url(service, "/console"));
        await Expect(page.Locator("[data-live='last_sweep']")).ToContainTextAsync("failed: prod");
        await page.GotoAsync(Url(service, "/console/audit?action=sweep"));
        await Expect(page.Locator("tbody tr").First).ToContainTextAsync("otto");
    }

    public const string ConsoleCsp =
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

    internal static string Url(ServiceProcess service, string path) => new Uri(service.BaseAddress, path).ToString();

    internal static async Task SignInAsync(IPage page, string key)
    {
        await page.GetByLabel("Operator key").FillAsync(key);
        await page.GetByRole(AriaRole.Button, new() { Name = "Sign in" }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Button, new() { Name = "Sign out" })).ToBeVisibleAsync(Visible);
    }

    // A same-origin form post from the page's own script context: its cookies (SameSite=Strict) go with it.
    private static async Task<int> PostFromPageAsync(IPage page, string path, string? token) =>
        await page.EvaluateAsync<int>("""
            async ([path, token]) => {
              const body = new URLSearchParams();
              if (token) body.set("__RequestVerificationToken", token);
              const response = await fetch(path, { method: "POST", body, redirect: "manual" });
              return response.status;
            }
            """, new object?[] { path, token });

    private static async Task<ServiceProcess> StartAsync(TempDirectory data, LoopbackListener? target, Dictionary<string, string>? more = null)
    {
        var settings = ServiceProcess.Settings(data.Path);
        foreach (var (key, value) in more ?? [])
        {
            settings[key] = value;
        }

        settings["WebhookReceiver__Operators__0__Name"] = "vera";
        settings["WebhookReceiver__Operators__0__Key"] = ViewerKey;
        settings["WebhookReceiver__Operators__0__Role"] = "viewer";
        settings["WebhookReceiver__Operators__1__Name"] = "otto";
        settings["WebhookReceiver__Operators__1__Key"] = OperatorKey;
        settings["WebhookReceiver__Operators__1__Role"] = "operator";
        settings["WebhookReceiver__Console__SignInFailureLimit"] = "2";
        settings["WebhookReceiver__Dispatch__MaxAttempts"] = "1";
        settings["WebhookReceiver__Handlers__Log__Enabled"] = "false";
        if (target is not null)
        {
            settings["WebhookReceiver__Handlers__Forward__0__Name"] = "crm";
            settings["WebhookReceiver__Handlers__Forward__0__Url"] = new Uri(target.Url, "/hooks").ToString();
            settings["WebhookReceiver__Handlers__Forward__0__Secret"] = "whsec_Y29uc29sZS10ZXN0LWZvcndhcmQtc2VjcmV0LTAxMjM=";
        }

        return await ServiceProcess.StartAsync(settings);
    }

    private static async Task<long> PostRunAsync(ServiceProcess service, string runId)
    {
        using var body = new StringContent(Payloads.Run(runId).ToJsonString());
        using var stored = await service.CreateClient().PostAsync($"/webhooks/langgraph?token={TestApp.Token}", body);
        Assert.Equal(HttpStatusCode.Accepted, stored.StatusCode);
        return JsonNode.Parse(await stored.Content.ReadAsStringAsync())!["id"]!.GetValue<long>();
    }

    // One webhook whose only delivery (forward "crm", one attempt allowed) failed with 503: a dead letter.
    private static async Task<(long Id, string RunId)> DeadLetterAsync(ServiceProcess service, LoopbackListener target)
    {
        var runId = Payloads.NewRunId();
        var id = await PostRunAsync(service, runId);
        await target.WaitForRequestsAsync(1);
        using var admin = service.CreateClient(admin: true);
        await Eventually.MatchAsync(() => admin.GetStringAsync($"/api/webhooks/{id}"), body => body.Contains("\"dead\"", StringComparison.Ordinal),
            what: "The failed delivery dead-lettered");
        return (id, runId);
    }
}

/// <summary>The machine's headless Chromium through Playwright, disposed with its Playwright driver.</summary>
internal sealed class ConsoleBrowser : IAsyncDisposable
{
    private readonly IPlaywright _playwright;
    private readonly IBrowser _browser;

    private ConsoleBrowser(IPlaywright playwright, IBrowser browser)
    {
        _playwright = playwright;
        _browser = browser;
    }

    public static async Task<ConsoleBrowser> LaunchAsync()
    {
        var playwright = await Playwright.CreateAsync();
        var browser = await playwright.Chromium.LaunchAsync(new()
        {
            ExecutablePath = Chromium.ExecutablePath(),
            Headless = true,
            Args = Chromium.Flags,
            Timeout = 60_000,
        });
        return new ConsoleBrowser(playwright, browser);
    }

    /// <summary>A page in a context of its own (its own cookies: one person).</summary>
    public async Task<IPage> NewPageAsync()
    {
        var context = await _browser.NewContextAsync(new() { ViewportSize = new() { Width = 1280, Height = 900 } });
        var page = await context.NewPageAsync();
        page.SetDefaultTimeout(20_000);
        return page;
    }

    public async ValueTask DisposeAsync()
    {
        await _browser.DisposeAsync();
        _playwright.Dispose();
    }
}
