using System.Buffers;
using System.Text.RegularExpressions;

namespace WebhookReceiver.Kernel;

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
    // Every configured secret, each character also matched in any encoded form (%2B or %2b, all of them encoded or only
    // some, as encoders differ: Python's quote() keeps '/'); null when no secret is configured.
    private readonly Regex? _secrets;

    /// <param name="configured">Every configured secret (tokens, admin keys, signing secrets, API keys); blanks are ignored.</param>
    public SecretRedactor(IEnumerable<string> configured)
    {
        var secrets = configured.Where(s => !string.IsNullOrEmpty(s)).Distinct().OrderByDescending(s => s.Length).ToList();
        _secrets = secrets.Count == 0
            ? null
            : new Regex(string.Join('|', secrets.Select(EncodedAnyWay)), RegexOptions.CultureInvariant | RegexOptions.Compiled);
    }

    public string Redact(string text)
    {
        if (text.Length == 0)
        {
            return text;
        }

        if (_secrets is not null)
        {
            text = _secrets.Replace(text, Mask);
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
        _secrets?.IsMatch(text) == true
        || (HasTokenParameterName(text) && TokenParameter().IsMatch(text));

    // Letters and digits never need encoding; any other character may stand as itself, as %XX (a URL), or as \u00XX or
    // \/ (a JSON string: .NET's encoder writes '+' as \u002B), hex digits in either case.
    private static string EncodedAnyWay(string secret) => string.Concat(secret.Select(c =>
        char.IsAsciiLetterOrDigit(c) ? c.ToString()
        : c < 0x80 ? $@"(?:{Regex.Escape(c.ToString())}|%(?i:{(int)c:X2})|\\u(?i:00{(int)c:X2}){(c == '/' ? @"|\\/" : "")})"
        : Regex.Escape(c.ToString())));

    private static bool HasTokenParameterName(string text) => text.AsSpan().ContainsAny(TokenParameterName);

    // The value of a token query parameter, up to the next separator or the end of a JSON string.
    [GeneratedRegex(@"(?<=[?&]token=)(?!\[REDACTED\])[^&#""\s\\]+", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex TokenParameter();
}
