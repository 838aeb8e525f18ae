using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using WebhookReceiver.Kernel;
using WebhookReceiver.Webhooks;

namespace WebhookReceiver.LangGraph;

/// <summary>
/// A run a sweep recovers, made into the webhook LangGraph would have posted: the API's run record, plus the thread's
/// <c>values</c> when it is the thread's latest run; redacted and stored like a received one (<c>source: sweep</c>).
/// </summary>
internal sealed class SweptWebhooks(HandlerCatalog catalog, SecretRedactor redactor, TimeProvider time)
{
    /// <summary>The webhook the server would have sent: the run record, plus the thread's values when it is the thread's latest run.</summary>
    public NewWebhook Webhook(LangGraphRun run, JsonElement? values, string deployment)
    {
        var body = JsonNode.Parse(run.RawJson, documentOptions: new JsonDocumentOptions { MaxDepth = LangGraphRun.MaxSupportedDepth })!.AsObject();
        if (values is { ValueKind: not JsonValueKind.Undefined } found)
        {
            body["values"] = JsonNode.Parse(found.GetRawText(), documentOptions: new JsonDocumentOptions { MaxDepth = LangGraphRun.MaxSupportedDepth });
        }

        var bytes = Encoding.UTF8.GetBytes(body.ToJsonString());
        bytes = redactor.RedactPayload(bytes) ?? bytes;
        var stored = LangGraphRun.Parse(Encoding.UTF8.GetString(bytes), WebhookSource.Sweep)!;
        return NewWebhook.Of(stored, bytes, time.GetUtcNow(), catalog.Match(stored), deployment, WebhookSource.Sweep, ReceiverTracing.CurrentTraceparent());
    }
}
