using System.Security.Claims;
using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using WebhookReceiver.Http;

namespace WebhookReceiver.Security;

/// <summary>
/// The admin key (<c>X-Api-Key</c>) as an ASP.NET Core authentication scheme, and the policy the query API requires.
/// The authorization middleware checks it before the endpoint binds anything, so an anonymous caller learns nothing
/// from route values or parameters. The scheme is named, never the host's default.
/// </summary>
internal static class AdminKeyAuthentication
{
    public const string Scheme = "WebhookReceiverAdminKey";
    public const string Policy = "WebhookReceiverAdminKey";

    internal static IServiceCollection AddAdminKeyAuthentication(this IServiceCollection services)
    {
        services.AddRouting(); // the authorization services need it; a web host has it already
        services.AddAuthentication().AddScheme<AuthenticationSchemeOptions, AdminKeyAuthenticationHandler>(Scheme, displayName: null, _ => { });
        services.AddAuthorizationBuilder().AddPolicy(Policy, policy => policy.AddAuthenticationSchemes(Scheme).RequireAuthenticatedUser());
        return services;
    }
}

/// <summary>Authenticates a request whose <c>X-Api-Key</c> is a configured admin key (constant time); challenges with a bare 401 problem.</summary>
internal sealed class AdminKeyAuthenticationHandler(
    IOptionsMonitor<AuthenticationSchemeOptions> options, ILoggerFactory logger, UrlEncoder encoder, AdminKeys keys)
    : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
{
    protected override Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        if (!Request.Headers.ContainsKey(AdminKeys.Header))
        {
            return Task.FromResult(AuthenticateResult.NoResult());
        }

        if (!keys.Authenticate(Request))
        {
            // No detail: a wrong key and a retired one look the same.
            return Task.FromResult(AuthenticateResult.Fail("The admin key is not valid."));
        }

        var identity = new ClaimsIdentity([new Claim(ClaimTypes.Name, "admin")], Scheme.Name);
        return Task.FromResult(AuthenticateResult.Success(new AuthenticationTicket(new ClaimsPrincipal(identity), Scheme.Name)));
    }

    protected override Task HandleChallengeAsync(AuthenticationProperties properties) => Problems.Unauthorized().ExecuteAsync(Context);
}
