using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace WebhookReceiver.Kernel;

/// <summary>Ready means the inbox can be written: a webhook that arrives now would be stored.</summary>
internal sealed class InboxHealthCheck : IHealthCheck
{
    private readonly StorageKernel storage;

    internal InboxHealthCheck(StorageKernel storage) => this.storage = storage;

    /// <summary>The check's name in the host's health report; prefixed so it cannot collide with the host's own checks.</summary>
    public const string Name = "webhook-receiver-inbox";

    /// <summary>The tag a host's readiness route selects (the service's <c>/health/ready</c> does).</summary>
    public const string ReadyTag = "ready";

    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        try
        {
            await storage.PingAsync(cancellationToken);
            return HealthCheckResult.Healthy();
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            // The type only: the answer is public, and store messages may name paths.
            return HealthCheckResult.Unhealthy($"The inbox cannot be written ({ex.GetType().Name}).");
        }
    }
}
