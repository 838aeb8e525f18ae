using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using WebhookReceiver.Access;
using WebhookReceiver.Webhooks;
using WebhookReceiver.Interrupts;
using WebhookReceiver.LangGraph;
using WebhookReceiver.Alerts;
using WebhookReceiver.Inbox;

namespace WebhookReceiver.Console;

/// <summary>
/// <c>/webhooks</c>: the received webhooks with the API's filters (and handler, run id), newest first, a page at a time;
/// <c>/webhooks/{id}</c>: one webhook, its payload as stored (secrets redacted before storage; hidden from viewers under
/// <c>Access:HidePayloadsFromViewers</c>), each handler's attempts as a timeline, and Replay for operators.
/// </summary>
internal static class WebhookPages
{
    private const int PageSize = 50;

    public static void MapWebhookPages(this RouteGroupBuilder pages)
    {
        pages.MapGet("/webhooks", ListAsync);
        pages.MapGet("/webhooks/{id:long}", DetailAsync);
        pages.MapPost("/webhooks/{id:long}/replay", ReplayAsync);
    }

    private static async Task<IResult> ListAsync(HttpContext context, IInboxQueries inbox, CancellationToken cancellationToken)
    {
        var filters = ConsoleFilters.From(context.Request.Query);
        WebhookPage page;
        if (filters.RunId is { } runId)
        {
            var one = IndexableText.CanMatch(runId) ? await inbox.GetByRunIdAsync(runId, cancellationToken) : null;
            page = new WebhookPage(one is null ? [] : [one], null);
        }
        else
        {
            page = await inbox.ListAsync(filters.ToQuery(PageSize), cancellationToken);
        }

        var model = new WebhookListModel(ConsolePage.Url(context), ConsolePage.Url(context, "/webhooks"), filters, page);
        return ConsolePage.Component<Components.WebhooksPage, WebhookListModel>("Webhooks", ConsoleSection.Webhooks, model);
    }

    public static Html State(string state) => Html.Of($"<span class=\"state state-{state}\">{state}</span>");

    // Null-safe: an Html.When argument is built even when its condition is false.
    public static string? Shorten(string? text) => text is null || text.Length <= 120 ? text : text[..117] + "...";

    private static async Task<IResult> DetailAsync(long id, HttpContext context, IInboxQueries inbox, CancellationToken cancellationToken)
    {
        if (await inbox.GetAsync(id, cancellationToken) is not { } webhook)
        {
            return ConsolePage.NotFound(context, $"No webhook has id {id}.");
        }

        var user = await ConsoleUser.OfAsync(context);
        var attempts = webhook.Attempts ?? [];
        var deliveries = Html.Join(webhook.Deliveries.Select(d => Html.Of($"""
            <section class="delivery" data-handler="{d.Handler}">
            <h3>{d.Handler} {State(d.State)}</h3>
            <p class="muted">{d.Attempts} attempt(s){Html.When(d.NextAttemptAt is not null && d.State is DeliveryState.Pending or DeliveryState.Failed, Html.Of($"; next attempt at {d.NextAttemptAt}"))}</p>
            <ol class="timeline">{Html.Join(attempts.Where(a => a.DeliveryId == d.Id).Select(a => Html.Of($"""
                <li class="{a.Outcome}"><strong>#{a.Attempt} {a.Outcome}</strong> <span class="muted">{a.StartedAt} ({(a.EndedAt - a.StartedAt).TotalMilliseconds:0} ms)</span>{Html.When(a.Error is not null, Html.Of($"<pre class=\"error-text\">{a.Error}</pre>"))}</li>
                """)))}</ol>
            </section>
            """)));
        var replay = Html.When(user.CanOperate, Html.Of($"""
            <form method="post" action="{ConsolePage.Url(context, $"/webhooks/{id}/replay")}" data-confirm="Deliver webhook #{id} again to its handlers?">
            {ConsolePage.Antiforgery(context)}<button type="submit" name="replay">Replay</button>
            </form>
            """));
        var payload = user.SeesPayloads
            ? Html.Of($"<pre class=\"payload\">{Pretty(webhook.Payload)}</pre>")
            : Html.Of($"<p class=\"muted\">Payloads are hidden from viewers (Access:HidePayloadsFromViewers).</p>");
        var replayed = context.Request.Query["replayed"].ToString();
        var body = Html.Of($"""
            {Html.When(replayed.Length > 0, Html.Of($"<p class=\"notice\" role=\"status\">Replay requested: {replayed} deliveries are due again.</p>"))}
            <dl class="facts">
            <dt>Run</dt><dd><code>{webhook.RunId}</code></dd>
            <dt>Thread</dt><dd><code>{webhook.ThreadId}</code></dd>
            <dt>Assistant</dt><dd><code>{webhook.AssistantId}</code></dd>
            <dt>Graph</dt><dd>{webhook.GraphId}</dd>
            <dt>Run status</dt><dd>{Html.When(webhook.Status is not null, State(webhook.Status!))}</dd>
            <dt>Received</dt><dd>{webhook.ReceivedAt}</dd>
            <dt>Source</dt><dd>{WebhookSources.Name(webhook.Source)}</dd>
            <dt>Deployment</dt><dd>{webhook.Deployment}</dd>
            <dt>Verification</dt><dd>{webhook.Verification?.Result}</dd>
            </dl>
            {replay}
            <h2>Deliveries</h2>
            {(webhook.Deliveries.Count == 0 ? Html.Of($"<p class=\"muted\">No handler took this webhook.</p>") : deliveries)}
            <h2>Payload</h2>
            {payload}
            """);
        return ConsolePage.Render(context, $"Webhook #{id}", ConsoleSection.Webhooks, body);
    }

    // As stored (redacted on arrival); indented when it parses, else shown as text.
    private static string Pretty(byte[]? payload)
    {
        if (payload is null)
        {
            return "";
        }

        try
        {
            return JsonNode.Parse(payload)?.ToJsonString(Indented) ?? "null";
        }
        catch (JsonException)
        {
            return System.Text.Encoding.UTF8.GetString(payload);
        }
    }

    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    private static async Task<IResult> ReplayAsync(long id, HttpContext context, ReplayWebhookCommand replay, CancellationToken cancellationToken)
    {
        var result = await replay.ExecuteAsync(context.User, id, handler: null, cancellationToken);
        return result.Status switch
        {
            CommandStatus.Done => ConsolePage.SeeOther(context, $"/webhooks/{id}?replayed={result.Value}"),
            CommandStatus.Forbidden => ConsolePage.Forbidden(context, "Replay needs the operator role."),
            CommandStatus.NotFound => ConsolePage.NotFound(context, result.Detail ?? $"No webhook has id {id}."),
            _ => ConsolePage.BadRequest(context, result.Detail ?? "The replay was refused."),
        };
    }
}

/// <summary>What <see cref="Components.WebhooksPage"/> shows: the filters as read and a page of webhooks.</summary>
/// <param name="Console">The console's path below the path base, e.g. <c>/console</c>.</param>
internal sealed record WebhookListModel(string Console, string Action, ConsoleFilters Filters, WebhookPage Page);
