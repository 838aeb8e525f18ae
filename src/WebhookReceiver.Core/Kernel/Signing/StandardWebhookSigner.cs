using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace WebhookReceiver.Kernel;

/// <summary>
/// Signs what the receiver posts per Standard Webhooks (standardwebhooks.com), so that any of its libraries verifies it:
/// <c>webhook-id</c>, <c>webhook-timestamp</c> (Unix seconds) and <c>webhook-signature</c> (<c>v1,</c> + the base64 HMAC-SHA256
/// of <c>{id}.{timestamp}.{body}</c> under each key, space-separated, so a target can rotate its secret). Used by the forward
/// handler and the operational alert webhook alike.
/// </summary>
internal sealed class StandardWebhookSigner
{
    private readonly byte[][] _keys;

    /// <param name="secrets">The signing secrets, at least one, each valid (<see cref="Key"/> not null: checked at start-up).</param>
    public StandardWebhookSigner(IEnumerable<string> secrets)
    {
        ArgumentNullException.ThrowIfNull(secrets);
        _keys = secrets.Select(s => Key(s) ?? throw new ArgumentException("A whsec_ signing secret is not base64 after its prefix.", nameof(secrets))).ToArray();
    }

    /// <summary>Adds the three headers to <paramref name="request"/>, whose content is <paramref name="body"/>, signed at <paramref name="at"/>.</summary>
    public void Sign(HttpRequestMessage request, string id, DateTimeOffset at, byte[] body)
    {
        ArgumentNullException.ThrowIfNull(request);
        var timestamp = at.ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture);
        request.Headers.Add("webhook-id", id);
        request.Headers.Add("webhook-timestamp", timestamp);
        request.Headers.Add("webhook-signature", string.Join(' ', Signatures(id, timestamp, body).Select(signature => "v1," + signature)));
    }

    /// <summary>The base64 HMAC-SHA256 of <c>id.timestamp.body</c> under each key, in configuration order.</summary>
    internal IEnumerable<string> Signatures(string id, string timestamp, byte[] body)
    {
        ArgumentNullException.ThrowIfNull(body);
        var prefix = Encoding.UTF8.GetBytes($"{id}.{timestamp}.");
        var signed = new byte[prefix.Length + body.Length];
        prefix.CopyTo(signed, 0);
        body.CopyTo(signed, prefix.Length);
        return _keys.Select(key => Convert.ToBase64String(HMACSHA256.HashData(key, signed))).ToList();
    }

    /// <summary>
    /// The HMAC key of a signing secret: Standard Webhooks secrets are <c>whsec_</c> + base64 of the key; any other text is
    /// used as its UTF-8 bytes. Null for a <c>whsec_</c> secret that is not base64 after it (refused at start-up).
    /// </summary>
    internal static byte[]? Key(string secret)
    {
        ArgumentNullException.ThrowIfNull(secret);
        const string Prefix = "whsec_";
        if (!secret.StartsWith(Prefix, StringComparison.Ordinal))
        {
            return Encoding.UTF8.GetBytes(secret);
        }

        var key = new byte[secret.Length];
        return Convert.TryFromBase64String(secret[Prefix.Length..], key, out var written) ? key[..written] : null;
    }
}
