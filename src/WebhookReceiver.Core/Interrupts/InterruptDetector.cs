using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using WebhookReceiver.LangGraph;
using WebhookReceiver.Webhooks;

namespace WebhookReceiver.Interrupts;

/// <summary>
/// The receiver's own handler of <c>success</c> webhooks, registered when a LangGraph deployment is configured: a run that
/// paused at <c>interrupt()</c> or a breakpoint ends <c>success</c> with no marker, and only its thread says <c>interrupted</c>,
/// so the thread is asked once per webhook, off the ingest path, and a pause is recorded by <see cref="InterruptRecorder"/>.
/// Being a delivery, it is retried with backoff while the server cannot be asked, and shown with the webhook's deliveries.
/// Webhooks of no deployment and of stateless runs (their thread is deleted before the webhook is sent) are passed over.
/// </summary>
internal sealed class InterruptDetector(ILangGraphClients clients, InterruptRecorder recorder) : IWebhookHandler
{
    public const string Name = "langgraph-interrupts";

    /// <summary>Its registration: every <c>success</c> run, while a deployment is configured and <c>LangGraph:DetectInterrupts</c> is on.</summary>
    public static HandlerRegistration Registration { get; } = new(Name, typeof(InterruptDetector), new HandlerFilter().OnStatus("success"),
        sp => sp.GetRequiredService<InterruptDetector>(), EnabledWhen: sp => sp.GetRequiredService<IOptions<LangGraphOptions>>().Value is { Enabled: true, DetectInterrupts: true });

    public async Task HandleAsync(LangGraphRun run, DeliveryContext context, CancellationToken cancellationToken)
    {
        if (context.Deployment is not { } deployment || run.IsTemporary || run.ThreadId is not { } threadId)
        {
            return;
        }

        LangGraphClient client;
        try
        {
            client = clients.ForDeployment(deployment);
        }
        catch (KeyNotFoundException)
        {
            return; // The deployment was removed from the configuration since the webhook arrived.
        }

        if (await client.GetThreadAsync(threadId, cancellationToken) is { } thread)
        {
            await recorder.RecordFromThreadAsync(deployment, thread, run, context.WebhookId, cancellationToken);
        }
    }
}
