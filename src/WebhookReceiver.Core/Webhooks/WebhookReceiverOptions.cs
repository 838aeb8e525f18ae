using System.ComponentModel.DataAnnotations;

using WebhookReceiver.Access;

namespace WebhookReceiver.Webhooks;

/// <summary>
/// The <c>WebhookReceiver</c> section's own keys: the route, the tokens, the admin keys and the body limits. Every
/// key can be set from the environment as <c>WebhookReceiver__Key</c>. Each subsection is bound to options beside its
/// feature: <c>Storage</c> and <c>Retention</c> (Inbox), <c>Ingest</c> and <c>Limits</c> (Ingress), <c>Dispatch</c>,
/// <c>Handlers</c>, <c>Metrics</c> (Observability) and <c>LangGraph</c> (LangGraphApi).
/// </summary>
internal sealed class WebhookReceiverOptions
{
    /// <summary>The configuration section bound to these options; the other sections are under it.</summary>
    public const string Section = "WebhookReceiver";

    /// <summary>Route that LangGraph posts to.</summary>
    [Required, RegularExpression("^/.*", ErrorMessage = "WebhookReceiver:Path must start with '/'.")]
    public string Path { get; set; } = "/webhooks/langgraph";

    /// <summary>Accepted webhook tokens; more than one while rotating.</summary>
    public List<string> Tokens { get; set; } = [];

    /// <summary>Header that may carry <c>Bearer &lt;token&gt;</c> instead of the query string (LangGraph's <c>webhooks.headers</c>).</summary>
    [Required]
    public string TokenHeader { get; set; } = "Authorization";

    /// <summary>Keys for the query API, sent in <c>X-Api-Key</c>; separate from webhook tokens.</summary>
    public List<string> AdminKeys { get; set; } = [];

    /// <summary>
    /// Named operators with a role (<c>viewer</c>, <c>reviewer</c>, <c>operator</c>), each with its own key for <c>X-Api-Key</c>
    /// and the console; an <see cref="AdminKeys"/> key acts as an operator named <c>admin</c>.
    /// </summary>
    public List<OperatorOptions> Operators { get; set; } = [];

    /// <summary>Largest accepted webhook body.</summary>
    [Range(1024, long.MaxValue)]
    public long MaxBodyBytes { get; set; } = 32 * 1024 * 1024;

    /// <summary>Deepest JSON nesting accepted in a webhook body.</summary>
    [Range(8, LangGraphRun.MaxSupportedDepth)]
    public int MaxJsonDepth { get; set; } = 128;
}
