using System.Globalization;
using System.Net.Http.Headers;
using System.Text.Json;
using System.Threading.Channels;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using WebhookReceiver.Webhooks;
using WebhookReceiver.Interrupts;

namespace WebhookReceiver.Alerts;

/// <summary>
/// The operational webhook (<c>Alerts:Webhook:Url</c>): posts <c>{"event": "alert.opened" | "alert.resolved", "alert": {...}}</c>
/// (the alert as <c>GET /api/alerts</c> shows it: no token, key or secret, errors redacted) for each alert this replica opened or
/// resolved, signed per Standard Webhooks with the forward handler's code (<c>webhook-id</c> = <c>alert_{id}_{opened|resolved}</c>,
/// the same on every retry, for the receiver's dedup). A notice is tried <c>Webhook:Attempts</c> times, 1 s, 2 s, 4 s... apart
/// (capped at a minute), then logged as lost; notices wait in memory (at most 1,000: the oldest is dropped), so a restart loses
/// those not yet sent. Alerts are posted one at a time, in the order they changed.
/// </summary>
internal sealed partial class AlertNotifier(IOptions<AlertOptions> options, IHttpClientFactory httpClients, TimeProvider time, ILogger<AlertNotifier> logger)
    : BackgroundService
{
    public const string HttpClientName = "WebhookReceiver.Alerts";
    public const string Opened = "alert.opened";
    public const string Resolved = "alert.resolved";

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };

    private readonly Channel<(string Event, AlertView Alert)> _notices = Channel.CreateBounded<(string, AlertView)>(
        new BoundedChannelOptions(1000) { FullMode = BoundedChannelFullMode.DropOldest, SingleReader = true });

    private AlertWebhookOptions Settings => options.Value.Webhook;

    /// <summary>Queues a notice; nothing when no webhook is configured.</summary>
    public void Post(string @event, AlertView alert)
    {
        if (!string.IsNullOrEmpty(Settings.Url))
        {
            _notices.Writer.TryWrite((@event, alert));
        }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (string.IsNullOrEmpty(Settings.Url))
        {
            return;
        }

        var keys = new[] { ForwardHandler.SigningKey(Settings.Secret)! }; // Validated at start-up.
        try
        {
            await foreach (var (@event, alert) in _notices.Reader.ReadAllAsync(stoppingToken))
            {
                await DeliverAsync(keys, @event, alert, stoppingToken);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Shutting down: notices not sent yet are lost (the alerts stay in the store).
        }
    }

    private async Task DeliverAsync(byte[][] keys, string @event, AlertView alert, CancellationToken stoppingToken)
    {
        var body = JsonSerializer.SerializeToUtf8Bytes(new { @event, alert }, Json);
        var id = alert.Id > 0
            ? $"alert_{alert.Id}_{@event["alert.".Length..]}"
            : $"alert_{alert.Kind}_{alert.OpenedAt.ToUnixTimeMilliseconds()}_{@event["alert.".Length..]}";
        for (var attempt = 1; ; attempt++)
        {
            string? failure;
            try
            {
                failure = await SendAsync(keys, id, body, stoppingToken);
            }
            catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException && !stoppingToken.IsCancellationRequested)
            {
                // Not the exception's message: it may quote the URL, and the URL may carry a key.
                failure = ex is TaskCanceledException ? "timed out" : "could not connect";
            }

            if (failure is null)
            {
                return;
            }

            if (attempt >= Settings.Attempts)
            {
                LogLost(logger, @event, alert.Id, alert.Kind, attempt, failure);
                return;
            }

            var delay = TimeSpan.FromSeconds(Math.Min(60, Math.Pow(2, attempt - 1)));
            LogRetry(logger, @event, alert.Id, failure, delay.TotalSeconds);
            await Task.Delay(delay, time, stoppingToken);
        }
    }

    /// <summary>One post; null when the target took it (2xx), else why not.</summary>
    private async Task<string?> SendAsync(byte[][] keys, string id, byte[] body, CancellationToken stoppingToken)
    {
        var timestamp = time.GetUtcNow().ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture);
        using var request = new HttpRequestMessage(HttpMethod.Post, Settings.Url) { Content = new ByteArrayContent(body) };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json") { CharSet = "utf-8" };
        request.Headers.Add("webhook-id", id);
        request.Headers.Add("webhook-timestamp", timestamp);
        request.Headers.Add("webhook-signature", ForwardHandler.SignatureHeader(keys, id, timestamp, body));
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
        timeout.CancelAfter(Settings.Timeout);
        using var response = await httpClients.CreateClient(HttpClientName).SendAsync(request, timeout.Token);
        return response.IsSuccessStatusCode ? null : $"answered {(int)response.StatusCode}";
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Operational webhook: {Event} of alert {AlertId} {Failure}; retrying in {DelaySeconds} s")]
    private static partial void LogRetry(ILogger logger, string @event, long alertId, string failure, double delaySeconds);

    [LoggerMessage(Level = LogLevel.Error, Message = "Operational webhook: {Event} of alert {AlertId} ({Kind}) lost after {Attempts} attempts, the last one {Failure}")]
    private static partial void LogLost(ILogger logger, string @event, long alertId, string kind, int attempts, string failure);
}
