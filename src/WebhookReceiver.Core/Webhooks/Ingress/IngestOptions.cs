using System.ComponentModel.DataAnnotations;
using Microsoft.Extensions.Options;

namespace WebhookReceiver.Webhooks;

/// <summary><c>WebhookReceiver:Ingest</c>: the queue in front of the store and its group commit.</summary>
internal sealed class IngestOptions
{
    /// <summary>The configuration section bound to these options.</summary>
    public const string Section = "WebhookReceiver:Ingest";

    /// <summary>Webhooks waiting to be written; past this, requests wait up to <see cref="MaxQueueWait"/>.</summary>
    [Range(1, 100_000)]
    public int QueueCapacity { get; set; } = 1024;

    /// <summary>Most webhooks committed in one transaction (group commit).</summary>
    [Range(1, 10_000)]
    public int MaxBatchSize { get; set; } = 256;

    /// <summary>How long a request waits for the store before it is answered 503 with Retry-After.</summary>
    [Range(typeof(TimeSpan), "00:00:00.001", "00:10:00")]
    public TimeSpan MaxQueueWait { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Seconds suggested in Retry-After when the store cannot take a webhook.</summary>
    [Range(1, 3600)]
    public int RetryAfterSeconds { get; set; } = 5;
}

/// <summary>The data annotations on <see cref="IngestOptions"/>, checked by generated code at start-up.</summary>
[OptionsValidator]
internal sealed partial class IngestOptionsAnnotations : IValidateOptions<IngestOptions>;
