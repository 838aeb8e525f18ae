using System.Net.Http.Headers;
using System.Runtime.ExceptionServices;
using System.Text.Json;
using System.Threading.Channels;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Http.Resilience;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Polly;
using Polly.Timeout;
using WebhookReceiver.Kernel;

namespace WebhookReceiver.Alerts;

/// <summary>
/// The operational webhook (<c>Alerts:Webhook:Url</c>): posts <c>{"event": "alert.opened" | "alert.resolved", "alert": {...}}</c>
/// (the alert as <c>GET /api/alerts</c> shows it: no token, key or secret, errors redacted) for each alert this replica opened or
/// resolved, signed per Standard Webhooks like forwards (<see cref="StandardWebhookSigner"/>) (<c>webhook-id</c> = <c>alert_{id}_{opened|resolved}</c>,
/// the same on every retry, for the receiver's dedup). A notice is tried <c>Webhook:Attempts</c> times, 1 s, 2 s, 4 s... apart
/// (capped at a minute; Microsoft.Extensions.Http.Resilience), then logged as lost; notices wait in memory (at most 1,000: the oldest is dropped), so a restart loses
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

    /// <summary>The notice a post is for, for the retry's log line.</summary>
    private static readonly ResiliencePropertyKey<(string Event, long AlertId)> Notice = new("WebhookReceiver.Alerts.Notice");

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

        var signer = new StandardWebhookSigner([Settings.Secret]); // Validated at start-up.
        var retries = Retries();
        try
        {
            await foreach (var (@event, alert) in _notices.Reader.ReadAllAsync(stoppingToken))
            {
                await DeliverAsync(signer, retries, @event, alert, stoppingToken);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Shutting down: notices not sent yet are lost (the alerts stay in the store).
        }
    }

    /// <summary>
    /// <c>Webhook:Attempts</c> tries of <c>Webhook:Timeout</c> each, 1 s, 2 s, 4 s... apart (at most a minute, no jitter, no
    /// <c>Retry-After</c>), on no answer or any answer but 2xx; each retry logged with why and when.
    /// </summary>
    private ResiliencePipeline<HttpResponseMessage> Retries()
    {
        var pipeline = new ResiliencePipelineBuilder<HttpResponseMessage> { TimeProvider = time };
        if (Settings.Attempts > 1)
        {
            pipeline.AddRetry(new HttpRetryStrategyOptions
            {
                MaxRetryAttempts = Settings.Attempts - 1,
                Delay = TimeSpan.FromSeconds(1),
                MaxDelay = TimeSpan.FromMinutes(1),
                BackoffType = DelayBackoffType.Exponential,
                UseJitter = false,
                ShouldRetryAfterHeader = false,
                ShouldHandle = args => ValueTask.FromResult(Failure(args.Outcome, args.Context.CancellationToken) is not null),
                OnRetry = args =>
                {
                    var (@event, alertId) = args.Context.Properties.GetValue(Notice, ("", 0L));
                    LogRetry(logger, @event, alertId, Failure(args.Outcome, args.Context.CancellationToken)!, args.RetryDelay.TotalSeconds);
                    return ValueTask.CompletedTask;
                },
            });
        }

        return pipeline.AddTimeout(Settings.Timeout).Build();
    }

    private async Task DeliverAsync(StandardWebhookSigner signer, ResiliencePipeline<HttpResponseMessage> retries, string @event, AlertView alert,
        CancellationToken stoppingToken)
    {
        var body = JsonSerializer.SerializeToUtf8Bytes(new { @event, alert }, Json);
        var id = alert.Id > 0
            ? $"alert_{alert.Id}_{@event["alert.".Length..]}"
            : $"alert_{alert.Kind}_{alert.OpenedAt.ToUnixTimeMilliseconds()}_{@event["alert.".Length..]}";
        var context = ResilienceContextPool.Shared.Get(stoppingToken);
        context.Properties.Set(Notice, (@event, alert.Id));
        string? failure;
        try
        {
            // Signed afresh on every attempt (its own timestamp), with the same webhook-id for the receiver's dedup.
            var outcome = await retries.ExecuteOutcomeAsync(
                static async (context, state) =>
                {
                    try
                    {
                        return Outcome.FromResult(await state.Notifier.SendAsync(state.Signer, state.Id, state.Body, context.CancellationToken));
                    }
                    catch (Exception ex)
                    {
                        return Outcome.FromException<HttpResponseMessage>(ex);
                    }
                },
                context,
                (Notifier: this, Signer: signer, Id: id, Body: body));
            using var response = outcome.Result;
            failure = Failure(outcome, stoppingToken);
            if (failure is null && outcome.Exception is { } unexpected)
            {
                ExceptionDispatchInfo.Throw(unexpected); // The host stopping, or not a failure of the post.
            }
        }
        finally
        {
            ResilienceContextPool.Shared.Return(context);
        }

        if (failure is not null)
        {
            LogLost(logger, @event, alert.Id, alert.Kind, Settings.Attempts, failure);
        }
    }

    /// <summary>One post; the caller disposes the answer.</summary>
    private async Task<HttpResponseMessage> SendAsync(StandardWebhookSigner signer, string id, byte[] body, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, Settings.Url) { Content = new ByteArrayContent(body) };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json") { CharSet = "utf-8" };
        signer.Sign(request, id, time.GetUtcNow(), body);
        return await httpClients.CreateClient(HttpClientName).SendAsync(request, cancellationToken);
    }

    /// <summary>Why an attempt failed, null when the target took it (2xx) or the host is stopping.</summary>
    private static string? Failure(Outcome<HttpResponseMessage> outcome, CancellationToken stopping) => outcome switch
    {
        { Result: { IsSuccessStatusCode: false } response } => $"answered {(int)response.StatusCode}",
        // Not the exception's message: it may quote the URL, and the URL may carry a key.
        { Exception: TimeoutRejectedException } => "timed out",
        { Exception: TaskCanceledException } when !stopping.IsCancellationRequested => "timed out",
        { Exception: HttpRequestException } => "could not connect",
        _ => null,
    };

    [LoggerMessage(Level = LogLevel.Warning, Message = "Operational webhook: {Event} of alert {AlertId} {Failure}; retrying in {DelaySeconds} s")]
    private static partial void LogRetry(ILogger logger, string @event, long alertId, string failure, double delaySeconds);

    [LoggerMessage(Level = LogLevel.Error, Message = "Operational webhook: {Event} of alert {AlertId} ({Kind}) lost after {Attempts} attempts, the last one {Failure}")]
    private static partial void LogLost(ILogger logger, string @event, long alertId, string kind, int attempts, string failure);
}
