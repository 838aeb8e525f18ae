using System.Net;
using System.Security.Claims;
using System.Text.Encodings.Web;
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

namespace WebhookReceiver.Tests.Access;

/// <summary>
/// A host with its own sign-in (here a header standing in for OIDC or cookies) re-adds the receiver's three policies by name,
/// mapping its users' group claim to the roles, as the README shows: its signed-in users read and replay through <c>/api</c>
/// with no key, a user whose group maps to viewer is refused a replay (403, answered by the host's own scheme), and the audit
/// trail names the host user.
/// </summary>
public sealed class HostSignInTests : IDisposable
{
    private const string UserHeader = "X-Guest-User";
    private readonly TempDirectory _directory = new();

    public void Dispose() => _directory.Dispose();

    [Fact]
    public async Task The_hosts_signed_in_user_reads_and_replays_without_a_key_and_the_audit_trail_names_that_user()
    {
        await using var app = await StartGuestAsync();
        var client = app.GetTestClient();
        using var content = new StringContent(Payloads.Run().ToJsonString(), System.Text.Encoding.UTF8, "application/json");
        using var posted = await client.PostAsync($"/webhooks/langgraph?token={TestApp.Token}", content);
        var id = (long)(await Json.ReadAsync(posted))["id"]!;

        using var alicesList = await Send(client, HttpMethod.Get, "/api/webhooks", "alice:ops");
        using var alicesReplay = await Send(client, HttpMethod.Post, $"/api/webhooks/{id}/replay", "alice:ops");
        using var bobsList = await Send(client, HttpMethod.Get, "/api/webhooks", "bob:readers");
        using var bobsReplay = await Send(client, HttpMethod.Post, $"/api/webhooks/{id}/replay", "bob:readers");
        using var strangers = await Send(client, HttpMethod.Get, "/api/webhooks", "eve:visitors");
        using var nobody = await Send(client, HttpMethod.Get, "/api/webhooks", null);
        using var trail = await Send(client, HttpMethod.Get, "/api/audit", "alice:ops");

        Assert.Equal(HttpStatusCode.OK, alicesList.StatusCode);
        Assert.Equal(HttpStatusCode.Accepted, alicesReplay.StatusCode);
        Assert.Equal(HttpStatusCode.OK, bobsList.StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, bobsReplay.StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, strangers.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, nobody.StatusCode);
        var record = Assert.Single((await Json.ReadAsync(trail))["items"]!.AsArray());
        Assert.Equal(("alice", "replay", $"webhook:{id}", "succeeded"),
            ((string?)record!["actor"], (string?)record["action"], (string?)record["target"], (string?)record["outcome"]));
    }

    [Fact]
    public async Task The_hosts_policies_leave_the_operators_keys_working_when_the_host_adds_the_receivers_scheme()
    {
        await using var app = await StartGuestAsync(keysToo: true);

        using var withKey = await app.GetTestClient().SendAsync(new HttpRequestMessage(HttpMethod.Get, "/api/audit") { Headers = { { "X-Api-Key", TestApp.AdminKey } } });
        using var withUser = await Send(app.GetTestClient(), HttpMethod.Get, "/api/audit", "alice:ops");

        Assert.Equal(HttpStatusCode.OK, withKey.StatusCode);
        Assert.Equal(HttpStatusCode.OK, withUser.StatusCode);
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

    /// <summary>The guest: its own sign-in as the default scheme, then the receiver, then the three policies mapped from its groups.</summary>
    private async Task<WebApplication> StartGuestAsync(bool keysToo = false)
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
        builder.Services.AddAuthentication("Guest").AddScheme<AuthenticationSchemeOptions, GuestSignIn>("Guest", _ => { });
        builder.Services.AddWebhookReceiver(builder.Configuration);
        // After AddWebhookReceiver: a policy added again under the same name replaces the library's.
        builder.Services.AddAuthorizationBuilder()
            .AddPolicy(ReceiverPolicies.View, policy => Schemes(policy, keysToo).RequireAssertion(c => Role(c.User) >= 0))
            .AddPolicy(ReceiverPolicies.Review, policy => Schemes(policy, keysToo).RequireAssertion(c => Role(c.User) >= 1))
            .AddPolicy(ReceiverPolicies.Operate, policy => Schemes(policy, keysToo).RequireAssertion(c => Role(c.User) >= 2));

        var app = builder.Build();
        app.UseAuthentication();
        app.UseAuthorization();
        app.UseWebhookReceiver();
        app.MapWebhookReceiver();
        await app.StartAsync();
        return app;
    }

    // With keysToo, the receiver's scheme (X-Api-Key) is tried beside the host's own sign-in.
    private static Microsoft.AspNetCore.Authorization.AuthorizationPolicyBuilder Schemes(Microsoft.AspNetCore.Authorization.AuthorizationPolicyBuilder policy, bool keysToo) =>
        keysToo ? policy.AddAuthenticationSchemes("Guest", ReceiverAuthentication.Scheme) : policy;

    // The host's mapping: group ops → operator, readers → viewer; an operator key's role claim counts too.
    private static int Role(ClaimsPrincipal user) =>
        user.HasClaim("group", "ops") || user.IsInRole(ReceiverRoles.Operator) ? 2
        : user.HasClaim("group", "readers") || user.IsInRole(ReceiverRoles.Viewer) ? 0
        : -1;

    /// <summary>A stand-in for the host's OIDC or cookie sign-in: <c>X-Guest-User: name:group</c>.</summary>
    private sealed class GuestSignIn(IOptionsMonitor<AuthenticationSchemeOptions> options, ILoggerFactory logger, UrlEncoder encoder)
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
}
