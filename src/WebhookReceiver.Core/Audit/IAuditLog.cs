namespace WebhookReceiver.Audit;

/// <summary>
/// The audit trail: append-only, stored by the inbox's engine (SQLite or PostgreSQL) and kept for <c>Audit:MaxAge</c>.
/// Written by the commands (and by the console for sign-ins), read by <c>GET /api/audit</c> and the console's audit page.
/// </summary>
internal interface IAuditLog
{
    /// <summary>Stores one record durably (committed when this returns) and answers its id.</summary>
    Task<long> AppendAsync(AuditEntry entry, CancellationToken cancellationToken);

    /// <summary>The records that match, newest first (by id), one page at a time.</summary>
    Task<AuditPage> ListAsync(AuditQuery query, CancellationToken cancellationToken);

    /// <summary>Whether a record of <paramref name="action"/> on <paramref name="target"/> exists: one indexed lookup (the console's session check).</summary>
    Task<bool> ExistsAsync(string action, string target, CancellationToken cancellationToken);

    /// <summary>Deletes up to <paramref name="batchSize"/> records older than <paramref name="before"/>; answers how many.</summary>
    Task<int> PurgeAsync(DateTimeOffset before, int batchSize, CancellationToken cancellationToken);
}
