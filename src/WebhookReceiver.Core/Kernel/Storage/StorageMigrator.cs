using Microsoft.Extensions.Hosting;

namespace WebhookReceiver.Kernel;

/// <summary>
/// Brings every module's schema up to date before anything else starts: registered first, started first. Then it runs
/// the modules' start-up jobs (<see cref="IStoreStartupJob"/>) in the order they were registered.
/// </summary>
internal sealed class StorageMigrator(StorageKernel storage, IEnumerable<StoreSchema> schemas, IEnumerable<IStoreStartupJob> jobs) : IHostedService
{
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        await storage.MigrateAsync(schemas, cancellationToken);
        foreach (var job in jobs)
        {
            await job.RunAsync(cancellationToken);
        }
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}

/// <summary>Work a module's migration left for start-up, run once the schema is current and before the module's services start.</summary>
internal interface IStoreStartupJob
{
    Task RunAsync(CancellationToken cancellationToken);
}
