using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace WebhookReceiver.Webhooks;

/// <summary>
/// Makes one attempt at a claimed delivery: in its own DI scope, with the attempt timeout, after the run is verified
/// by the <see cref="IDeliveryGate"/> (the run's verification with its LangGraph deployment); reports how it ended instead of throwing.
/// </summary>
internal sealed class HandlerInvoker(
    IServiceScopeFactory scopes,
    HandlerCatalog catalog,
    IDeliveryGate gate,
    TimeProvider time,
    IOptions<DispatchOptions> options,
    IInterruptSource? interrupts = null)
{
    private readonly DispatchOptions _options = options.Value;

    /// <summary>
    /// Runs the handler: finished with no error, finished with the reason it failed or was held (not run), or cut short
    /// by <paramref name="abort"/> (shutdown).
    /// </summary>
    public async Task<(bool Finished, string? Error, bool Held)> InvokeAsync(ClaimedDelivery delivery, CancellationToken abort)
    {
        using var timeout = new CancellationTokenSource(_options.AttemptTimeout, time);
        using var attempt = CancellationTokenSource.CreateLinkedTokenSource(timeout.Token, abort);
        try
        {
            await using var scope = scopes.CreateAsyncScope();
            if (delivery.InterruptId is { } interruptId)
            {
                await InvokeInterruptHandlerAsync(delivery, interruptId, scope.ServiceProvider, attempt.Token);
                return (true, null, false);
            }

            var registration = catalog.Find(delivery.Handler)
                ?? throw new InvalidOperationException($"No handler is registered as '{delivery.Handler}' any more.");
            // Stored minus secrets already (redacted on arrival, older rows by a migration).
            var run = LangGraphRun.Parse(System.Text.Encoding.UTF8.GetString(delivery.Payload), delivery.Source)
                ?? throw new InvalidOperationException("The stored payload is not a JSON object.");
            // The run is checked with its LangGraph deployment (once per webhook) before any handler sees it.
            var verdict = await gate.CheckAsync(delivery, run, registration.Filter, attempt.Token);
            if (verdict.HoldReason is { } hold)
            {
                return (true, hold, true);
            }

            var handler = registration.Create(scope.ServiceProvider);
            var context = new DeliveryContext(delivery.DeliveryId, delivery.WebhookId, delivery.Handler, delivery.Attempt, delivery.ReceivedAt,
                verdict.Deployment, verdict.Verification);
            // Waits no longer than the token allows, even for a handler that ignores it: the attempt ends on time, its
            // lease is never outlived, and the same delivery never runs twice at once here.
            await handler.HandleAsync(run, context, attempt.Token).WaitAsync(attempt.Token);
            return (true, null, false);
        }
        catch (OperationCanceledException) when (abort.IsCancellationRequested)
        {
            return (false, null, false);
        }
        catch (OperationCanceledException) when (timeout.IsCancellationRequested)
        {
            return (true, $"Timed out after {_options.AttemptTimeout.TotalSeconds:0.###} s.", false);
        }
        catch (Exception ex)
        {
            return (true, $"{ex.GetType().Name}: {ex.Message}", false);
        }
    }

    /// <summary>An interrupt's delivery to an interrupt handler: no run to verify, the interrupt as stored.</summary>
    private async Task InvokeInterruptHandlerAsync(ClaimedDelivery delivery, long interruptId, IServiceProvider services, CancellationToken cancellationToken)
    {
        var registration = catalog.FindInterruptHandler(delivery.Handler)
            ?? throw new InvalidOperationException($"No interrupt handler is registered as '{delivery.Handler}' any more.");
        var interrupt = await (interrupts ?? throw new InvalidOperationException("Human in the loop is not added: no interrupt can be read."))
                            .FindAsync(interruptId, cancellationToken)
                        ?? throw new InvalidOperationException($"Interrupt {interruptId} is not in the inbox any more.");
        var handler = registration.Create(services);
        var context = new DeliveryContext(delivery.DeliveryId, delivery.WebhookId, delivery.Handler, delivery.Attempt, delivery.ReceivedAt, interrupt.Deployment);
        await handler.HandleAsync(interrupt, context, cancellationToken).WaitAsync(cancellationToken);
    }
}
