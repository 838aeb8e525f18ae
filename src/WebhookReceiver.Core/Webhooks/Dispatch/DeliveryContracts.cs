
namespace WebhookReceiver.Webhooks;

/// <summary>
/// Decides, as a run's delivery is about to run, whether the handler gets it, and what its context says about the run's
/// deployment and verification. Defined here, implemented by the LangGraph callback (run verification), which registers
/// exactly one; <c>AddWebhookReceiver</c> always adds it.
/// </summary>
internal interface IDeliveryGate
{
    /// <summary>The verdict for <paramref name="delivery"/> of <paramref name="run"/> to a handler that accepts <paramref name="filter"/>;
    /// throws when it cannot be told now (the attempt fails and is retried with the delivery's backoff).</summary>
    Task<DeliveryVerdict> CheckAsync(ClaimedDelivery delivery, LangGraphRun run, HandlerFilter filter, CancellationToken cancellationToken);
}

/// <summary>What the dispatcher does with one delivery, given its webhook's verification.</summary>
/// <param name="Deployment">The webhook's LangGraph deployment; null without one.</param>
/// <param name="Verification">The run's verification; null when verification is off.</param>
/// <param name="HoldReason">Why the handler must not get this delivery (it is held as <c>rejected</c>); null to deliver it.</param>
internal sealed record DeliveryVerdict(string? Deployment, RunVerification? Verification, string? HoldReason);

/// <summary>
/// The interrupt an interrupt delivery is for, as interrupt handlers get it. Defined here, implemented by human in the loop
/// (which records interrupts and their deliveries); without it no delivery names an interrupt.
/// </summary>
internal interface IInterruptSource
{
    /// <summary>Interrupt <paramref name="interruptId"/> as handlers see it; null when it is not stored any more.</summary>
    Task<Interrupt?> FindAsync(long interruptId, CancellationToken cancellationToken);
}
