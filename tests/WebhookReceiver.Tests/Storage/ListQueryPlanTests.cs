using System.Data.Common;
using WebhookReceiver.Alerts;
using WebhookReceiver.Audit;
using WebhookReceiver.Interrupts;
using WebhookReceiver.Kernel;
using WebhookReceiver.Webhooks;

namespace WebhookReceiver.Tests.Storage;

/// <summary>
/// Every list query, with each of its filters, can be served by an index on each engine: the engine's own plan
/// (SQLite's <c>EXPLAIN QUERY PLAN</c>, PostgreSQL's <c>EXPLAIN</c>) reads no growing table whole. On PostgreSQL the plan
/// is asked with sequential scans priced out (<c>enable_seqscan = off</c>), so that the empty tables of the test do not
/// make a scan the cheaper choice: a "Seq Scan" left in the plan then means no index could serve the query. On SQLite,
/// the unfiltered list may walk the table in id order, since it stops at the page's limit; nothing else may scan.
/// </summary>
public abstract class ListQueryPlanTests<TEngine> : EngineContract<TEngine>
    where TEngine : IInboxEngine, new()
{
    [Theory]
    [MemberData(nameof(ListQueries.WebhookFilters), MemberType = typeof(ListQueries))]
    public Task The_webhook_list_is_served_by_an_index(string filter) =>
        AssertIndexedAsync(connection => WebhookStore.ListCommand(connection, Stores.Kernel.Dialect, ListQueries.WebhookQueries[filter]), bounded: filter == "none");

    [Theory]
    [MemberData(nameof(ListQueries.InterruptFilters), MemberType = typeof(ListQueries))]
    public Task The_interrupt_list_is_served_by_an_index(string filter) =>
        AssertIndexedAsync(connection => InterruptStore.ListCommand(connection, ListQueries.InterruptQueries[filter]), bounded: filter == "none");

    [Theory]
    [MemberData(nameof(ListQueries.AlertFilters), MemberType = typeof(ListQueries))]
    public Task The_alert_list_is_served_by_an_index(string filter) =>
        AssertIndexedAsync(connection => AlertStore.ListCommand(connection, ListQueries.AlertQueries[filter]), bounded: filter == "none");

    [Theory]
    [InlineData(null)]
    [InlineData("dead_handler")]
    public Task The_unresolved_alerts_are_served_by_an_index(string? kind) =>
        AssertIndexedAsync(connection => AlertStore.UnresolvedCommand(connection, Stores.Kernel.Dialect, kind), bounded: false);

    [Theory]
    [MemberData(nameof(ListQueries.AuditFilters), MemberType = typeof(ListQueries))]
    public Task The_audit_list_is_served_by_an_index(string filter) =>
        AssertIndexedAsync(connection => AuditStore.ListCommand(connection, Stores.Kernel.Dialect, ListQueries.AuditQueries[filter]), bounded: filter == "none");

    [Fact]
    public Task The_console_session_check_is_one_indexed_lookup() =>
        AssertIndexedAsync(connection => AuditStore.ExistsCommand(connection, AuditActions.SignOut, "session:abc"), bounded: false);

    /// <summary>
    /// Asks the engine for the plan of the statement <paramref name="build"/> makes and fails on a full read of a table.
    /// <paramref name="bounded"/>: the statement has no filter, so reading the table in id order up to its limit is allowed.
    /// </summary>
    private async Task AssertIndexedAsync(Func<DbConnection, DbCommand> build, bool bounded)
    {
        await using var connection = await Stores.Kernel.OpenAsync(CancellationToken.None);
        var postgres = Stores.Kernel.Dialect.Provider == StorageProvider.Postgres;
        if (postgres)
        {
            await using var noScans = connection.CreateCommand();
            noScans.CommandText = "SET enable_seqscan = off";
            await noScans.ExecuteNonQueryAsync();
        }

        await using var command = build(connection);
        command.CommandText = (postgres ? "EXPLAIN " : "EXPLAIN QUERY PLAN ") + command.CommandText;
        var plan = new List<string>();
        await using (var reader = await command.ExecuteReaderAsync())
        {
            while (await reader.ReadAsync())
            {
                plan.Add(reader.GetString(postgres ? 0 : 3));
            }
        }

        var text = string.Join("\n", plan);
        Assert.NotEmpty(plan);
        var scans = postgres
            ? plan.Where(line => line.Contains("Seq Scan on", StringComparison.Ordinal)).ToList()
            : plan.Where(line => line.TrimStart().StartsWith("SCAN ", StringComparison.Ordinal) && !line.Contains(" USING ", StringComparison.Ordinal)).ToList();
        if (bounded && !postgres)
        {
            // The unfiltered page: SQLite walks the table backwards by id and stops at the limit, with no sort of its own.
            Assert.DoesNotContain("TEMP B-TREE", text, StringComparison.Ordinal);
            return;
        }

        Assert.True(scans.Count == 0, $"{command.CommandText}\nreads a table whole:\n{text}");
    }
}

