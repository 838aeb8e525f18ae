namespace WebhookReceiver.Webhooks;

/// <summary>
/// Tells which LangGraph deployment sent a webhook, by the token it carried. Defined here for ingest, implemented by the
/// LangGraph callback (its configured deployments), which <c>AddWebhookReceiver</c> always adds.
/// </summary>
internal interface IWebhookAttribution
{
    /// <summary>The name of the deployment that sent a webhook carrying <paramref name="token"/> (empty when it carried none), or null.</summary>
    string? DeploymentFor(ReadOnlySpan<char> token);
}
