using System.Diagnostics;

namespace WebhookReceiver.Webhooks;

/// <summary>
/// The receiver's spans, on the one <see cref="ActivitySource"/> named <see cref="SourceName"/> (as the meter). The library
/// only emits them: a host that wants them adds <c>.AddSource("WebhookReceiver")</c> to its tracer provider. While nothing
/// listens to the source (no tracer provider, or one without it), every method here returns at its first check and nothing
/// is read, parsed or stored for tracing. Attribute names follow OpenTelemetry's messaging conventions where one fits
/// (<c>messaging.*</c>), else they are the receiver's own (<c>webhookreceiver.*</c>, <c>langgraph.*</c>); no value is ever a
/// token, a key or a URL with its query.
/// </summary>
internal static class ReceiverTracing
{
    public const string SourceName = "WebhookReceiver";

    /// <summary><c>messaging.system</c>: the webhooks are LangGraph's.</summary>
    public const string MessagingSystem = "langgraph";

    public static readonly ActivitySource Source = new(SourceName);

    /// <summary>Whether a tracer provider listens: only then is a span started or a trace context kept.</summary>
    public static bool Enabled => Source.HasListeners();

    /// <summary>
    /// The current span's W3C <c>traceparent</c>, to keep with a stored webhook so that its later deliveries join this
    /// trace; null while nothing listens or no span is current.
    /// </summary>
    public static string? CurrentTraceparent() => Enabled ? Activity.Current?.Id : null;

    /// <summary>The trace context a stored <c>traceparent</c> names; default when there is none or it does not parse.</summary>
    public static ActivityContext Parse(string? traceparent) =>
        traceparent is not null && ActivityContext.TryParse(traceparent, null, isRemote: true, out var context) ? context : default;

    /// <summary>
    /// A delivery attempt (<c>process {handler}</c>, kind consumer), a child of the span that received its webhook: the
    /// stored trace context, so that it joins that trace whenever and wherever it runs. Null when nothing listens.
    /// </summary>
    public static Activity? StartAttempt(string handler, long deliveryId, long webhookId, int attempt, string? traceparent, long? interruptId)
    {
        if (!Enabled)
        {
            return null;
        }

        var activity = Source.StartActivity("process " + handler, ActivityKind.Consumer, Parse(traceparent));
        if (activity is { IsAllDataRequested: true })
        {
            activity.SetTag("messaging.system", MessagingSystem);
            activity.SetTag("messaging.operation.type", "process");
            activity.SetTag("messaging.operation.name", "process");
            activity.SetTag("messaging.destination.name", handler);
            activity.SetTag("messaging.message.id", webhookId.ToString(System.Globalization.CultureInfo.InvariantCulture));
            activity.SetTag("webhookreceiver.delivery.id", deliveryId);
            activity.SetTag("webhookreceiver.delivery.attempt", attempt);
            if (interruptId is { } id)
            {
                activity.SetTag("webhookreceiver.interrupt.id", id);
            }
        }

        return activity;
    }

    /// <summary>How an attempt ended: its delivery's next state (<c>succeeded</c>, <c>failed</c>, <c>dead</c>, <c>rejected</c>, or <c>released</c> at shutdown) and its redacted error.</summary>
    public static void AttemptEnded(Activity? activity, string outcome, string? error)
    {
        if (activity is not { IsAllDataRequested: true })
        {
            return;
        }

        activity.SetTag("webhookreceiver.delivery.outcome", outcome);
        if (error is not null && outcome != Webhooks.DeliveryState.Rejected)
        {
            activity.SetTag("error.type", ErrorType(error));
            activity.SetStatus(ActivityStatusCode.Error, error);
        }
        else if (error is not null)
        {
            activity.SetTag("webhookreceiver.delivery.held", error);
        }
    }

    /// <summary>
    /// The webhook just answered, on the HTTP server span that received it: the ingest outcome (the <c>outcome</c> label of
    /// <c>webhookreceiver.webhooks.received</c>) and, when it was stored or found stored, its id.
    /// </summary>
    public static void Received(Activity? serverSpan, string outcome, long? webhookId)
    {
        if (serverSpan is not { IsAllDataRequested: true } || !Enabled)
        {
            return;
        }

        serverSpan.SetTag("messaging.system", MessagingSystem);
        serverSpan.SetTag("messaging.operation.type", "receive");
        serverSpan.SetTag("webhookreceiver.ingest.outcome", outcome);
        if (webhookId is { } id)
        {
            serverSpan.SetTag("messaging.message.id", id.ToString(System.Globalization.CultureInfo.InvariantCulture));
        }
    }

    /// <summary>The run a webhook reports, on the span that received (or swept) it: its ids, graph, status and deployment.</summary>
    public static void Describe(Activity? span, NewWebhook webhook)
    {
        if (span is not { IsAllDataRequested: true } || !Enabled)
        {
            return;
        }

        span.SetTag("langgraph.run.id", webhook.RunId);
        span.SetTag("langgraph.thread.id", webhook.ThreadId);
        span.SetTag("langgraph.graph.id", webhook.GraphId);
        span.SetTag("langgraph.run.status", webhook.Status);
        span.SetTag("langgraph.deployment", webhook.Deployment);
    }

    /// <summary>A call to a LangGraph deployment (<c>langgraph {call}</c>, kind client); the HTTP spans of its tries are its children.</summary>
    public static Activity? StartLangGraphCall(string call, string deployment, string method, Uri? baseAddress)
    {
        if (!Enabled)
        {
            return null;
        }

        var activity = Source.StartActivity("langgraph " + call, ActivityKind.Client);
        if (activity is { IsAllDataRequested: true })
        {
            activity.SetTag("langgraph.deployment", deployment);
            activity.SetTag("rpc.method", call);
            activity.SetTag("http.request.method", method);
            if (baseAddress is not null)
            {
                // Host and port only: the base URL is configured, and a path or query could carry what belongs in no span.
                activity.SetTag("server.address", baseAddress.Host);
                activity.SetTag("server.port", baseAddress.Port);
            }
        }

        return activity;
    }

    /// <summary>Starts an internal span (a sweep, a resume); null when nothing listens.</summary>
    public static Activity? StartInternal(string name, ActivityContext link = default)
    {
        if (!Enabled)
        {
            return null;
        }

        return link == default
            ? Source.StartActivity(name, ActivityKind.Internal)
            : Source.StartActivity(name, ActivityKind.Internal, parentContext: default, links: [new ActivityLink(link)]);
    }

    /// <summary>The kind of an attempt's error, from the text the dispatcher records (<c>Type: message</c>, or a timeout).</summary>
    private static string ErrorType(string error) =>
        error.StartsWith("Timed out", StringComparison.Ordinal) ? "timeout"
        : error.IndexOf(':', StringComparison.Ordinal) is > 0 and var colon && !error[..colon].Contains(' ', StringComparison.Ordinal) ? error[..colon]
        : "error";
}
