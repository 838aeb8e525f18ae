using Microsoft.Extensions.Options;
using WebhookReceiver.Alerts;
using WebhookReceiver.Audit;
using WebhookReceiver.Interrupts;
using WebhookReceiver.Kernel;
using WebhookReceiver.LangGraph;
using WebhookReceiver.Webhooks;

namespace WebhookReceiver.Tests.Storage;

/// <summary>The storage kernel of one engine with every module's store over it, as the service composes them.</summary>
internal sealed class TestStores : IAsyncDisposable
{
    /// <summary>Every module's tables, as the service registers them.</summary>
    public static readonly IReadOnlyList<StoreSchema> Schemas =
        [StorageKernel.Schema, AuditStore.Schema, WebhookStore.Schema, SweepStore.Schema, InterruptStore.Schema, AlertStore.Schema];

    public TestStores(StorageKernel kernel)
    {
        Kernel = kernel;
        Webhooks = new WebhookStore(kernel);
        Interrupts = new InterruptStore(kernel);
        Sweeps = new SweepStore(kernel);
        Alerts = new AlertStore(kernel);
        Audit = new AuditStore(kernel);
    }

    public StorageKernel Kernel { get; }

    public WebhookStore Webhooks { get; }

    public IRunVerificationStore Verifications => Webhooks;

    public IInboxInterrupts Interrupts { get; }

    public IInboxSweeps Sweeps { get; }

    public IInboxAlerts Alerts { get; }

    public IAuditLog Audit { get; }

    public static TestStores Sqlite(string connectionString) =>
        new(new SqliteStorage(Options.Create(new StorageOptions { ConnectionString = connectionString })));

    public static TestStores Postgres(string connectionString) =>
        new(new PostgresStorage(Options.Create(new StorageOptions { Provider = StorageProvider.Postgres, ConnectionString = connectionString })));

    /// <summary>Creates or upgrades every module's tables, as the service's start-up does.</summary>
    public Task MigrateAsync(CancellationToken cancellationToken = default) => Kernel.MigrateAsync(Schemas, cancellationToken);

    public async ValueTask DisposeAsync()
    {
        await Webhooks.DisposeAsync();
        await Kernel.DisposeAsync();
    }
}
