using System.Buffers;
using System.Text.RegularExpressions;
using Microsoft.Extensions.Options;
using WebhookReceiver.Configuration;

namespace WebhookReceiver.Security;

/// <summary>
/// Removes secrets from what the service keeps or lets out: bodies before they are stored (the token sits in
/// <c>kwargs.webhook</c>), log properties and error messages. Any <c>token=</c> query value is hidden too, so a token retired by rotation
/// stays hidden in the payloads stored while it was valid.
/// </summary>
internal sealed partial class SecretRedactor
{
    public const string Mask = "[REDACTED]";

    // A vectorized search: string.Contains with OrdinalIgnoreCase compares char by char under invariant globalization,
    // which made this check the costliest step of dispatching a large payload.
    private static readonly SearchValues<string> TokenParameterName = SearchValues.Create(["token="], StringComparison.OrdinalIgnoreCase);
    private readonly string[] _secrets;

    public SecretRedactor(IOptions<WebhookReceiverOptions> options)
    {
        var secrets = options.Value.Secrets().ToList();
        // The token may also appear percent-encoded inside a URL.
        _secrets = secrets.Concat(secrets.Select(Uri.EscapeDataString)).Distinct().OrderByDescending(s => s.Length).ToArray();
    }

    public string Redact(string text)
    {
        if (text.Length == 0)
        {
            return text;
        }

        foreach (var secret in _secrets)
        {
            text = text.Replace(secret, Mask, StringComparison.Ordinal);
        }

        return HasTokenParameterName(text) ? TokenParameter().Replace(text, Mask) : text;
    }

    /// <summary>
    /// A UTF-8 body (JSON) with every secret and <c>token=</c> value replaced by <see cref="Mask"/>; null when it holds
    /// none, so a caller can tell that nothing changed. Applied once, before a body is stored.
    /// </summary>
    public byte[]? RedactPayload(byte[] utf8)
    {
        var text = System.Text.Encoding.UTF8.GetString(utf8);
        var redacted = Redact(text);
        // string.Replace and Regex.Replace hand back the same instance when nothing matched.
        return ReferenceEquals(redacted, text) ? null : System.Text.Encoding.UTF8.GetBytes(redacted);
    }

    public bool ContainsSecret(string text) =>
        _secrets.Any(s => text.Contains(s, StringComparison.Ordinal))
        || (HasTokenParameterName(text) && TokenParameter().IsMatch(text));

    private static bool HasTokenParameterName(string text) => text.AsSpan().ContainsAny(TokenParameterName);

    // The value of a token query parameter, up to the next separator or the end of a JSON string.
    [GeneratedRegex(@"(?<=[?&]token=)(?!\[REDACTED\])[^&#""\s\\]+", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex TokenParameter();
}
