using System.Globalization;
using Microsoft.AspNetCore.Mvc;
using WebhookReceiver.Kernel;
using WebhookReceiver.Webhooks;

namespace WebhookReceiver.Console;

/// <summary>The console's own parameters of the webhook and dead-letter lists, beside the API's <see cref="WebhookFilter"/>.</summary>
internal sealed class WebhookListParameters
{
    [FromQuery(Name = "handler")]
    public string? Handler { get; init; }

    [FromQuery(Name = "delivery_state")]
    public string? DeliveryState { get; init; }

    [FromQuery(Name = "run_id")]
    public string? RunId { get; init; }

    [FromQuery(Name = "cursor")]
    public string? Cursor { get; init; }
}

/// <summary>
/// The filters of the webhook and dead-letter lists, read from the query string as the API names them (snake_case) and by
/// the API's own reader (<see cref="WebhookFilter"/>, <see cref="QueryParameters"/>), so a filtered page is a link to share.
/// A value that cannot be used is an error line, not an exception.
/// </summary>
internal sealed record ConsoleFilters(
    string? Status, string? GraphId, string? Handler, string? DeliveryState, string? RunId, string? ThreadId,
    DateTimeOffset? ReceivedFrom, DateTimeOffset? ReceivedTo, long? Cursor, IReadOnlyList<string> Errors)
{
    public static ConsoleFilters From(WebhookFilter filter, WebhookListParameters parameters)
    {
        var errors = new Dictionary<string, string[]>();
        var query = filter.ToQuery(errors);
        var state = QueryParameters.OneOf(parameters.DeliveryState, "delivery_state", Webhooks.DeliveryState.All, errors);
        var (cursor, _) = QueryParameters.Paging(QueryParameters.Text(parameters.Cursor), limit: null, errors);
        return new ConsoleFilters(query.Status, query.GraphId, QueryParameters.Text(parameters.Handler), state, QueryParameters.Text(parameters.RunId),
            query.ThreadId, query.ReceivedFrom, query.ReceivedTo, cursor, ConsoleText.ErrorLines(errors));
    }

    public WebhookQuery ToQuery(int limit) => new()
    {
        Status = Status,
        GraphId = GraphId,
        ThreadId = ThreadId,
        DeliveryState = DeliveryState,
        DeliveryHandler = Handler,
        ReceivedFrom = ReceivedFrom,
        ReceivedTo = ReceivedTo,
        Before = Cursor,
        Limit = limit,
    };

    /// <summary>The query string of these filters (without the cursor unless given), for links and forms.</summary>
    public string QueryString(long? cursor = null)
    {
        var pairs = new List<KeyValuePair<string, string?>>();
        void Put(string name, string? value)
        {
            if (value is not null)
            {
                pairs.Add(new(name, value));
            }
        }

        Put("status", Status);
        Put("graph_id", GraphId);
        Put("handler", Handler);
        Put("delivery_state", DeliveryState);
        Put("run_id", RunId);
        Put("thread_id", ThreadId);
        Put("received_from", Minute(ReceivedFrom));
        Put("received_to", Minute(ReceivedTo));
        Put("cursor", cursor?.ToString(CultureInfo.InvariantCulture));
        return Microsoft.AspNetCore.Http.QueryString.Create(pairs).Value ?? "";
    }

    /// <summary>A time as the form's <c>datetime-local</c> field holds it (UTC, to the minute).</summary>
    public static string? Minute(DateTimeOffset? time) => time?.UtcDateTime.ToString("yyyy-MM-ddTHH:mm", CultureInfo.InvariantCulture);
}
