using Microsoft.Extensions.Logging;
using WebhookReceiver.Tests.Guest;
using WebhookReceiver.Webhooks;

namespace WebhookReceiver.Tests.Handlers;

public sealed class LogHandlerTests
{
    [Fact]
    public async Task A_run_without_times_or_error_is_logged_without_null_in_the_line()
    {
        var line = await LogAsync("""{"run_id": "r-1", "thread_id": "t-1", "assistant_id": "a-1", "status": "success", "metadata": {"graph_id": "agent"}}""");

        Assert.StartsWith("LangGraph run r-1 (webhook 7) ended success: thread t-1", line, StringComparison.Ordinal);
        Assert.DoesNotContain("null", line, StringComparison.Ordinal);
        Assert.DoesNotContain(" ms", line, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_failed_run_with_times_is_logged_with_its_duration_and_error()
    {
        var line = await LogAsync("""
            {"run_id": "r-2", "status": "error", "error": "boom", "run_started_at": "2026-12-01T00:00:00Z", "run_ended_at": "2026-12-01T00:00:01.5Z"}
            """);

        Assert.EndsWith(", 1500 ms, error boom", line, StringComparison.Ordinal);
    }

    private static async Task<string> LogAsync(string json)
    {
        var logs = new CapturedLogs();
        using var factory = LoggerFactory.Create(b => b.AddProvider(logs));
        var handler = new LogHandler(factory.CreateLogger<LogHandler>());

        await handler.HandleAsync(LangGraphRun.Parse(json)!, new DeliveryContext(1, 7, LogHandler.Name, 1, DateTimeOffset.UtcNow), CancellationToken.None);

        return Assert.Single(logs.Entries).Message;
    }
}
