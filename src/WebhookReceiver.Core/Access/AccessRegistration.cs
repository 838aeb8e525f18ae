using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace WebhookReceiver.Access;

/// <summary>
/// Registers who may do what: the operator directory, the policy scheme and the API-key scheme of
/// <see cref="ReceiverAuthentication"/> (neither the host's default; no cookie, which only the console package adds) and the
/// three policies of <see cref="ReceiverPolicies"/>.
/// </summary>
internal static class AccessRegistration
{
    internal static IServiceCollection AddReceiverAccess(this IServiceCollection services)
    {
        services.AddRouting(); // the authorization services need it; a web host has it already
        services.TryAddSingleton<OperatorDirectory>();
        services.AddAuthentication()
            .AddPolicyScheme(ReceiverAuthentication.Scheme, displayName: null, scheme => scheme.ForwardDefaultSelector = SelectScheme)
            .AddScheme<AuthenticationSchemeOptions, ApiKeyAuthenticationHandler>(ReceiverAuthentication.ApiKeyScheme, displayName: null, _ => { });
        services.AddAuthorizationBuilder()
            .AddPolicy(ReceiverPolicies.View, policy => policy.AddAuthenticationSchemes(ReceiverAuthentication.Scheme).RequireRole(ReceiverRoles.AtLeast(ReceiverRoles.Viewer)))
            .AddPolicy(ReceiverPolicies.Review, policy => policy.AddAuthenticationSchemes(ReceiverAuthentication.Scheme).RequireRole(ReceiverRoles.AtLeast(ReceiverRoles.Reviewer)))
            .AddPolicy(ReceiverPolicies.Operate, policy => policy.AddAuthenticationSchemes(ReceiverAuthentication.Scheme).RequireRole(ReceiverRoles.AtLeast(ReceiverRoles.Operator)));
        return services;
    }

    // The console's pages carry the marker and read the cookie (registered by AddWebhookReceiverConsole, the only one to add
    // the marker); everything else (the API) reads X-Api-Key.
    private static string SelectScheme(HttpContext context) =>
        context.GetEndpoint()?.Metadata.GetMetadata<ConsoleEndpointMetadata>() is not null
            ? ReceiverAuthentication.ConsoleCookieScheme
            : ReceiverAuthentication.ApiKeyScheme;
}
