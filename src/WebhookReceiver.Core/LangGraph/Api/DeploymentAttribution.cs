using WebhookReceiver.Kernel;
using WebhookReceiver.Webhooks;

namespace WebhookReceiver.LangGraph;

/// <summary>
/// Tells which configured deployment sent a webhook: the one whose <see cref="LangGraphDeploymentOptions.Tokens"/> hold the
/// token the webhook carried, else the only deployment when there is just one; otherwise none. Tokens are compared in
/// constant time, and every deployment's set is checked whatever matched, so the time taken says nothing about them.
/// </summary>
internal sealed class DeploymentAttribution : IWebhookAttribution
{
    private readonly (string Name, SecretSet Tokens)[] _deployments;

    public DeploymentAttribution(IEnumerable<LangGraphDeploymentOptions> deployments) =>
        _deployments = deployments.Select(d => (d.Name, new SecretSet(d.Tokens))).ToArray();

    /// <summary>The name of the deployment that sent a webhook carrying <paramref name="token"/> (empty when it carried none), or null.</summary>
    public string? DeploymentFor(ReadOnlySpan<char> token)
    {
        string? matched = null;
        foreach (var (name, tokens) in _deployments)
        {
            if (tokens.Contains(token))
            {
                matched ??= name; // Two deployments sharing a token: the first configured one.
            }
        }

        return matched ?? (_deployments.Length == 1 ? _deployments[0].Name : null);
    }
}
