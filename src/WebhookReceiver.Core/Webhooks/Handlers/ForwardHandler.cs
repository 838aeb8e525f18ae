using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using WebhookReceiver.Kernel;

namespace WebhookReceiver.Webhooks;

/// <summary>
/// Built-in: POSTs the run as received (tokens redacted) to a configured URL, signed per Standard Webhooks so the
/// receiving side can verify it with any Standard Webhooks library. Every attempt is signed afresh (its own timestamp)
/// with every configured secret, so a target can rotate its secret without missing a webhook. Retries belong to the
/// dispatcher, not to the HttpClient.
/// </summary>
/// <remarks>
/// With <c>Events</c> interrupts (or both) it also posts each pause found: <c>{"event": "interrupt", "interrupt": {id, deployment,
/// thread_id, run_id, assistant_id, graph_id, pending: [{id, value, response_schema}], next, checkpoint_id, is_breakpoint,
/// seen_at, resume_url, console_url}}</c> (<c>console_url</c> null without a public URL or without the console), signed the same way.
/// </remarks>
internal sealed class ForwardHandler(ForwardTargetOptions target, IHttpClientFactory httpClients, TimeProvider time) : IWebhookHandler, IInterruptHandler
{
    public const string HttpClientName = "WebhookReceiver.Forward";

    private static readonly JsonSerializerOptions InterruptJson = new(JsonSerializerDefaults.Web) { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };

    private readonly StandardWebhookSigner _signer = new(target.SigningSecrets()); // Validated at start-up.

    public Task HandleAsync(LangGraphRun run, DeliveryContext context, CancellationToken cancellationToken) =>
        PostAsync(Encoding.UTF8.GetBytes(run.RawJson), context, cancellationToken);

    public Task HandleAsync(Interrupt interrupt, DeliveryContext context, CancellationToken cancellationToken) =>
        PostAsync(JsonSerializer.SerializeToUtf8Bytes(new { @event = "interrupt", interrupt }, InterruptJson), context, cancellationToken);

    private async Task PostAsync(byte[] body, DeliveryContext context, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, target.Url) { Content = new ByteArrayContent(body) };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json") { CharSet = "utf-8" };
        _signer.Sign(request, $"delivery_{context.DeliveryId}", time.GetUtcNow(), body);

        using var response = await httpClients.CreateClient(HttpClientName).SendAsync(request, cancellationToken);
        if (!response.IsSuccessStatusCode)
        {
            // Only the status: the target's URL and answer may hold things that do not belong in our logs.
            throw new HttpRequestException($"Forward target '{target.Name}' answered {(int)response.StatusCode}.", null, response.StatusCode);
        }
    }
}
