using WebhookReceiver.Webhooks;

namespace WebhookReceiver.LangGraph;

/// <summary>
/// Records a pause the sweep found (an <c>interrupted</c> thread whose latest run points at this receiver): implemented by
/// human in the loop (a module above this one), so the sweep finds pauses without knowing how they are kept. None registered:
/// the sweep records no pauses.
/// </summary>
internal interface IPauseRecorder
{
    /// <summary>
    /// Records the pause <paramref name="thread"/> of <paramref name="deployment"/> waits at, once (a pause already recorded is
    /// found again). True when the thread still waits at a pause; throws <see cref="LangGraphApiException"/> when the server
    /// cannot be asked.
    /// </summary>
    Task<bool> RecordPauseAsync(string deployment, LangGraphThread thread, LangGraphRun pausedRun, CancellationToken cancellationToken);
}
