using System.Collections.Concurrent;
using System.Diagnostics;
using Microsoft.Extensions.DependencyInjection;
using WebhookReceiver.Webhooks;

namespace WebhookReceiver.Tests.Infrastructure;

/// <summary>What a handler was given: the run and the delivery it came with.</summary>
public sealed record ReceivedRun(LangGraphRun Run, DeliveryContext Context);

/// <summary>Every run the <see cref="RecordingHandler"/> was given, shared by the test and the service's handler scopes.</summary>
public sealed class RunRecorder
{
    public const string HandlerName = "recorder";
    private readonly ConcurrentQueue<ReceivedRun> _received = new();

    public IReadOnlyList<ReceivedRun> For(string runId) => _received.Where(r => r.Run.RunId == runId).ToList();

    /// <summary>Every run given so far, in order.</summary>
    public IReadOnlyList<ReceivedRun> All() => _received.ToList();

    public void Add(ReceivedRun received) => _received.Enqueue(received);

    /// <summary>The first delivery of <paramref name="runId"/> to the handler; throws when none came within <paramref name="timeout"/>.</summary>
    public async Task<ReceivedRun> WaitForAsync(string runId, TimeSpan timeout)
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            if (For(runId) is [var first, ..])
            {
                return first;
            }

            if (clock.Elapsed > timeout)
            {
                throw new TimeoutException($"The recording handler was not given run {runId} within {timeout.TotalSeconds:0} s.");
            }

            await Task.Delay(50);
        }
    }
}

/// <summary>A handler that only remembers what it was given.</summary>
public sealed class RecordingHandler(RunRecorder recorder) : IWebhookHandler
{
    public Task HandleAsync(LangGraphRun run, DeliveryContext context, CancellationToken cancellationToken)
    {
        recorder.Add(new ReceivedRun(run, context));
        return Task.CompletedTask;
    }
}

public static class RecordingHandlerServiceCollectionExtensions
{
    /// <summary>Registers a <see cref="RecordingHandler"/> for the runs <paramref name="filter"/> accepts (every run without one), as an application would register its own handler.</summary>
    public static IServiceCollection AddRecordingHandler(this IServiceCollection services, RunRecorder recorder, Action<HandlerFilter>? filter = null)
    {
        services.AddSingleton(recorder);
        new WebhookReceiverBuilder(services).AddHandler<RecordingHandler>(RunRecorder.HandlerName, filter);
        return services;
    }
}
