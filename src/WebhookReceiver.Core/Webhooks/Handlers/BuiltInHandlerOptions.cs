using System.ComponentModel.DataAnnotations;
using Microsoft.Extensions.Options;
using WebhookReceiver.Kernel;

namespace WebhookReceiver.Webhooks;

/// <summary><c>WebhookReceiver:Handlers</c>: the built-in handlers, switched on in configuration.</summary>
internal sealed class BuiltInHandlerOptions
{
    /// <summary>The configuration section bound to these options.</summary>
    public const string Section = "WebhookReceiver:Handlers";

    [Required]
    public LogHandlerOptions Log { get; set; } = new();

    [ValidateEnumeratedItems]
    public List<ForwardTargetOptions> Forward { get; set; } = [];
}

internal sealed class LogHandlerOptions
{
    public bool Enabled { get; set; } = true;
}

/// <summary>A URL that receives every matching webhook, signed per Standard Webhooks.</summary>
internal sealed class ForwardTargetOptions
{
    [Required, RegularExpression("^[A-Za-z0-9_.-]+$", ErrorMessage = "A forward target's Name may hold letters, digits, '_', '.' and '-'.")]
    public string Name { get; set; } = "";

    [Required, Url]
    public string Url { get; set; } = "";

    /// <summary>
    /// Signing secret: <c>whsec_</c> + base64, as Standard Webhooks libraries expect, or any other text (its UTF-8 bytes
    /// are the key), at least 16 characters. The one-secret form of <see cref="Secrets"/>; set either or both.
    /// </summary>
    public string Secret { get; set; } = "";

    /// <summary>
    /// Signing secrets while rotating: every request is signed with each (space-separated <c>v1,</c> entries of
    /// <c>webhook-signature</c>), so the target may verify with the old secret or the new one.
    /// </summary>
    public List<string> Secrets { get; set; } = [];

    /// <summary><see cref="Secret"/> and <see cref="Secrets"/>, blanks left out.</summary>
    public IEnumerable<string> SigningSecrets() => Secrets.Prepend(Secret).Where(s => !string.IsNullOrEmpty(s)).Distinct();

    /// <summary>Run statuses forwarded (runs only); empty, every status.</summary>
    public List<string> Statuses { get; set; } = [];

    /// <summary>Graphs forwarded (runs and interrupts); empty, every graph.</summary>
    public List<string> Graphs { get; set; } = [];

    /// <summary>
    /// What is forwarded: finished runs (the default), interrupts (a thread waiting for a person: <c>{"event": "interrupt",
    /// "interrupt": {..., "resume_url"}}</c>), or both.
    /// </summary>
    [EnumDataType(typeof(ForwardEvents), ErrorMessage = "A forward target's Events must be Runs, Interrupts or Both.")]
    public ForwardEvents Events { get; set; } = ForwardEvents.Runs;
}

/// <summary>What a forward target receives: <c>WebhookReceiver:Handlers:Forward:N:Events</c>.</summary>
internal enum ForwardEvents
{
    /// <summary>Finished runs, as received.</summary>
    Runs,

    /// <summary>Threads that stopped for a person (needs a LangGraph deployment configured).</summary>
    Interrupts,

    /// <summary>Both, on the same URL; the interrupt bodies carry <c>"event": "interrupt"</c>.</summary>
    Both,
}

/// <summary>The data annotations on <see cref="BuiltInHandlerOptions"/>, checked by generated code at start-up.</summary>
[OptionsValidator]
internal sealed partial class BuiltInHandlerOptionsAnnotations : IValidateOptions<BuiltInHandlerOptions>;

/// <summary>Every forward target signs: a secret long enough, and a <c>whsec_</c> one that decodes. Messages never quote a secret.</summary>
internal sealed class ForwardTargetsValidator : IValidateOptions<BuiltInHandlerOptions>
{
    internal const int MinSigningSecretLength = 16;

    public ValidateOptionsResult Validate(string? name, BuiltInHandlerOptions options)
    {
        var failures = new List<string>();
        foreach (var target in options.Forward)
        {
            var secrets = target.SigningSecrets().ToList();
            if (secrets.Count == 0)
            {
                failures.Add($"WebhookReceiver:Handlers:Forward target '{target.Name}' has no Secret: set Secret or Secrets.");
            }

            if (secrets.Any(s => s.Length < MinSigningSecretLength))
            {
                failures.Add($"WebhookReceiver:Handlers:Forward target '{target.Name}' has a Secret shorter than {MinSigningSecretLength} characters.");
            }

            if (secrets.Any(s => StandardWebhookSigner.Key(s) is null))
            {
                failures.Add($"WebhookReceiver:Handlers:Forward target '{target.Name}' has a Secret that starts with whsec_ but is not base64 after it.");
            }
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
