using System.Globalization;
using Microsoft.AspNetCore.Http;
using WebhookReceiver.Webhooks;

namespace WebhookReceiver.Console;

/// <summary>
/// The filters of the webhook and dead-letter lists, read from the query string as the API names them (snake_case), so a
/// filtered page is a link to share. A value that cannot be used is an error line, not an exception.
/// </summary>
internal sealed record ConsoleFilters(
    string? Status, string? GraphId, string? Handler, string? DeliveryState, string? RunId, string? ThreadId,
    DateTimeOffset? ReceivedFrom, DateTimeOffset? ReceivedTo, long? Cursor, IReadOnlyList<string> Errors)
{
    public static ConsoleFilters From(IQueryCollection query)
    {
        var errors = new List<string>();
        string? Text(string name) => query[name].ToString() is { Length: > 0 } value ? value.Trim() : null;
        DateTimeOffset? Time(string name)
        {
            if (Text(name) is not { } value)
            {
                return null;
            }

            if (DateTimeOffset.TryParse(value, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var parsed))
            {
                return parsed;
            }

            errors.Add($"{name}: not a time (e.g. 2026-12-01T08:00, UTC).");
            return null;
        }

        var state = Text("delivery_state");
        if (state is not null && !Webhooks.DeliveryState.All.Contains(state))
        {
            errors.Add($"delivery_state: one of {string.Join(", ", Webhooks.DeliveryState.All)}.");
            state = null;
        }

        long? cursor = long.TryParse(Text("cursor"), NumberStyles.None, CultureInfo.InvariantCulture, out var c) ? c : null;
        return new ConsoleFilters(Text("status"), Text("graph_id"), Text("handler"), state, Text("run_id"), Text("thread_id"),
            Time("received_from"), Time("received_to"), cursor, errors);
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
