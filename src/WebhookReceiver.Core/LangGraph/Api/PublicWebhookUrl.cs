using Microsoft.Extensions.Options;
using WebhookReceiver.Webhooks;

namespace WebhookReceiver.LangGraph;

/// <summary>
/// This receiver's webhook URL as LangGraph sees it, read from <c>LangGraph:PublicUrl</c> however a user writes it: a base
/// URL (no path, or <c>/</c>) takes the webhook route (<c>WebhookReceiver:Path</c>) under it; a query string and a fragment
/// are dropped (the token is added once, where a URL is handed to LangGraph); any other path is taken as it is. The one URL
/// that resumed runs carry and that the sweep's scope matches.
/// </summary>
internal sealed class PublicWebhookUrl
{
    public PublicWebhookUrl(IOptions<WebhookReceiverOptions> options, IOptions<LangGraphOptions> langGraph)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(langGraph);
        WebhookPath = options.Value.Path;
        Url = Resolve(langGraph.Value.PublicUrl, WebhookPath);
    }

    /// <summary>The webhook URL without query or fragment; null when <c>LangGraph:PublicUrl</c> is not set (or not an http(s) URL).</summary>
    public Uri? Url { get; }

    /// <summary>The webhook route on this receiver (<c>WebhookReceiver:Path</c>).</summary>
    public string WebhookPath { get; }

    /// <summary>The URL as logged and reported: <see cref="Url"/>, or a note that only the path is matched.</summary>
    public string Description => Url?.AbsoluteUri ?? $"(LangGraph:PublicUrl not set: any URL whose path is {WebhookPath})";

    /// <summary>The webhook URL that <paramref name="publicUrl"/> means for a receiver whose route is <paramref name="webhookPath"/>.</summary>
    public static Uri? Resolve(string? publicUrl, string webhookPath)
    {
        if (!Uri.TryCreate(publicUrl, UriKind.Absolute, out var url) || (url.Scheme != Uri.UriSchemeHttp && url.Scheme != Uri.UriSchemeHttps))
        {
            return null;
        }

        var path = url.AbsolutePath is "" or "/" ? webhookPath : url.AbsolutePath;
        return new UriBuilder(url) { Path = path, Query = "", Fragment = "" }.Uri;
    }

    /// <summary>
    /// Whether <paramref name="webhook"/> (a run's <c>kwargs.webhook</c>) points at this receiver: same scheme, host, port and
    /// path as <see cref="Url"/>, or, with no public URL, the same path. The query (its token) is never compared.
    /// </summary>
    public bool Matches(Uri webhook)
    {
        ArgumentNullException.ThrowIfNull(webhook);
        return Url is null
            ? SamePath(webhook.AbsolutePath, WebhookPath)
            : string.Equals(webhook.Scheme, Url.Scheme, StringComparison.OrdinalIgnoreCase)
              && string.Equals(webhook.Host, Url.Host, StringComparison.OrdinalIgnoreCase)
              && webhook.Port == Url.Port
              && SamePath(webhook.AbsolutePath, Url.AbsolutePath);
    }

    /// <summary>The URL a run created here posts its webhook to: <see cref="Url"/> with <c>?token=</c>. A secret: never log or return it.</summary>
    public string WithToken(string? token)
    {
        var url = Url ?? throw new InvalidOperationException("WebhookReceiver:LangGraph:PublicUrl is not set.");
        return string.IsNullOrEmpty(token) ? url.AbsoluteUri : $"{url.AbsoluteUri}?token={Uri.EscapeDataString(token)}";
    }

    private static bool SamePath(string a, string b) =>
        string.Equals(a.TrimEnd('/'), b.TrimEnd('/'), StringComparison.OrdinalIgnoreCase);
}
