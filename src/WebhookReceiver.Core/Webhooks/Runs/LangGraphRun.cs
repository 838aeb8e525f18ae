using System.Globalization;
using System.Text.Json;

namespace WebhookReceiver.Webhooks;

/// <summary>
/// The run record a LangGraph server posts when a run finishes. Every field is optional, because operators can trim the
/// body with <c>webhooks.allowed_fields</c>; a field of an unexpected type, or a string .NET cannot hold (a lone surrogate
/// escape such as <c>"\ud83d"</c>), reads as absent and stays untouched in <see cref="RawJson"/>.
/// </summary>
public sealed class LangGraphRun
{
    /// <summary>
    /// The run's id, or null when the body has none that can be read: an operator's <c>webhooks.allowed_fields</c> that
    /// leaves out <c>run_id</c>. Such a run is still stored and delivered (known by its bytes); key your own records on
    /// <c>DeliveryContext.WebhookId</c> then.
    /// </summary>
    public string? RunId { get; init; }
    public string? ThreadId { get; init; }
    public string? AssistantId { get; init; }

    /// <summary>As sent: <c>success</c>, <c>error</c>, <c>timeout</c>, <c>interrupted</c>, <c>rollback</c>, or anything newer.</summary>
    public string? Status { get; init; }

    public string? MultitaskStrategy { get; init; }
    public string? LangsmithSessionName { get; init; }
    public JsonElement? Metadata { get; init; }
    public JsonElement? Kwargs { get; init; }

    /// <summary>The thread's final state; null for stateless runs, rollbacks and some interrupted runs.</summary>
    public JsonElement? Values { get; init; }

    /// <summary>A plain string (JS and older Python servers) or <c>{"error": ..., "message": ...}</c> (Python 0.7.46 and later).</summary>
    public JsonElement? Error { get; init; }

    public DateTimeOffset? CreatedAt { get; init; }
    public DateTimeOffset? UpdatedAt { get; init; }
    public DateTimeOffset? RunStartedAt { get; init; }
    public DateTimeOffset? RunEndedAt { get; init; }
    public DateTimeOffset? WebhookSentAt { get; init; }

    /// <summary>Fields this model does not name, kept as sent.</summary>
    public IReadOnlyDictionary<string, JsonElement> AdditionalFields { get; init; } = new Dictionary<string, JsonElement>();

    /// <summary>The body as stored: as received, minus secrets (webhook tokens are redacted before a body is stored).</summary>
    public string RawJson { get; init; } = "";

    /// <summary>
    /// The graph that ran: <c>metadata.graph_id</c>, else <c>kwargs.config.configurable.graph_id</c> (the JS server leaves it
    /// out of the metadata of stateless runs, whose temporary thread never had it).
    /// </summary>
    public string? GraphId => MetadataValue("graph_id") ?? ConfigurableValue("graph_id");

    /// <summary>The error as one line of text, whichever shape the server sent.</summary>
    public string? ErrorMessage => Error switch
    {
        // A string .NET cannot hold (a lone surrogate escape) is shown as sent, escapes and all: it is text for people.
        { ValueKind: JsonValueKind.String } e => Text(e) ?? e.GetRawText(),
        { ValueKind: JsonValueKind.Object } e => JoinErrorParts(e),
        _ => null,
    };

    /// <summary>How long the run took, when the server sent both ends.</summary>
    public TimeSpan? Duration => RunStartedAt is { } start && RunEndedAt is { } end ? end - start : null;

    /// <summary>
    /// A stateless run (<c>kwargs.temporary</c> is true: <c>POST /runs</c>, <c>/runs/wait</c> or <c>/runs/stream</c> with the
    /// default <c>on_completion: "delete"</c>). Its thread and run are deleted before the webhook is sent, so the server can
    /// never be asked about it (docs/langgraph-api.md, "Stateless runs").
    /// </summary>
    public bool IsTemporary =>
        Kwargs is { ValueKind: JsonValueKind.Object } k && TryGetProperty(k, "temporary", out var temporary) && temporary.ValueKind == JsonValueKind.True;

    /// <summary>
    /// The cron that fired this run: <c>kwargs.config.configurable.cron_id</c> (where the server's runtime puts it), else
    /// <c>metadata.cron_id</c> (a marker a cron's own metadata can carry, which survives <c>webhooks.allowed_fields</c>); null
    /// for a run no cron fired. Crons exist on the Python server only.
    /// </summary>
    public string? CronId => ConfigurableValue("cron_id") ?? MetadataValue("cron_id");

    /// <summary>
    /// How the receiver got this run: <see cref="Webhooks.WebhookSource.Webhook"/> when the server posted it, or
    /// <see cref="Webhooks.WebhookSource.Sweep"/> when the receiver recovered it from the server's API. Set by the receiver, never
    /// read from the body.
    /// </summary>
    public WebhookSource WebhookSource { get; init; } = WebhookSource.Webhook;

    /// <summary>A string value of <c>metadata</c>, or null.</summary>
    public string? MetadataValue(string key) => Metadata is { ValueKind: JsonValueKind.Object } metadata ? String(metadata, key) : null;

    private string? ConfigurableValue(string key) =>
        Kwargs is { ValueKind: JsonValueKind.Object } k
        && TryGetProperty(k, "config", out var config) && config.ValueKind == JsonValueKind.Object
        && TryGetProperty(config, "configurable", out var configurable) && configurable.ValueKind == JsonValueKind.Object
            ? String(configurable, key)
            : null;

