using System.Diagnostics;
using System.Diagnostics.Metrics;
using Microsoft.Extensions.Options;
using WebhookReceiver.Kernel;

namespace WebhookReceiver.Webhooks;

/// <summary>The values of the <c>outcome</c> label of <c>webhookreceiver.webhooks.received</c>: these and no others.</summary>
internal static class IngestOutcome
{
    public const string Accepted = "accepted";
    /// <summary>Stored, but the body had no usable run_id (see <c>webhooks.allowed_fields</c>).</summary>
    public const string AcceptedWithoutRunId = "accepted_without_run_id";
    public const string Duplicate = "duplicate";
    public const string Unauthorized = "unauthorized";
    public const string Invalid = "invalid";
    public const string TooLarge = "too_large";
    public const string RateLimited = "rate_limited";
    public const string StoreUnavailable = "store_unavailable";

    public static readonly IReadOnlyList<string> All = [Accepted, AcceptedWithoutRunId, Duplicate, Unauthorized, Invalid, TooLarge, RateLimited, StoreUnavailable];
}

/// <summary>The values of the <c>outcome</c> label of <c>webhookreceiver.sweep.runs</c>: what a sweep did with each run it saw.</summary>
internal static class SweepOutcome
{
    /// <summary>Stored (<c>source: sweep</c>) and dispatched: its webhook never arrived.</summary>
    public const string Recovered = "recovered";
    public const string AlreadyHeld = "already_held";
    /// <summary>Its <c>kwargs.webhook</c> does not point at this receiver (<c>Sweep:Scope</c> is <c>ThisReceiver</c>).</summary>
    public const string OutOfScope = "out_of_scope";
    /// <summary>Finished less than <c>Sweep:Grace</c> ago: left to its webhook for now.</summary>
    public const string TooRecent = "too_recent";
    public const string NotFinished = "not_finished";
    /// <summary>Finished before <c>Sweep:Lookback</c>.</summary>
    public const string TooOld = "too_old";
    /// <summary>A stateless run (<c>kwargs.temporary</c>): its thread is deleted before its webhook is sent, so it can never be recovered.</summary>
    public const string Unrecoverable = "unrecoverable";

    public static readonly IReadOnlyList<string> All = [Recovered, AlreadyHeld, OutOfScope, TooRecent, NotFinished, TooOld, Unrecoverable];
}

/// <summary>
/// The receiver's instruments, on the meter <see cref="MeterName"/>. Every label holds a bounded value: an outcome from a
/// fixed list, a delivery state, or a handler name (handlers are configured, not sent). Never a run id, a token or a URL:
/// each distinct label value is a time series kept forever by whoever scrapes it.
/// </summary>
internal sealed class ReceiverMetrics
{
    public const string MeterName = "WebhookReceiver";