/// <summary>Each list query with each filter, by name.</summary>
public static class ListQueries
{
    private static readonly DateTimeOffset T0 = new(2030, 1, 1, 12, 0, 0, TimeSpan.Zero);

    public static TheoryData<string> WebhookFilters => new(WebhookQueries.Keys);

    public static TheoryData<string> InterruptFilters => new(InterruptQueries.Keys);

    public static TheoryData<string> AlertFilters => new(AlertQueries.Keys);

    public static TheoryData<string> AuditFilters => new(AuditQueries.Keys);

    internal static readonly Dictionary<string, WebhookQuery> WebhookQueries = new()
    {
        ["none"] = new(),
        ["status"] = new() { Status = "success" },
        ["assistant_id"] = new() { AssistantId = "a" },
        ["graph_id"] = new() { GraphId = "g" },
        ["thread_id"] = new() { ThreadId = "t" },
        ["received_from"] = new() { ReceivedFrom = T0 },
        ["received_to"] = new() { ReceivedTo = T0 },
        ["delivery_state"] = new() { DeliveryState = DeliveryState.Dead },
        ["delivery_handler"] = new() { DeliveryHandler = "crm" },
        ["delivery_handler_and_state"] = new() { DeliveryHandler = "crm", DeliveryState = DeliveryState.Dead },
        ["deployment"] = new() { Deployment = "prod" },
        ["verification"] = new() { Verification = VerificationResult.Mismatch },
        ["source"] = new() { Source = WebhookSource.Sweep },
        ["before"] = new() { Before = 100 },
    };

    internal static readonly Dictionary<string, InterruptQuery> InterruptQueries = new()
    {
        ["none"] = new(),
        ["state"] = new() { State = InterruptState.Waiting },
        ["deployment"] = new() { Deployment = "prod" },
        ["graph_id"] = new() { GraphId = "g" },
        ["thread_id"] = new() { ThreadId = "t" },
        ["before"] = new() { Before = 100 },
    };

    internal static readonly Dictionary<string, AlertQuery> AlertQueries = new()
    {
        ["none"] = new(),
        ["state"] = new() { State = AlertState.Open },
        ["kind"] = new() { Kind = "dead_handler" },
        ["before"] = new() { Before = 100 },
    };

    internal static readonly Dictionary<string, AuditQuery> AuditQueries = new()
    {
        ["none"] = new(),
        ["action"] = new() { Action = AuditActions.SignOut },
        ["actor"] = new() { Actor = "ops" },
        ["target"] = new() { Target = "webhook:1" },
        ["from"] = new() { From = T0 },
        ["to"] = new() { To = T0 },
        ["before"] = new() { Before = 100 },
    };
}

public sealed class SqliteListQueryPlanTests : ListQueryPlanTests<SqliteEngine>;

[Trait("Category", "System")]
public sealed class PostgresListQueryPlanTests : ListQueryPlanTests<PostgresEngine>;
