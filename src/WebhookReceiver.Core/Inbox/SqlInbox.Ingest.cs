using System.Data;
using System.Data.Common;
using System.Security.Cryptography;

namespace WebhookReceiver.Inbox;

// What ingest writes: new webhooks and their deliveries, with dedup by run_id or body hash.
internal abstract partial class SqlInbox : IInboxIngest
{
    public async Task<IReadOnlyList<AppendResult>> AppendAsync(IReadOnlyList<NewWebhook> batch, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken);
        using var turn = await WaitWriteTurnAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);

        await using var insert = Command(connection, transaction, """
            INSERT INTO webhooks (run_id, thread_id, assistant_id, graph_id, status, received_at, payload, body_hash, deployment, source, traceparent)
            VALUES (@run_id, @thread_id, @assistant_id, @graph_id, @status, @received_at, @payload, @body_hash, @deployment, @source, @traceparent)
            ON CONFLICT DO NOTHING
            RETURNING id
            """);
        var runId = Add(insert, "run_id", DbType.String);
        var threadId = Add(insert, "thread_id", DbType.String);
        var assistantId = Add(insert, "assistant_id", DbType.String);
        var graphId = Add(insert, "graph_id", DbType.String);
        var status = Add(insert, "status", DbType.String);
        var receivedAt = Add(insert, "received_at", DbType.Int64);
        var payload = Add(insert, "payload", DbType.Binary);
        var bodyHash = Add(insert, "body_hash", DbType.Binary);
        var deployment = Add(insert, "deployment", DbType.String);
        var source = Add(insert, "source", DbType.String);
        var traceparent = Add(insert, "traceparent", DbType.String);

        // A body without a run_id is known by its bytes: LangGraph's retries resend them unchanged.
        await using var findExisting = Command(connection, transaction, "SELECT id FROM webhooks WHERE run_id = @run_id OR body_hash = @body_hash");
        var existingRunId = Add(findExisting, "run_id", DbType.String);
        var existingHash = Add(findExisting, "body_hash", DbType.Binary);

        await using var addDelivery = Command(connection, transaction, """
            INSERT INTO deliveries (webhook_id, handler, state, next_attempt_at, updated_at)
            VALUES (@webhook_id, @handler, 'pending', @now, @now)
            """);
        var deliveryWebhookId = Add(addDelivery, "webhook_id", DbType.Int64);
        var handler = Add(addDelivery, "handler", DbType.String);
        var deliveryNow = Add(addDelivery, "now", DbType.Int64);

        var results = new AppendResult[batch.Count];
        // Inserted in run_id order: two replicas storing overlapping batches then wait on each other's rows in the same
        // order and never deadlock (PostgreSQL would abort one batch and its senders would be answered 503).
        var hashes = batch.Select(w => w.RunId is null ? SHA256.HashData(w.Payload) : null).ToArray();
        foreach (var i in Enumerable.Range(0, batch.Count).OrderBy(i => batch[i].RunId ?? Convert.ToHexString(hashes[i]!), StringComparer.Ordinal))
        {
            var webhook = batch[i];
            runId.Value = (object?)webhook.RunId ?? DBNull.Value;
            bodyHash.Value = (object?)hashes[i] ?? DBNull.Value;
            threadId.Value = (object?)webhook.ThreadId ?? DBNull.Value;
            assistantId.Value = (object?)webhook.AssistantId ?? DBNull.Value;
            graphId.Value = (object?)webhook.GraphId ?? DBNull.Value;
            status.Value = (object?)webhook.Status ?? DBNull.Value;
            receivedAt.Value = webhook.ReceivedAt.ToUnixTimeMilliseconds();
            payload.Value = webhook.Payload;
            deployment.Value = (object?)webhook.Deployment ?? DBNull.Value;
            source.Value = WebhookSources.Name(webhook.Source);
            traceparent.Value = (object?)webhook.Traceparent ?? DBNull.Value;

            if (await insert.ExecuteScalarAsync(cancellationToken) is { } id and not DBNull)
            {
                var webhookId = Convert.ToInt64(id, System.Globalization.CultureInfo.InvariantCulture);
                results[i] = new AppendResult(webhookId, Duplicate: false);
                foreach (var name in webhook.Handlers)
                {
                    deliveryWebhookId.Value = webhookId;
                    handler.Value = name;
                    deliveryNow.Value = webhook.ReceivedAt.ToUnixTimeMilliseconds();
                    await addDelivery.ExecuteNonQueryAsync(cancellationToken);
                }
            }
            else
            {
                existingRunId.Value = (object?)webhook.RunId ?? DBNull.Value;
                existingHash.Value = (object?)hashes[i] ?? DBNull.Value;
                // Gone only if purged between the two statements: then it is not stored, and the sender must be told so.
                var existing = await findExisting.ExecuteScalarAsync(cancellationToken)
                    ?? throw new InvalidOperationException("The stored webhook with this run_id (or body) was purged while a repeat arrived.");
                results[i] = new AppendResult(Convert.ToInt64(existing, System.Globalization.CultureInfo.InvariantCulture), Duplicate: true);
            }
        }

        await transaction.CommitAsync(cancellationToken);
        return results;
    }
}
