using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging;
using WebhookReceiver.LangGraph;
using WebhookReceiver.Webhooks;

namespace WebhookReceiver.Interrupts;

/// <summary>
/// Records a thread that stopped for a person as an interrupt (state <c>waiting</c>), once per pause, with one delivery per
/// matching interrupt handler. Called by <see cref="InterruptDetector"/> for each stored <c>success</c> webhook, and by the
/// sweep for each thread it finds <c>interrupted</c>: both end in <see cref="RecordFromThreadAsync"/>.
/// </summary>
internal sealed partial class InterruptRecorder(
    ILangGraphClients clients,
    IInboxInterrupts inbox,
    HandlerCatalog catalog,
    DispatchSignal signal,
    TimeProvider time,
    ILogger<InterruptRecorder> logger) : IPauseRecorder
{
    /// <inheritdoc/>
    public async Task<bool> RecordPauseAsync(string deployment, LangGraphThread thread, LangGraphRun pausedRun, CancellationToken cancellationToken) =>
        await RecordFromThreadAsync(deployment, thread, pausedRun, cancellationToken: cancellationToken) is not null;

    /// <summary>
    /// Records the pause <paramref name="thread"/> (as read from <c>GET /threads/{id}</c> or <c>POST /threads/search</c> of
    /// <paramref name="deployment"/>) waits at, unless it is recorded already. Reads the thread's state for the pending
    /// interrupts, the next nodes and the checkpoint; without <paramref name="pausedRun"/> (the sweep) it takes the thread's
    /// newest run as the one that paused. Returns the interrupt's id, or null when the thread is not <c>interrupted</c> (or is
    /// gone). Throws <see cref="LangGraphApiException"/> when the server cannot be asked, and <see cref="KeyNotFoundException"/>
    /// for a deployment that is not configured.
    /// </summary>
    /// <param name="webhookId">The stored webhook of <paramref name="pausedRun"/>, when a webhook showed the pause.</param>
    public async Task<long?> RecordFromThreadAsync(string deployment, LangGraphThread thread, LangGraphRun? pausedRun = null,
        long? webhookId = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(thread);
        if (thread.Status != "interrupted" || thread.ThreadId is not { } threadId)
        {
            return null;
        }

        var client = clients.ForDeployment(deployment);
        if (await client.GetThreadStateAsync(threadId, cancellationToken) is not { } state)
        {
            return null;
        }

        var pending = state.Interrupts.Count > 0 ? state.Interrupts : thread.Interrupts.Values.SelectMany(i => i).ToList();
        if (pending.Count == 0 && state.Next.Count == 0)
        {
            return null; // Interrupted no more by the time the state was read.
        }

        pausedRun ??= await client.ListRunsAsync(threadId, cancellationToken: cancellationToken) is { Count: > 0 } runs ? runs[0] : null;
        var graphId = pausedRun?.GraphId ?? MetadataText(thread.Metadata, "graph_id");
        var interrupt = new NewInterrupt(
            client.Deployment,
            threadId,
            PauseKey(pending, state),
            pausedRun?.RunId,
            pausedRun?.AssistantId ?? MetadataText(thread.Metadata, "assistant_id"),
            graphId,
            webhookId,
            PendingJson(pending),
            JsonSerializer.Serialize(state.Next),
            state.Checkpoint?.CheckpointId,
            time.GetUtcNow(),
            catalog.MatchInterrupt(pausedRun?.AssistantId, graphId));
        var (id, created) = await inbox.RecordInterruptAsync(interrupt, cancellationToken);
        if (created)
        {
            signal.Notify();
            LogRecorded(logger, id, client.Deployment, threadId, graphId, pending.Count, interrupt.Handlers.Count);
        }

        return id;
    }

    /// <summary>
    /// What makes a pause one: its interrupt ids (a new <c>interrupt()</c> gets new ids), or for a static breakpoint the
    /// checkpoint it stopped at.
    /// </summary>
    internal static string PauseKey(IReadOnlyList<LangGraphInterrupt> pending, LangGraphThreadState state) =>
        pending.Count > 0 && pending.All(i => i.Id is not null)
            ? "interrupts:" + string.Join(',', pending.Select(i => i.Id).Order(StringComparer.Ordinal))
            : "checkpoint:" + state.Checkpoint?.CheckpointId;

    private static string PendingJson(IReadOnlyList<LangGraphInterrupt> pending)
    {
        var array = new JsonArray();
        foreach (var interrupt in pending)
        {
            var item = new JsonObject
            {
                ["id"] = interrupt.Id,
                ["value"] = interrupt.Value is { } value ? JsonNode.Parse(value.GetRawText()) : null,
            };
            if (interrupt.AdditionalFields.TryGetValue("response_schema", out var schema) && schema.ValueKind is not JsonValueKind.Null)
            {
                item["response_schema"] = JsonNode.Parse(schema.GetRawText());
            }

            array.Add(item);
        }

        return array.ToJsonString();
    }

    private static string? MetadataText(JsonElement? metadata, string key) =>
        metadata is { ValueKind: JsonValueKind.Object } m && m.TryGetProperty(key, out var value) && value.ValueKind == JsonValueKind.String
            ? value.GetString()
            : null;

    [LoggerMessage(Level = LogLevel.Information,
        Message = "Interrupt {InterruptId} recorded: thread {ThreadId} of deployment {Deployment} (graph {GraphId}) waits at {Pending} interrupts; {Handlers} interrupt handlers to call")]
    private static partial void LogRecorded(ILogger logger, long interruptId, string deployment, string threadId, string? graphId, int pending, int handlers);
}
