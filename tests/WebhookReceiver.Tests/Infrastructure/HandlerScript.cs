using System.Collections.Concurrent;
using WebhookReceiver.Webhooks;

namespace WebhookReceiver.Tests.Infrastructure;

/// <summary>What a test handler does on each attempt, and a record of every attempt it saw.</summary>
public sealed class HandlerScript(TimeProvider? time = null)
{
    private readonly ConcurrentQueue<HandlerCall> _calls = new();
    private readonly SemaphoreSlim _called = new(0);

    /// <summary>Runs on each attempt; throw to fail it. Succeeds by default.</summary>
    public Func<HandlerCall, CancellationToken, Task> Behaviour { get; set; } = (_, _) => Task.CompletedTask;

    public IReadOnlyList<HandlerCall> Calls => _calls.ToList();

    public IWebhookHandler CreateHandler() => new ScriptedHandler(this);

    /// <summary>Fails the first <paramref name="failures"/> attempts, then succeeds.</summary>
    public HandlerScript FailFirst(int failures)
    {
        Behaviour = (call, _) => call.Context.Attempt <= failures
            ? throw new InvalidOperationException($"planned failure {call.Context.Attempt}")
            : Task.CompletedTask;
        return this;
    }

    public HandlerScript AlwaysFail()
    {
        Behaviour = (_, _) => throw new InvalidOperationException("planned failure");
        return this;
    }

    /// <summary>Waits (in real time) until at least <paramref name="count"/> attempts were made.</summary>
    public async Task WaitForCallsAsync(int count, int timeoutSeconds = 20)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(timeoutSeconds));
        while (_calls.Count < count)
        {
            try
            {
                await _called.WaitAsync(timeout.Token);
            }
            catch (OperationCanceledException)
            {
                throw new TimeoutException($"Expected {count} handler calls within {timeoutSeconds} s, saw {_calls.Count}.");
            }
        }
    }

    /// <summary>Whether at least <paramref name="count"/> attempts were made by the end of <paramref name="within"/> (real time); returns as soon as they were.</summary>
    public async Task<bool> CalledWithinAsync(int count, TimeSpan within)
    {
        using var timeout = new CancellationTokenSource(within);
        while (_calls.Count < count)
        {
            try
            {
                await _called.WaitAsync(timeout.Token);
            }
            catch (OperationCanceledException)
            {
                return _calls.Count >= count;
            }
        }

        return true;
    }

    private sealed class ScriptedHandler(HandlerScript script) : IWebhookHandler
    {
        public async Task HandleAsync(LangGraphRun run, DeliveryContext context, CancellationToken cancellationToken)
        {
            var call = new HandlerCall(run, context, (script.Time ?? TimeProvider.System).GetUtcNow());
            try
            {
                await script.Behaviour(call, cancellationToken);
            }
            finally
            {
                script._calls.Enqueue(call);
                script._called.Release();
            }
        }
    }

    private TimeProvider? Time { get; } = time;
}

public sealed record HandlerCall(LangGraphRun Run, DeliveryContext Context, DateTimeOffset At);
