using System.ComponentModel.DataAnnotations;
using Microsoft.Extensions.Options;

namespace WebhookReceiver.Kernel;

/// <summary><c>WebhookReceiver:Metrics</c>: the Prometheus scrape endpoint and OTLP export of the receiver's metrics (meter <c>WebhookReceiver</c>).</summary>
internal sealed class MetricsOptions
{
    /// <summary>The configuration section bound to these options.</summary>
    public const string Section = "WebhookReceiver:Metrics";

    /// <summary>Serve the Prometheus scrape endpoint; false removes it (OTLP export, if configured, goes on).</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>Route of the Prometheus scrape endpoint.</summary>
    [Required, RegularExpression("^/[A-Za-z0-9/_.-]*$", ErrorMessage = "WebhookReceiver:Metrics:Path must start with '/' and hold only letters, digits, '/', '_', '.' and '-'.")]
    public string Path { get; set; } = "/metrics";

    /// <summary>Ask for an admin key (<c>X-Api-Key</c>) on the scrape endpoint, for a port that is reachable from outside.</summary>
    public bool RequireAdminKey { get; set; }

    /// <summary>
    /// OTLP endpoint to push metrics to, e.g. <c>http://collector:4317</c>. Empty: the standard <c>OTEL_EXPORTER_OTLP_ENDPOINT</c>
    /// variable is used when set, and nothing is pushed when neither is. <c>OTEL_EXPORTER_OTLP_PROTOCOL</c> chooses the protocol.
    /// </summary>
    [Url]
    public string? OtlpEndpoint { get; set; }

    /// <summary>How old the gauges read from the store (pending deliveries, waiting interrupts, the oldest of each) may be: the store is read at most this often, and only when scraped.</summary>
    [Range(typeof(TimeSpan), "00:00:00", "01:00:00")]
    public TimeSpan PendingRefreshInterval { get; set; } = TimeSpan.FromSeconds(5);
}

/// <summary>The data annotations on <see cref="MetricsOptions"/>, checked by generated code at start-up.</summary>
[OptionsValidator]
internal sealed partial class MetricsOptionsAnnotations : IValidateOptions<MetricsOptions>;
