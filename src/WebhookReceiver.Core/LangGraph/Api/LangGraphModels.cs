using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;

namespace WebhookReceiver.LangGraph;

// Shapes of the LangGraph server's REST API (Agent Server API reference, its OpenAPI file, and the JS dev server
// @langchain/langgraph-api 1.5.1). Every field is optional: the two servers differ, and newer ones add fields, which land
// in AdditionalFields. Runs are not here: a run record reads as a WebhookReceiver.Runs.LangGraphRun, the model of the webhook.

/// <summary>
/// <c>GET /threads/{thread_id}</c>: a thread and its latest values. <see cref="Status"/> is <c>idle</c>, <c>busy</c>,
/// <c>interrupted</c> (waiting at <c>interrupt()</c>: see <see cref="Interrupts"/>) or <c>error</c>.
/// </summary>
public sealed class LangGraphThread
{
    public string? ThreadId { get; init; }
    public DateTimeOffset? CreatedAt { get; init; }
    public DateTimeOffset? UpdatedAt { get; init; }

    /// <summary>When the thread's state last changed (newer servers only).</summary>
    public DateTimeOffset? StateUpdatedAt { get; init; }

    public JsonElement? Metadata { get; init; }
    public JsonElement? Config { get; init; }
    public string? Status { get; init; }

    /// <summary>The thread's latest state values, as the graph keeps them.</summary>
    public JsonElement? Values { get; init; }

    /// <summary>Pending interrupts by task id: <c>{task_id: [{id, value}]}</c>; empty when none is pending.</summary>
    public IReadOnlyDictionary<string, IReadOnlyList<LangGraphInterrupt>> Interrupts
    {
        get;
        init => field = value ?? new Dictionary<string, IReadOnlyList<LangGraphInterrupt>>();
    } = new Dictionary<string, IReadOnlyList<LangGraphInterrupt>>();

    [JsonExtensionData]
    public Dictionary<string, JsonElement> AdditionalFields { get; init; } = [];
}

/// <summary>
/// A pause at <c>interrupt(value)</c>. <see cref="Id"/> is what a resume with several pending interrupts keys its answers by
/// (<c>command.resume = {"&lt;id&gt;": answer}</c>); older servers send no id.
/// </summary>
public sealed class LangGraphInterrupt
{
    public string? Id { get; init; }

    /// <summary>What the graph passed to <c>interrupt()</c>.</summary>
    public JsonElement? Value { get; init; }

    [JsonExtensionData]
    public Dictionary<string, JsonElement> AdditionalFields { get; init; } = [];
}

/// <summary>
/// <c>GET /threads/{thread_id}/state</c> (and each entry of the history): the state at one checkpoint. <see cref="Next"/>
/// holds the nodes that run next: non-empty with no interrupts means a static breakpoint (resume with <c>input: null</c>).
/// </summary>
public sealed class LangGraphThreadState
{
    public JsonElement? Values { get; init; }
    public IReadOnlyList<string> Next { get; init => field = value ?? []; } = [];
    public IReadOnlyList<LangGraphTask> Tasks { get; init => field = value ?? []; } = [];
    public JsonElement? Metadata { get; init; }
    public DateTimeOffset? CreatedAt { get; init; }
    public LangGraphCheckpoint? Checkpoint { get; init; }
    public LangGraphCheckpoint? ParentCheckpoint { get; init; }

    /// <summary>
    /// The pending interrupts: the Python server lists them at the top level; the JS server only in
    /// <c>tasks[].interrupts</c>, so with no top-level list they are gathered from the tasks.
    /// </summary>
    [JsonPropertyName("interrupts")]
    public IReadOnlyList<LangGraphInterrupt>? TopLevelInterrupts { get; init; }

    [JsonIgnore]
    public IReadOnlyList<LangGraphInterrupt> Interrupts => TopLevelInterrupts ?? Tasks.SelectMany(t => t.Interrupts).ToList();

    [JsonExtensionData]
    public Dictionary<string, JsonElement> AdditionalFields { get; init; } = [];
}

/// <summary>A task of a checkpoint: a node about to run (or that failed), with the interrupts it raised.</summary>
public sealed class LangGraphTask
{
    public string? Id { get; init; }
    public string? Name { get; init; }
    public IReadOnlyList<LangGraphInterrupt> Interrupts { get; init => field = value ?? []; } = [];
    public JsonElement? Error { get; init; }

    [JsonExtensionData]
    public Dictionary<string, JsonElement> AdditionalFields { get; init; } = [];
}

/// <summary>Where a state sits in the thread's history.</summary>
public sealed class LangGraphCheckpoint
{
    public string? ThreadId { get; init; }
    public string? CheckpointNs { get; init; }
    public string? CheckpointId { get; init; }
}

/// <summary>
/// <c>POST /threads/search</c>. The server's default <c>limit</c> is 10; here it is always sent. Neither server's paging
/// headers are trusted (the JS server computes them wrongly): page with <see cref="Offset"/> until a page comes back short.
/// </summary>
public sealed class LangGraphThreadSearch
{
    /// <summary>Threads whose metadata contains these pairs.</summary>
    public JsonObject? Metadata { get; init; }

    public IReadOnlyList<string>? Ids { get; init; }

    /// <summary><c>idle</c>, <c>busy</c>, <c>interrupted</c> or <c>error</c>; <c>interrupted</c> finds every thread waiting for a human.</summary>
    public string? Status { get; init; }

    /// <summary>Threads per page, 1 to 1000.</summary>
    public int Limit { get; init; } = 100;

    public int Offset { get; init; }

    /// <summary><c>thread_id</c>, <c>status</c>, <c>created_at</c>, <c>updated_at</c> or <c>state_updated_at</c>.</summary>
    public string SortBy { get; init; } = "updated_at";

    /// <summary><c>asc</c> or <c>desc</c>.</summary>
    public string SortOrder { get; init; } = "desc";
}

/// <summary>
/// <c>POST /threads/{thread_id}/runs</c>: starts a run in the background. Give <see cref="Input"/> for a new turn, or
/// <see cref="Command"/> to resume an interrupted thread (<c>{"resume": answer}</c>, or <c>{"resume": {"&lt;interrupt id&gt;":
/// answer}}</c> for several); neither resumes a static breakpoint. The new run has its own <c>run_id</c> and sends its own webhook.
/// </summary>
public sealed class LangGraphRunRequest
{
    /// <summary>An assistant id, or a graph id (the server takes its default assistant).</summary>
    public required string AssistantId { get; init; }

    public JsonNode? Input { get; init; }
    public JsonObject? Command { get; init; }

    /// <summary>Where the server posts the run when it finishes (this receiver's URL with its token, for example).</summary>
    public string? Webhook { get; init; }

    public JsonObject? Metadata { get; init; }

    /// <summary>A resume command for an interrupted thread: <c>{"resume": answer}</c>.</summary>
    public static JsonObject Resume(JsonNode? answer) => new() { ["resume"] = answer };
}
