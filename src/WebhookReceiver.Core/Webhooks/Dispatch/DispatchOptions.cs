using System.ComponentModel.DataAnnotations;
using Microsoft.Extensions.Options;

namespace WebhookReceiver.Webhooks;

/// <summary><c>WebhookReceiver:Dispatch</c>: how deliveries are attempted, retried and dead-lettered.</summary>
internal sealed class DispatchOptions
{
    /// <summary>The configuration section bound to these options.</summary>
    public const string Section = "WebhookReceiver:Dispatch";

    /// <summary>Handler attempts run at once.</summary>
    [Range(1, 1024)]
    public int Concurrency { get; set; } = 16;

    /// <summary>A handler attempt running longer is cancelled and counted as failed.</summary>
    [Range(typeof(TimeSpan), "00:00:00.001", "1.00:00:00")]
    public TimeSpan AttemptTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Delay before the first retry; doubles with every failed attempt.</summary>
    [Range(typeof(TimeSpan), "00:00:00", "1.00:00:00")]
    public TimeSpan InitialRetryDelay { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Longest delay between two attempts.</summary>
    [Range(typeof(TimeSpan), "00:00:00", "7.00:00:00")]
    public TimeSpan MaxRetryDelay { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>Each delay is moved at random by up to this fraction, so retries of many deliveries spread out.</summary>
    [Range(0.0, 1.0)]
    public double RetryJitter { get; set; } = 0.2;

    /// <summary>Attempts before a delivery is dead-lettered.</summary>
    [Range(1, 1000)]
    public int MaxAttempts { get; set; } = 8;

    /// <summary>How often the store is asked for due retries when nothing new arrives.</summary>
    [Range(typeof(TimeSpan), "00:00:00.010", "01:00:00")]
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>On shutdown, how long running attempts may finish before they are cancelled and released.</summary>
    [Range(typeof(TimeSpan), "00:00:00", "01:00:00")]
    public TimeSpan ShutdownGrace { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// How much longer than <see cref="AttemptTimeout"/> + <see cref="ShutdownGrace"/> a lease lasts: time to record the
    /// outcome, and for replicas' clocks to differ. An attempt whose process died is taken over (and counted as abandoned)
    /// once the lease runs out.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00", "01:00:00")]
    public TimeSpan LeaseMargin { get; set; } = TimeSpan.FromSeconds(30);
}

/// <summary>The data annotations on <see cref="DispatchOptions"/>, checked by generated code at start-up.</summary>
[OptionsValidator]
internal sealed partial class DispatchOptionsAnnotations : IValidateOptions<DispatchOptions>;
