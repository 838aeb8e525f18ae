namespace WebhookReceiver.Interrupts;

/// <summary>
/// Where interrupts link to for a person: not a setting of its own. The core leaves <see cref="ConsolePath"/> null; the
/// console, when added, sets it to its own path (<c>services.Configure&lt;InterruptLinkOptions&gt;(o =&gt; o.ConsolePath = ...)</c>).
/// </summary>
internal sealed class InterruptLinkOptions
{
    /// <summary>Where the operator console serves its pages (e.g. <c>/console</c>); null without a console: interrupts have no console URL.</summary>
    public string? ConsolePath { get; set; }
}
