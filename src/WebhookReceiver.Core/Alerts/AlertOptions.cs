using System.ComponentModel.DataAnnotations;
using Microsoft.Extensions.Options;
using WebhookReceiver.Kernel;
using WebhookReceiver.Webhooks;

namespace WebhookReceiver.Alerts;

/// <summary>
/// <c>WebhookReceiver:Alerts</c>: alerts a person acknowledges (<c>GET /api/alerts</c>), raised from what the dispatcher, the sweep
/// and the store observe, and resolved by themselves when their cause goes; optionally posted to an operational webhook.
/// </summary>
internal sealed class AlertOptions
{
    /// <summary>The configuration section bound to these options.</summary>
    public const string Section = "WebhookReceiver:Alerts";

    /// <summary>Evaluate alerts; false raises none (those stored stay readable).</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>How often the evaluator looks at dead deliveries, waiting interrupts and the store (each replica does; the store keeps one alert per cause).</summary>
    [Range(typeof(TimeSpan), "00:00:00.050", "1.00:00:00")]
    public TimeSpan Interval { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>An interrupt waiting for a person longer than this opens an alert (one per interrupt); 0 raises none.</summary>
    [Range(typeof(TimeSpan), "00:00:00", "365.00:00:00")]
    public TimeSpan InterruptWaitingThreshold { get; set; } = TimeSpan.FromHours(24);

    /// <summary>The operational webhook: each alert opened and resolved is posted there, signed like a forward target.</summary>
    [Required, ValidateObjectMembers]
    public AlertWebhookOptions Webhook { get; set; } = new();
}

/// <summary>
/// <c>WebhookReceiver:Alerts:Webhook</c>: a URL (a pager, a chat bridge) that receives <c>{"event": "alert.opened" | "alert.resolved",
/// "alert": {...}}</c>, signed per Standard Webhooks (<c>webhook-id</c>, <c>webhook-timestamp</c>, <c>webhook-signature</c>) as the
/// forward handler signs. Off while <see cref="Url"/> is empty.
/// </summary>
internal sealed class AlertWebhookOptions
{
    /// <summary>Where to post; empty, no webhook.</summary>
    [Url]
    public string? Url { get; set; }

    /// <summary>Signing secret: <c>whsec_</c> + base64, or any other text of at least 16 characters. Required with <see cref="Url"/>.</summary>
    public string Secret { get; set; } = "";

    /// <summary>Attempts per notice (the first and its retries, 1 s, 2 s, 4 s... apart) before it is logged as lost.</summary>
    [Range(1, 20)]
    public int Attempts { get; set; } = 5;

    /// <summary>How long one post may take.</summary>
    [Range(typeof(TimeSpan), "00:00:00.100", "00:05:00")]
    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(10);
}

/// <summary>The data annotations on <see cref="AlertOptions"/>, checked by generated code at start-up.</summary>
[OptionsValidator]
internal sealed partial class AlertOptionsAnnotations : IValidateOptions<AlertOptions>;

/// <summary>A webhook URL signs: a secret long enough, and a <c>whsec_</c> one that decodes. Messages never quote the secret.</summary>
internal sealed class AlertWebhookValidator : IValidateOptions<AlertOptions>
{
    public ValidateOptionsResult Validate(string? name, AlertOptions options)
    {
        var webhook = options.Webhook;
        if (string.IsNullOrEmpty(webhook.Url))
        {
            return ValidateOptionsResult.Success;
        }

        if (webhook.Secret.Length < ForwardTargetsValidator.MinSigningSecretLength)
        {
            return ValidateOptionsResult.Fail($"{AlertOptions.Section}:Webhook:Secret must be set, at least {ForwardTargetsValidator.MinSigningSecretLength} characters, when Webhook:Url is.");
        }

        return StandardWebhookSigner.Key(webhook.Secret) is null
            ? ValidateOptionsResult.Fail($"{AlertOptions.Section}:Webhook:Secret starts with whsec_ but is not base64 after it.")
            : ValidateOptionsResult.Success;
    }
}
