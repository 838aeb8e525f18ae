using Microsoft.AspNetCore.Http;
using WebhookReceiver.Kernel;

namespace WebhookReceiver.Webhooks;

/// <summary>
/// The webhook's shared token: from the <c>token</c> query parameter or the configured header (<c>Bearer</c> optional,
/// any case). LangGraph puts the URL on the wire as it was given, so a base64 token arrives with a raw <c>+</c>, which
/// form decoding turns into a space: the query value is checked both as decoded and as sent (percent-decoded only).
/// Accepted: <c>WebhookReceiver:Tokens</c> and every LangGraph deployment's <c>Tokens</c> (which also tell the deployment apart).
/// </summary>
/// <param name="accepted">The accepted tokens; blanks are ignored.</param>
/// <param name="header">The header that may carry the token instead (<c>WebhookReceiver:TokenHeader</c>).</param>
internal sealed class WebhookTokens(IEnumerable<string> accepted, string header)
{
    /// <summary>The query parameter that carries the token in the webhook URL LangGraph is given (<c>?token=...</c>).</summary>
    public const string QueryParameter = "token";

    private readonly SecretSet _accepted = new(accepted);
    private readonly string _header = header;

    /// <summary>True when no token is accepted: every webhook is then answered 401.</summary>
    public bool IsEmpty => _accepted.IsEmpty;

    public bool Authenticate(HttpRequest request) => Authenticate(request, out _);

    /// <summary>True when <paramref name="token"/> is accepted (compared in constant time).</summary>
    public bool Accepts(string token) => _accepted.Contains(token);

    /// <summary>Checks the request's token; <paramref name="token"/> is the accepted token as presented (null when refused).</summary>
    public bool Authenticate(HttpRequest request, out string? token)
    {
        ArgumentNullException.ThrowIfNull(request);
        token = null;
        if (request.Query.TryGetValue(QueryParameter, out var query) && query.Count == 1)
        {
            // Both compared in constant time, and both always: which one matched does not show in the time taken.
            var decoded = _accepted.Contains(query[0]);
            var sent = RawQueryValue(request.QueryString.Value);
            var raw = sent is not null && _accepted.Contains(sent);
            token = decoded ? query[0] : raw ? sent : null;
            return decoded | raw;
        }

        if (request.Headers.TryGetValue(_header, out var header) && header.Count == 1 && header[0] is { } value)
        {
            var presented = value.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase) ? value.AsSpan(7).Trim() : value.AsSpan().Trim();
            var accepted = _accepted.Contains(presented);
            token = accepted ? presented.ToString() : null;
            return accepted;
        }

        return false;
    }

    // The token parameter's value percent-decoded the way a URL path is (Uri.UnescapeDataString), so '+' stays '+'.
    private static string? RawQueryValue(string? queryString)
    {
        foreach (var pair in (queryString ?? "").TrimStart('?').Split('&'))
        {
            var equals = pair.IndexOf('=', StringComparison.Ordinal);
            if (equals > 0 && string.Equals(Uri.UnescapeDataString(pair[..equals]), QueryParameter, StringComparison.OrdinalIgnoreCase))
            {
                return Uri.UnescapeDataString(pair[(equals + 1)..]);
            }
        }

        return null;
    }
}
