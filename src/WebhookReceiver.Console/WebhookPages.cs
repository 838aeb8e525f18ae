using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using WebhookReceiver.Audit;
using WebhookReceiver.Kernel;
using WebhookReceiver.Webhooks;

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

    private static async Task<IResult> ListAsync(
        HttpContext context, [AsParameters] WebhookFilter filter, [AsParameters] WebhookListParameters parameters, IInboxQueries inbox,
        CancellationToken cancellationToken)
    {
        var filters = ConsoleFilters.From(filter, parameters);
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

    /// <summary>An error shortened to a line of the table.</summary>
    public static string? Shorten(string? text) => text is null || text.Length <= 120 ? text : text[..117] + "...";

    private static async Task<IResult> DetailAsync(long id, HttpContext context, IInboxQueries inbox, CancellationToken cancellationToken)
    {
        if (await inbox.GetAsync(id, cancellationToken) is not { } webhook)
        {
            return ConsolePage.NotFound(context, $"No webhook has id {id}.");
        }

        var user = await ConsoleUser.OfAsync(context);
        var model = new WebhookDetailModel(webhook, ConsolePage.Url(context, $"/webhooks/{id}/replay"), user.CanOperate,
            user.SeesPayloads ? Pretty(webhook.Payload) : null, QueryParameters.Text(context.Request.Query["replayed"].ToString()));
        return ConsolePage.Component<Components.WebhookDetailPage, WebhookDetailModel>($"Webhook #{id}", ConsoleSection.Webhooks, model);
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

/// <summary>What <see cref="Components.WebhookDetailPage"/> shows; <paramref name="Payload"/> is null when hidden from this person.</summary>
internal sealed record WebhookDetailModel(StoredWebhook Webhook, string ReplayAction, bool CanOperate, string? Payload, string? Replayed);
