using Microsoft.Extensions.Hosting;

namespace WebhookReceiver.Inbox;

/// <summary>Brings the schema up to date before anything else starts: registered first, started first.</summary>
internal sealed class InboxMigrator(IWebhookInbox inbox) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken) => inbox.MigrateAsync(cancellationToken);

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
