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
}
