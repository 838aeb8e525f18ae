using System.Text.Json.Nodes;

namespace WebhookReceiver.Tests.Infrastructure;

/// <summary>Webhook bodies in the shapes the LangGraph servers send.</summary>
public static class Payloads
{
    public static string NewRunId() => Guid.CreateVersion7().ToString();

    /// <summary>A JS dev server body (…sssZ timestamps, error as a string when present).</summary>
    public static JsonObject Run(
        string? runId = null,
        string status = "success",
        string? threadId = null,
        string? assistantId = null,
        string graphId = "agent",
        string? token = TestApp.Token,
        JsonObject? metadata = null)
    {
        var meta = metadata ?? [];
        meta["graph_id"] ??= graphId;
        return new JsonObject
        {
            ["run_id"] = runId ?? NewRunId(),
            ["thread_id"] = threadId ?? Guid.NewGuid().ToString(),
            ["assistant_id"] = assistantId ?? "fe096781-5601-53d2-b2f6-0d3403f7e9ca",
            ["status"] = status,
            ["metadata"] = meta,
            ["kwargs"] = new JsonObject
            {
                ["input"] = new JsonObject { ["messages"] = new JsonArray(new JsonObject { ["type"] = "human", ["content"] = "hi" }) },
                ["webhook"] = $"http://127.0.0.1:5080/webhooks/langgraph?token={token}",
            },
            ["multitask_strategy"] = "reject",
            ["created_at"] = "2025-06-01T10:00:00.000Z",
            ["updated_at"] = "2025-06-01T10:00:02.000Z",
            ["run_started_at"] = "2025-06-01T10:00:00.100Z",
            ["run_ended_at"] = "2025-06-01T10:00:01.900Z",
            ["webhook_sent_at"] = "2025-06-01T10:00:02.000Z",
            ["values"] = new JsonObject { ["messages"] = new JsonArray(new JsonObject { ["type"] = "ai", ["content"] = "hello" }) },
        };
    }

    /// <summary>
    /// A production (Python <c>langgraph-api</c>) body: <c>+00:00</c> timestamps with microseconds, messages dumped as
    /// dicts, <c>langsmith_session_name</c>, and run metadata as the Python server merges it.
    /// </summary>
    public static JsonObject PythonRun(string? runId = null, string status = "success", string? token = TestApp.Token)
    {
        var id = runId ?? NewRunId();
        var threadId = Guid.CreateVersion7().ToString();
        const string assistantId = "fe096781-5601-53d2-b2f6-0d3403f7e9ca";
        return new JsonObject
        {
            ["run_id"] = id,
            ["thread_id"] = threadId,
            ["assistant_id"] = assistantId,
            ["created_at"] = "2025-06-01T10:00:00.123456+00:00",
            ["updated_at"] = "2025-06-01T10:00:01.900003+00:00",
            ["status"] = status,
            ["metadata"] = new JsonObject
            {
                ["graph_id"] = "agent",
                ["assistant_id"] = assistantId,
                ["created_by"] = "system",
                ["run_attempt"] = 1,
                ["langgraph_version"] = "0.6.7",
                ["langgraph_api_version"] = "0.4.20",
                ["langgraph_plan"] = "enterprise",
                ["langgraph_host"] = "saas",
            },
            ["kwargs"] = new JsonObject
            {
                ["input"] = new JsonObject { ["messages"] = new JsonArray(new JsonObject { ["role"] = "user", ["content"] = "hi" }) },
                ["command"] = null,
                ["config"] = new JsonObject
                {
                    ["configurable"] = new JsonObject { ["run_id"] = id, ["thread_id"] = threadId, ["graph_id"] = "agent", ["assistant_id"] = assistantId },
                    ["metadata"] = new JsonObject { ["graph_id"] = "agent" },
                },
                ["context"] = new JsonObject(),
                ["stream_mode"] = new JsonArray("values"),
                ["webhook"] = $"https://receiver.example.com/webhooks/langgraph?token={token}",
                ["feedback_keys"] = null,
                ["temporary"] = false,
                ["subgraphs"] = false,
                ["resumable"] = false,
                ["durability"] = "async",
            },
            ["multitask_strategy"] = "reject",
            ["run_started_at"] = "2025-06-01T10:00:00.200001+00:00",
            ["run_ended_at"] = "2025-06-01T10:00:01.700002+00:00",
            ["webhook_sent_at"] = "2025-06-01T10:00:01.950004+00:00",
            ["values"] = new JsonObject
            {
                ["messages"] = new JsonArray(
                    PythonMessage("human", "hi", "3f0c2a38-8a55-4e0b-9f1e-6f0d7b0b1a01"),
                    PythonMessage("ai", "hello", "run-7c1d0a4e-2b8f-4f38-9d43-0d6f5c1e2a02")),
            },
            ["langsmith_session_name"] = "webhook-receiver-tests",
        };
    }

    /// <summary>A message as the Python server dumps it: a dict with <c>type</c>, <c>content</c> and <c>id</c>.</summary>
    public static JsonObject PythonMessage(string type, string content, string id) => new()
    {
        ["content"] = content,
        ["additional_kwargs"] = new JsonObject(),
        ["response_metadata"] = new JsonObject(),
        ["type"] = type,
        ["name"] = null,
        ["id"] = id,
        ["example"] = false,
    };

    /// <summary>A message as the JS server dumps it: LangChain's serialized <c>lc</c>/<c>constructor</c> form.</summary>
    public static JsonObject JsMessage(string className, string content, string id) => new()
    {
        ["lc"] = 1,
        ["type"] = "constructor",
        ["id"] = new JsonArray("langchain_core", "messages", className),
        ["kwargs"] = new JsonObject
        {
            ["content"] = content,
            ["additional_kwargs"] = new JsonObject(),
            ["response_metadata"] = new JsonObject(),
            ["id"] = id,
        },
    };
}
