using System.Data;
using System.Data.Common;
using System.Security.Cryptography;
using WebhookReceiver.Kernel;
using static WebhookReceiver.Kernel.Sql;

namespace WebhookReceiver.Webhooks;

// What ingest writes: new webhooks and their deliveries, with dedup by run_id or body hash.
internal sealed partial class WebhookStore : IInboxIngest
{
    // The ingest writer's connection and statements, kept from one batch to the next: opening a connection, setting it up
    // and preparing three statements for every batch cost more than the statements themselves at small batches. One
    // caller at a time holds them; a second caller at the same moment (a sweep) opens its own.
    private int _keptIngestBusy;
    private IngestStatements? _keptIngest;

    public async Task<IReadOnlyList<AppendResult>> AppendAsync(IReadOnlyList<NewWebhook> batch, CancellationToken cancellationToken)
    {
        var kept = Interlocked.CompareExchange(ref _keptIngestBusy, 1, 0) == 0;
        IngestStatements? statements = null;
        try
        {
            statements = kept ? _keptIngest ??= await IngestStatements.OpenAsync(storage, cancellationToken) : await IngestStatements.OpenAsync(storage, cancellationToken);
            using var turn = await storage.WaitWriteTurnAsync(cancellationToken);
            return await statements.AppendAsync(batch, cancellationToken);
        }
        catch when (kept && statements is not null)
        {
            // The connection may be what failed (a server restarted, a file gone): the next batch opens a new one.
            _keptIngest = null;
            await statements.DisposeAsync();
            throw;
        }
        finally
        {
            if (kept)
            {
                Volatile.Write(ref _keptIngestBusy, 0);
            }
            else if (statements is not null)
            {
                await statements.DisposeAsync();
            }
        }
    }

    /// <summary>Closes the ingest writer's kept connection (at the container's disposal, once the writer has stopped).</summary>
    public async ValueTask DisposeAsync()
    {
        // The writer has stopped by now; should a batch still hold them, the connection is closed with the process.
        if (Interlocked.CompareExchange(ref _keptIngestBusy, 1, 0) != 0)
        {
            return;
        }

        try
        {
            if (_keptIngest is { } statements)
            {
                _keptIngest = null;
                await statements.DisposeAsync();
            }
        }
        finally
        {
            Volatile.Write(ref _keptIngestBusy, 0);
        }
    }

    /// <summary>
    /// What ingest writes, on one connection, one batch at a time, as multi-row statements: a batch of N webhooks is
    /// stored by one <c>INSERT</c> of up to <see cref="MaxRowsPerStatement"/> rows per power of two in N (27 = 16 + 8 + 2 + 1),
    /// and its deliveries likewise, so the engine runs a handful of statements per batch instead of one or more per webhook.
    /// Each shape is prepared once, when first used, and kept with the connection.
    /// </summary>
    private sealed class IngestStatements : IAsyncDisposable
    {
        // 11 parameters a row: 2,816 in the largest statement, well under SQLite's 32,766 and PostgreSQL's 65,535.
        private const int MaxRowsPerStatement = 256;

        // Statements that bound more body bytes than this are not kept (1 MiB: a few 259 KB runs, or ~500 of 2 KB).
        private const long KeepStatementMaxBytes = 1L << 20;

        private const string WebhookColumns = "run_id, thread_id, assistant_id, graph_id, status, received_at, payload, body_hash, deployment, source, traceparent";

        private readonly DbConnection _connection;
        private readonly Dictionary<int, DbCommand> _insertWebhooks = [];
        private readonly Dictionary<int, DbCommand> _insertDeliveries = [];
        private readonly DbCommand _findExisting;
        private readonly DbParameter _existingRunId, _existingHash;
        private DbTransaction? _transaction;

        private IngestStatements(DbConnection connection)
        {
            _connection = connection;
            // A body without a run_id is known by its bytes: LangGraph's retries resend them unchanged.
            _findExisting = Command(connection, null, "SELECT id FROM webhooks WHERE run_id = @run_id OR body_hash = @body_hash");
            _existingRunId = Add(_findExisting, "@run_id", DbType.String);
            _existingHash = Add(_findExisting, "@body_hash", DbType.Binary);
        }

        public static async Task<IngestStatements> OpenAsync(StorageKernel storage, CancellationToken cancellationToken)
        {
            var connection = await storage.OpenAsync(cancellationToken);
            try
            {
                var statements = new IngestStatements(connection);
                await statements._findExisting.PrepareAsync(cancellationToken);
                return statements;
            }
            catch
            {
                await connection.DisposeAsync();
                throw;
            }
        }

