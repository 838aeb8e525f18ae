using System.Globalization;
using System.Text.Json.Nodes;
using WebhookReceiver.Tests.LangGraphApi;

namespace WebhookReceiver.Tests.Sweep;

/// <summary>A LangGraph server's threads and runs, answered through <see cref="CannedLangGraphServer"/> as the Python or the JS server does.</summary>
public static class FakeLangGraph
{
    /// <summary><paramref name="count"/> threads updated an hour apart, newest first, each with runs a minute apart, newest first.</summary>
    public static List<FakeThread> Threads(DateTimeOffset now, int count, int runsPerThread, string webhook = "https://hooks.example/webhooks/langgraph?token=secret-token") =>
        Enumerable.Range(0, count).Select(t =>
        {
            var threadId = Guid.NewGuid().ToString();
            var updatedAt = now - TimeSpan.FromHours(t + 1);
            var runs = Enumerable.Range(0, runsPerThread)
                .Select(r => new FakeRun(Guid.NewGuid().ToString(), threadId, "success", updatedAt - TimeSpan.FromMinutes(r), webhook, IsLatest: r == 0))
                .ToList();
            return new FakeThread(threadId, updatedAt, runs);
        }).ToList();

    public enum Flavor
    {
        Python,
        Js,
    }

    public sealed record FakeRun(string RunId, string ThreadId, string Status, DateTimeOffset At, string Webhook, bool IsLatest)
    {
        public JsonObject Json() => new()
        {
            ["run_id"] = RunId, ["thread_id"] = ThreadId, ["assistant_id"] = "fe096781-5601-53d2-b2f6-0d3403f7e9ca", ["status"] = Status,
            ["metadata"] = new JsonObject { ["graph_id"] = "agent" }, ["kwargs"] = new JsonObject { ["webhook"] = Webhook },
            ["multitask_strategy"] = "reject", ["created_at"] = At.ToString("O"), ["updated_at"] = At.ToString("O"),
        };
    }

    public sealed record FakeThread(string ThreadId, DateTimeOffset UpdatedAt, List<FakeRun> Runs)
    {
        public JsonObject Json() => new()
        {
            ["thread_id"] = ThreadId, ["created_at"] = UpdatedAt.ToString("O"), ["updated_at"] = UpdatedAt.ToString("O"), ["status"] = "idle",
            ["metadata"] = new JsonObject(), ["values"] = new JsonObject { ["messages"] = new JsonArray("hello", ThreadId) },
        };
    }

    /// <summary>Answers as the flavor's server: thread search (correct offsets on both) and run listing (the JS slice bug, oldest first).</summary>
    public sealed class Server(Flavor flavor, List<FakeThread> threads)
    {
        private int _listing;
        private int _mostListingsAtOnce;

        /// <summary>How long each run listing takes to answer (to make sweeps overlap); the answer blocks for it, so <see cref="MostListingsAtOnce"/> counts overlaps.</summary>
        public TimeSpan RunListDelay { get; set; }

        /// <summary>The most run listings that were being answered at the same time: 1 when only one sweep asks at a time.</summary>
        public int MostListingsAtOnce => Volatile.Read(ref _mostListingsAtOnce);

        public List<FakeThread> Threads => threads;
        public List<int> SearchOffsets { get; } = [];
        public System.Collections.Concurrent.ConcurrentQueue<IReadOnlyDictionary<string, string>> RunListings { get; } = new();
        public bool TooManyRequestsFirst { get; set; }

        public CannedAnswer Answer(CannedRequest request, int number)
        {
            if (TooManyRequestsFirst)
            {
                TooManyRequestsFirst = false;
                return flavor == Flavor.Js ? CannedAnswer.JsError(429, "Too many requests") : CannedAnswer.PythonError(429, "Rate limited");
            }

            if (request is { Method: "POST", Path: "/threads/search" })
            {
                var body = request.Json!;
                Assert.Equal(("updated_at", "desc"), (body["sort_by"]!.GetValue<string>(), body["sort_order"]!.GetValue<string>()));
                var (offset, limit) = (body["offset"]!.GetValue<int>(), body["limit"]!.GetValue<int>());
                SearchOffsets.Add(offset);
                return CannedAnswer.Json(new JsonArray(threads.OrderByDescending(t => t.UpdatedAt).Skip(offset).Take(limit).Select(t => (JsonNode)t.Json()).ToArray()));
            }

            var thread = threads.SingleOrDefault(t => request.Path == $"/threads/{t.ThreadId}/runs");
            if (request.Method == "GET" && thread is not null)
            {
                RunListings.Enqueue(request.Query);
                var atOnce = Interlocked.Increment(ref _listing);
                InterlockedMax(ref _mostListingsAtOnce, atOnce);
                Thread.Sleep(RunListDelay);
                Interlocked.Decrement(ref _listing);
                var (offset, limit) = (int.Parse(request.Query["offset"], CultureInfo.InvariantCulture), int.Parse(request.Query["limit"], CultureInfo.InvariantCulture));
                var runs = flavor == Flavor.Js
                    ? thread.Runs.OrderBy(r => r.At).Take(limit).Skip(offset) // JS 1.5.1: runs.slice(offset, limit), oldest first.
                    : thread.Runs.OrderByDescending(r => r.At).Skip(offset).Take(limit);
                return CannedAnswer.Json(new JsonArray(runs.Select(r => (JsonNode)r.Json()).ToArray()));
            }

            return flavor == Flavor.Js ? CannedAnswer.JsError(404, "Not found") : CannedAnswer.PythonError(404, "Not Found");
        }

        private static void InterlockedMax(ref int target, int value)
        {
            for (var current = Volatile.Read(ref target); value > current; current = Volatile.Read(ref target))
            {
                if (Interlocked.CompareExchange(ref target, value, current) == current)
                {
                    return;
                }
            }
        }
    }
}
