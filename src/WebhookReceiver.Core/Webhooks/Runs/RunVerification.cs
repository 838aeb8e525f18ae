namespace WebhookReceiver.Webhooks;

/// <summary>The values of a webhook's <c>verification</c>: what its LangGraph deployment said about the run (<c>LangGraph:Verify</c>).</summary>
public static class VerificationResult
{
    /// <summary>The server has the run, with the status and assistant the webhook reports.</summary>
    public const string Verified = "verified";

    /// <summary>The server has the run, but its status or assistant differ from the webhook's (the detail says which).</summary>
    public const string Mismatch = "mismatch";

    /// <summary>The server has no such run (or thread): forged, or from another deployment, or its thread was deleted since.</summary>
    public const string NotFound = "not_found";

    /// <summary>
    /// Cannot be checked: a stateless run (<c>kwargs.temporary</c>: its thread is deleted before the webhook is sent), a body
    /// without <c>run_id</c> or <c>thread_id</c>, or a webhook attributed to no deployment.
    /// </summary>
    public const string Unverifiable = "unverifiable";

    /// <summary>The server could not be asked (down, 5xx after retries, wrong API key): the attempt fails and is retried with backoff.</summary>
    public const string Error = "error";

    public static readonly IReadOnlyList<string> All = [Verified, Mismatch, NotFound, Unverifiable, Error];
}

/// <summary>What a LangGraph deployment said about a webhook's run, checked once before the webhook's first delivery runs.</summary>
/// <param name="Result">A <see cref="VerificationResult"/>.</param>
/// <param name="Detail">Why, in words: which field differs for a mismatch, the server's error for an error; null when verified.</param>
/// <param name="CheckedAt">When the server was asked.</param>
public sealed record RunVerification(string Result, string? Detail, DateTimeOffset CheckedAt)
{
    /// <summary>True when the server confirmed the run as the webhook reports it.</summary>
    public bool IsVerified => Result == VerificationResult.Verified;
}
