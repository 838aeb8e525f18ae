using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace WebhookReceiver.LangGraph;

/// <summary>
/// Asks each configured LangGraph deployment once at start-up for a thread that cannot exist (an answer, even 404, proves
/// the URL and the key), and warns naming the deployment when it does not answer: verification (by default every handler
/// waits for it), the sweep and resumes all depend on it, and would otherwise fail only later, one webhook at a time.
/// </summary>
internal sealed partial class DeploymentProbe(ILangGraphClients clients, IOptions<LangGraphOptions> options, ILogger<DeploymentProbe> logger)
    : BackgroundService
{
    /// <summary>How long one deployment may take to answer the probe.</summary>
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);

    /// <summary>The thread the probe asks for: an id no server gives.</summary>
    internal const string NoSuchThread = "00000000-0000-0000-0000-000000000000";

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        foreach (var deployment in options.Value.Deployments)
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
            timeout.CancelAfter(Timeout);
            try
            {
                await clients.ForDeployment(deployment.Name).GetThreadAsync(NoSuchThread, timeout.Token);
            }
            catch (Exception ex) when (!stoppingToken.IsCancellationRequested)
            {
                // The API exception's message names the status and what to check, never the key; others only their type.
                LogNoAnswer(logger, deployment.Name, ex is LangGraphApiException ? ex.Message : $"{ex.GetType().Name}, after up to {Timeout.TotalSeconds:0} s",
                    options.Value.Verify);
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "LangGraph deployment {Deployment} did not answer at start-up ({Reason}): with " +
        "LangGraph:Verify={Verify} its runs' handlers wait for a verification it cannot give, and its sweep and resumes fail until it " +
        "answers. Check its ApiUrl and ApiKey (WebhookReceiver__LangGraph__Deployments__<i>__...).")]
    private static partial void LogNoAnswer(ILogger logger, string deployment, string reason, VerifyMode verify);
}
