using System.Threading.RateLimiting;
using Microsoft.Extensions.Options;

namespace WebhookReceiver.Webhooks;

/// <summary>
/// The cap on webhooks read at once (<c>WebhookReceiver:Limits:MaxConcurrentIngests</c>), without a queue: a request over
/// it is answered 503 at once. Our own type, so the host's container never holds a bare <see cref="ConcurrencyLimiter"/>
/// that another library could resolve by mistake.
/// </summary>
internal sealed class IngestConcurrency : IDisposable
{
    private readonly ConcurrencyLimiter _limiter;

    public IngestConcurrency(IOptions<AbuseLimitOptions> options, DispatchSignal dispatch)
    {
        var permits = options.Value.MaxConcurrentIngests;
        _limiter = new(new ConcurrencyLimiterOptions { PermitLimit = permits, QueueLimit = 0 });
        // The dispatcher yields while many webhooks are being received: acknowledging senders comes first.
        dispatch.CountIngestsWith(() => permits - (int)(_limiter.GetStatistics()?.CurrentAvailablePermits ?? permits));
    }

    /// <summary>A slot, or a lease with <see cref="RateLimitLease.IsAcquired"/> false when every slot is taken; dispose it when done.</summary>
    public RateLimitLease AttemptAcquire() => _limiter.AttemptAcquire();

    public void Dispose() => _limiter.Dispose();
}