        public async Task<IReadOnlyList<AppendResult>> AppendAsync(IReadOnlyList<NewWebhook> batch, CancellationToken cancellationToken)
        {
            await using var transaction = await _connection.BeginTransactionAsync(cancellationToken);
            _transaction = transaction;
            _findExisting.Transaction = transaction;

            // A body without a run_id is known by its bytes: LangGraph's retries resend them unchanged.
            var keys = batch.Select(w => w.RunId is null ? (RunId: (string?)null, Hash: SHA256.HashData(w.Payload)) : (w.RunId, null)).ToArray();
            string Key(int i) => keys[i].RunId ?? Convert.ToHexString(keys[i].Hash!);

            // Inserted in run_id order: two replicas storing overlapping batches then wait on each other's rows in the same
            // order and never deadlock (PostgreSQL would abort one batch and its senders would be answered 503).
            var order = Enumerable.Range(0, batch.Count).OrderBy(Key, StringComparer.Ordinal).ToArray();
            var inserted = new Dictionary<string, long>(StringComparer.Ordinal);
            foreach (var (offset, count) in Chunks(order.Length, row => batch[order[row]].Payload.Length))
            {
                var insert = await ShapeAsync(_insertWebhooks, count, InsertWebhooks, cancellationToken);
                for (var row = 0; row < count; row++)
                {
                    var i = order[offset + row];
                    BindWebhook(insert.Parameters, row, batch[i], keys[i].Hash);
                }

                await using (var reader = await insert.ExecuteReaderAsync(cancellationToken))
                {
                    while (await reader.ReadAsync(cancellationToken))
                    {
                        // RETURNING names the rows stored, in no promised order: each is known by its key.
                        var key = reader.IsDBNull(1) ? Convert.ToHexString((byte[])reader.GetValue(2)) : reader.GetString(1);
                        inserted[key] = reader.GetInt64(0);
                    }
                }

                // A kept statement holds its last bound values (SQLite keeps its own copy of each body) until it is bound
                // again: one that carried large bodies is let go, so that the biggest batch's bodies are not held after it.
                if (Enumerable.Range(offset, count).Sum(r => (long)batch[order[r]].Payload.Length) > KeepStatementMaxBytes)
                {
                    _insertWebhooks.Remove(count);
                    await insert.DisposeAsync();
                }
            }

            var results = new AppendResult[batch.Count];
            var deliveries = new List<(long WebhookId, string Handler, long Now)>();
            var answered = new HashSet<string>(StringComparer.Ordinal);
            foreach (var i in order)
            {
                var key = Key(i);
                if (inserted.TryGetValue(key, out var id))
                {
                    // The same run twice in one batch: the first (in run_id order) is stored, the rest are its duplicates.
                    var first = answered.Add(key);
                    results[i] = new AppendResult(id, Duplicate: !first);
                    if (first)
                    {
                        deliveries.AddRange(batch[i].Handlers.Select(h => (id, h, batch[i].ReceivedAt.ToUnixTimeMilliseconds())));
                    }

                    continue;
                }

                _existingRunId.Value = (object?)keys[i].RunId ?? DBNull.Value;
                _existingHash.Value = (object?)keys[i].Hash ?? DBNull.Value;
                // Gone only if purged between the two statements: then it is not stored, and the sender must be told so.
                var existing = await _findExisting.ExecuteScalarAsync(cancellationToken)
                    ?? throw new InvalidOperationException("The stored webhook with this run_id (or body) was purged while a repeat arrived.");
                results[i] = new AppendResult(Convert.ToInt64(existing, System.Globalization.CultureInfo.InvariantCulture), Duplicate: true);
            }

            foreach (var (offset, count) in Chunks(deliveries.Count, _ => 0))
            {
                var insert = await ShapeAsync(_insertDeliveries, count, InsertDeliveries, cancellationToken);
                for (var row = 0; row < count; row++)
                {
                    var (webhookId, handler, now) = deliveries[offset + row];
                    insert.Parameters[3 * row].Value = webhookId;
                    insert.Parameters[(3 * row) + 1].Value = handler;
                    insert.Parameters[(3 * row) + 2].Value = now;
                }

                await insert.ExecuteNonQueryAsync(cancellationToken);
            }

            await transaction.CommitAsync(cancellationToken);
            return results;
        }

