using WebhookReceiver.Webhooks;

namespace WebhookReceiver.Interrupts;

/// <summary>The interrupts the dispatcher delivers to interrupt handlers: read from the store, with their resume and console URLs.</summary>
internal sealed class StoredInterrupts(IInboxInterrupts inbox, InterruptLinks links) : IInterruptSource
{
    public async Task<Interrupt?> FindAsync(long interruptId, CancellationToken cancellationToken) =>
        await inbox.GetInterruptAsync(interruptId, cancellationToken) is { } stored ? links.ToInterrupt(stored) : null;
}
