using System.ComponentModel.DataAnnotations;
using Microsoft.Extensions.Options;

namespace WebhookReceiver.Webhooks;

/// <summary><c>WebhookReceiver:Limits</c>: what one client, or everyone at once, may ask of the webhook route.</summary>
internal sealed class AbuseLimitOptions
{
    /// <summary>The configuration section bound to these options.</summary>
    public const string Section = "WebhookReceiver:Limits";

    /// <summary>Webhooks per second one client address may send on average; 0 switches the rate limit off.</summary>
    [Range(0, 1_000_000)]
    public int PermitsPerSecond { get; set; } = 500;

    /// <summary>How many a client may send at once above the average rate.</summary>
    [Range(1, 1_000_000)]
    public int Burst { get; set; } = 1000;

    /// <summary>
    /// Webhook requests handled at once; more are answered 503 at once instead of piling up in memory. Each holds its
    /// body until stored: at 64, 256 connections sending 259 KB runs peak at ~270 MB (bench/run.sh, docs/benchmarks.md);
    /// 128 peaked past 300 MB and 512 further, and one store writes no faster for having more requests waiting on it.
    /// </summary>
    [Range(1, 100_000)]
    public int MaxConcurrentIngests { get; set; } = 64;

    /// <summary>Addresses of reverse proxies whose X-Forwarded-For/-Proto is believed; no others are.</summary>
    public List<string> KnownProxies { get; set; } = [];

    /// <summary>Networks (CIDR, e.g. 10.0.0.0/8) of trusted reverse proxies.</summary>
    public List<string> KnownNetworks { get; set; } = [];
}

/// <summary>The data annotations on <see cref="AbuseLimitOptions"/>, checked by generated code at start-up.</summary>
[OptionsValidator]
internal sealed partial class AbuseLimitOptionsAnnotations : IValidateOptions<AbuseLimitOptions>;

/// <summary>Trusted proxies must parse: one that does not would trust no one, silently.</summary>
internal sealed class TrustedProxiesValidator : IValidateOptions<AbuseLimitOptions>
{
    public ValidateOptionsResult Validate(string? name, AbuseLimitOptions options)
    {
        var failures = options.KnownProxies.Where(p => !System.Net.IPAddress.TryParse(p, out _))
            .Select(p => $"WebhookReceiver:Limits:KnownProxies has '{p}', which is not an IP address.")
            .Concat(options.KnownNetworks.Where(n => !System.Net.IPNetwork.TryParse(n, out _))
                .Select(n => $"WebhookReceiver:Limits:KnownNetworks has '{n}', which is not a network such as 10.0.0.0/8."))
            .ToList();
        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
