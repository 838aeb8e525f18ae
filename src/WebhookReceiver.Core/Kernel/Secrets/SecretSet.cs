using System.Security.Cryptography;
using System.Text;

namespace WebhookReceiver.Kernel;

/// <summary>
/// A set of accepted secrets (webhook tokens or admin keys) checked in constant time: both sides are hashed first,
/// so neither the content nor the length of a configured secret shows in the time a check takes.
/// </summary>
internal sealed class SecretSet
{
    private readonly byte[][] _hashes;

    public SecretSet(IEnumerable<string> secrets) =>
        _hashes = secrets.Where(s => !string.IsNullOrEmpty(s)).Select(Hash).ToArray();

    public bool IsEmpty => _hashes.Length == 0;

    public bool Contains(ReadOnlySpan<char> candidate)
    {
        if (candidate.IsEmpty)
        {
            return false;
        }

        Span<byte> hash = stackalloc byte[SHA256.HashSizeInBytes];
        var maxBytes = Encoding.UTF8.GetMaxByteCount(candidate.Length);
        Span<byte> utf8 = maxBytes <= 512 ? stackalloc byte[512] : new byte[maxBytes];
        SHA256.HashData(utf8[..Encoding.UTF8.GetBytes(candidate, utf8)], hash);

        var match = false;
        foreach (var accepted in _hashes)
        {
            match |= CryptographicOperations.FixedTimeEquals(hash, accepted);
        }

        return match;
    }

    private static byte[] Hash(string secret) => SHA256.HashData(Encoding.UTF8.GetBytes(secret));
}
