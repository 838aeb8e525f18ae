namespace WebhookReceiver.Access;

/// <summary>
/// The names of the ASP.NET Core authorization policies the receiver's API, console and commands require. The library
/// registers them (authenticated by <see cref="ReceiverAuthentication.Scheme"/>, a <see cref="System.Security.Claims.ClaimTypes.Role"/>
/// claim of <see cref="ReceiverRoles"/>); a host with its own sign-in (OIDC, cookies) adds policies with these same names
/// after <c>AddWebhookReceiver</c> (the last <c>AddPolicy</c> of a name wins) that map its users to the roles.
/// </summary>
public static class ReceiverPolicies
{
    /// <summary>Read everything: role viewer, reviewer or operator.</summary>
    public const string View = "WebhookReceiver.View";

    /// <summary>Resume interrupts: role reviewer or operator.</summary>
    public const string Review = "WebhookReceiver.Review";

    /// <summary>Replay, bulk replay, sweep, read the audit trail: role operator.</summary>
    public const string Operate = "WebhookReceiver.Operate";
}
