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
    [Range(8, Runs.LangGraphRun.MaxSupportedDepth)]
    public int MaxJsonDepth { get; set; } = 128;

    [Required, ValidateObjectMembers]
    public StorageOptions Storage { get; set; } = new();

    [Required, ValidateObjectMembers]
    public IngestOptions Ingest { get; set; } = new();

    [Required, ValidateObjectMembers]
    public DispatchOptions Dispatch { get; set; } = new();

    [Required, ValidateObjectMembers]
    public BuiltInHandlerOptions Handlers { get; set; } = new();

    [Required, ValidateObjectMembers]
    public AbuseLimitOptions Limits { get; set; } = new();

    [Required, ValidateObjectMembers]
    public RetentionOptions Retention { get; set; } = new();

    [Required, ValidateObjectMembers]
    public MetricsOptions Metrics { get; set; } = new();

    /// <summary>The LangGraph deployments the receiver may call back; none configured, it never does.</summary>
    [Required, ValidateObjectMembers]
    public LangGraphApi.LangGraphOptions LangGraph { get; set; } = new();

    /// <summary>Every configured secret: what logs, responses and error messages must never show.</summary>
    public IEnumerable<string> Secrets() =>
        Tokens.Concat(AdminKeys).Concat(Handlers.Forward.SelectMany(f => f.SigningSecrets())).Concat(LangGraph.Secrets()).Where(s => !string.IsNullOrEmpty(s));
}

public sealed class StorageOptions
{
    /// <summary>The engine (names are read case-insensitively; another name stops the start naming this setting).</summary>
    [EnumDataType(typeof(StorageProvider), ErrorMessage = "WebhookReceiver:Storage:Provider must be Sqlite or Postgres.")]
    public StorageProvider Provider { get; set; } = StorageProvider.Sqlite;

    /// <summary>For SQLite, <c>Data Source=</c> a path relative to the working directory; for PostgreSQL, an Npgsql connection string.</summary>
    [Required]
    public string ConnectionString { get; set; } = "Data Source=data/webhooks.db";

    /// <summary>SQLite <c>PRAGMA synchronous</c> (<see href="https://www.sqlite.org/pragma.html#pragma_synchronous"/>); ignored by PostgreSQL.</summary>
    [EnumDataType(typeof(SqliteSynchronous), ErrorMessage = "WebhookReceiver:Storage:Synchronous must be Normal, Full or Extra.")]
    public SqliteSynchronous Synchronous { get; set; } = SqliteSynchronous.Normal;
}

/// <summary>Where webhooks are stored: <c>WebhookReceiver:Storage:Provider</c>.</summary>
public enum StorageProvider
{
    /// <summary>An embedded SQLite file: one process (the default).</summary>
    Sqlite,

    /// <summary>A PostgreSQL server: several replicas share one database.</summary>
    Postgres,
}

/// <summary>
/// SQLite's <c>PRAGMA synchronous</c> levels in WAL mode, numbered as sqlite.org/pragma.html#pragma_synchronous numbers
/// them. OFF is not offered: an OS crash or power loss could then corrupt the file and lose acknowledged webhooks.
/// </summary>
public enum SqliteSynchronous
{
    /// <summary>Survives a process crash; power loss may lose the last commits (the default).</summary>
    Normal = 1,

    /// <summary>Also survives power loss: every commit is synced.</summary>
    Full = 2,

    /// <summary>Like <see cref="Full"/>, and also syncs the directory after unlinking a journal.</summary>
    Extra = 3,
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
    [Range(typeof(TimeSpan), "00:00:00.001", "00:10:00")]
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

/// <summary>The Prometheus scrape endpoint and OTLP export of the receiver's metrics (meter <c>WebhookReceiver</c>).</summary>
public sealed class MetricsOptions
{
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

    /// <summary>How old the pending-deliveries gauge may be: the store is counted at most this often, and only when scraped.</summary>
    [Range(typeof(TimeSpan), "00:00:00", "01:00:00")]
    public TimeSpan PendingRefreshInterval { get; set; } = TimeSpan.FromSeconds(5);
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

    /// <summary>
    /// Signing secret: <c>whsec_</c> + base64, as Standard Webhooks libraries expect, or any other text (its UTF-8 bytes
    /// are the key), at least 16 characters. The one-secret form of <see cref="Secrets"/>; set either or both.
    /// </summary>
    public string Secret { get; set; } = "";

