using Microsoft.Extensions.Logging;
using WebhookReceiver.Runs;

namespace WebhookReceiver.Handlers;

/// <summary>Built-in: one structured log event per finished run.</summary>
internal sealed partial class LogHandler(ILogger<LogHandler> logger) : IWebhookHandler
{
    public const string Name = "log";

    public Task HandleAsync(LangGraphRun run, DeliveryContext context, CancellationToken cancellationToken)
    {
        LogRun(logger, run.RunId, context.WebhookId, run.ThreadId, run.AssistantId, run.GraphId, run.Status, run.Duration?.TotalMilliseconds, run.ErrorMessage);
        return Task.CompletedTask;
    }

    [LoggerMessage(Level = LogLevel.Information,
        Message = "LangGraph run {RunId} (webhook {WebhookId}) ended {Status}: thread {ThreadId}, assistant {AssistantId}, graph {GraphId}, {DurationMs} ms, error {RunError}")]
    private static partial void LogRun(ILogger logger, string? runId, long webhookId, string? threadId, string? assistantId, string? graphId, string? status,
        double? durationMs, string? runError);
}