    private static readonly double[] DurationBuckets = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];
    private static readonly double[] LagBuckets = [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600];

    private readonly Counter<long> _received;
    private readonly Histogram<double> _ingestDuration;
    private readonly Counter<long> _attempts;
    private readonly Histogram<double> _attemptDuration;
    private readonly Histogram<double> _dispatchLag;
    private readonly Counter<long> _deadLetters;
    private readonly Counter<long> _sweepRuns;
    private readonly Counter<long> _sweeps;
    private readonly Histogram<double> _pauseToResume;

    private readonly TimeProvider _time;
    private readonly StoreReading<Measurement<long>[]> _pending;
    private readonly StoreReading<OldestWaiting> _oldest;
    private Measurement<long>[] _alertsOpen = [];

    /// <summary>
    /// Creates the instruments on the meter <see cref="MeterName"/>, then those of every <see cref="IMetricSource"/> a module
    /// above registered (its gauges over its own store), so that one scrape shows them all.
    /// </summary>
    public ReceiverMetrics(IMeterFactory meters, IInboxQueries inbox, HandlerCatalog catalog, TimeProvider time, IOptions<MetricsOptions> options,
        IEnumerable<IMetricSource> sources)
    {
        _time = time;
        var interval = options.Value.PendingRefreshInterval;
        _pending = new StoreReading<Measurement<long>[]>(async (_, cancellationToken) =>
        {
            var counts = await inbox.CountDeliveriesAsync(cancellationToken);
            var pending = counts.Where(c => c.State is DeliveryState.Pending or DeliveryState.Failed)
                .GroupBy(c => c.Handler)
                .ToDictionary(g => g.Key, g => g.Sum(c => c.Count), StringComparer.Ordinal);
            // Every registered handler appears, at 0 when it has nothing waiting, so a drained queue reads 0 rather than
            // vanishing; handlers no longer registered appear while they still have deliveries waiting.
            return [.. catalog.Handlers.Select(h => h.Name).Union(pending.Keys)
                .Select(name => new Measurement<long>(pending.GetValueOrDefault(name), new KeyValuePair<string, object?>("handler", name)))];
        }, time, interval);
        _oldest = new StoreReading<OldestWaiting>((_, cancellationToken) => inbox.ReadOldestWaitingAsync(cancellationToken), time, interval);

        var meter = meters.Create(MeterName);
        _received = meter.CreateCounter<long>("webhookreceiver.webhooks.received", "{webhook}",
            "Webhooks answered, by outcome: accepted, accepted_without_run_id, duplicate, unauthorized, invalid, too_large, rate_limited, store_unavailable; and by source: webhook (posted by LangGraph) or sweep (recovered from its API: accepted or duplicate).");
        _ingestDuration = meter.CreateHistogram("webhookreceiver.ingest.duration", "s",
            "From the start of the webhook endpoint to its answer (for accepted ones: until durably stored), by outcome.",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = DurationBuckets });
        _attempts = meter.CreateCounter<long>("webhookreceiver.delivery.attempts", "{attempt}",
            "Finished handler attempts, by handler and outcome: succeeded, failed (a retry is scheduled), dead (dead-lettered) or abandoned (its process stopped before it finished).");
        _attemptDuration = meter.CreateHistogram("webhookreceiver.delivery.duration", "s",
            "How long one handler attempt ran, by handler and outcome.",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = DurationBuckets });
        _dispatchLag = meter.CreateHistogram("webhookreceiver.dispatch.lag", "s",
            "From a webhook being stored to a handler's first attempt starting, by handler.",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = LagBuckets });
        _sweepRuns = meter.CreateCounter<long>("webhookreceiver.sweep.runs", "{run}",
            "Runs a LangGraph sweep looked at, by deployment and outcome: recovered, already_held, out_of_scope, too_recent, not_finished, too_old, unrecoverable (stateless runs).");
        _sweeps = meter.CreateCounter<long>("webhookreceiver.sweeps", "{sweep}",
            "Sweeps of a LangGraph deployment that ended, by deployment and status: swept, partial (stopped by its budget; the next one resumes) or failed (the server or the store failed).");
        _deadLetters = meter.CreateCounter<long>("webhookreceiver.dead_letters", "{delivery}",
            "Deliveries dead-lettered after their last attempt failed or was abandoned, by handler.");
        meter.CreateObservableGauge("webhookreceiver.deliveries.pending", ObservePending, "{delivery}",
            "Deliveries not yet succeeded nor dead (new or waiting for a retry), by handler; counted at most every PendingRefreshInterval.");
        _pauseToResume = meter.CreateHistogram("webhookreceiver.interrupts.resume_delay", "s",
            "From a thread's pause being found to its resume through the receiver, by deployment and graph.",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [1, 5, 15, 60, 300, 900, 3600, 4 * 3600, 24 * 3600, 7 * 24 * 3600] });
        meter.CreateObservableGauge("webhookreceiver.deliveries.oldest_pending_age", ObserveOldestDue, "s",
            "Seconds since the longest-waiting unfinished delivery became due (a new one: since it was stored; a retry: since its backoff ended), 0 when none is due; its due time is read at most every PendingRefreshInterval.");
        meter.CreateObservableGauge("webhookreceiver.alerts.open", () => Volatile.Read(ref _alertsOpen), "{alert}",
            "Alerts not resolved yet, by kind (dead_handler, sweep_recovered, sweep_failed, interrupt_waiting, store_unavailable) and state (open: not acknowledged yet; acknowledged); set by the alert evaluator every Alerts:Interval (0 for every kind from start-up until its first round).");
        foreach (var source in sources)
        {
            source.CreateInstruments(meter);
        }

        SeedSeries(catalog);
    }

    /// <summary>
    /// Sets the <c>alerts.open</c> gauge: unresolved alerts by kind and state (<c>open</c>: nobody acknowledged it yet;
    /// <c>acknowledged</c>), as the alert evaluator counted them in its last round (every replica counts the same stored
    /// alerts: aggregate with max, not sum).
    /// </summary>
    public void AlertsOpen(IReadOnlyDictionary<(string Kind, string State), long> counts)
    {
        ArgumentNullException.ThrowIfNull(counts);
        Volatile.Write(ref _alertsOpen, counts.Select(c => new Measurement<long>(c.Value,
            new KeyValuePair<string, object?>("kind", c.Key.Kind), new KeyValuePair<string, object?>("state", c.Key.State))).ToArray());
    }

    /// <summary>The statuses a sweep ends with, as counted by <c>webhookreceiver.sweeps</c> (a busy one is not counted).</summary>
    public static readonly IReadOnlyList<string> SweepStatuses = ["swept", "partial", "failed"];

    private static readonly string[] AttemptOutcomes = [DeliveryState.Succeeded, DeliveryState.Failed, DeliveryState.Dead, "abandoned"];

    // Every counter series that the shipped rules and dashboard read exists from start-up, at 0, for every known handler and
    // outcome: increase() over a series that first appears at 1 is 0, so without this the first dead letter after a restart (or
    // on a new replica) would not fire WebhookReceiverDeadLetters. Histograms are left to their first observation: an empty
    // one cannot be written without counting an observation, and the dashboard's quantiles need none before it.
    private void SeedSeries(HandlerCatalog catalog)
    {
        foreach (var outcome in IngestOutcome.All)
        {
            _received.Add(0, new TagList { { "outcome", outcome }, { "source", WebhookSources.Webhook } });
        }

        foreach (var outcome in new[] { IngestOutcome.Accepted, IngestOutcome.Duplicate })
        {
            _received.Add(0, new TagList { { "outcome", outcome }, { "source", WebhookSources.Sweep } });
        }

        foreach (var handler in catalog.Handlers.Select(h => h.Name).Concat(catalog.InterruptHandlers.Select(h => h.Name)).Distinct(StringComparer.Ordinal))
        {
            _deadLetters.Add(0, new KeyValuePair<string, object?>("handler", handler));
            foreach (var outcome in AttemptOutcomes)
            {
                _attempts.Add(0, new TagList { { "handler", handler }, { "outcome", outcome } });
            }
        }

        // The gauges over the store start their first read now, so the first scrape finds them.
        _ = _pending.Current;
        _ = _oldest.Current;
    }

    /// <summary>Makes the sweep series of <paramref name="deployment"/> exist at 0 (every status and outcome), before its first sweep.</summary>
    public void SweepSeries(string deployment)
    {
        foreach (var status in SweepStatuses)
        {
            _sweeps.Add(0, new TagList { { "deployment", deployment }, { "status", status } });
        }

        foreach (var outcome in SweepOutcome.All)
        {
            _sweepRuns.Add(0, new TagList { { "deployment", deployment }, { "outcome", outcome } });
        }
    }

    /// <summary>An interrupt was resumed through the receiver, <paramref name="waited"/> after its pause was found.</summary>
    public void InterruptResumed(string deployment, string? graphId, TimeSpan waited) =>
        _pauseToResume.Record(Math.Max(0, waited.TotalSeconds), new TagList { { "deployment", deployment }, { "graph", graphId ?? "" } });

    /// <summary>Marks the start of an ingest; pass the value to <see cref="WebhookReceived"/>.</summary>
    public long StartIngest() => _time.GetTimestamp();

    public void WebhookReceived(string outcome, long startedAt)
    {
        var tag = new KeyValuePair<string, object?>("outcome", outcome);
        _received.Add(1, tag, new KeyValuePair<string, object?>("source", WebhookSources.Webhook));
        _ingestDuration.Record(_time.GetElapsedTime(startedAt).TotalSeconds, tag);
    }

    /// <summary>
    /// A sweep of <paramref name="deployment"/> judged <paramref name="count"/> runs as <paramref name="outcome"/> (a
    /// <see cref="SweepOutcome"/>); those it stored are also counted as received, with <c>source</c> <c>sweep</c>.
    /// </summary>
    public void SweepRuns(string deployment, string outcome, int count)
    {
        if (count <= 0)
        {
            return;
        }

        _sweepRuns.Add(count, new TagList { { "deployment", deployment }, { "outcome", outcome } });
        if (outcome is SweepOutcome.Recovered or SweepOutcome.AlreadyHeld)
        {
            _received.Add(count, new TagList { { "outcome", outcome == SweepOutcome.Recovered ? IngestOutcome.Accepted : IngestOutcome.Duplicate }, { "source", WebhookSources.Sweep } });
        }
    }

    /// <summary>A sweep of <paramref name="deployment"/> ended with <paramref name="status"/> (swept, partial or failed).</summary>
    public void SweepEnded(string deployment, string status) =>
        _sweeps.Add(1, new TagList { { "deployment", deployment }, { "status", status } });

    /// <summary>A handler attempt starts: the first attempt of a delivery records how long it waited since the webhook was stored.</summary>
    public void AttemptStarted(string handler, int attempt, DateTimeOffset receivedAt, DateTimeOffset startedAt)
    {
        // Later attempts wait for their backoff on purpose; counting them would hide a dispatcher that falls behind.
        if (attempt == 1)
        {
            _dispatchLag.Record(Math.Max(0, (startedAt - receivedAt).TotalSeconds), new KeyValuePair<string, object?>("handler", handler));
        }
    }

    /// <summary>A handler attempt finished and its delivery moved to <paramref name="state"/> (a <see cref="DeliveryState"/>).</summary>
    public void AttemptFinished(string handler, string state, TimeSpan duration)
    {
        var tags = new TagList { { "handler", handler }, { "outcome", state } };
        _attempts.Add(1, tags);
        _attemptDuration.Record(duration.TotalSeconds, tags);
        if (state == DeliveryState.Dead)
        {
            _deadLetters.Add(1, new KeyValuePair<string, object?>("handler", handler));
        }
    }

    /// <summary>
    /// An attempt was found abandoned (its process stopped before it finished) and its delivery moved to
    /// <paramref name="state"/>: counted as an attempt with outcome <c>abandoned</c>, and as a dead letter when the
    /// delivery is now <c>dead</c>. No duration: when it stopped is unknown.
    /// </summary>
    public void AttemptAbandoned(string handler, string state)
    {
        _attempts.Add(1, new TagList { { "handler", handler }, { "outcome", "abandoned" } });
        if (state == DeliveryState.Dead)
        {
            _deadLetters.Add(1, new KeyValuePair<string, object?>("handler", handler));
        }
    }

    private IEnumerable<Measurement<long>> ObservePending() => _pending.Current ?? [];

    // The age grows between two reads of the store (it is now minus a stored time); nothing is reported before the first read.
    private IEnumerable<Measurement<double>> ObserveOldestDue() =>
        _oldest.Current is not { } oldest ? []
            : [new Measurement<double>(oldest.DeliveryDueAt is { } at ? Math.Max(0, (_time.GetUtcNow() - at).TotalSeconds) : 0)];
}

/// <summary>
/// Instruments a module above the webhooks creates on the receiver's meter (for example gauges over its own store), created
/// with <see cref="ReceiverMetrics"/> so they exist from start-up. Register with <c>TryAddEnumerable</c>.
/// </summary>
internal interface IMetricSource
{
    void CreateInstruments(Meter meter);
}
