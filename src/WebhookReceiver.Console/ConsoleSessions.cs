using System.Collections.Concurrent;
using System.Security.Claims;
using System.Security.Cryptography;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;
using WebhookReceiver.Audit;

namespace WebhookReceiver.Console;

/// <summary>
/// Signed-out console sessions: a session cookie carries a random session id, and Sign out writes a <c>sign_out</c> audit record
/// naming it (<c>session:{id}</c>), so the old cookie no longer signs anyone in (cookies are otherwise valid until they expire):
/// not after a restart, and not on another replica sharing the store. Each process also remembers the sessions it saw end, until
/// their cookie would have expired anyway, to spare the store a read per request.
/// </summary>
internal sealed class ConsoleSessions(IAuditLog audit, TimeProvider time)
{
    public const string ClaimType = "webhookreceiver:console_session";
    private readonly ConcurrentDictionary<string, DateTimeOffset> _ended = new(StringComparer.Ordinal);

    public static string NewId() => Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16));

    /// <summary>Ends <paramref name="user"/>'s session for good: audited, so every process of the store refuses its cookie.</summary>
    public async Task EndAsync(ClaimsPrincipal user, string actor, DateTimeOffset until, CancellationToken cancellationToken)
    {
        if (user.FindFirst(ClaimType)?.Value is not { } id)
        {
            return;
        }

        Remember(id, until);
        await audit.AppendAsync(new AuditEntry(time.GetUtcNow(), actor, AuditActions.SignOut, Target(id), AuditOutcomes.Succeeded, "console"), cancellationToken);
    }

    /// <summary>The cookie handler's check of every request: an ended (or id-less) session is rejected and its cookie deleted.</summary>
    public async Task ValidateAsync(CookieValidatePrincipalContext context)
    {
        if (context.Principal?.FindFirst(ClaimType)?.Value is not { } id || await HasEndedAsync(id, context))
        {
            context.RejectPrincipal();
            await context.HttpContext.SignOutAsync(context.Scheme.Name);
        }
    }

    private async Task<bool> HasEndedAsync(string id, CookieValidatePrincipalContext context)
    {
        if (_ended.ContainsKey(id))
        {
            return true;
        }

        if (!await audit.ExistsAsync(AuditActions.SignOut, Target(id), context.HttpContext.RequestAborted))
        {
            return false;
        }

        Remember(id, time.GetUtcNow() + context.Options.ExpireTimeSpan);
        return true;
    }

    private void Remember(string id, DateTimeOffset until)
    {
        var now = time.GetUtcNow();
        foreach (var expired in _ended.Where(e => e.Value <= now).Select(e => e.Key).ToList())
        {
            _ended.TryRemove(expired, out _);
        }

        _ended[id] = until;
    }

    private static string Target(string id) => "session:" + id;
}
