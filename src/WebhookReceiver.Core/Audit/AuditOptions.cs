using System.ComponentModel.DataAnnotations;
using Microsoft.Extensions.Options;

namespace WebhookReceiver.Audit;

/// <summary><c>WebhookReceiver:Audit</c>: how long the audit trail is kept (longer than webhooks).</summary>
internal sealed class AuditOptions
{
    /// <summary>The configuration section bound to these options.</summary>
    public const string Section = "WebhookReceiver:Audit";

    /// <summary>Audit records older than this are deleted (hourly, in the background); a year by default.</summary>
    [Range(typeof(TimeSpan), "1.00:00:00", "36500.00:00:00")]
    public TimeSpan MaxAge { get; set; } = TimeSpan.FromDays(365);
}

/// <summary>The data annotations on <see cref="AuditOptions"/>, checked by generated code at start-up.</summary>
[OptionsValidator]
internal sealed partial class AuditOptionsAnnotations : IValidateOptions<AuditOptions>;