        private static void BindWebhook(DbParameterCollection parameters, int row, NewWebhook webhook, byte[]? hash)
        {
            var p = 11 * row;
            parameters[p].Value = (object?)webhook.RunId ?? DBNull.Value;
            parameters[p + 1].Value = (object?)webhook.ThreadId ?? DBNull.Value;
            parameters[p + 2].Value = (object?)webhook.AssistantId ?? DBNull.Value;
            parameters[p + 3].Value = (object?)webhook.GraphId ?? DBNull.Value;
            parameters[p + 4].Value = (object?)webhook.Status ?? DBNull.Value;
            parameters[p + 5].Value = webhook.ReceivedAt.ToUnixTimeMilliseconds();
            parameters[p + 6].Value = webhook.Payload;
            parameters[p + 7].Value = (object?)hash ?? DBNull.Value;
            parameters[p + 8].Value = (object?)webhook.Deployment ?? DBNull.Value;
            parameters[p + 9].Value = WebhookSources.Name(webhook.Source);
            parameters[p + 10].Value = (object?)webhook.Traceparent ?? DBNull.Value;
        }

        private static DbCommand InsertWebhooks(DbConnection connection, int rows)
        {
            var values = string.Join(", ", Enumerable.Range(0, rows).Select(r =>
                $"(@r{r}, @t{r}, @a{r}, @g{r}, @s{r}, @at{r}, @p{r}, @h{r}, @d{r}, @src{r}, @tp{r})"));
            var insert = Command(connection, null, $"INSERT INTO webhooks ({WebhookColumns}) VALUES {values} ON CONFLICT DO NOTHING RETURNING id, run_id, body_hash");
            for (var r = 0; r < rows; r++)
            {
                Add(insert, $"@r{r}", DbType.String);
                Add(insert, $"@t{r}", DbType.String);
                Add(insert, $"@a{r}", DbType.String);
                Add(insert, $"@g{r}", DbType.String);
                Add(insert, $"@s{r}", DbType.String);
                Add(insert, $"@at{r}", DbType.Int64);
                Add(insert, $"@p{r}", DbType.Binary);
                Add(insert, $"@h{r}", DbType.Binary);
                Add(insert, $"@d{r}", DbType.String);
                Add(insert, $"@src{r}", DbType.String);
                Add(insert, $"@tp{r}", DbType.String);
            }

            return insert;
        }

        private static DbCommand InsertDeliveries(DbConnection connection, int rows)
        {
            var values = string.Join(", ", Enumerable.Range(0, rows).Select(r => $"(@w{r}, @n{r}, 'pending', @at{r}, @at{r})"));
            var insert = Command(connection, null, $"INSERT INTO deliveries (webhook_id, handler, state, next_attempt_at, updated_at) VALUES {values}");
            for (var r = 0; r < rows; r++)
            {
                Add(insert, $"@w{r}", DbType.Int64);
                Add(insert, $"@n{r}", DbType.String);
                Add(insert, $"@at{r}", DbType.Int64);
            }

            return insert;
        }

        /// <summary>The statement of this many rows: prepared on first use, then kept.</summary>
        private async Task<DbCommand> ShapeAsync(Dictionary<int, DbCommand> shapes, int rows, Func<DbConnection, int, DbCommand> create, CancellationToken cancellationToken)
        {
            if (!shapes.TryGetValue(rows, out var command))
            {
                command = create(_connection, rows);
                try
                {
                    command.Transaction = _transaction;
                    await command.PrepareAsync(cancellationToken);
                }
                catch
                {
                    await command.DisposeAsync();
                    throw;
                }

                shapes[rows] = command;
            }

            command.Transaction = _transaction;
            return command;
        }

        /// <summary>
        /// Splits <paramref name="count"/> rows into statements of powers of two, in order: at most
        /// <see cref="MaxRowsPerStatement"/> rows, and no more body bytes than <see cref="KeepStatementMaxBytes"/> unless
        /// one row has more (SQLite copies every bound body: large runs go a few at a time, as they did one by one).
        /// </summary>
        private static IEnumerable<(int Offset, int Count)> Chunks(int count, Func<int, int> bytes)
        {
            var offset = 0;
            while (offset < count)
            {
                var rows = Math.Min(MaxRowsPerStatement, 1 << (31 - System.Numerics.BitOperations.LeadingZeroCount((uint)(count - offset))));
                while (rows > 1 && Enumerable.Range(offset, rows).Sum(r => (long)bytes(r)) > KeepStatementMaxBytes)
                {
                    rows /= 2;
                }

                yield return (offset, rows);
                offset += rows;
            }
        }

        public async ValueTask DisposeAsync()
        {
            foreach (var command in _insertWebhooks.Values.Concat(_insertDeliveries.Values).Append(_findExisting))
            {
                await command.DisposeAsync();
            }

            await _connection.DisposeAsync();
        }
    }
}
