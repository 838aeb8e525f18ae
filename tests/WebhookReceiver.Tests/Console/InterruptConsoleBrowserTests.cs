using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;
using WebhookReceiver.Tests.Infrastructure;
using WebhookReceiver.Tests.LangGraph;
using WebhookReceiver.Webhooks;
using Xunit.Abstractions;
using static Microsoft.Playwright.Assertions;
using static WebhookReceiver.Tests.Infrastructure.LangGraphDevServer;

namespace WebhookReceiver.Tests.Console;

/// <summary>
/// Human in the loop in the console, as a reviewer does it: a real LangGraph JS dev server pauses threads (graphs
/// <c>inbox</c>, <c>hitl_review</c> and <c>ask</c> in tests/langgraph-e2e), the receiver on a real socket records them and
/// gives its interrupt handler the console URL, and the real headless Chromium opens that URL, signs in and answers through
/// the form. Each thread then runs on with exactly the answer given, read back from the LangGraph server's thread state.
/// Viewers (values hidden from them here) see the pause but neither its value nor a form.
/// </summary>
[Trait("Category", "System")]
public sealed class InterruptConsoleBrowserTests(InterruptConsoleBrowserTests.Servers servers, ITestOutputHelper output)
    : IClassFixture<InterruptConsoleBrowserTests.Servers>
{
    public const string ViewerKey = "hitl-viewer-key-vvvvvvvvvvvvvvvvvvvvvvvvvvvvvvv";
    public const string ReviewerKey = "hitl-reviewer-key-rrrrrrrrrrrrrrrrrrrrrrrrrrrrr";
    private static readonly LocatorAssertionsToBeVisibleOptions Visible = new() { Timeout = 20_000 };

    [Fact]
    public async Task A_reviewer_opens_the_handlers_console_link_accepts_an_agent_inbox_interrupt_and_the_page_links_the_resumed_runs_webhook()
    {
        var threadId = await servers.CreateThreadAsync();
        await servers.StartRunAsync(threadId, "inbox", Input("quarterly report"));
        var id = await WaitForInterruptAsync(threadId);

        // The handler was given the page to answer from: this receiver's public origin + /console/interrupts/{id}.
        var handled = await servers.Interrupts.WaitForAsync(id, TimeSpan.FromSeconds(60));
        Assert.Equal(new Uri(servers.ReceiverAddress, $"/console/interrupts/{id}").ToString(), handled.Interrupt.ConsoleUrl);

        await using var browser = await ConsoleBrowser.LaunchAsync();
        var page = await browser.NewPageAsync();
        await page.GotoAsync(handled.Interrupt.ConsoleUrl!);
        await ConsoleBrowserTests.SignInAsync(page, ReviewerKey);
        Assert.EndsWith($"/console/interrupts/{id}", page.Url, StringComparison.Ordinal);
        await Expect(page.Locator(".asked")).ToContainTextAsync("send_email");
        await Expect(page.Locator(".asked")).ToContainTextAsync("quarterly report");
        // The config allows accept, edit and respond, not ignore.
        await Expect(page.GetByRole(AriaRole.Button, new() { Name = "Ignore" })).ToHaveCountAsync(0);
        await Expect(page.GetByRole(AriaRole.Button, new() { Name = "Respond" })).ToBeVisibleAsync(Visible);

        await page.GetByRole(AriaRole.Button, new() { Name = "Accept" }).ClickAsync();
        await Expect(page.Locator(".notice")).ToContainTextAsync("Resumed");
        await Expect(page.Locator(".resumed-by")).ToHaveTextAsync("rita");

        var answer = await AnswerAsync(threadId);
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse("""{"type": "accept", "args": null}"""), answer), answer?.ToJsonString());

        // Once the resumed run's webhook arrived, the page links to it.
        var interrupt = await Eventually.MatchAsync(() => servers.GetAsync($"/api/interrupts/{id}"), i => i["resumed_webhook_id"] is not null, 60);
        var webhookId = (long)interrupt["resumed_webhook_id"]!;
        await Eventually.MatchAsync(async () =>
        {
            await page.ReloadAsync();
            return await page.Locator("a.resumed-webhook").CountAsync();
        }, count => count == 1, what: "The link to the resumed run's webhook");
        await page.Locator("a.resumed-webhook").ClickAsync();
        Assert.EndsWith($"/console/webhooks/{webhookId}", page.Url, StringComparison.Ordinal);
        await Expect(page.Locator("dl.facts")).ToContainTextAsync((string)interrupt["resumed_run_id"]!);
    }

    [Fact]
    public async Task A_reviewer_answers_both_actions_of_a_HITLRequest_one_approved_one_edited_and_a_missing_decision_sends_nothing()
    {
        var threadId = await servers.CreateThreadAsync();
        await servers.StartRunAsync(threadId, "hitl_review", Input("team offsite"));
        var id = await WaitForInterruptAsync(threadId);

        await using var browser = await ConsoleBrowser.LaunchAsync();
        var page = await SignedInAsync(browser, ReviewerKey, $"/console/interrupts/{id}");
        var flight = page.Locator("fieldset.hitl-decision[data-action='book_flight']");
        var card = page.Locator("fieldset.hitl-decision[data-action='charge_card']");
        await Expect(flight).ToBeVisibleAsync(Visible);
        await Expect(card).ToBeVisibleAsync(Visible);
        await Screenshot(page);

        // Only the first decided: refused on the page, nothing sent.
        await flight.GetByLabel("Approve").CheckAsync();
        var refused = await page.RunAndWaitForResponseAsync(
            () => page.GetByRole(AriaRole.Button, new() { Name = "Send decisions" }).ClickAsync(), r => r.Request.Method == "POST");
        Assert.Equal(400, refused.Status);
        await Expect(page.GetByRole(AriaRole.Alert)).ToContainTextAsync("Decide action 2 (\"charge_card\")");
        Assert.Equal("interrupted", (string?)(await servers.LangGraphThreadAsync(threadId))["status"]);

        await flight.GetByLabel("Approve").CheckAsync();
        await card.GetByLabel("Edit", new() { Exact = true }).CheckAsync();
        await card.GetByLabel("amount").FillAsync("380");
        await page.GetByRole(AriaRole.Button, new() { Name = "Send decisions" }).ClickAsync();
        await Expect(page.Locator(".notice")).ToContainTextAsync("Resumed");

        var answer = await AnswerAsync(threadId);
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse("""
            [{"type": "approve"}, {"type": "edit", "edited_action": {"name": "charge_card", "args": {"amount": 380, "currency": "EUR"}}}]
            """), answer), answer?.ToJsonString());
    }

    [Fact]
    public async Task A_reviewer_resumes_a_free_form_interrupt_with_the_JSON_editor_after_bad_JSON_is_refused_unsent()
    {
        var threadId = await servers.CreateThreadAsync();
        await servers.StartRunAsync(threadId, "ask", Input("deploy"));
        var id = await WaitForInterruptAsync(threadId);

        await using var browser = await ConsoleBrowser.LaunchAsync();
        var page = await SignedInAsync(browser, ReviewerKey, $"/console/interrupts/{id}");
        await Expect(page.Locator(".asked")).ToContainTextAsync("approve \\\"deploy\\\"?");

        await page.GetByLabel("Resume value").FillAsync("{yes");
        var refused = await page.RunAndWaitForResponseAsync(
            () => page.GetByRole(AriaRole.Button, new() { Name = "Resume" }).ClickAsync(), r => r.Request.Method == "POST");
        Assert.Equal(400, refused.Status);
        await Expect(page.GetByRole(AriaRole.Alert)).ToContainTextAsync("Resume value is not valid JSON");
        await Expect(page.GetByLabel("Resume value")).ToHaveValueAsync("{yes"); // Kept to fix.
        Assert.Equal("interrupted", (string?)(await servers.LangGraphThreadAsync(threadId))["status"]);

        await page.GetByLabel("Resume value").FillAsync("\"ship it now\"");
        await page.GetByRole(AriaRole.Button, new() { Name = "Resume" }).ClickAsync();
        await Expect(page.Locator(".notice")).ToContainTextAsync("Resumed");

        var thread = await Eventually.MatchAsync(() => servers.LangGraphThreadAsync(threadId), t => (string?)t["status"] == "idle", 60);
        Assert.Contains("answered: ship it now", thread["values"]!.ToJsonString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Two_parallel_interrupts_get_an_answer_each_by_id_and_a_static_breakpoint_resumes_with_its_button()
    {
        var both = await servers.CreateThreadAsync();
        await servers.StartRunAsync(both, "approve_both", Input("a server"));
        var gate = await servers.CreateThreadAsync();
        await servers.StartRunAsync(gate, "gate", Input("notes"));
        var bothId = await WaitForInterruptAsync(both);
        var gateId = await WaitForInterruptAsync(gate);

        await using var browser = await ConsoleBrowser.LaunchAsync();
        var page = await SignedInAsync(browser, ReviewerKey, $"/console/interrupts/{bothId}");
        foreach (var question in await page.Locator("section.question").AllAsync())
        {
            // Each part shows its own value: answer the reviewer it names.
            var reviewer = (await question.InnerTextAsync()).Contains("legal", StringComparison.Ordinal) ? "legal" : "finance";
            var index = await question.GetAttributeAsync("data-question");
            await page.Locator($"textarea[name='p{index}.value']").FillAsync($"\"{reviewer} approves\"");
        }

        await page.GetByRole(AriaRole.Button, new() { Name = "Resume" }).ClickAsync();
        await Expect(page.Locator(".notice")).ToContainTextAsync("Resumed");
        var values = (await Eventually.MatchAsync(() => servers.LangGraphThreadAsync(both), t => (string?)t["status"] == "idle", 60))["values"]!.ToJsonString();
        Assert.Contains("legal: legal approves", values, StringComparison.Ordinal);
        Assert.Contains("finance: finance approves", values, StringComparison.Ordinal);

        await page.GotoAsync(new Uri(servers.ReceiverAddress, $"/console/interrupts/{gateId}").ToString());
        await Expect(page.GetByText("A static breakpoint")).ToContainTextAsync("publish");
        await Expect(page.GetByLabel("Resume value")).ToHaveCountAsync(0);
        await page.GetByRole(AriaRole.Button, new() { Name = "Resume" }).ClickAsync();
        await Expect(page.Locator(".notice")).ToContainTextAsync("Resumed");
        var published = await Eventually.MatchAsync(() => servers.LangGraphThreadAsync(gate), t => (string?)t["status"] == "idle", 60);
        Assert.Contains("published: draft: notes", published["values"]!.ToJsonString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_page_left_open_while_the_interrupt_was_answered_cannot_answer_it_again()
    {
        var threadId = await servers.CreateThreadAsync();
        await servers.StartRunAsync(threadId, "ask", Input("twice"));
        var id = await WaitForInterruptAsync(threadId);

        await using var browser = await ConsoleBrowser.LaunchAsync();
        var first = await SignedInAsync(browser, ReviewerKey, $"/console/interrupts/{id}");
        var stale = await SignedInAsync(browser, ReviewerKey, $"/console/interrupts/{id}");

        await first.GetByLabel("Resume value").FillAsync("\"first\"");
        await first.GetByRole(AriaRole.Button, new() { Name = "Resume" }).ClickAsync();
        await Expect(first.Locator(".notice")).ToContainTextAsync("Resumed");

        await stale.GetByLabel("Resume value").FillAsync("\"second\"");
        var conflict = await stale.RunAndWaitForResponseAsync(
            () => stale.GetByRole(AriaRole.Button, new() { Name = "Resume" }).ClickAsync(), r => r.Request.Method == "POST");
        Assert.Equal(409, conflict.Status);
        await Expect(stale.GetByRole(AriaRole.Alert)).ToContainTextAsync($"Interrupt #{id} was answered already by rita");
        await Expect(stale.GetByLabel("Resume value")).ToHaveCountAsync(0); // No form on an answered pause.

        var thread = await Eventually.MatchAsync(() => servers.LangGraphThreadAsync(threadId), t => (string?)t["status"] == "idle", 60);
        var values = thread["values"]!.ToJsonString();
        Assert.Contains("answered: first", values, StringComparison.Ordinal);
        Assert.DoesNotContain("second", values, StringComparison.Ordinal);
        Assert.Equal(2, (await servers.LangGraphRunsAsync(threadId)).Count); // The paused run and one resume.
    }

    [Fact]
    public async Task A_viewer_sees_the_pause_without_its_value_and_no_resume_form_and_a_resume_posted_anyway_is_403_and_sends_nothing()
    {
        var threadId = await servers.CreateThreadAsync();
        await servers.StartRunAsync(threadId, "ask", Input("viewer"));
        var id = await WaitForInterruptAsync(threadId);

        await using var browser = await ConsoleBrowser.LaunchAsync();
        var page = await SignedInAsync(browser, ViewerKey, "/console/interrupts");
        await Expect(page.Locator($"tr[data-interrupt='{id}']")).ToContainTextAsync("waiting");
        await page.Locator($"tr[data-interrupt='{id}'] a").ClickAsync();
        // Access:HidePayloadsFromViewers is on here: the pause's facts, not what it asks.
        await Expect(page.Locator("dl.facts")).ToContainTextAsync(threadId);
        await Expect(page.GetByText("What interrupts ask is hidden from viewers")).ToBeVisibleAsync(Visible);
        Assert.DoesNotContain("approve", await page.InnerTextAsync("main"), StringComparison.Ordinal); // The question was: approve "viewer"?
        await Expect(page.Locator(".asked")).ToHaveCountAsync(0);
        await Expect(page.Locator("form.resume")).ToHaveCountAsync(0);
        await Expect(page.GetByRole(AriaRole.Button, new() { Name = "Resume" })).ToHaveCountAsync(0);
        await Expect(page.GetByText("Answering needs the reviewer role.")).ToBeVisibleAsync(Visible);

        // Posted anyway from the viewer's own session, with a valid antiforgery token and a well-formed answer.
        var token = await page.Locator("input[name='__RequestVerificationToken']").First.GetAttributeAsync("value");
        var status = await page.EvaluateAsync<int>("""
            async ([path, token, id]) => {
              const body = new URLSearchParams({ "__RequestVerificationToken": token, "interrupt_id": id, "p0.value": "\"from a viewer\"" });
              const response = await fetch(path, { method: "POST", body, redirect: "manual" });
              return response.status;
            }
            """, new object?[] { $"/console/interrupts/{id}/resume", token, id.ToString(System.Globalization.CultureInfo.InvariantCulture) });
        Assert.Equal(403, status);
        Assert.Equal("waiting", (string?)(await servers.GetAsync($"/api/interrupts/{id}"))["state"]);
        Assert.Equal("interrupted", (string?)(await servers.LangGraphThreadAsync(threadId))["status"]);
        output.WriteLine($"interrupt {id} still waits after the viewer's post");
    }

    private static async Task Screenshot(IPage page)
    {
        if (Environment.GetEnvironmentVariable("UPDATE_SCREENSHOTS") == "1")
        {
            var folder = Directory.CreateDirectory(Path.Combine(BuiltService.RepositoryRoot, "docs", "console")).FullName;
            await page.ScreenshotAsync(new() { Path = Path.Combine(folder, "interrupt.png"), FullPage = true });
        }
    }

    private async Task<IPage> SignedInAsync(ConsoleBrowser browser, string key, string path)
    {
        var page = await browser.NewPageAsync();
        await page.GotoAsync(new Uri(servers.ReceiverAddress, path).ToString());
        await ConsoleBrowserTests.SignInAsync(page, key);
        Assert.EndsWith(path, page.Url, StringComparison.Ordinal);
        return page;
    }

    /// <summary>What the graph received as the answer (its state's <c>answer</c>), once the resumed run finished.</summary>
    private async Task<JsonNode?> AnswerAsync(string threadId)
    {
        var thread = await Eventually.MatchAsync(() => servers.LangGraphThreadAsync(threadId), t => (string?)t["status"] == "idle", 60,
            what: $"Thread {threadId} ran on after the resume");
        return thread["values"]?["answer"];
    }

    private async Task<long> WaitForInterruptAsync(string threadId) =>
        (long)(await Eventually.MatchAsync(
            async () => (await servers.GetAsync($"/api/interrupts?thread_id={threadId}"))["items"]!.AsArray().FirstOrDefault(),
            i => i is not null, 60, what: $"The pause of thread {threadId} recorded"))!["id"]!;

    /// <summary>The LangGraph dev server, then the receiver on a port chosen first (its PublicUrl names it), with a viewer and a reviewer.</summary>
    public sealed class Servers : LangGraphReceiverFixture
    {
        public HumanInTheLoopServerTests.InterruptLog Interrupts { get; } = new();

        protected override Dictionary<string, string?> Settings(Uri address) => new()
        {
            ["WebhookReceiver:LangGraph:PublicUrl"] = new Uri(address, "/webhooks/langgraph").ToString(),
            ["WebhookReceiver:LangGraph:Sweep:Interval"] = "00:00:00",
            ["WebhookReceiver:Operators:0:Name"] = "vic",
            ["WebhookReceiver:Operators:0:Key"] = ViewerKey,
            ["WebhookReceiver:Operators:0:Role"] = "viewer",
            ["WebhookReceiver:Operators:1:Name"] = "rita",
            ["WebhookReceiver:Operators:1:Key"] = ReviewerKey,
            ["WebhookReceiver:Operators:1:Role"] = "reviewer",
            ["WebhookReceiver:Access:HidePayloadsFromViewers"] = "true",
        };

        protected override void AddServices(IServiceCollection services)
        {
            services.AddSingleton(Interrupts);
            new WebhookReceiverBuilder(services).AddInterruptHandler<HumanInTheLoopServerTests.LoggingInterruptHandler>("people");
        }

        public Task<JsonArray> LangGraphRunsAsync(string threadId) => LangGraph.RunsAsync(threadId);
    }
}
