using System.Text.Json.Nodes;
using Microsoft.Extensions.Hosting;
using WebhookReceiver.LangGraph;
using WebhookReceiver.Tests.Infrastructure;
using WebhookReceiver.Webhooks;

namespace WebhookReceiver.Tests.LangGraphApi;

/// <summary>
/// The LangGraph client against a real LangGraph JS dev server (tests/langgraph-e2e): a thread paused at <c>interrupt()</c>
/// reads back through every call, shows its interrupt, and resumes through the client.
/// </summary>
[Trait("Category", "System")]
[Collection(SharedLangGraphServer.Name)]
public sealed class LangGraphClientDevServerTests(LangGraphServerFixture server) : IDisposable
{
    private const int PatienceSeconds = 30;
    private readonly IHost _host = LangGraphClientHost.Build(server.LangGraph.BaseAddress);

    public void Dispose() => _host.Dispose();

    [Fact]
    public async Task A_thread_paused_at_interrupt_reads_back_through_every_call_and_resumes_through_the_client()
    {
        var client = LangGraphClientHost.Client(_host);
        var threadId = await server.LangGraph.CreateThreadAsync();

        var created = await client.CreateRunAsync(threadId, new LangGraphRunRequest
        {
            AssistantId = "ask",
            Input = new JsonObject { ["messages"] = new JsonArray(new JsonObject { ["role"] = "user", ["content"] = "ship it" }) },
            Metadata = new JsonObject { ["origin"] = "client-test" },
        });
        Assert.NotNull(created);
        var asked = await FinishedAsync(client, threadId, created.RunId!);

        Assert.Equal("success", asked.Status); // A run paused at interrupt() succeeds; its thread is what waits.
        Assert.Equal(threadId, asked.ThreadId);
        Assert.Equal("ask", asked.GraphId);
        Assert.Equal("client-test", asked.MetadataValue("origin"));
        Assert.False(asked.IsTemporary);

        var thread = await client.GetThreadAsync(threadId);
        Assert.Equal("interrupted", thread?.Status);
        var pending = Assert.Single(thread!.Interrupts.Values.SelectMany(i => i));
        Assert.Equal("approve \"ship it\"?", pending.Value?.GetProperty("question").GetString());

        var state = await client.GetThreadStateAsync(threadId);
        Assert.Equal(["ask"], state!.Next);
        Assert.Equal(pending.Id, Assert.Single(state.Interrupts).Id);
        Assert.NotNull(state.Checkpoint?.CheckpointId);

        var history = await client.GetThreadHistoryAsync(threadId, limit: 2);
        Assert.Equal(2, history!.Count);
        Assert.Equal(state.Checkpoint!.CheckpointId, history[0].Checkpoint?.CheckpointId); // Newest first.

        var found = await client.SearchThreadsAsync(new LangGraphThreadSearch { Status = "interrupted", Limit = 1000 });
        Assert.Contains(threadId, found.Select(t => t.ThreadId));

        var resumed = await client.CreateRunAsync(threadId, new LangGraphRunRequest { AssistantId = "ask", Command = LangGraphRunRequest.Resume("yes") });
        Assert.NotNull(resumed);
        Assert.Equal("success", (await FinishedAsync(client, threadId, resumed.RunId!)).Status);

        Assert.Equal("idle", (await client.GetThreadAsync(threadId))?.Status);
        Assert.Empty((await client.GetThreadStateAsync(threadId))!.Interrupts);
        var runs = await client.ListRunsAsync(threadId);
        Assert.Equal([resumed.RunId, asked.RunId], runs!.Select(r => r.RunId)); // Newest first, though JS lists oldest first.
        Assert.Empty((await client.ListRunsAsync(threadId, status: "error"))!);
    }

    [Fact]
    public async Task What_the_server_does_not_have_is_null()
    {
        var client = LangGraphClientHost.Client(_host);
        var threadId = await server.LangGraph.CreateThreadAsync();
        var unknown = Guid.NewGuid().ToString();

        Assert.Null(await client.GetRunAsync(threadId, unknown)); // JS: 404 "Run not found" in plain text.
        Assert.Null(await client.GetRunAsync(unknown, unknown));
        Assert.Null(await client.GetThreadAsync(unknown));
        Assert.Null(await client.ListRunsAsync(unknown));
        Assert.Empty((await client.ListRunsAsync(threadId))!);
    }

    private static Task<LangGraphRun> FinishedAsync(LangGraphClient client, string threadId, string runId) =>
        Eventually.MatchAsync(
            async () => (await client.GetRunAsync(threadId, runId))!,
            run => run.Status is not ("pending" or "running"),
            PatienceSeconds);
}
