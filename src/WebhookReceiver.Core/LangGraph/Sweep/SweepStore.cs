using System.Data;
using System.Globalization;
using WebhookReceiver.Kernel;
using static WebhookReceiver.Kernel.Sql;

namespace WebhookReceiver.LangGraph;

/// <summary>
/// Where a deployment's sweep stands, in the LangGraph server's own time (<c>updated_at</c> of its threads).
/// </summary>
/// <param name="Watermark">Every thread updated at or before this was swept; null before the first finished sweep.</param>
/// <param name="CoveredFrom">With <paramref name="CoveredTo"/>: threads updated in this range (above the watermark) were swept by a sweep that stopped before reaching the watermark (budget, crash); null when none did.</param>
/// <param name="CoveredTo">The upper end of that range.</param>
internal sealed record SweepProgress(DateTimeOffset? Watermark, DateTimeOffset? CoveredFrom, DateTimeOffset? CoveredTo);

/// <summary>What the LangGraph sweep needs: one sweeper per deployment at a time (a lease), its progress, and which runs are held.</summary>
internal interface IInboxSweeps
{
    /// <summary>
    /// Leases <paramref name="deployment"/>'s sweep to <paramref name="owner"/> until <paramref name="leaseUntil"/> when no other
    /// owner holds an unexpired lease, and returns its progress; null when another owner holds it.
    /// </summary>
    Task<SweepProgress?> TryLeaseSweepAsync(string deployment, string owner, DateTimeOffset now, DateTimeOffset leaseUntil, CancellationToken cancellationToken);

    /// <summary>Records the sweep's progress while <paramref name="owner"/> holds its lease; false (nothing recorded) when it lost it.</summary>
    Task<bool> SaveSweepAsync(string deployment, string owner, SweepProgress progress, DateTimeOffset now, CancellationToken cancellationToken);

    /// <summary>Gives the lease back (when <paramref name="owner"/> still holds it), so the next sweep need not wait for it to expire.</summary>
    Task ReleaseSweepAsync(string deployment, string owner, CancellationToken cancellationToken);

    /// <summary>The ones of <paramref name="runIds"/> that a stored webhook has.</summary>
    Task<IReadOnlySet<string>> HeldRunIdsAsync(IReadOnlyCollection<string> runIds, CancellationToken cancellationToken);
}

/// <summary>Each deployment's sweep (table <c>sweeps</c>), and which runs the webhooks module holds.</summary>
internal sealed class SweepStore(StorageKernel storage) : IInboxSweeps
{
    /// <summary>
    /// The module's table, written once for both engines: each deployment's sweep, the updated_at (server ms) down to which
    /// every thread was swept, the range an unfinished sweep already covered above it, and the lease that lets one replica
    /// sweep at a time. Version 1 is the table the last release with one schema version left.
    /// </summary>
    public static readonly StoreSchema Schema = new("langgraph", Layer: 4, LegacyBaseline: 1,
    [
        _ => """
            CREATE TABLE sweeps (
                deployment TEXT PRIMARY KEY,
                watermark BIGINT,
                covered_from BIGINT,
                covered_to BIGINT,
                lease_owner TEXT,
                lease_until BIGINT NOT NULL DEFAULT 0,
                swept_at BIGINT
            );
            """,
    ]);

