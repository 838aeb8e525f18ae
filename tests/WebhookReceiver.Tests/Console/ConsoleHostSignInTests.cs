using System.Net;
using System.Security.Claims;
using System.Text.Encodings.Web;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using WebhookReceiver.Access;
using WebhookReceiver.Tests.Infrastructure;

namespace WebhookReceiver.Tests.Console;

/// <summary>
/// A host with its own sign-in (a header standing in for OIDC) that re-adds the three policies by name: its users use the
/// console with no key, see the buttons their mapped role allows, and their actions are audited under their own name.
/// </summary>
public sealed partial class ConsoleHostSignInTests : IDisposable
{
    private const string UserHeader = "X-Host-User";
    private readonly TempDirectory _directory = new();

    public void Dispose() => _directory.Dispose();

    [Fact]
    public async Task The_hosts_users_open_the_console_without_a_key_with_the_buttons_of_their_mapped_role()
    {
        await using var app = await StartHostAsync();
        var client = app.GetTestClient();
        using var content = new StringContent(Payloads.Run().ToJsonString(), System.Text.Encoding.UTF8, "application/json");
        using var posted = await client.PostAsync($"/webhooks/langgraph?token={TestApp.Token}", content);
        var id = (long)JsonNode.Parse(await posted.Content.ReadAsStringAsync())!["id"]!;

        using var alices = await Send(client, HttpMethod.Get, $"/console/webhooks/{id}", "alice:ops");
        using var bobs = await Send(client, HttpMethod.Get, $"/console/webhooks/{id}", "bob:readers");
        using var nobody = await Send(client, HttpMethod.Get, $"/console/webhooks/{id}", null);
        var alicesPage = await alices.Content.ReadAsStringAsync();
        var bobsPage = await bobs.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.OK, alices.StatusCode);
        Assert.Contains("<span class=\"who\">alice</span>", alicesPage, StringComparison.Ordinal);
        Assert.Contains(">Replay</button>", alicesPage, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.OK, bobs.StatusCode);
        Assert.DoesNotContain(">Replay</button>", bobsPage, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.Unauthorized, nobody.StatusCode); // the host's own challenge, not the key sign-in

        // Alice replays from the page (its antiforgery cookie and token); the audit trail names her.
        var antiforgery = alices.Headers.GetValues("Set-Cookie").Single(c => c.StartsWith(".AspNetCore.Antiforgery", StringComparison.Ordinal)).Split(';')[0];
        using var replay = new HttpRequestMessage(HttpMethod.Post, $"/console/webhooks/{id}/replay")
        {
            Content = new FormUrlEncodedContent(new Dictionary<string, string> { ["__RequestVerificationToken"] = TokenField().Match(alicesPage).Groups[1].Value }),
        };
        replay.Headers.Add(UserHeader, "alice:ops");
        replay.Headers.Add("Cookie", antiforgery);
        using var replayed = await client.SendAsync(replay);
        Assert.Equal(HttpStatusCode.SeeOther, replayed.StatusCode);
        using var audit = await Send(client, HttpMethod.Get, "/console/audit?action=replay", "alice:ops");
        Assert.Matches($"<td>alice</td><td>replay</td><td><code>webhook:{id}</code></td>", await audit.Content.ReadAsStringAsync());
    }

    private static async Task<HttpResponseMessage> Send(HttpClient client, HttpMethod method, string path, string? user)
    {
        using var request = new HttpRequestMessage(method, path);
        if (user is not null)
        {
            request.Headers.Add(UserHeader, user);
        }

        return await client.SendAsync(request);
    }

    private async Task<WebApplication> StartHostAsync()
    {
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { EnvironmentName = Environments.Development });
        builder.WebHost.UseTestServer();
        builder.Logging.ClearProviders();
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["WebhookReceiver:Tokens:0"] = TestApp.Token,
            ["WebhookReceiver:AdminKeys:0"] = TestApp.AdminKey,
            ["WebhookReceiver:Storage:ConnectionString"] = $"Data Source={Path.Combine(_directory.Path, "webhooks.db")}",
        });
        builder.Services.AddAuthentication("Host").AddScheme<AuthenticationSchemeOptions, HostSignIn>("Host", _ => { });
        builder.Services.AddWebhookReceiver(builder.Configuration);
        builder.Services.AddWebhookReceiverConsole(builder.Configuration);
        // After AddWebhookReceiver: the host's policies, under the library's names, replace the library's.
        builder.Services.AddAuthorizationBuilder()
            .AddPolicy(ReceiverPolicies.View, policy => policy.RequireAssertion(c => Role(c.User) >= 0))
            .AddPolicy(ReceiverPolicies.Review, policy => policy.RequireAssertion(c => Role(c.User) >= 1))
            .AddPolicy(ReceiverPolicies.Operate, policy => policy.RequireAssertion(c => Role(c.User) >= 2));

        var app = builder.Build();
        app.UseAuthentication();
        app.UseAuthorization();
        app.MapWebhookReceiver();
        app.MapWebhookReceiverConsole();
        await app.StartAsync();
        return app;
    }

    private static int Role(ClaimsPrincipal user) =>
        user.HasClaim("group", "ops") ? 2 : user.HasClaim("group", "readers") ? 0 : -1;

    private sealed class HostSignIn(IOptionsMonitor<AuthenticationSchemeOptions> options, ILoggerFactory logger, UrlEncoder encoder)
        : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
    {
        protected override Task<AuthenticateResult> HandleAuthenticateAsync()
        {
            if (Request.Headers[UserHeader].ToString().Split(':') is not [var name, var group])
            {
                return Task.FromResult(AuthenticateResult.NoResult());
            }

            var identity = new ClaimsIdentity([new Claim(ClaimTypes.Name, name), new Claim("group", group)], Scheme.Name);
            return Task.FromResult(AuthenticateResult.Success(new AuthenticationTicket(new ClaimsPrincipal(identity), Scheme.Name)));
        }
    }

    [GeneratedRegex("name=\"__RequestVerificationToken\" value=\"([^\"]+)\"")]
    private static partial Regex TokenField();
}
