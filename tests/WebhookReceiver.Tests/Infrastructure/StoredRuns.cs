using System.Diagnostics;
using System.Text.Json.Nodes;

namespace WebhookReceiver.Tests.Infrastructure;

/// <summary>What a running service has stored and delivered, read through its query API with the admin key.</summary>
public static class StoredRuns
{
    /// <summary>Every stored webhook's run_id with the states of its deliveries, paging <c>/api/webhooks</c> to the end.</summary>
    public static async Task<Dictionary<string, string[]>> ReadAllAsync(HttpClient admin)
    {
        var runs = new Dictionary<string, string[]>(StringComparer.Ordinal);
        string? cursor = null;
        do
        {
            var page = JsonNode.Parse(await admin.GetStringAsync($"/api/webhooks?limit=500{(cursor is null ? "" : $"&cursor={cursor}")}"))!;
            foreach (var item in page["items"]!.AsArray())
            {
                runs.Add((string)item!["run_id"]!, item["deliveries"]!.AsArray().Select(d => (string)d!["state"]!).ToArray());
            }

            cursor = page["next_cursor"]?.ToString();
        }
        while (cursor is not null);

        return runs;
    }

    /// <summary>Deliveries of every handler by state, from <c>/api/handlers</c>.</summary>
    public static async Task<Dictionary<string, long>> CountDeliveriesAsync(HttpClient admin)
    {
        var counts = new Dictionary<string, long>(StringComparer.Ordinal);
        foreach (var handler in JsonNode.Parse(await admin.GetStringAsync("/api/handlers"))!.AsArray())
        {
            foreach (var (state, count) in handler!["deliveries"]!.AsObject())
            {
                counts[state] = counts.GetValueOrDefault(state) + (long)count!;
            }
        }

        return counts;
    }

    /// <summary>Waits until no delivery is pending or failed (waiting for a retry); returns the counts by state then.</summary>
    public static async Task<Dictionary<string, long>> WaitUntilDispatchedAsync(HttpClient admin, TimeSpan timeout)
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            var counts = await CountDeliveriesAsync(admin);
            if (counts.GetValueOrDefault("pending") == 0 && counts.GetValueOrDefault("failed") == 0)
            {
                return counts;
            }

            if (clock.Elapsed > timeout)
            {
                throw new TimeoutException($"Deliveries still undone after {timeout.TotalSeconds:0} s: " +
                    string.Join(", ", counts.Select(c => $"{c.Value} {c.Key}")));
            }

            await Task.Delay(100);
        }
    }
}