    public async Task<SweepProgress?> TryLeaseSweepAsync(string deployment, string owner, DateTimeOffset now, DateTimeOffset leaseUntil, CancellationToken cancellationToken)
    {
        await using var connection = await storage.OpenAsync(cancellationToken);
        using var turn = await storage.WaitWriteTurnAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        await using (var create = Command(connection, transaction, "INSERT INTO sweeps (deployment) VALUES (@deployment) ON CONFLICT (deployment) DO NOTHING"))
        {
            Add(create, "deployment", DbType.String, deployment);
            await create.ExecuteNonQueryAsync(cancellationToken);
        }

        // One statement: on PostgreSQL a replica that waited for the row re-checks the lease on the row it finally updates.
        await using var lease = Command(connection, transaction, """
            UPDATE sweeps SET lease_owner = @owner, lease_until = @lease_until
            WHERE deployment = @deployment AND (lease_owner IS NULL OR lease_owner = @owner OR lease_until <= @now)
            RETURNING watermark, covered_from, covered_to
            """);
        Add(lease, "owner", DbType.String, owner);
        Add(lease, "lease_until", DbType.Int64, leaseUntil.ToUnixTimeMilliseconds());
        Add(lease, "deployment", DbType.String, deployment);
        Add(lease, "now", DbType.Int64, now.ToUnixTimeMilliseconds());
        SweepProgress? progress = null;
        await using (var reader = await lease.ExecuteReaderAsync(cancellationToken))
        {
            if (await reader.ReadAsync(cancellationToken))
            {
                progress = new SweepProgress(
                    reader.IsDBNull(0) ? null : Time(reader.GetInt64(0)),
                    reader.IsDBNull(1) ? null : Time(reader.GetInt64(1)),
                    reader.IsDBNull(2) ? null : Time(reader.GetInt64(2)));
            }
        }

        await transaction.CommitAsync(cancellationToken);
        return progress;
    }

    public async Task<bool> SaveSweepAsync(string deployment, string owner, SweepProgress progress, DateTimeOffset now, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(progress);
        await using var connection = await storage.OpenAsync(cancellationToken);
        using var turn = await storage.WaitWriteTurnAsync(cancellationToken);
        await using var save = Command(connection, null, """
            UPDATE sweeps SET watermark = @watermark, covered_from = @covered_from, covered_to = @covered_to, swept_at = @now
            WHERE deployment = @deployment AND lease_owner = @owner
            """);
        Add(save, "watermark", DbType.Int64, progress.Watermark?.ToUnixTimeMilliseconds());
        Add(save, "covered_from", DbType.Int64, progress.CoveredFrom?.ToUnixTimeMilliseconds());
        Add(save, "covered_to", DbType.Int64, progress.CoveredTo?.ToUnixTimeMilliseconds());
        Add(save, "now", DbType.Int64, now.ToUnixTimeMilliseconds());
        Add(save, "deployment", DbType.String, deployment);
        Add(save, "owner", DbType.String, owner);
        return await save.ExecuteNonQueryAsync(cancellationToken) > 0;
    }

    public async Task ReleaseSweepAsync(string deployment, string owner, CancellationToken cancellationToken)
    {
        await using var connection = await storage.OpenAsync(cancellationToken);
        using var turn = await storage.WaitWriteTurnAsync(cancellationToken);
        await using var release = Command(connection, null,
            "UPDATE sweeps SET lease_owner = NULL, lease_until = 0 WHERE deployment = @deployment AND lease_owner = @owner");
        Add(release, "deployment", DbType.String, deployment);
        Add(release, "owner", DbType.String, owner);
        await release.ExecuteNonQueryAsync(cancellationToken);
    }

    public async Task<IReadOnlySet<string>> HeldRunIdsAsync(IReadOnlyCollection<string> runIds, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(runIds);
        var held = new HashSet<string>(StringComparer.Ordinal);
        if (runIds.Count == 0)
        {
            return held;
        }

        await using var connection = await storage.OpenAsync(cancellationToken);
        foreach (var chunk in runIds.Distinct(StringComparer.Ordinal).Chunk(200))
        {
            await using var find = Command(connection, null,
                $"SELECT run_id FROM webhooks WHERE run_id IN ({string.Join(',', chunk.Select((_, i) => "@r" + i.ToString(CultureInfo.InvariantCulture)))})");
            for (var i = 0; i < chunk.Length; i++)
            {
                Add(find, "r" + i.ToString(CultureInfo.InvariantCulture), DbType.String, chunk[i]);
            }

            await using var reader = await find.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                held.Add(reader.GetString(0));
            }
        }

        return held;
    }
}
