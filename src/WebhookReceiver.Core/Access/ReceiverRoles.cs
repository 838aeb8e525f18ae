namespace WebhookReceiver.Access;

/// <summary>
/// The three roles a person acting on the receiver has, as the values of their <see cref="System.Security.Claims.ClaimTypes.Role"/>
/// claim: each includes the one before it.
/// </summary>
public static class ReceiverRoles
{
    /// <summary><c>viewer</c>: reads everything (webhooks, deliveries, interrupts, handlers); payloads may be hidden from it.</summary>
    public const string Viewer = "viewer";

    /// <summary><c>reviewer</c>: a viewer who also resumes interrupts (answers the graphs waiting for a person).</summary>
    public const string Reviewer = "reviewer";

    /// <summary><c>operator</c>: everything: replay, bulk replay, sweep, resume, the audit trail.</summary>
    public const string Operator = "operator";

    /// <summary>The roles, lowest first.</summary>
    internal static readonly IReadOnlyList<string> All = [Viewer, Reviewer, Operator];

    /// <summary>The roles that include <paramref name="role"/>: itself and those above it.</summary>
    internal static string[] AtLeast(string role) => All.Skip(All.ToList().IndexOf(role)).ToArray();
}
