using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using WebhookReceiver.Webhooks;

namespace WebhookReceiver.Console;

/// <summary><c>/handlers</c>: every registered handler (run handlers, then interrupt handlers) with its filter and its deliveries by state.</summary>
internal static class HandlersPage
{
    public static void MapHandlersPage(this RouteGroupBuilder pages) => pages.MapGet("/handlers", RenderAsync);

    private static async Task<IResult> RenderAsync(HttpContext context, IInboxQueries inbox, HandlerCatalog catalog, CancellationToken cancellationToken)
    {
        var counts = await inbox.CountDeliveriesAsync(cancellationToken);
        HandlerRow Row(string name, Type type, HandlerFilter filter, bool ofInterrupts) => new(
            name, type.Name, ofInterrupts, Describe(filter), ConsolePage.Url(context, "/webhooks?handler=" + Uri.EscapeDataString(name)),
            counts.Where(c => c.Handler == name && c.OfInterrupts == ofInterrupts).GroupBy(c => c.State).ToDictionary(g => g.Key, g => g.Sum(c => c.Count)));
        var rows = catalog.Handlers.Select(h => Row(h.Name, h.HandlerType, h.Filter, false))
            .Concat(catalog.InterruptHandlers.Select(h => Row(h.Name, h.HandlerType, h.Filter, true))).ToList();
        return ConsolePage.Component<Components.HandlersPage, HandlersModel>("Handlers", ConsoleSection.Handlers, new HandlersModel(rows));
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

/// <summary>What <see cref="Components.HandlersPage"/> shows.</summary>
internal sealed record HandlersModel(IReadOnlyList<HandlerRow> Handlers);

/// <summary>One handler: its name, type, what it handles, its filter in words, its webhooks' link, its deliveries by state.</summary>
internal sealed record HandlerRow(string Name, string TypeName, bool OfInterrupts, string Filter, string Link, IReadOnlyDictionary<string, long> Counts)
{
    public long Count(string state) => Counts.GetValueOrDefault(state);
}
