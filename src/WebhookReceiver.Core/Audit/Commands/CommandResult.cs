namespace WebhookReceiver.Audit;

/// <summary>How a command ended; the <c>/api</c> endpoint maps it to an HTTP answer, the console to a page.</summary>
internal enum CommandStatus
{
    /// <summary>Done: <see cref="CommandResult{T}.Value"/> holds what it did.</summary>
    Done,

    /// <summary>The caller's role does not allow it (403): nothing was done.</summary>
    Forbidden,

    /// <summary>Its target (or the named handler or deployment) does not exist (404); <see cref="CommandResult{T}.Detail"/> says which.</summary>
    NotFound,

    /// <summary>It cannot be done now (409): <see cref="CommandResult{T}.Detail"/> says why.</summary>
    Conflict,
}

/// <summary>What a command answers: its status, and its value when <see cref="CommandStatus.Done"/>.</summary>
internal sealed record CommandResult<T>(CommandStatus Status, T? Value = default, string? Detail = null)
{
    public static CommandResult<T> Done(T value) => new(CommandStatus.Done, value);

    public static CommandResult<T> Forbidden() => new(CommandStatus.Forbidden, Detail: "Your role does not allow this.");

    public static CommandResult<T> NotFound(string detail) => new(CommandStatus.NotFound, Detail: detail);

    public static CommandResult<T> Conflict(string detail) => new(CommandStatus.Conflict, Detail: detail);
}
