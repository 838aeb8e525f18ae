using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace WebhookReceiver.Access;

/// <summary>
/// Registers who may do what: the operator directory, the three authentication schemes of <see cref="ReceiverAuthentication"/>
/// (none of them the host's default) and the three policies of <see cref="ReceiverPolicies"/>.
/// </summary>
internal static class AccessRegistration
{
    internal static IServiceCollection AddReceiverAccess(this IServiceCollection services)
    {
        services.AddRouting(); // the authorization services need it; a web host has it already
        services.TryAddSingleton<OperatorDirectory>();
        services.AddAuthentication()
            .AddPolicyScheme(ReceiverAuthentication.Scheme, displayName: null, scheme => scheme.ForwardDefaultSelector = SelectScheme)
            .AddScheme<AuthenticationSchemeOptions, ApiKeyAuthenticationHandler>(ReceiverAuthentication.ApiKeyScheme, displayName: null, _ => { })
            .AddCookie(ReceiverAuthentication.ConsoleCookieScheme);
        // Secure defaults; the console sets its own paths (LoginPath, AccessDeniedPath) with PostConfigure.
        services.AddOptions<CookieAuthenticationOptions>(ReceiverAuthentication.ConsoleCookieScheme).Configure<IOptions<AccessOptions>>((cookie, access) =>
        {
            cookie.Cookie.Name = ".WebhookReceiver.Console";
            cookie.Cookie.HttpOnly = true;
            cookie.Cookie.SameSite = SameSiteMode.Strict;
            cookie.Cookie.SecurePolicy = CookieSecurePolicy.SameAsRequest;
            cookie.ExpireTimeSpan = access.Value.SessionExpiry;
            cookie.SlidingExpiration = true;
        });
        services.AddAuthorizationBuilder()
            .AddPolicy(ReceiverPolicies.View, policy => policy.AddAuthenticationSchemes(ReceiverAuthentication.Scheme).RequireRole(ReceiverRoles.AtLeast(ReceiverRoles.Viewer)))
            .AddPolicy(ReceiverPolicies.Review, policy => policy.AddAuthenticationSchemes(ReceiverAuthentication.Scheme).RequireRole(ReceiverRoles.AtLeast(ReceiverRoles.Reviewer)))
            .AddPolicy(ReceiverPolicies.Operate, policy => policy.AddAuthenticationSchemes(ReceiverAuthentication.Scheme).RequireRole(ReceiverRoles.AtLeast(ReceiverRoles.Operator)));
        return services;
    }

    // The console's pages carry the marker and read the cookie; everything else (the API) reads X-Api-Key.
    private static string SelectScheme(HttpContext context) =>
        context.GetEndpoint()?.Metadata.GetMetadata<ConsoleEndpointMetadata>() is not null
            ? ReceiverAuthentication.ConsoleCookieScheme
            : ReceiverAuthentication.ApiKeyScheme;
}
