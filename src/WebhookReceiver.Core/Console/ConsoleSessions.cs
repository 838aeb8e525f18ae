using System.Collections.Concurrent;
using System.Security.Claims;
using System.Security.Cryptography;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;

namespace WebhookReceiver.Console;

/// <summary>
/// Signed-out console sessions: a session cookie carries a random session id, and Sign out records it here until the cookie
/// would have expired anyway, so the old cookie no longer signs anyone in (cookies are otherwise valid until they expire).
/// Per process: with several replicas, a signed-out cookie still opens the replicas that did not see the sign-out, until it
/// expires (<c>Access:SessionExpiry</c>).
/// </summary>
internal sealed class ConsoleSessions(TimeProvider time)
{
    public const string ClaimType = "webhookreceiver:console_session";
    private readonly ConcurrentDictionary<string, DateTimeOffset> _ended = new(StringComparer.Ordinal);

    public static string NewId() => Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16));

    public void End(ClaimsPrincipal user, DateTimeOffset until)
    {
        if (user.FindFirst(ClaimType)?.Value is { } id)
        {
            var now = time.GetUtcNow();
            foreach (var expired in _ended.Where(e => e.Value <= now).Select(e => e.Key).ToList())
            {
                _ended.TryRemove(expired, out _);
            }

            _ended[id] = until;
        }
    }

    /// <summary>The cookie handler's check of every request: an ended (or id-less) session is rejected and its cookie deleted.</summary>
    public async Task ValidateAsync(CookieValidatePrincipalContext context)
    {
        if (context.Principal?.FindFirst(ClaimType)?.Value is not { } id || _ended.ContainsKey(id))
        {
            context.RejectPrincipal();
            await context.HttpContext.SignOutAsync(context.Scheme.Name);
        }
    }
}
