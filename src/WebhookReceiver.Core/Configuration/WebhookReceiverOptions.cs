using System.ComponentModel.DataAnnotations;
using Microsoft.Extensions.Options;

namespace WebhookReceiver.Configuration;

/// <summary>The <c>WebhookReceiver</c> configuration section; every key can be set from the environment as <c>WebhookReceiver__Key</c>.</summary>
public sealed class WebhookReceiverOptions
{
    public const string Section = "WebhookReceiver";

    /// <summary>Route that LangGraph posts to.</summary>
    [Required, RegularExpression("^/.*", ErrorMessage = "WebhookReceiver:Path must start with '/'.")]
    public string Path { get; set; } = "/webhooks/langgraph";

    /// <summary>Accepted webhook tokens; more than one while rotating.</summary>
    public List<string> Tokens { get; set; } = [];

    /// <summary>Header that may carry <c>Bearer &lt;token&gt;</c> instead of the query string (LangGraph's <c>webhooks.headers</c>).</summary>
    [Required]
    public string TokenHeader { get; set; } = "Authorization";

    /// <summary>Keys for the query API, sent in <c>X-Api-Key</c>; separate from webhook tokens.</summary>
    public List<string> AdminKeys { get; set; } = [];

    /// <summary>Largest accepted webhook body.</summary>
    [Range(1024, long.MaxValue)]
    public long MaxBodyBytes { get; set; } = 32 * 1024 * 1024;

    /// <summary>Deepest JSON nesting accepted in a webhook body.</summary>
    [Range(8, 1000)]
    public int MaxJsonDepth { get; set; } = 128;

    [Required, ValidateObjectMembers]
    public StorageOptions Storage { get; set; } = new();

    [Required, ValidateObjectMembers]
    public IngestOptions Ingest { get; set; } = new();

    [Required, ValidateObjectMembers]
    public DispatchOptions Dispatch { get; set; } = new();

    [Required, ValidateObjectMembers]
    public BuiltInHandlerOptions Handlers { get; set; } = new();

    /// <summary>Every configured secret: what logs, responses and error messages must never show.</summary>
    public IEnumerable<string> Secrets() =>
        Tokens.Concat(AdminKeys).Concat(Handlers.Forward.Select(f => f.Secret)).Where(s => !string.IsNullOrEmpty(s));
}

public sealed class StorageOptions
{
    /// <summary><c>Sqlite</c> (embedded, the default: one process) or <c>Postgres</c> (several replicas share one database).</summary>
    [Required, RegularExpression("^(?i)(Sqlite|Postgres)$", ErrorMessage = "WebhookReceiver:Storage:Provider must be Sqlite or Postgres.")]
    public string Provider { get; set; } = "Sqlite";

    /// <summary>For SQLite, <c>Data Source=</c> a path relative to the working directory; for PostgreSQL, an Npgsql connection string.</summary>
    [Required]
    public string ConnectionString { get; set; } = "Data Source=data/webhooks.db";

    /// <summary>SQLite <c>PRAGMA synchronous</c>: NORMAL survives a process crash; FULL also survives power loss.</summary>
    [Required, RegularExpression("^(?i)(NORMAL|FULL|EXTRA)$")]
    public string Synchronous { get; set; } = "NORMAL";
}

public sealed class IngestOptions
{
    /// <summary>Webhooks waiting to be written; past this, requests wait up to <see cref="MaxQueueWait"/>.</summary>
    [Range(1, 100_000)]
    public int QueueCapacity { get; set; } = 1024;

    /// <summary>Most webhooks committed in one transaction (group commit).</summary>
    [Range(1, 10_000)]
    public int MaxBatchSize { get; set; } = 256;

    /// <summary>How long a request waits for the store before it is answered 503 with Retry-After.</summary>
    public TimeSpan MaxQueueWait { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Seconds suggested in Retry-After when the store cannot take a webhook.</summary>
    [Range(1, 3600)]
    public int RetryAfterSeconds { get; set; } = 5;
}

public sealed class DispatchOptions
{
    /// <summary>Handler attempts run at once.</summary>
    [Range(1, 1024)]
    public int Concurrency { get; set; } = 16;

    /// <summary>A handler attempt running longer is cancelled and counted as failed.</summary>
    public TimeSpan AttemptTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Delay before the first retry; doubles with every failed attempt.</summary>
    public TimeSpan InitialRetryDelay { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Longest delay between two attempts.</summary>
    public TimeSpan MaxRetryDelay { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>Each delay is moved at random by up to this fraction, so retries of many deliveries spread out.</summary>
    [Range(0.0, 1.0)]
    public double RetryJitter { get; set; } = 0.2;

    /// <summary>Attempts before a delivery is dead-lettered.</summary>
    [Range(1, 1000)]
    public int MaxAttempts { get; set; } = 8;

    /// <summary>How often the store is asked for due retries when nothing new arrives.</summary>
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>On shutdown, how long running attempts may finish before they are cancelled and released.</summary>
    public TimeSpan ShutdownGrace { get; set; } = TimeSpan.FromSeconds(10);
}

public sealed class BuiltInHandlerOptions
{
    [Required]
    public LogHandlerOptions Log { get; set; } = new();

    [ValidateEnumeratedItems]
    public List<ForwardTargetOptions> Forward { get; set; } = [];
}

public sealed class LogHandlerOptions
{
    public bool Enabled { get; set; } = true;
}

/// <summary>A URL that receives every matching webhook, signed per Standard Webhooks.</summary>
public sealed class ForwardTargetOptions
{
    [Required, RegularExpression("^[A-Za-z0-9_.-]+$", ErrorMessage = "A forward target's Name may hold letters, digits, '_', '.' and '-'.")]
    public string Name { get; set; } = "";

    [Required, Url]
    public string Url { get; set; } = "";

    /// <summary>Signing secret: <c>whsec_</c> + base64, as Standard Webhooks libraries expect, or any other text (its UTF-8 bytes are the key).</summary>
    [Required, MinLength(16)]
    public string Secret { get; set; } = "";

    public List<string> Statuses { get; set; } = [];
    public List<string> Graphs { get; set; } = [];
}
