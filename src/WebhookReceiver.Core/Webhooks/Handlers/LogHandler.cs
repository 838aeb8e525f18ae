using Microsoft.Extensions.Logging;

namespace WebhookReceiver.Webhooks;

/// <summary>
/// Built-in: one structured log event per finished run. Its duration and error are in the line only when the run has them
/// (a run recovered by a sweep carries no start and end times; only a failed run has an error).
/// </summary>
internal sealed partial class LogHandler(ILogger<LogHandler> logger) : IWebhookHandler
{
    public const string Name = "log";

    public Task HandleAsync(LangGraphRun run, DeliveryContext context, CancellationToken cancellationToken)
    {
        switch (run.Duration?.TotalMilliseconds, run.ErrorMessage)
        {
            case ({ } ms, null):
                LogRun(logger, run.RunId, context.WebhookId, run.Status, run.ThreadId, run.AssistantId, run.GraphId, ms);
                break;
            case ({ } ms, { } error):
                LogFailedRun(logger, run.RunId, context.WebhookId, run.Status, run.ThreadId, run.AssistantId, run.GraphId, ms, error);
                break;
            case (null, null):
                LogUntimedRun(logger, run.RunId, context.WebhookId, run.Status, run.ThreadId, run.AssistantId, run.GraphId);
                break;
            case (null, { } error):
                LogUntimedFailedRun(logger, run.RunId, context.WebhookId, run.Status, run.ThreadId, run.AssistantId, run.GraphId, error);
                break;
        }

        return Task.CompletedTask;
    }

    private const string Ended = "LangGraph run {RunId} (webhook {WebhookId}) ended {Status}: thread {ThreadId}, assistant {AssistantId}, graph {GraphId}";

    [LoggerMessage(Level = LogLevel.Information, Message = Ended + ", {DurationMs} ms")]
    private static partial void LogRun(ILogger logger, string? runId, long webhookId, string? status, string? threadId, string? assistantId, string? graphId,
        double durationMs);

    [LoggerMessage(Level = LogLevel.Information, Message = Ended + ", {DurationMs} ms, error {RunError}")]
    private static partial void LogFailedRun(ILogger logger, string? runId, long webhookId, string? status, string? threadId, string? assistantId, string? graphId,
        double durationMs, string runError);

    [LoggerMessage(Level = LogLevel.Information, Message = Ended)]
    private static partial void LogUntimedRun(ILogger logger, string? runId, long webhookId, string? status, string? threadId, string? assistantId, string? graphId);

    [LoggerMessage(Level = LogLevel.Information, Message = Ended + ", error {RunError}")]
    private static partial void LogUntimedFailedRun(ILogger logger, string? runId, long webhookId, string? status, string? threadId, string? assistantId,
        string? graphId, string runError);
}
