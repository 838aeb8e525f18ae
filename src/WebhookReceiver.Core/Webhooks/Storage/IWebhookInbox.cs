namespace WebhookReceiver.Webhooks;

/// <summary>
/// The durable inbox: received webhooks, one delivery per matching handler, and every attempt.
/// One contract for every engine; the same contract tests run against each.
/// </summary>
internal interface IWebhookInbox : IInboxIngest, IInboxDeliveries, IInboxQueries, IInboxMaintenance;

/// <summary>What ingest needs: store what arrived.</summary>
internal interface IInboxIngest
{
    /// <summary>
    /// Stores new webhooks with their deliveries in one transaction; a <c>run_id</c> already stored is a duplicate, and so is
    /// a body without a <c>run_id</c> whose bytes (SHA-256) are already stored.
    /// </summary>
    Task<IReadOnlyList<AppendResult>> AppendAsync(IReadOnlyList<NewWebhook> batch, CancellationToken cancellationToken);
}

/// <summary>What the dispatcher needs: lease due deliveries, record their attempts, give leases back.</summary>
internal interface IInboxDeliveries
{
    /// <summary>
    /// Leases up to <paramref name="max"/> due deliveries to <paramref name="owner"/> until <paramref name="leaseUntil"/>.
    /// A delivery whose expired lease still has an owner (the attempt under it never got an outcome: its process died) has
    /// that attempt recorded as abandoned, in the same transaction; when it was the round's <paramref name="maxAttempts"/>-th
    /// attempt the delivery is dead-lettered instead of leased. Both are listed in <see cref="ClaimBatch.Abandoned"/>, so the
    /// caller can count them.
    /// </summary>
    Task<ClaimBatch> ClaimDueAsync(string owner, DateTimeOffset now, DateTimeOffset leaseUntil, int max, int maxAttempts, CancellationToken cancellationToken);

    /// <summary>Records finished attempts in one transaction; each entry tells whether its attempt was recorded (false: lease lost).</summary>
    Task<IReadOnlyList<bool>> CompleteAttemptsAsync(IReadOnlyList<AttemptResult> results, CancellationToken cancellationToken);

    /// <summary>Gives leased deliveries back without counting an attempt (shutdown).</summary>
    Task ReleaseAsync(string owner, IReadOnlyCollection<long> deliveryIds, CancellationToken cancellationToken);

    /// <summary>
    /// Expires the leases left by a previous run of this process, so the next claim takes them over and records their
    /// attempts as abandoned (engines used by one process only; elsewhere leases are taken over when they expire).
    /// </summary>
    Task RecoverAsync(CancellationToken cancellationToken);
}

/// <summary>What the query API needs: read webhooks and their deliveries, make deliveries due again.</summary>
internal interface IInboxQueries
{
    Task<WebhookPage> ListAsync(WebhookQuery query, CancellationToken cancellationToken);

    Task<StoredWebhook?> GetAsync(long id, CancellationToken cancellationToken);

    Task<StoredWebhook?> GetByRunIdAsync(string runId, CancellationToken cancellationToken);

    /// <summary>Makes a webhook's deliveries due now (all, or one handler's, created if missing); null when no such webhook.</summary>
    Task<int?> ReplayAsync(long webhookId, IReadOnlyCollection<string> handlers, DateTimeOffset now, CancellationToken cancellationToken);

    /// <summary>
    /// Makes every dead delivery of the webhooks matching <paramref name="query"/> due now, and of the interrupts matching it
    /// (by thread, assistant, graph, deployment and time seen; none when it asks for a run status, verification or source).
    /// </summary>
    Task<int> ReplayDeadAsync(WebhookQuery query, string? handler, DateTimeOffset now, CancellationToken cancellationToken);

    /// <summary>Delivery counts by handler and state, those of webhooks apart from those of interrupts.</summary>
    Task<IReadOnlyList<DeliveryCount>> CountDeliveriesAsync(CancellationToken cancellationToken);

    /// <summary>The earliest due time of an unfinished delivery and the oldest waiting interrupt (for the age gauges).</summary>
    Task<OldestWaiting> ReadOldestWaitingAsync(CancellationToken cancellationToken);
}

/// <summary>What start-up, retention and the alerts need: redaction, purge, ping.</summary>
internal interface IInboxMaintenance
{
    /// <summary>
    /// Rewrites, once, the payloads stored before bodies were redacted on arrival (the schema version that introduced it
    /// left a marker): each payload for which <paramref name="redact"/> returns new bytes is replaced, then the marker
    /// is removed. Safe to run again or concurrently: a payload already redacted is left alone. Returns the rows rewritten.
    /// </summary>
    Task<int> RedactStoredPayloadsAsync(Func<byte[], byte[]?> redact, CancellationToken cancellationToken);

    /// <summary>
    /// Deletes up to <paramref name="batchSize"/> webhooks received, and as many interrupts seen, before the cutoffs (those with
    /// a dead letter by its own cutoff), with their deliveries and attempts; never one still due, nor an interrupt still waiting.
    /// </summary>
    Task<PurgeCounts> PurgeAsync(DateTimeOffset receivedBefore, DateTimeOffset deadReceivedBefore, int batchSize, CancellationToken cancellationToken);

    /// <summary>Throws when the store cannot be reached or written.</summary>
    Task PingAsync(CancellationToken cancellationToken);
}
