using System.Data;
using System.Data.Common;
using System.Security.Cryptography;

namespace WebhookReceiver.Inbox;

// What ingest writes: new webhooks and their deliveries, with dedup by run_id or body hash.
internal abstract partial class SqlInbox : IInboxIngest
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
            statements = kept ? _keptIngest ??= await IngestStatements.OpenAsync(this, cancellationToken) : await IngestStatements.OpenAsync(this, cancellationToken);
            using var turn = await WaitWriteTurnAsync(cancellationToken);
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

    /// <summary>Closes the ingest writer's kept connection (an engine's disposal, once the writer has stopped).</summary>
    protected async ValueTask DisposeIngestAsync()
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

    /// <summary>What ingest writes, prepared once on one connection; one batch at a time.</summary>
    private sealed class IngestStatements : IAsyncDisposable
    {
        private readonly DbConnection _connection;
        private readonly DbCommand _insert, _findExisting, _addDelivery;
        private readonly DbParameter _runId, _threadId, _assistantId, _graphId, _status, _receivedAt, _payload, _bodyHash, _deployment, _source,
            _traceparent, _existingRunId, _existingHash, _deliveryWebhookId, _handler, _deliveryNow;

        private IngestStatements(DbConnection connection)
        {
            _connection = connection;
            // Parameter names carry their prefix: Microsoft.Data.Sqlite then finds each with one lookup instead of trying
            // the prefixes one by one (a string built per parameter per row).
            _insert = Command(connection, null, """
                INSERT INTO webhooks (run_id, thread_id, assistant_id, graph_id, status, received_at, payload, body_hash, deployment, source, traceparent)
                VALUES (@run_id, @thread_id, @assistant_id, @graph_id, @status, @received_at, @payload, @body_hash, @deployment, @source, @traceparent)
                ON CONFLICT DO NOTHING
                RETURNING id
                """);
            _runId = Add(_insert, "@run_id", DbType.String);
            _threadId = Add(_insert, "@thread_id", DbType.String);
            _assistantId = Add(_insert, "@assistant_id", DbType.String);
            _graphId = Add(_insert, "@graph_id", DbType.String);
            _status = Add(_insert, "@status", DbType.String);
            _receivedAt = Add(_insert, "@received_at", DbType.Int64);
            _payload = Add(_insert, "@payload", DbType.Binary);
            _bodyHash = Add(_insert, "@body_hash", DbType.Binary);
            _deployment = Add(_insert, "@deployment", DbType.String);
            _source = Add(_insert, "@source", DbType.String);
            _traceparent = Add(_insert, "@traceparent", DbType.String);

            // A body without a run_id is known by its bytes: LangGraph's retries resend them unchanged.
            _findExisting = Command(connection, null, "SELECT id FROM webhooks WHERE run_id = @run_id OR body_hash = @body_hash");
            _existingRunId = Add(_findExisting, "@run_id", DbType.String);
            _existingHash = Add(_findExisting, "@body_hash", DbType.Binary);

            _addDelivery = Command(connection, null, """
                INSERT INTO deliveries (webhook_id, handler, state, next_attempt_at, updated_at)
                VALUES (@webhook_id, @handler, 'pending', @now, @now)
                """);
            _deliveryWebhookId = Add(_addDelivery, "@webhook_id", DbType.Int64);
            _handler = Add(_addDelivery, "@handler", DbType.String);
            _deliveryNow = Add(_addDelivery, "@now", DbType.Int64);
        }

        public static async Task<IngestStatements> OpenAsync(SqlInbox inbox, CancellationToken cancellationToken)
        {
            var connection = await inbox.OpenAsync(cancellationToken);
            try
            {
                var statements = new IngestStatements(connection);
                // PostgreSQL then parses and plans each statement once per connection, not once per row.
                await statements._insert.PrepareAsync(cancellationToken);
                await statements._findExisting.PrepareAsync(cancellationToken);
                await statements._addDelivery.PrepareAsync(cancellationToken);
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
            _insert.Transaction = _findExisting.Transaction = _addDelivery.Transaction = transaction;

            var results = new AppendResult[batch.Count];
            // Inserted in run_id order: two replicas storing overlapping batches then wait on each other's rows in the same
            // order and never deadlock (PostgreSQL would abort one batch and its senders would be answered 503).
            var hashes = batch.Select(w => w.RunId is null ? SHA256.HashData(w.Payload) : null).ToArray();
            foreach (var i in Enumerable.Range(0, batch.Count).OrderBy(i => batch[i].RunId ?? Convert.ToHexString(hashes[i]!), StringComparer.Ordinal))
            {
                var webhook = batch[i];
                _runId.Value = (object?)webhook.RunId ?? DBNull.Value;
                _bodyHash.Value = (object?)hashes[i] ?? DBNull.Value;
                _threadId.Value = (object?)webhook.ThreadId ?? DBNull.Value;
                _assistantId.Value = (object?)webhook.AssistantId ?? DBNull.Value;
                _graphId.Value = (object?)webhook.GraphId ?? DBNull.Value;
                _status.Value = (object?)webhook.Status ?? DBNull.Value;
                _receivedAt.Value = webhook.ReceivedAt.ToUnixTimeMilliseconds();
                _payload.Value = webhook.Payload;
                _deployment.Value = (object?)webhook.Deployment ?? DBNull.Value;
                _source.Value = WebhookSources.Name(webhook.Source);
                _traceparent.Value = (object?)webhook.Traceparent ?? DBNull.Value;

                if (await _insert.ExecuteScalarAsync(cancellationToken) is { } id and not DBNull)
                {
                    var webhookId = Convert.ToInt64(id, System.Globalization.CultureInfo.InvariantCulture);
                    results[i] = new AppendResult(webhookId, Duplicate: false);
                    foreach (var name in webhook.Handlers)
                    {
                        _deliveryWebhookId.Value = webhookId;
                        _handler.Value = name;
                        _deliveryNow.Value = webhook.ReceivedAt.ToUnixTimeMilliseconds();
                        await _addDelivery.ExecuteNonQueryAsync(cancellationToken);
                    }
                }
                else
                {
                    _existingRunId.Value = (object?)webhook.RunId ?? DBNull.Value;
                    _existingHash.Value = (object?)hashes[i] ?? DBNull.Value;
                    // Gone only if purged between the two statements: then it is not stored, and the sender must be told so.
                    var existing = await _findExisting.ExecuteScalarAsync(cancellationToken)
                        ?? throw new InvalidOperationException("The stored webhook with this run_id (or body) was purged while a repeat arrived.");
                    results[i] = new AppendResult(Convert.ToInt64(existing, System.Globalization.CultureInfo.InvariantCulture), Duplicate: true);
                }
            }

            await transaction.CommitAsync(cancellationToken);
            return results;
        }

        public async ValueTask DisposeAsync()
        {
            await _insert.DisposeAsync();
            await _findExisting.DisposeAsync();
            await _addDelivery.DisposeAsync();
            await _connection.DisposeAsync();
        }
    }
}
