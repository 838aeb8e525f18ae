namespace WebhookReceiver.Kernel;

/// <summary>
/// What an indexed column (run_id, status, assistant_id, graph_id, thread_id) holds, the same on every engine:
/// PostgreSQL text holds no NUL, and index rows are limited. Ingest decides with it what is indexed; lookups decide
/// with it whether a value could match anything at all.
/// </summary>
internal static class IndexableText
{
    /// <summary>Longest id, status or graph id that is indexed: LangGraph's are UUIDs and short words.</summary>
    public const int MaxLength = 512;

    /// <summary>The value as indexed, or null when it cannot be (too long, or holds a control character).</summary>
    public static string? IndexValue(string? value) =>
        value is { Length: <= MaxLength } && !value.AsSpan().ContainsAnyInRange('\0', '\u001f') ? value : null;

    /// <summary>Whether a lookup value is one the index could hold: not longer than <see cref="MaxLength"/>, no NUL.</summary>
    public static bool CanMatch(string value) => value.Length <= MaxLength && !value.Contains('\0', StringComparison.Ordinal);
}
