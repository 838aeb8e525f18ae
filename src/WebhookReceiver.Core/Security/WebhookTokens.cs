using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Options;
using WebhookReceiver.Configuration;

namespace WebhookReceiver.Security;

/// <summary>The webhook's shared token: from the <c>token</c> query parameter or the configured header (<c>Bearer</c> optional).</summary>
public sealed class WebhookTokens(IOptions<WebhookReceiverOptions> options)
{
    private readonly SecretSet _accepted = new(options.Value.Tokens);
    private readonly string _header = options.Value.TokenHeader;

    public bool Authenticate(HttpRequest request)
    {
        if (request.Query.TryGetValue(Ingress.WebhookEndpoint.TokenQueryParameter, out var query) && query.Count == 1)
        {
            return _accepted.Contains(query[0]);
        }

        if (request.Headers.TryGetValue(_header, out var header) && header.Count == 1 && header[0] is { } value)
        {
            var token = value.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase) ? value.AsSpan(7).Trim() : value.AsSpan().Trim();
            return _accepted.Contains(token);
        }

        return false;
    }
}

/// <summary>Admin keys for the query API, sent in <c>X-Api-Key</c>.</summary>
public sealed class AdminKeys(IOptions<WebhookReceiverOptions> options)
{
    public const string Header = "X-Api-Key";
    private readonly SecretSet _accepted = new(options.Value.AdminKeys);

    public bool Authenticate(HttpRequest request) =>
        request.Headers.TryGetValue(Header, out var key) && key.Count == 1 && _accepted.Contains(key[0]);
}
