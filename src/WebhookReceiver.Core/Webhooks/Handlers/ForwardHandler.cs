using System.Globalization;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using WebhookReceiver.Webhooks;

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
/// seen_at, resume_url, console_url}}</c> (<c>console_url</c> null without a public URL or a mapped console), signed the same way.
/// </remarks>
internal sealed class ForwardHandler(ForwardTargetOptions target, IHttpClientFactory httpClients, TimeProvider time) : IWebhookHandler, IInterruptHandler
{
    public const string HttpClientName = "WebhookReceiver.Forward";

    private static readonly JsonSerializerOptions InterruptJson = new(JsonSerializerDefaults.Web) { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };

    private readonly byte[][] _keys = target.SigningSecrets().Select(s => SigningKey(s)!).ToArray(); // Validated at start-up.

    public Task HandleAsync(LangGraphRun run, DeliveryContext context, CancellationToken cancellationToken) =>
        PostAsync(Encoding.UTF8.GetBytes(run.RawJson), context, cancellationToken);

    public Task HandleAsync(Interrupt interrupt, DeliveryContext context, CancellationToken cancellationToken) =>
        PostAsync(JsonSerializer.SerializeToUtf8Bytes(new { @event = "interrupt", interrupt }, InterruptJson), context, cancellationToken);

    private async Task PostAsync(byte[] body, DeliveryContext context, CancellationToken cancellationToken)
    {
        var id = $"delivery_{context.DeliveryId}";
        var timestamp = time.GetUtcNow().ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture);

        using var request = new HttpRequestMessage(HttpMethod.Post, target.Url) { Content = new ByteArrayContent(body) };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json") { CharSet = "utf-8" };
        request.Headers.Add("webhook-id", id);
        request.Headers.Add("webhook-timestamp", timestamp);
        request.Headers.Add("webhook-signature", SignatureHeader(_keys, id, timestamp, body));

        using var response = await httpClients.CreateClient(HttpClientName).SendAsync(request, cancellationToken);
        if (!response.IsSuccessStatusCode)
        {
            // Only the status: the target's URL and answer may hold things that do not belong in our logs.
            throw new HttpRequestException($"Forward target '{target.Name}' answered {(int)response.StatusCode}.", null, response.StatusCode);
        }
    }

    /// <summary>The base64 HMAC-SHA256 of <c>id.timestamp.body</c> under each secret, in configuration order.</summary>
    internal IEnumerable<string> Sign(string id, string timestamp, byte[] body) => Sign(_keys, id, timestamp, body);

    /// <summary>
    /// The <c>webhook-signature</c> header value of Standard Webhooks: <c>v1,</c> + the signature under each key, space-separated.
    /// Also what the operational alert webhook sends, so that one verifier checks both.
    /// </summary>
    internal static string SignatureHeader(IReadOnlyList<byte[]> keys, string id, string timestamp, byte[] body) =>
        string.Join(' ', Sign(keys, id, timestamp, body).Select(signature => "v1," + signature));

    private static List<string> Sign(IReadOnlyList<byte[]> keys, string id, string timestamp, byte[] body)
    {
        var prefix = Encoding.UTF8.GetBytes($"{id}.{timestamp}.");
        var signed = new byte[prefix.Length + body.Length];
        prefix.CopyTo(signed, 0);
        body.CopyTo(signed, prefix.Length);
        return keys.Select(key => Convert.ToBase64String(HMACSHA256.HashData(key, signed))).ToList();
    }

    /// <summary>
    /// The HMAC key of a signing secret: Standard Webhooks secrets are <c>whsec_</c> + base64 of the key; any other text is
    /// used as its UTF-8 bytes. Null for a <c>whsec_</c> secret that is not base64 after it (refused at start-up).
    /// </summary>
    internal static byte[]? SigningKey(string secret)
    {
        const string Prefix = "whsec_";
        if (!secret.StartsWith(Prefix, StringComparison.Ordinal))
        {
            return Encoding.UTF8.GetBytes(secret);
        }

        var key = new byte[secret.Length];
        return Convert.TryFromBase64String(secret[Prefix.Length..], key, out var written) ? key[..written] : null;
    }
}
