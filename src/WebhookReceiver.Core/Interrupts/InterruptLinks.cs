using System.Globalization;
using System.Text.Json;
using Microsoft.Extensions.Options;
using WebhookReceiver.LangGraph;
using WebhookReceiver.Webhooks;

namespace WebhookReceiver.Interrupts;

/// <summary>
/// The URLs of human in the loop, from <see cref="PublicWebhookUrl"/> (this receiver's webhook URL as LangGraph sees it):
/// the webhook URL a resumed run posts to (with a token), and the resume URL of an interrupt (the same origin and path base,
/// <c>/api/interrupts/{id}/resume</c>).
/// </summary>
internal sealed class InterruptLinks(
    IOptions<WebhookReceiverOptions> options, IOptions<LangGraphOptions> langGraph, IOptions<InterruptLinkOptions> console, PublicWebhookUrl publicUrl)
{
    private readonly WebhookReceiverOptions _options = options.Value;
    private readonly LangGraphOptions _langGraph = langGraph.Value;
    private readonly string? _consolePath = console.Value.ConsolePath;

    /// <summary>Whether resuming is possible: <c>LangGraph:PublicUrl</c> is set.</summary>
    public bool CanResume => publicUrl.Url is not null;

    /// <summary>
    /// The webhook URL for a run created on <paramref name="deployment"/>: the public URL with the deployment's first token (so
    /// the webhook is attributed to it), else the receiver's first token, as <c>?token=</c>. A secret: never log or return it.
    /// </summary>
    public string WebhookUrl(string deployment)
    {
        var token = _langGraph.Deployments.Find(d => string.Equals(d.Name, deployment, StringComparison.OrdinalIgnoreCase))?.Tokens.FirstOrDefault()
                    ?? _options.Tokens.FirstOrDefault();
        return publicUrl.WithToken(token);
    }

    /// <summary>The resume URL of interrupt <paramref name="id"/>: absolute with a public URL, else a path on this receiver.</summary>
    public string ResumeUrl(long id)
    {
        var path = $"/api/interrupts/{id.ToString(CultureInfo.InvariantCulture)}/resume";
        return PublicOrigin() is { } origin ? origin + path : path;
    }

    /// <summary>
    /// The console page of interrupt <paramref name="id"/> (<c>{origin}{path base}{console path}/interrupts/{id}</c>), for a
    /// person to answer from; null without <c>WebhookReceiver:LangGraph:PublicUrl</c> (no origin people can reach is known)
    /// or without the console (<see cref="InterruptLinkOptions.ConsolePath"/>).
    /// </summary>
    public string? ConsoleUrl(long id) =>
        PublicOrigin() is { } origin && _consolePath is { } console
            ? $"{origin}{console.TrimEnd('/')}/interrupts/{id.ToString(CultureInfo.InvariantCulture)}"
            : null;

    /// <summary>The public URL's origin and the host's path base (no trailing <c>/</c>); null without a public URL.</summary>
    private string? PublicOrigin()
    {
        if (publicUrl.Url is not { } url)
        {
            return null;
        }

        // The webhook path is this receiver's; what comes before it is the host's path base (behind a proxy, say).
        var pathBase = url.AbsolutePath.EndsWith(_options.Path, StringComparison.Ordinal)
            ? url.AbsolutePath[..^_options.Path.Length]
            : "";
        return url.GetLeftPart(UriPartial.Authority) + pathBase.TrimEnd('/');
    }

    /// <summary>The stored interrupt as handlers see it.</summary>
    public Interrupt ToInterrupt(StoredInterrupt stored)
    {
        ArgumentNullException.ThrowIfNull(stored);
        return new Interrupt
        {
            Id = stored.Id,
            Deployment = stored.Deployment,
            ThreadId = stored.ThreadId,
            RunId = stored.RunId,
            AssistantId = stored.AssistantId,
            GraphId = stored.GraphId,
            Pending = ReadPending(stored.Pending),
            Next = JsonSerializer.Deserialize<List<string>>(stored.Next) ?? [],
            CheckpointId = stored.CheckpointId,
            SeenAt = stored.SeenAt,
            ResumeUrl = ResumeUrl(stored.Id),
            ConsoleUrl = ConsoleUrl(stored.Id),
        };
    }

    /// <summary>The stored <c>pending</c> column: <c>[{"id", "value", "response_schema"?}]</c>.</summary>
    internal static IReadOnlyList<PendingInterrupt> ReadPending(string json)
    {
        using var document = JsonDocument.Parse(json);
        return document.RootElement.EnumerateArray().Select(item => new PendingInterrupt
        {
            Id = item.TryGetProperty("id", out var id) && id.ValueKind == JsonValueKind.String ? id.GetString() : null,
            Value = item.TryGetProperty("value", out var value) ? value.Clone() : default,
            ResponseSchema = item.TryGetProperty("response_schema", out var schema) ? schema.Clone() : null,
        }).ToList();
    }
}
