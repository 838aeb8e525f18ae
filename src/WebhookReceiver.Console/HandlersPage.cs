using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using WebhookReceiver.Webhooks;
using WebhookReceiver.Interrupts;
using WebhookReceiver.Inbox;

namespace WebhookReceiver.Console;

/// <summary><c>/handlers</c>: every registered handler (run handlers, then interrupt handlers) with its filter and its deliveries by state.</summary>
internal static class HandlersPage
{
    public static void MapHandlersPage(this RouteGroupBuilder pages) => pages.MapGet("/handlers", RenderAsync);

    private static async Task<IResult> RenderAsync(HttpContext context, IInboxQueries inbox, HandlerCatalog catalog, CancellationToken cancellationToken)
    {
        var counts = await inbox.CountDeliveriesAsync(cancellationToken);
        Html Row(string name, Type type, HandlerFilter filter, bool ofInterrupts) => Html.Of($"""
            <tr data-handler="{name}"><td><a href="{ConsolePage.Url(context, "/webhooks?handler=" + Uri.EscapeDataString(name))}">{name}</a></td><td><code>{type.Name}</code></td>
            <td>{(ofInterrupts ? "interrupts" : "runs")}</td><td>{Describe(filter)}</td>
            {Html.Join(DeliveryState.All.Select(s => Html.Of($"<td class=\"num\">{counts.Where(c => c.Handler == name && c.State == s && c.OfInterrupts == ofInterrupts).Sum(c => c.Count)}</td>")))}</tr>
            """);
        var rows = Html.Join(catalog.Handlers.Select(h => Row(h.Name, h.HandlerType, h.Filter, false))
            .Concat(catalog.InterruptHandlers.Select(h => Row(h.Name, h.HandlerType, h.Filter, true))));
        var body = Html.Of($"""
            <table><thead><tr><th>Name</th><th>Type</th><th>Handles</th><th>Filter</th>{Html.Join(DeliveryState.All.Select(s => Html.Of($"<th class=\"num\">{s}</th>")))}</tr></thead>
            <tbody>{rows}</tbody></table>
            """);
        return ConsolePage.Render(context, "Handlers", ConsoleSection.Handlers, body);
    }

    private static string Describe(HandlerFilter filter)
    {
        var parts = new List<string>();
        void Part(string label, IEnumerable<string> values)
        {
            if (values.ToList() is { Count: > 0 } list)
            {
                parts.Add($"{label}: {string.Join(", ", list)}");
            }
        }

        Part("status", filter.Statuses);
        Part("graph", filter.Graphs);
        Part("assistant", filter.Assistants);
        if (filter.VerifiedRunsOnly)
        {
            parts.Add("verified runs only");
        }

        Part("metadata", filter.Metadata.Select(m => $"{m.Key}={m.Value}"));
        return parts.Count == 0 ? "any" : string.Join("; ", parts);
    }
}
