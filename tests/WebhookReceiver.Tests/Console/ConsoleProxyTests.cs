using System.Net;
using System.Text.RegularExpressions;
using WebhookReceiver.Tests.Infrastructure;

namespace WebhookReceiver.Tests.Console;

/// <summary>
/// The console behind a trusted TLS-terminating proxy (<c>Limits:KnownProxies</c>): the session cookie is Secure because
/// the client's request was HTTPS, and failed sign-ins count against the client's address, not the proxy's.
/// </summary>
[Trait("Category", "System")]
public sealed partial class ConsoleProxyTests
{
    [Fact]
    public async Task Behind_a_trusted_proxy_the_cookie_is_secure_and_failed_sign_ins_count_per_client_address()
    {
        using var data = new TempDirectory();
        var settings = ServiceProcess.Settings(data.Path);
        settings["WebhookReceiver__Limits__KnownProxies__0"] = "127.0.0.1";
        settings["WebhookReceiver__Console__SignInFailureLimit"] = "1";
        await using var service = await ServiceProcess.StartAsync(settings);
        using var handler = new HttpClientHandler { AllowAutoRedirect = false, UseCookies = false };
        using var client = new HttpClient(handler) { BaseAddress = service.BaseAddress };

        async Task<HttpResponseMessage> SignInAsync(string address, string key)
        {
            using var get = Request(HttpMethod.Get, "/console/sign-in", address);
            using var page = await client.SendAsync(get);
            var antiforgery = page.Headers.GetValues("Set-Cookie").Single(c => c.StartsWith(".AspNetCore.Antiforgery", StringComparison.Ordinal)).Split(';')[0];
            var token = TokenField().Match(await page.Content.ReadAsStringAsync()).Groups[1].Value;
            var post = Request(HttpMethod.Post, "/console/sign-in", address);
            post.Headers.Add("Cookie", antiforgery);
            post.Content = new FormUrlEncodedContent(new Dictionary<string, string> { ["__RequestVerificationToken"] = token, ["key"] = key });
            return await client.SendAsync(post);
        }

        // One failure from one client: that client is refused, another client behind the same proxy is not.
        using (var wrong = await SignInAsync("203.0.113.7", "not-a-key"))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, wrong.StatusCode);
        }

        using (var refused = await SignInAsync("203.0.113.7", TestApp.AdminKey))
        {
            Assert.Equal(HttpStatusCode.TooManyRequests, refused.StatusCode);
            Assert.NotNull(refused.Headers.RetryAfter);
        }

        using var signedIn = await SignInAsync("203.0.113.8", TestApp.AdminKey);
        Assert.Equal(HttpStatusCode.SeeOther, signedIn.StatusCode);
        Assert.Equal("/console", signedIn.Headers.Location?.OriginalString);
        var cookie = signedIn.Headers.GetValues("Set-Cookie").Single(c => c.StartsWith(".WebhookReceiver.Console=", StringComparison.Ordinal)).ToLowerInvariant();
        Assert.Contains("; secure", cookie, StringComparison.Ordinal);
        Assert.Contains("; httponly", cookie, StringComparison.Ordinal);
        Assert.Contains("; samesite=strict", cookie, StringComparison.Ordinal);
        Assert.Contains("; expires=", cookie, StringComparison.Ordinal);
    }

    private static HttpRequestMessage Request(HttpMethod method, string path, string client)
    {
        var request = new HttpRequestMessage(method, path);
        request.Headers.Add("X-Forwarded-For", client);
        request.Headers.Add("X-Forwarded-Proto", "https");
        return request;
    }

    [GeneratedRegex("name=\"__RequestVerificationToken\" value=\"([^\"]+)\"")]
    private static partial Regex TokenField();
}
