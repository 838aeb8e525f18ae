using System.Collections.Concurrent;
using System.Diagnostics;
using System.Diagnostics.Metrics;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using WebhookReceiver.Webhooks;

namespace WebhookReceiver.LangGraph;

/// <summary>
/// The LangGraph server could not be asked about a webhook's run (<see cref="VerificationResult.Error"/>): the attempt fails
/// and is retried with the delivery's backoff, as a failing handler is.
/// </summary>
internal sealed class RunVerificationException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>
/// Checks a webhook's run against the LangGraph deployment it came from (<c>LangGraph:Verify</c>), once per webhook, as its
/// first delivery is about to run; never on the ingest path. <c>GET /threads/{thread_id}/runs/{run_id}</c> decides:
/// <c>verified</c> (same status and assistant), <c>mismatch</c>, <c>not_found</c>, <c>unverifiable</c> (stateless run, missing
/// ids, no deployment) or <c>error</c> (not answered; retried). The answer is stored on the webhook, first answer wins, and
/// every later delivery of the webhook reuses it. <c>Require</c> holds mismatch and not_found as <c>rejected</c>; a handler
/// registered with <see cref="HandlerFilter.VerifiedOnly"/> gets verified runs only. A replayed delivery is an admin's
/// decision to deliver it: it is never held. With no deployment configured nothing is read or asked.
/// </summary>
internal sealed partial class RunVerifier : IDeliveryGate
{
    private readonly ILangGraphClients _clients;
    private readonly IRunVerificationStore _store;
    private readonly LangGraphOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger<RunVerifier> _logger;
    private readonly Counter<long> _verifications;

    // The deliveries of one webhook (one per handler) usually start together: they share one question to the server.
    private readonly ConcurrentDictionary<long, Lazy<Task<RunVerification>>> _asking = new();

