using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace WebhookReceiver.Configuration;

/// <summary>
/// Rules that need the environment: outside Development the service refuses to start without real secrets. In every
/// environment it refuses a token that cannot travel in a URL as it is.
/// </summary>
/// <remarks>It takes no logger: the logger is built from these options (its secret scrubber), so asking for one here deadlocks.</remarks>
internal sealed class WebhookReceiverOptionsValidator(IHostEnvironment environment) : IValidateOptions<WebhookReceiverOptions>
{
    internal const int MinSecretLength = 32;
    internal const int MinSigningSecretLength = 16;

    public ValidateOptionsResult Validate(string? name, WebhookReceiverOptions options)
    {
        var failures = new List<string>();
        foreach (var target in options.Handlers.Forward)
        {
            // The messages never quote a secret.
            var secrets = target.SigningSecrets().ToList();
            if (secrets.Count == 0)
            {
                failures.Add($"WebhookReceiver:Handlers:Forward target '{target.Name}' has no Secret: set Secret or Secrets.");
            }

            if (secrets.Any(s => s.Length < MinSigningSecretLength))
            {
                failures.Add($"WebhookReceiver:Handlers:Forward target '{target.Name}' has a Secret shorter than {MinSigningSecretLength} characters.");
            }

            if (secrets.Any(s => s.StartsWith("whsec_", StringComparison.Ordinal) && !Convert.TryFromBase64String(s["whsec_".Length..], new byte[s.Length], out _)))
            {
                failures.Add($"WebhookReceiver:Handlers:Forward target '{target.Name}' has a Secret that starts with whsec_ but is not base64 after it.");
            }
        }

        foreach (var proxy in options.Limits.KnownProxies.Where(p => !System.Net.IPAddress.TryParse(p, out _)))
        {
            failures.Add($"WebhookReceiver:Limits:KnownProxies has '{proxy}', which is not an IP address.");
        }

        foreach (var network in options.Limits.KnownNetworks.Where(n => !System.Net.IPNetwork.TryParse(n, out _)))
        {
            failures.Add($"WebhookReceiver:Limits:KnownNetworks has '{network}', which is not a network such as 10.0.0.0/8.");
        }

        // LangGraph sends the webhook URL as it was given: '&' and '#' end the query value there, whitespace breaks the URL.
        if (options.Tokens.Any(t => t is not null && (t.AsSpan().IndexOfAny(UrlBreakingCharacters) >= 0 || t.Any(char.IsWhiteSpace))))
        {
            failures.Add("WebhookReceiver:Tokens (env WebhookReceiver__Tokens__0) has a value containing '&', '#' or whitespace, which cannot " +
                "travel unencoded in the webhook URL's ?token=: use a URL-safe token, such as `openssl rand -hex 32`.");
        }

        if (!environment.IsDevelopment())
        {
            // A LangGraph deployment's Tokens are accepted webhook tokens too (and attribute the webhook to it).
            RequireSecrets([.. options.Tokens, .. options.LangGraph.Deployments.SelectMany(d => d.Tokens)],
                "WebhookReceiver:Tokens (env WebhookReceiver__Tokens__0) or a LangGraph deployment's Tokens", failures);
            RequireSecrets(options.AdminKeys, "WebhookReceiver:AdminKeys (env WebhookReceiver__AdminKeys__0)", failures);
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }

    private static readonly System.Buffers.SearchValues<char> UrlBreakingCharacters = System.Buffers.SearchValues.Create("&#");

    private static void RequireSecrets(List<string> values, string setting, List<string> failures)
    {
        var present = values.Where(v => !string.IsNullOrWhiteSpace(v)).ToList();
        if (present.Count == 0)
        {
            failures.Add($"{setting} is missing: set at least one.");
        }
        else if (present.Any(v => v.Length < MinSecretLength))
        {
            failures.Add($"{setting} has a value shorter than {MinSecretLength} characters.");
        }
    }
}

/// <summary>The data annotations on the options and everything they hold, checked by generated code at start-up.</summary>
[OptionsValidator]
internal sealed partial class WebhookReceiverOptionsAnnotationsValidator : IValidateOptions<WebhookReceiverOptions>;
