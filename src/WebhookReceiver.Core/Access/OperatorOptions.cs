namespace WebhookReceiver.Access;

/// <summary>
/// One named operator (<c>WebhookReceiver:Operators:{i}</c>): a person or script that sends <see cref="Key"/> in
/// <c>X-Api-Key</c> (or signs in to the console with it) and may do what <see cref="Role"/> allows.
/// </summary>
internal sealed class OperatorOptions
{
    /// <summary>The name the audit trail records for this operator's actions; unique.</summary>
    public string Name { get; set; } = "";

    /// <summary>The operator's secret key; unique, at least 32 characters outside Development.</summary>
    public string Key { get; set; } = "";

    /// <summary><c>viewer</c> (read everything), <c>reviewer</c> (viewer + resume interrupts) or <c>operator</c> (everything).</summary>
    public string Role { get; set; } = "";
}