    public RunVerifier(ILangGraphClients clients, IRunVerificationStore store, IOptions<LangGraphOptions> options, TimeProvider time, IMeterFactory meters, ILogger<RunVerifier> logger)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(meters);
        _clients = clients;
        _store = store;
        _options = options.Value;
        _time = time;
        _logger = logger;
        _verifications = meters.Create(ReceiverMetrics.MeterName).CreateCounter<long>("webhookreceiver.verifications", "{webhook}",
            "Runs checked against their LangGraph deployment, by deployment and result: verified, mismatch, not_found, unverifiable, error (each failed ask).");
    }

    private bool Verifying => _options.Enabled && _options.Verify != VerifyMode.Off;

    /// <summary>
    /// The verdict for <paramref name="delivery"/> of <paramref name="run"/> to a handler that accepts <paramref name="filter"/>:
    /// asks the deployment when the webhook's run has not been verified yet. Throws <see cref="RunVerificationException"/> when
    /// the server could not be asked.
    /// </summary>
    public async Task<DeliveryVerdict> CheckAsync(ClaimedDelivery delivery, LangGraphRun run, HandlerFilter filter, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(delivery);
        ArgumentNullException.ThrowIfNull(run);
        ArgumentNullException.ThrowIfNull(filter);
        if (!_options.Enabled)
        {
            return Verdict(delivery, filter, null, null); // No deployment: as before this feature, but VerifiedOnly still holds.
        }

        var state = await _store.ReadVerificationAsync(delivery.WebhookId, cancellationToken)
            ?? throw new InvalidOperationException($"Webhook {delivery.WebhookId} is not in the inbox any more.");
        var verification = state.Verification;
        if (Verifying && verification is null or { Result: VerificationResult.Error })
        {
            var asking = _asking.GetOrAdd(delivery.WebhookId, id => new(() => VerifyAsync(id, state.Deployment, run)));
            try
            {
                verification = await asking.Value.WaitAsync(cancellationToken);
            }
            finally
            {
                _asking.TryRemove(KeyValuePair.Create(delivery.WebhookId, asking));
            }
        }

        return Verdict(delivery, filter, state.Deployment, Verifying ? verification : null);
    }

    private DeliveryVerdict Verdict(ClaimedDelivery delivery, HandlerFilter filter, string? deployment, RunVerification? verification)
    {
        var replayed = delivery.Attempt - delivery.AttemptInRound > 0;
        string? hold = null;
        if (replayed)
        {
            hold = null;
        }
        else if (_options.Verify == VerifyMode.Require && verification?.Result is VerificationResult.Mismatch or VerificationResult.NotFound)
        {
            hold = $"rejected: verification {verification.Result} (LangGraph:Verify is Require): {verification.Detail}";
        }
        else if (filter.VerifiedRunsOnly && verification is not { IsVerified: true })
        {
            hold = "rejected: the handler takes verified runs only; this run's verification is "
                   + (verification is null ? "off" : $"{verification.Result}{(verification.Detail is null ? "" : ": " + verification.Detail)}");
        }

        return new DeliveryVerdict(deployment, verification, hold);
    }

    /// <summary>Asks and records; bounded by the client's own timeout and retries, not by one attempt's token (others may share it).</summary>
    private async Task<RunVerification> VerifyAsync(long webhookId, string? deployment, LangGraphRun run)
    {
        var cancellationToken = CancellationToken.None;
        var verification = await AskAsync(deployment, run, cancellationToken);
        var (stored, recorded) = await _store.RecordVerificationAsync(webhookId, verification, cancellationToken);
        var tags = new TagList { { "deployment", deployment ?? "" }, { "result", verification.Result } };
        if (verification.Result == VerificationResult.Error)
        {
            _verifications.Add(1, tags);
            LogVerificationFailed(_logger, run.RunId, deployment, verification.Detail);
            throw new RunVerificationException($"Could not verify the run with LangGraph deployment '{deployment}': {verification.Detail}");
        }

        if (recorded)
        {
            _verifications.Add(1, tags);
            if (verification.Result is VerificationResult.Mismatch or VerificationResult.NotFound)
            {
                LogRunNotConfirmed(_logger, run.RunId, deployment, verification.Result, verification.Detail);
            }
        }

        return stored;
    }

    /// <summary>Asks the deployment about the run; never throws for the server's sake: a failed ask is an <c>error</c> result.</summary>
    private async Task<RunVerification> AskAsync(string? deployment, LangGraphRun run, CancellationToken cancellationToken)
    {
        if (deployment is null)
        {
            return Result(VerificationResult.Unverifiable, "the webhook is attributed to no deployment: several are configured and its token is in none's Tokens");
        }

        if (run.IsTemporary)
        {
            return Result(VerificationResult.Unverifiable, "a stateless run (kwargs.temporary): the server deletes its thread before it sends the webhook");
        }

        if (run.RunId is not { } runId || run.ThreadId is not { } threadId)
        {
            return Result(VerificationResult.Unverifiable, "the webhook has no run_id or no thread_id to look the run up by");
        }

        LangGraphClient client;
        try
        {
            client = _clients.ForDeployment(deployment);
        }
        catch (KeyNotFoundException)
        {
            return Result(VerificationResult.Unverifiable, $"deployment '{deployment}' is no longer configured");
        }

        LangGraphRun? server;
        try
        {
            server = await client.GetRunAsync(threadId, runId, cancellationToken);
        }
        catch (LangGraphApiException ex)
        {
            return Result(VerificationResult.Error, ex.Message);
        }

        if (server is null)
        {
            return Result(VerificationResult.NotFound, $"deployment '{deployment}' has no run {runId} in thread {threadId}");
        }

        // A run the server still shows as unfinished is asked about again at the next attempt, not judged now.
        if (server.Status is "pending" or "running")
        {
            return Result(VerificationResult.Error, $"the server still reports the run as {server.Status}");
        }

        var differences = new List<string>();
        if (run.Status is not null && !string.Equals(run.Status, server.Status, StringComparison.Ordinal))
        {
            differences.Add($"status: the webhook says '{run.Status}', the server '{server.Status}'");
        }

        if (run.AssistantId is not null && !string.Equals(run.AssistantId, server.AssistantId, StringComparison.Ordinal))
        {
            differences.Add($"assistant_id: the webhook says '{run.AssistantId}', the server '{server.AssistantId}'");
        }

        return differences.Count == 0
            ? Result(VerificationResult.Verified, null)
            : Result(VerificationResult.Mismatch, string.Join("; ", differences));
    }

    private RunVerification Result(string result, string? detail) => new(result, detail, _time.GetUtcNow());

    [LoggerMessage(Level = LogLevel.Warning, Message = "Run {RunId} from LangGraph deployment {Deployment} is not confirmed by the server: {Result}: {Reason}")]
    private static partial void LogRunNotConfirmed(ILogger logger, string? runId, string? deployment, string result, string? reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Run {RunId} could not be verified with LangGraph deployment {Deployment}; the delivery is retried: {Reason}")]
    private static partial void LogVerificationFailed(ILogger logger, string? runId, string? deployment, string? reason);
}
