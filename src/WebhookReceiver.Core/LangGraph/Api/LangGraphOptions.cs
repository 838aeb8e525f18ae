using System.ComponentModel.DataAnnotations;
using Microsoft.Extensions.Options;

namespace WebhookReceiver.LangGraph;

/// <summary>
/// <c>WebhookReceiver:LangGraph</c>: the LangGraph deployments the receiver may call back (to verify runs, recover missed
/// webhooks and read threads). No deployment configured: nothing here is used and the receiver never calls LangGraph.
/// </summary>
internal sealed class LangGraphOptions
{
    /// <summary>The configuration section bound to these options.</summary>
    public const string Section = "WebhookReceiver:LangGraph";

    /// <summary>The deployments, each with a unique <see cref="LangGraphDeploymentOptions.Name"/>.</summary>
    [ValidateEnumeratedItems]
    public List<LangGraphDeploymentOptions> Deployments { get; set; } = [];

    /// <summary>Whether a webhook is checked against the server before its handlers run; used only with a deployment configured.</summary>
    public VerifyMode Verify { get; set; } = VerifyMode.Annotate;

    /// <summary>
    /// Human in the loop: after each stored <c>success</c> webhook the run's thread is asked for (once) and a pause at
    /// <c>interrupt()</c> or a breakpoint is recorded as an interrupt. False saves that call when no one resumes threads here.
    /// </summary>
    public bool DetectInterrupts { get; set; } = true;

    /// <summary>
    /// The receiver's webhook URL as LangGraph sees it (behind a proxy, for example <c>https://hooks.example.com/webhooks/langgraph</c>):
    /// an absolute http(s) URL, or empty to recognise this receiver's runs by the webhook path alone.
    /// </summary>
    public string? PublicUrl { get; set; }

    /// <summary>How long one call to a LangGraph server may take before it is abandoned (and, for reads, retried).</summary>
    [Range(typeof(TimeSpan), "00:00:00.001", "00:10:00")]
    public TimeSpan RequestTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Retries of a read that got 429, 5xx or no answer in time; 0 switches retries off.</summary>
    [Range(0, 10)]
    public int MaxRetries { get; set; } = 3;

    /// <summary>Wait before the first retry; it doubles with each retry, with jitter. A <c>Retry-After</c> from the server wins.</summary>
    [Range(typeof(TimeSpan), "00:00:00", "00:10:00")]
    public TimeSpan RetryDelay { get; set; } = TimeSpan.FromSeconds(1);

    [Required, ValidateObjectMembers]
    public SweepOptions Sweep { get; set; } = new();

    /// <summary>True when at least one deployment is configured, which switches the LangGraph features on.</summary>
    public bool Enabled => Deployments.Count > 0;

    /// <summary>The API keys and webhook tokens of every deployment: secrets to scrub from logs, responses and messages.</summary>
    public IEnumerable<string> Secrets() =>
        Deployments.SelectMany(d => d.Tokens.Prepend(d.ApiKey ?? "")).Where(s => !string.IsNullOrEmpty(s));
}

/// <summary>One LangGraph server (a LangSmith Deployment, a self-hosted Agent Server, or <c>langgraphjs dev</c>).</summary>
internal sealed class LangGraphDeploymentOptions
{
    /// <summary>Unique name: stored with each webhook attributed to this deployment, and the key of its client in <see cref="ILangGraphClients"/>.</summary>
    [RegularExpression("^[A-Za-z0-9_.-]+$", ErrorMessage = "A LangGraph deployment's Name may hold letters, digits, '_', '.' and '-'.")]
    public string Name { get; set; } = "";

    /// <summary>Base URL of the server's REST API, for example <c>https://my-agent.us.langgraph.app</c> or <c>http://127.0.0.1:2024</c>.</summary>
    public string ApiUrl { get; set; } = "";

    /// <summary>
    /// Sent as <c>x-api-key</c> on every call: on LangSmith Deployment a LangSmith API key of the deployment's workspace.
    /// Optional: a self-hosted server without auth and <c>langgraphjs dev</c> need none. A secret: never logged or shown.
    /// </summary>
    public string? ApiKey { get; set; }

    /// <summary>The webhook tokens this deployment's runs carry; a webhook with one of them is attributed to this deployment.</summary>
    public List<string> Tokens { get; set; } = [];
}

/// <summary><c>WebhookReceiver:LangGraph:Sweep</c>: the background search for runs whose webhook never arrived.</summary>
internal sealed class SweepOptions
{
    /// <summary>Time between two sweeps of a deployment; <c>00:00:00</c> switches the sweep off.</summary>
    [Range(typeof(TimeSpan), "00:00:00", "1.00:00:00")]
    public TimeSpan Interval { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>How long after a run finished the sweep leaves it to its real webhook before recovering it.</summary>
    [Range(typeof(TimeSpan), "00:00:00", "1.00:00:00")]
    public TimeSpan Grace { get; set; } = TimeSpan.FromMinutes(2);

    /// <summary>Which runs the sweep recovers.</summary>
    public SweepScope Scope { get; set; } = SweepScope.ThisReceiver;

    /// <summary>
    /// How far back a sweep looks: threads updated and runs finished longer ago are left alone. Must be shorter than
    /// <c>Retention:MaxAge</c> while retention runs (checked at start-up), or a sweep would recover runs whose webhooks
    /// retention already purged.
    /// </summary>
    [Range(typeof(TimeSpan), "00:01:00", "30.00:00:00")]
    public TimeSpan Lookback { get; set; } = TimeSpan.FromDays(1);

    /// <summary>Threads asked for per <c>POST /threads/search</c> page (1 to 1000).</summary>
    [Range(1, 1000)]
    public int PageSize { get; set; } = 100;

    /// <summary>
    /// Most search pages one sweep sweeps threads from (pages of threads an earlier, unfinished sweep covered do not count);
    /// a sweep that stops there resumes below what it covered at the next one.
    /// </summary>
    [Range(1, 10_000)]
    public int MaxPages { get; set; } = 20;

    /// <summary>How long one sweep of a deployment may go on before it stops (and resumes at the next one).</summary>
    [Range(typeof(TimeSpan), "00:00:01", "01:00:00")]
    public TimeSpan TimeBudget { get; set; } = TimeSpan.FromMinutes(1);
}

/// <summary>What the receiver does with the answer when it asks the server about a webhook's run.</summary>
internal enum VerifyMode
{
    /// <summary>Never ask.</summary>
    Off,

    /// <summary>Ask and record the answer; every webhook reaches its handlers.</summary>
    Annotate,

    /// <summary>Ask; only verified (or unverifiable, stateless) runs reach handlers, the others are held as rejected.</summary>
    Require,
}

/// <summary>Which runs a sweep recovers.</summary>
internal enum SweepScope
{
    /// <summary>Only runs whose <c>kwargs.webhook</c> points at this receiver (its path, or <see cref="LangGraphOptions.PublicUrl"/>).</summary>
    ThisReceiver,

    /// <summary>Every finished run of the deployment, whether it asked for a webhook or not.</summary>
    AllRuns,
}
