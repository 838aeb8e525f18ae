using System.Data;
using System.Data.Common;
using WebhookReceiver.Kernel;
using static WebhookReceiver.Kernel.Sql;

namespace WebhookReceiver.Webhooks;

/// <summary>
/// What deliveries belong to: a webhook (<c>w</c>), or an interrupt (<c>i</c>, recorded by the interrupts module, whose
/// time is when it was seen). The deliveries table is this module's; the rows it delivers need only an id, a time and
/// the columns a <see cref="WebhookQuery"/> filters by (interrupts have a thread, assistant, graph and deployment).
/// </summary>
/// <param name="IsRun">A webhook: it has a run's status, verification and source.</param>
internal sealed record DeliverySubject(string Table, string Alias, string Owner, string TimeColumn, bool IsRun)
{
    public static readonly DeliverySubject Webhooks = new("webhooks", "w", "webhook_id", "received_at", IsRun: true);
    public static readonly DeliverySubject Interrupts = new("interrupts", "i", "interrupt_id", "seen_at", IsRun: false);

    private const string DeliveryColumns = "d.id, d.webhook_id, d.handler, d.state, d.attempts, d.last_error, d.next_attempt_at, d.updated_at";

    /// <summary>Makes the deliveries of one webhook or interrupt due now, created for the handlers that have none; null when the row does not exist.</summary>
    public async Task<int?> ReplayAsync(StorageKernel storage, long id, IReadOnlyCollection<string> handlers, DateTimeOffset now, CancellationToken cancellationToken)
    {
        await using var connection = await storage.OpenAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);

        await using var exists = Command(connection, transaction, $"SELECT COUNT(*) FROM {Table} WHERE id = @id");
        Add(exists, "id", DbType.Int64, id);
        if (Convert.ToInt64(await exists.ExecuteScalarAsync(cancellationToken), System.Globalization.CultureInfo.InvariantCulture) == 0)
        {
            return null;
        }

        await using var upsert = Command(connection, transaction, $"""
            INSERT INTO deliveries ({Owner}, handler, state, next_attempt_at, updated_at)
            VALUES (@id, @handler, 'pending', @now, @now)
            ON CONFLICT ({Owner}, handler) DO UPDATE
            SET state = 'pending', next_attempt_at = @now, round_start = deliveries.attempts, updated_at = @now
            """);
        Add(upsert, "id", DbType.Int64, id);
        Add(upsert, "now", DbType.Int64, now.ToUnixTimeMilliseconds());
        var handler = Add(upsert, "handler", DbType.String);
        foreach (var name in handlers)
        {
            handler.Value = name;
            await upsert.ExecuteNonQueryAsync(cancellationToken);
        }

        await transaction.CommitAsync(cancellationToken);
        return handlers.Count;
    }

    /// <summary>The deliveries of rows of this subject, by row: the owner column is read last.</summary>
    public async Task<ILookup<long, StoredDelivery>> ReadDeliveriesAsync(DbConnection connection, List<long> ownerIds, CancellationToken cancellationToken)
    {
        var rows = new List<(long Owner, StoredDelivery Delivery)>();
        if (ownerIds.Count > 0)
        {
            await using var command = Command(connection, null,
                $"SELECT {DeliveryColumns}, d.{Owner} FROM deliveries d WHERE d.{Owner} IN ({InList(ownerIds)}) ORDER BY d.id");
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                rows.Add((reader.GetInt64(8), new StoredDelivery(
                    reader.GetInt64(0),
                    reader.GetString(2),
                    reader.GetString(3),
                    reader.GetInt32(4),
                    NullableString(reader, 5),
                    reader.IsDBNull(6) ? null : Time(reader.GetInt64(6)),
                    Time(reader.GetInt64(7)))));
            }
        }

        return rows.ToLookup(r => r.Owner, r => r.Delivery);
    }
}