    /// <summary>Reads a run from a parsed body; null when the body is not a JSON object.</summary>
    /// <remarks>The result refers to <paramref name="root"/>: keep its document alive as long as the run.</remarks>
    public static LangGraphRun? FromJson(JsonElement root, string rawJson = "") => FromJson(root, rawJson, WebhookSource.Webhook);

    /// <summary>Reads a run that reached the receiver by <paramref name="source"/>.</summary>
    internal static LangGraphRun? FromJson(JsonElement root, string rawJson, WebhookSource source)
    {
        if (root.ValueKind != JsonValueKind.Object)
        {
            return null;
        }

        var additional = new Dictionary<string, JsonElement>();
        foreach (var property in root.EnumerateObject())
        {
            if (Name(property) is { } name && !KnownFields.Contains(name))
            {
                additional[name] = property.Value;
            }
        }

        return new LangGraphRun
        {
            RunId = String(root, "run_id") is { Length: > 0 } runId ? runId : null,
            ThreadId = String(root, "thread_id"),
            AssistantId = String(root, "assistant_id"),
            Status = String(root, "status"),
            MultitaskStrategy = String(root, "multitask_strategy"),
            LangsmithSessionName = String(root, "langsmith_session_name"),
            Metadata = Element(root, "metadata"),
            Kwargs = Element(root, "kwargs"),
            Values = Element(root, "values"),
            Error = Element(root, "error"),
            CreatedAt = Timestamp(root, "created_at"),
            UpdatedAt = Timestamp(root, "updated_at"),
            RunStartedAt = Timestamp(root, "run_started_at"),
            RunEndedAt = Timestamp(root, "run_ended_at"),
            WebhookSentAt = Timestamp(root, "webhook_sent_at"),
            AdditionalFields = additional,
            RawJson = rawJson,
            WebhookSource = source,
        };
    }

    /// <summary>The deepest nesting a receiver may be configured to accept, and so the depth any stored body may have.</summary>
    public const int MaxSupportedDepth = 1000;

    private static readonly JsonSerializerOptions StoredBodyOptions = new() { MaxDepth = MaxSupportedDepth };

    /// <summary>Parses a stored body into a run that owns its data.</summary>
    public static LangGraphRun? Parse(string json) => FromJson(ParseStored(json), json);

    /// <summary>Parses a stored body that reached the receiver by <paramref name="source"/>.</summary>
    internal static LangGraphRun? Parse(string json, WebhookSource source) => FromJson(ParseStored(json), json, source);

    /// <summary>Reads back a stored body, however deep the receiver was configured to accept.</summary>
    internal static JsonElement ParseStored(string json) => JsonSerializer.Deserialize<JsonElement>(json, StoredBodyOptions);

    private static readonly HashSet<string> KnownFields =
    [
        "run_id", "thread_id", "assistant_id", "status", "multitask_strategy", "langsmith_session_name", "metadata",
        "kwargs", "values", "error", "created_at", "updated_at", "run_started_at", "run_ended_at", "webhook_sent_at",
    ];

    private static string? String(JsonElement root, string name)
    {
        if (!TryGetProperty(root, name, out var value) || value.ValueKind != JsonValueKind.String)
        {
            return null;
        }

        return Text(value);
    }

    private static string? Text(JsonElement value)
    {
        try
        {
            return value.GetString();
        }
        catch (InvalidOperationException)
        {
            return null; // Not text .NET can hold (invalid UTF-8, a lone surrogate escape): unreadable, like a wrong type.
        }
    }

    private static JsonElement? Element(JsonElement root, string name) =>
        TryGetProperty(root, name, out var v) && v.ValueKind != JsonValueKind.Null ? v : null;

    // JsonElement.TryGetProperty throws when it meets a name holding a lone surrogate escape (legal JSON): then the names
    // are compared one by one, and those that cannot be read as text are passed over.
    private static bool TryGetProperty(JsonElement obj, string name, out JsonElement value)
    {
        try
        {
            return obj.TryGetProperty(name, out value);
        }
        catch (InvalidOperationException)
        {
            foreach (var property in obj.EnumerateObject())
            {
                if (Name(property) == name)
                {
                    value = property.Value;
                    return true;
                }
            }

            value = default;
            return false;
        }
    }

    private static string? Name(JsonProperty property)
    {
        try
        {
            return property.Name;
        }
        catch (InvalidOperationException)
        {
            return null; // A lone surrogate escape in the name: kept in the raw JSON only.
        }
    }

    // Python sends "2025-01-01T10:00:00.123456+00:00", JS "2025-01-01T10:00:00.123Z": both are ISO-8601.
    private static DateTimeOffset? Timestamp(JsonElement root, string name) =>
        String(root, name) is { } text
        && DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var value)
            ? value
            : null;

    private static string JoinErrorParts(JsonElement error)
    {
        var type = String(error, "error");
        var message = String(error, "message");
        return type is null ? message ?? error.GetRawText() : message is null ? type : $"{type}: {message}";
    }
}

/// <summary>How a stored run reached the receiver; stored and shown in lower case (<c>webhook</c>, <c>sweep</c>).</summary>
public enum WebhookSource
{
    /// <summary>The LangGraph server posted it to the webhook route.</summary>
    Webhook,

    /// <summary>The receiver found it through the LangGraph API after its webhook never arrived.</summary>
    Sweep,
}
