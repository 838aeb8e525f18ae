using System.Net;
using System.Text;
using WebhookReceiver.Tests.Infrastructure;
using WebhookReceiver.Webhooks;

namespace WebhookReceiver.Tests.Storage;

/// <summary>What only the shared PostgreSQL inbox must do: replicas starting together, and leaving each other's work alone.</summary>
[Trait("Category", "System")]
public sealed class PostgresInboxTests
{
    private static readonly DateTimeOffset T0 = new(2030, 1, 1, 12, 0, 0, TimeSpan.Zero);

    [Fact]
    public async Task Replicas_starting_at_once_migrate_the_schema_once_and_without_errors()
    {
        await using var database = await PostgresDatabase.CreateAsync();
        var replicas = Enumerable.Range(0, 5).Select(_ => TestStores.Postgres(database.ConnectionString)).ToList();
        try
        {
            await Task.WhenAll(replicas.Select(r => Task.Run(() => r.MigrateAsync(CancellationToken.None))));
            await replicas[0].MigrateAsync(CancellationToken.None); // A later start finds nothing to do.
        }
        finally
        {
            foreach (var replica in replicas)
            {
                await replica.DisposeAsync();
            }
        }

        // Every module's every version once, up to the newest this build knows.
        var known = TestStores.Schemas.SelectMany(s => Enumerable.Range(1, s.Steps.Count).Select(v => $"{s.Module} {v}")).Order(StringComparer.Ordinal);
        Assert.Equal(known, await database.ColumnAsync<string>("SELECT module || ' ' || version FROM storage_migrations ORDER BY (module || ' ' || version) COLLATE \"C\""));
    }

    [Fact]
    public async Task A_replica_starting_leaves_the_leases_of_running_replicas_alone()
    {
        await using var database = await PostgresDatabase.CreateAsync();
        await using var running = TestStores.Postgres(database.ConnectionString);
        await using var starting = TestStores.Postgres(database.ConnectionString);
        await running.MigrateAsync(CancellationToken.None);
        await running.Webhooks.AppendAsync([new NewWebhook("run-a", null, null, null, "success", T0, Encoding.UTF8.GetBytes("{}"), ["h1"])], CancellationToken.None);
        Assert.Single(await ((IWebhookInbox)running.Webhooks).ClaimDueAsync("running", T0, T0 + TimeSpan.FromMinutes(1), 10, CancellationToken.None));

        await starting.MigrateAsync(CancellationToken.None);
        await starting.Webhooks.RecoverAsync(CancellationToken.None);

        Assert.Empty(await ((IWebhookInbox)starting.Webhooks).ClaimDueAsync("starting", T0, T0 + TimeSpan.FromMinutes(1), 10, CancellationToken.None));
        Assert.Equal(["running"], await database.ColumnAsync<string>("SELECT lease_owner FROM deliveries"));
    }

    [Fact]
    public async Task Ping_fails_when_the_server_accepts_no_writes()
    {
        await using var database = await PostgresDatabase.CreateAsync();
        await using (var migrating = TestStores.Postgres(database.ConnectionString))
        {
            await migrating.MigrateAsync(CancellationToken.None);
        }

        await database.ScalarAsync<string>($"ALTER DATABASE {database.Name} SET default_transaction_read_only = on; SELECT 'done'");
        await using var inbox = TestStores.Postgres(database.ConnectionString); // The setting applies to new sessions.

        var failure = await Assert.ThrowsAsync<InvalidOperationException>(() => inbox.Webhooks.PingAsync(CancellationToken.None));

        Assert.Contains("accepts no writes", failure.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_service_configured_for_Postgres_stores_webhooks_in_the_database()
    {
        await using var database = await PostgresDatabase.CreateAsync();
        await using var app = new TestApp(new()
        {
            ["WebhookReceiver:Storage:Provider"] = "Postgres",
            ["WebhookReceiver:Storage:ConnectionString"] = database.ConnectionString,
        });
        var runId = Payloads.NewRunId();

        var response = await app.PostWebhookAsync(Payloads.Run(runId).ToJsonString());

        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        Assert.Equal([runId], await database.ColumnAsync<string>("SELECT run_id FROM webhooks"));
    }

    [Fact]
    public async Task An_unknown_storage_provider_stops_start_up_with_a_message_naming_the_setting()
    {
        using var directory = new TempDirectory();
        var settings = ServiceProcess.Settings(directory.Path);
        settings["WebhookReceiver__Storage__Provider"] = "Oracle";

        var failure = await Assert.ThrowsAsync<InvalidOperationException>(() => ServiceProcess.StartAsync(settings));

        Assert.Contains("WebhookReceiver:Storage:Provider", failure.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Choosing_Postgres_but_keeping_the_SQLite_connection_string_stops_start_up_with_a_message()
    {
        using var directory = new TempDirectory();
        var settings = ServiceProcess.Settings(directory.Path);
        settings["WebhookReceiver__Storage__Provider"] = "Postgres";

        var failure = await Assert.ThrowsAsync<InvalidOperationException>(() => ServiceProcess.StartAsync(settings));

        Assert.Contains("WebhookReceiver:Storage:Provider is Postgres but WebhookReceiver:Storage:ConnectionString is not a PostgreSQL connection string", failure.Message, StringComparison.Ordinal);
    }
}
