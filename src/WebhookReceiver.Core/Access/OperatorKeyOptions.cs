namespace WebhookReceiver.Access;

/// <summary>
/// Who holds a key to the query API and the console, as access reads it: the settings <c>WebhookReceiver:Operators</c> and
/// <c>WebhookReceiver:AdminKeys</c>, handed over by <c>AddWebhookReceiver</c> so that access depends on no module above it.
/// Checked at start-up by <see cref="OperatorsValidator"/>.
/// </summary>
internal sealed class OperatorKeyOptions
{
    /// <summary>Keys for the query API, sent in <c>X-Api-Key</c>; separate from webhook tokens. Each acts as an operator named <c>admin</c>.</summary>
    public List<string> AdminKeys { get; set; } = [];

    /// <summary>Named operators with a role (<c>viewer</c>, <c>reviewer</c>, <c>operator</c>), each with its own key for <c>X-Api-Key</c> and the console.</summary>
    public List<OperatorOptions> Operators { get; set; } = [];
}
