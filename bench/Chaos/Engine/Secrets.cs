using System.Security.Cryptography;

namespace WebhookReceiver.Chaos;

/// <summary>Secrets of the length Production requires, made up for one run.</summary>
public static class Secrets
{
    public static string New() => Convert.ToHexString(RandomNumberGenerator.GetBytes(24)).ToLowerInvariant();
}
