namespace WebhookReceiver.Access;

/// <summary>The authentication schemes of the receiver and its console (never the host's default scheme).</summary>
public static class ReceiverAuthentication
{
    /// <summary>
    /// The policy scheme the <see cref="ReceiverPolicies"/> authenticate with: it forwards to <see cref="ConsoleCookieScheme"/>
    /// on the console's endpoints and to <see cref="ApiKeyScheme"/> everywhere else.
    /// </summary>
    public const string Scheme = "WebhookReceiver";

    /// <summary>An operator's key in the <c>X-Api-Key</c> header (<c>WebhookReceiver:Operators</c> or <c>WebhookReceiver:AdminKeys</c>).</summary>
    public const string ApiKeyScheme = "WebhookReceiverAdminKey";

    /// <summary>
    /// The console's sign-in cookie (HttpOnly, SameSite=Strict, Secure over HTTPS, sliding expiry <c>Access:SessionExpiry</c>),
    /// registered by <c>AddWebhookReceiverConsole</c> (package LangGraph.WebhookReceiver.Console) only.
    /// </summary>
    public const string ConsoleCookieScheme = "WebhookReceiverConsole";
}