    /// <summary>
    /// Signing secrets while rotating: every request is signed with each (space-separated <c>v1,</c> entries of
    /// <c>webhook-signature</c>), so the target may verify with the old secret or the new one.
    /// </summary>
    public List<string> Secrets { get; set; } = [];

    /// <summary><see cref="Secret"/> and <see cref="Secrets"/>, blanks left out.</summary>
    public IEnumerable<string> SigningSecrets() => Secrets.Prepend(Secret).Where(s => !string.IsNullOrEmpty(s)).Distinct();

    /// <summary>Run statuses forwarded (runs only); empty, every status.</summary>
    public List<string> Statuses { get; set; } = [];

    /// <summary>Graphs forwarded (runs and interrupts); empty, every graph.</summary>
    public List<string> Graphs { get; set; } = [];

    /// <summary>
    /// What is forwarded: finished runs (the default), interrupts (a thread waiting for a person: <c>{"event": "interrupt",
    /// "interrupt": {..., "resume_url"}}</c>), or both.
    /// </summary>
    [EnumDataType(typeof(ForwardEvents), ErrorMessage = "A forward target's Events must be Runs, Interrupts or Both.")]
    public ForwardEvents Events { get; set; } = ForwardEvents.Runs;
}

/// <summary>What a forward target receives: <c>WebhookReceiver:Handlers:Forward:N:Events</c>.</summary>
public enum ForwardEvents
{
    /// <summary>Finished runs, as received.</summary>
    Runs,

    /// <summary>Threads that stopped for a person (needs a LangGraph deployment configured).</summary>
    Interrupts,

    /// <summary>Both, on the same URL; the interrupt bodies carry <c>"event": "interrupt"</c>.</summary>
    Both,
}

/// <summary>What one client, or everyone at once, may ask of the webhook route.</summary>
public sealed class AbuseLimitOptions
{
    /// <summary>Webhooks per second one client address may send on average; 0 switches the rate limit off.</summary>
    [Range(0, 1_000_000)]
    public int PermitsPerSecond { get; set; } = 500;

    /// <summary>How many a client may send at once above the average rate.</summary>
    [Range(1, 1_000_000)]
    public int Burst { get; set; } = 1000;

    /// <summary>
    /// Webhook requests handled at once; more are answered 503 at once instead of piling up in memory. Each holds its
    /// body until stored: at 64, 256 connections sending 259 KB runs peak at ~270 MB (bench/run.sh, docs/benchmarks.md);
    /// 128 peaked past 300 MB and 512 further, and one store writes no faster for having more requests waiting on it.
    /// </summary>
    [Range(1, 100_000)]
    public int MaxConcurrentIngests { get; set; } = 64;

    /// <summary>Addresses of reverse proxies whose X-Forwarded-For/-Proto is believed; no others are.</summary>
    public List<string> KnownProxies { get; set; } = [];

    /// <summary>Networks (CIDR, e.g. 10.0.0.0/8) of trusted reverse proxies.</summary>
    public List<string> KnownNetworks { get; set; } = [];
}

/// <summary>How long stored webhooks are kept.</summary>
public sealed class RetentionOptions
{
    public bool Enabled { get; set; } = true;

    /// <summary>Webhooks whose deliveries are all done are deleted, with their attempts, after this long.</summary>
    [Range(typeof(TimeSpan), "00:01:00", "3650.00:00:00")]
    public TimeSpan MaxAge { get; set; } = TimeSpan.FromDays(30);

    /// <summary>Webhooks with a dead letter are kept this long, or until replayed.</summary>
    [Range(typeof(TimeSpan), "00:01:00", "3650.00:00:00")]
    public TimeSpan DeadLetterMaxAge { get; set; } = TimeSpan.FromDays(90);

    /// <summary>How often the purge runs.</summary>
    [Range(typeof(TimeSpan), "00:00:01", "1.00:00:00")]
    public TimeSpan Interval { get; set; } = TimeSpan.FromHours(1);

    /// <summary>Webhooks deleted per transaction, so that a purge never holds the store for long.</summary>
    [Range(1, 100_000)]
    public int BatchSize { get; set; } = 500;
}
