using System.ComponentModel.DataAnnotations;
using Microsoft.Extensions.Options;

namespace WebhookReceiver.Access;

/// <summary><c>WebhookReceiver:Access</c>: what each role sees, and how long a console session lasts.</summary>
internal sealed class AccessOptions
{
    /// <summary>The configuration section bound to these options.</summary>
    public const string Section = "WebhookReceiver:Access";

    /// <summary>
    /// When true, a viewer gets metadata, states and errors only: no webhook <c>payload</c> and no interrupt values (what the
    /// graph asked); reviewers and operators see everything. For payloads that hold customer data.
    /// </summary>
    public bool HidePayloadsFromViewers { get; set; }

    /// <summary>How long a console sign-in lasts without use (sliding: each request renews it once half of it has passed).</summary>
    [Range(typeof(TimeSpan), "00:01:00", "30.00:00:00")]
    public TimeSpan SessionExpiry { get; set; } = TimeSpan.FromHours(8);
}

/// <summary>The data annotations on <see cref="AccessOptions"/>, checked by generated code at start-up.</summary>
[OptionsValidator]
internal sealed partial class AccessOptionsAnnotations : IValidateOptions<AccessOptions>;
