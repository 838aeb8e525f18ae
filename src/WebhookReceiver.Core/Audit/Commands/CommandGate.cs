using System.Security.Claims;
using Microsoft.AspNetCore.Authorization;
using WebhookReceiver.Access;
using WebhookReceiver.Kernel;

namespace WebhookReceiver.Audit;

/// <summary>
/// What every command does around its work: checks the caller against a policy of <see cref="ReceiverPolicies"/>
/// (through <see cref="IAuthorizationService"/>, so a host's own policies of those names apply), and writes the audit record,
/// its detail with every configured secret redacted.
/// </summary>
internal sealed class CommandGate(IAuthorizationService authorization, IAuditLog audit, SecretRedactor redactor, TimeProvider time)
{
    /// <summary>True when <paramref name="user"/> meets <paramref name="policy"/>.</summary>
    public async Task<bool> AllowsAsync(ClaimsPrincipal user, string policy) =>
        (await authorization.AuthorizeAsync(user, resource: null, policy)).Succeeded;

    /// <summary>The longest detail stored, in characters: a resume value can be a whole edited document.</summary>
    public const int MaxDetailLength = 4000;

    /// <summary>
    /// Appends the record of <paramref name="action"/> on <paramref name="target"/> by <paramref name="user"/>; the detail is
    /// redacted, then cut to <see cref="MaxDetailLength"/> (in that order, so no piece of a secret survives the cut).
    /// </summary>
    public Task<long> RecordAsync(ClaimsPrincipal user, string action, string target, string outcome, string? detail)
    {
        var redacted = detail is null ? null : redactor.Redact(detail);
        if (redacted is { Length: > MaxDetailLength })
        {
            redacted = string.Concat(redacted.AsSpan(0, MaxDetailLength - 1), "…");
        }

        // Recorded even when the caller has gone: the work was done (or refused) whether or not it waits for the answer.
        return audit.AppendAsync(new AuditEntry(time.GetUtcNow(), ActorName(user), action, target, outcome, redacted), CancellationToken.None);
    }

    /// <summary>The name the audit trail shows for <paramref name="user"/>: the operator's or the host user's name.</summary>
    public static string ActorName(ClaimsPrincipal user) => user.Identity?.Name is { Length: > 0 } name ? name : "(anonymous)";
}
