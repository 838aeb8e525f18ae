using System.ComponentModel.DataAnnotations;
using Microsoft.Extensions.Options;

namespace WebhookReceiver.Webhooks;

/// <summary><c>WebhookReceiver:Retention</c>: how long stored webhooks and interrupts are kept.</summary>
internal sealed class RetentionOptions
{
    /// <summary>The configuration section bound to these options.</summary>
    public const string Section = "WebhookReceiver:Retention";

    public bool Enabled { get; set; } = true;

    /// <summary>
    /// Webhooks whose deliveries are all done are deleted, with their attempts, after this long; so are interrupts no longer
    /// waiting (counted from when they were seen).
    /// </summary>
    [Range(typeof(TimeSpan), "00:01:00", "3650.00:00:00")]
    public TimeSpan MaxAge { get; set; } = TimeSpan.FromDays(30);

    /// <summary>Webhooks and interrupts with a dead letter are kept this long, or until replayed.</summary>
    [Range(typeof(TimeSpan), "00:01:00", "3650.00:00:00")]
    public TimeSpan DeadLetterMaxAge { get; set; } = TimeSpan.FromDays(90);

    /// <summary>How often the purge runs.</summary>
    [Range(typeof(TimeSpan), "00:00:01", "1.00:00:00")]
    public TimeSpan Interval { get; set; } = TimeSpan.FromHours(1);

    /// <summary>Webhooks deleted per transaction, so that a purge never holds the store for long.</summary>
    [Range(1, 100_000)]
    public int BatchSize { get; set; } = 500;
}

/// <summary>The data annotations on <see cref="RetentionOptions"/>, checked by generated code at start-up.</summary>
[OptionsValidator]
internal sealed partial class RetentionOptionsAnnotations : IValidateOptions<RetentionOptions>;
