using System.Net;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Mvc.Testing;
using WebhookReceiver.Tests.Infrastructure;

namespace WebhookReceiver.Tests.Console;

/// <summary>The console's pages over HTTP (in memory): encoding, filters, payload hiding, redirects, and the sign-in form's own antiforgery check.</summary>
public sealed partial class ConsolePagesTests
{
    private static Dictionary<string, string?> Operators(bool hidePayloads = false) => new()
    {
        ["WebhookReceiver:Operators:0:Name"] = "vera",
        ["WebhookReceiver:Operators:0:Key"] = ConsoleBrowserTests.ViewerKey,
        ["WebhookReceiver:Operators:0:Role"] = "viewer",
        ["WebhookReceiver:Operators:1:Name"] = "otto",
        ["WebhookReceiver:Operators:1:Key"] = ConsoleBrowserTests.OperatorKey,
        ["WebhookReceiver:Operators:1:Role"] = "operator",
        ["WebhookReceiver:Access:HidePayloadsFromViewers"] = hidePayloads ? "true" : "false",
    };

    [Fact]
    public async Task Values_from_a_payload_are_encoded_never_markup()
    {
        await using var app = new TestApp(Operators());
        var run = Payloads.Run(graphId: "<script>alert(1)</script>");
        run["thread_id"] = "\"><img src=x onerror=alert(2)>";
        var id = await StoreAsync(app, run);
        var client = await SignedInAsync(app, ConsoleBrowserTests.OperatorKey);

        foreach (var page in new[] { "/console/webhooks", $"/console/webhooks/{id}" })
        {
            var html = await client.GetStringAsync(page);
            Assert.DoesNotContain("<script>alert", html, StringComparison.Ordinal);
            Assert.DoesNotContain("<img src=x", html, StringComparison.Ordinal);
            Assert.Contains("&lt;script&gt;alert(1)&lt;/script&gt;", html, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task With_payloads_hidden_from_viewers_a_viewer_sees_metadata_only_and_an_operator_the_payload()
    {
        await using var app = new TestApp(Operators(hidePayloads: true));
        var run = Payloads.Run();
        run["kwargs"]!["input"] = new JsonObject { ["customer"] = "ada-lovelace-42" };
        var id = await StoreAsync(app, run);

        var viewer = await (await SignedInAsync(app, ConsoleBrowserTests.ViewerKey)).GetStringAsync($"/console/webhooks/{id}");
        var operatorPage = await (await SignedInAsync(app, ConsoleBrowserTests.OperatorKey)).GetStringAsync($"/console/webhooks/{id}");

        Assert.DoesNotContain("ada-lovelace-42", viewer, StringComparison.Ordinal);
        Assert.Contains("Payloads are hidden from viewers", viewer, StringComparison.Ordinal);
        Assert.Contains(run["run_id"]!.GetValue<string>(), viewer, StringComparison.Ordinal);
        Assert.Contains("ada-lovelace-42", operatorPage, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_webhook_list_filters_by_run_status_run_id_and_thread_and_says_which_filter_it_cannot_read()
    {
        await using var app = new TestApp(Operators());
        var success = Payloads.Run();
        var error = Payloads.Run(status: "error");
        var idSuccess = await StoreAsync(app, success);
        var idError = await StoreAsync(app, error);
        var client = await SignedInAsync(app, ConsoleBrowserTests.ViewerKey);

        async Task<long[]> Rows(string query) =>
            [.. Row().Matches(await client.GetStringAsync("/console/webhooks" + query)).Select(m => long.Parse(m.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture))];

        Assert.Equal([idError, idSuccess], await Rows(""));
        Assert.Equal([idError], await Rows("?status=error"));
        Assert.Equal([idSuccess], await Rows($"?run_id={success["run_id"]}"));
        Assert.Equal([idError], await Rows($"?thread_id={error["thread_id"]}"));
        Assert.Equal([idSuccess], await Rows("?cursor=" + idError));
        var bad = await client.GetStringAsync("/console/webhooks?received_from=yesterday&delivery_state=lost");
        Assert.Contains("received_from: An ISO 8601 date and time", bad, StringComparison.Ordinal);
        Assert.Contains("delivery_state: One of: ", bad, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_interrupt_list_reads_its_filters_as_the_api_does_and_says_which_one_it_cannot_read()
    {
        await using var app = new TestApp(Operators());
        var client = await SignedInAsync(app, ConsoleBrowserTests.ViewerKey);

        using var bad = await client.GetAsync("/console/interrupts?state=paused&cursor=x");
        var text = await bad.Content.ReadAsStringAsync();
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        Assert.Contains("state: One of: waiting, resumed, expired.", text, StringComparison.Ordinal);
        Assert.Contains("cursor: The next_cursor of the previous page.", text, StringComparison.Ordinal);

        // A blank field of the filter form is no filter; a value is trimmed, as the API reads it.
        var blank = await client.GetStringAsync("/console/interrupts?state=&thread_id=+t-1+");
        Assert.Contains("name=\"thread_id\" value=\"t-1\"", blank, StringComparison.Ordinal);
        Assert.Contains("Nothing matches.", blank, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Signed_out_pages_redirect_to_sign_in_and_back_but_never_off_the_console()
    {
        await using var app = new TestApp(Operators());
        var anonymous = app.CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false });

        var redirect = await anonymous.GetAsync("/console/dead-letters?handler=crm");
        Assert.Equal(HttpStatusCode.Redirect, redirect.StatusCode);
        Assert.Equal("/console/sign-in?returnUrl=%2Fconsole%2Fdead-letters%3Fhandler%3Dcrm", redirect.Headers.Location!.PathAndQuery);

        var back = await SignInAsync(app.CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false }),
            ConsoleBrowserTests.ViewerKey, "/console/dead-letters?handler=crm");
        Assert.Equal("/console/dead-letters?handler=crm", back.Headers.Location!.OriginalString);
        foreach (var elsewhere in new[] { "https://evil.example/console", "//evil.example/console", "/consolex", "/api/webhooks", "/console/../api", "/console/%2e%2e/api", "/console/\\evil.example" })
        {
            var signedIn = await SignInAsync(app.CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false }),
                ConsoleBrowserTests.ViewerKey, elsewhere);
            Assert.Equal("/console", signedIn.Headers.Location!.OriginalString);
        }
    }

    [Fact]
    public async Task A_sign_in_post_without_the_antiforgery_token_is_refused_with_problem_details_and_signs_nobody_in()
    {
        await using var app = new TestApp(Operators());
        var client = app.CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false });

        var response = await client.PostAsync("/console/sign-in", new FormUrlEncodedContent(new Dictionary<string, string> { ["key"] = ConsoleBrowserTests.OperatorKey }));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.False(response.Headers.TryGetValues("Set-Cookie", out var cookies) && cookies.Any(c => c.StartsWith(".WebhookReceiver.Console=", StringComparison.Ordinal)));
        Assert.Equal(ConsoleBrowserTests.ConsoleCsp, response.Headers.GetValues("Content-Security-Policy").Single());
    }

    [Fact]
    public async Task The_embedded_css_and_script_are_served_by_the_console_versioned_and_cached()
    {
        await using var app = new TestApp(Operators());
        var client = app.CreateClient();
        var page = await client.GetStringAsync("/console/sign-in");

        foreach (var (url, type) in new[] { (Asset().Match(page).Groups[1].Value, "text/css"), (Asset().Match(page).NextMatch().Groups[1].Value, "text/javascript") })
        {
            Assert.StartsWith("/console/assets/", url, StringComparison.Ordinal);
            var asset = await client.GetAsync(WebUtility.HtmlDecode(url));
            Assert.Equal(HttpStatusCode.OK, asset.StatusCode);
            Assert.Equal(type, asset.Content.Headers.ContentType?.MediaType);
            Assert.Equal("public, max-age=31536000, immutable", asset.Headers.CacheControl?.ToString());
            using var again = new HttpRequestMessage(HttpMethod.Get, WebUtility.HtmlDecode(url));
            again.Headers.IfNoneMatch.Add(asset.Headers.ETag!);
            Assert.Equal(HttpStatusCode.NotModified, (await client.SendAsync(again)).StatusCode);
        }

        Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync("/console/assets/appsettings.json")).StatusCode);
    }

    private static async Task<long> StoreAsync(TestApp app, JsonObject run)
    {
        var stored = await app.PostWebhookAsync(run.ToJsonString());
        Assert.Equal(HttpStatusCode.Accepted, stored.StatusCode);
        return JsonNode.Parse(await stored.Content.ReadAsStringAsync())!["id"]!.GetValue<long>();
    }

    private static async Task<HttpClient> SignedInAsync(TestApp app, string key)
    {
        var client = app.CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false });
        var signedIn = await SignInAsync(client, key);
        Assert.Equal(HttpStatusCode.SeeOther, signedIn.StatusCode);
        return client;
    }

    private static async Task<HttpResponseMessage> SignInAsync(HttpClient client, string key, string? returnUrl = null)
    {
        var page = await client.GetStringAsync("/console/sign-in");
        var form = new Dictionary<string, string> { ["__RequestVerificationToken"] = TokenField().Match(page).Groups[1].Value, ["key"] = key };
        if (returnUrl is not null)
        {
            form["returnUrl"] = returnUrl;
        }

        return await client.PostAsync("/console/sign-in", new FormUrlEncodedContent(form));
    }

    [GeneratedRegex("name=\"__RequestVerificationToken\" value=\"([^\"]+)\"")]
    private static partial Regex TokenField();

    [GeneratedRegex("(?:href|src)=\"(/console/assets/[^\"]+)\"")]
    private static partial Regex Asset();

    [GeneratedRegex("<tr data-webhook=\"(\\d+)\"")]
    private static partial Regex Row();
}
