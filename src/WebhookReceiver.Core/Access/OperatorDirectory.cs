using System.Security.Claims;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Options;

namespace WebhookReceiver.Access;

/// <summary>
/// The operators the configuration names (<c>WebhookReceiver:Operators</c>), and every <c>WebhookReceiver:AdminKeys</c> key as
/// an operator named <c>admin</c>. A key is looked up in constant time: the candidate's hash is compared with every configured
/// key's hash, so neither which key matched nor how much of one did shows in the time a look-up takes.
/// </summary>
internal sealed class OperatorDirectory
{
    /// <summary>The name an <c>AdminKeys</c> key acts under.</summary>
    public const string AdminName = "admin";

    private readonly (byte[] Hash, Operator Operator)[] _keys;

    public OperatorDirectory(IOptions<OperatorKeyOptions> options)
    {
        var settings = options.Value;
        _keys = settings.AdminKeys.Where(k => !string.IsNullOrEmpty(k)).Select(k => (Hash(k), new Operator(AdminName, ReceiverRoles.Operator)))
            .Concat(settings.Operators.Where(o => !string.IsNullOrEmpty(o.Key))
                .Select(o => (Hash(o.Key), new Operator(o.Name.Trim(), o.Role.Trim().ToLowerInvariant()))))
            .ToArray();
    }

    /// <summary>No key is configured: every call of the API is answered 401.</summary>
    public bool IsEmpty => _keys.Length == 0;

    /// <summary>The operator whose key this is, or null (an empty, unknown or retired key).</summary>
    public Operator? Authenticate(string? key)
    {
        if (string.IsNullOrEmpty(key))
        {
            return null;
        }

        var candidate = Hash(key);
        Operator? found = null;
        foreach (var (hash, known) in _keys)
        {
            // No early exit: every key is compared whatever matched.
            if (CryptographicOperations.FixedTimeEquals(candidate, hash))
            {
                found ??= known;
            }
        }

        return found;
    }

    /// <summary>
    /// The principal of <paramref name="person"/> authenticated by <paramref name="scheme"/>: <see cref="ClaimTypes.Name"/> is the
    /// operator's name, <see cref="ClaimTypes.Role"/> the role.
    /// </summary>
    public static ClaimsPrincipal Principal(Operator person, string scheme) =>
        new(new ClaimsIdentity([new Claim(ClaimTypes.Name, person.Name), new Claim(ClaimTypes.Role, person.Role)], scheme, ClaimTypes.Name, ClaimTypes.Role));

    private static byte[] Hash(string key) => SHA256.HashData(Encoding.UTF8.GetBytes(key));
}
