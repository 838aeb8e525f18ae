using System.Text.Json;
using System.Text.Json.Nodes;
using WebhookReceiver.Console;
using WebhookReceiver.Interrupts;
using WebhookReceiver.Webhooks;

namespace WebhookReceiver.Tests.Console;

/// <summary>
/// The console's interrupt view model: a pending value is read as the shape LangChain's tools use, and a posted form becomes
/// exactly the resume value the graph expects (or errors, and nothing to send).
/// </summary>
public sealed class InterruptResumeFormTests
{
    private const string Inbox = """
        [{"action_request": {"action": "send_email", "args": {"to": "ops@example.com", "count": 2, "urgent": false, "tags": ["a"]}},
          "config": {"allow_accept": true, "allow_edit": true, "allow_respond": true, "allow_ignore": false},
          "description": "Send it?"}]
        """;

    private const string Hitl = """
        {"action_requests": [{"name": "book_flight", "args": {"from": "BER", "to": "LIS", "passengers": 2}},
                             {"name": "charge_card", "args": {"amount": 420}, "description": "Charge"}],
         "review_configs": [{"action_name": "book_flight", "allowed_decisions": ["approve", "edit", "reject"]},
                            {"action_name": "charge_card", "allowed_decisions": ["approve", "reject"]}]}
        """;

    [Fact]
    public void An_agent_inbox_list_is_read_with_its_actions_and_what_each_config_allows()
    {
        var question = Assert.IsType<AgentInboxQuestion>(Read(Inbox, id: "i-1"));

        var item = Assert.Single(question.Items);
        Assert.Equal(("send_email", "Send it?", "i-1"), (item.Action, item.Description, question.InterruptId));
        Assert.Equal((true, true, true, false), (item.AllowAccept, item.AllowEdit, item.AllowRespond, item.AllowIgnore));
        Assert.Equal(["to", "count", "urgent", "tags"], item.Args.EnumerateObject().Select(a => a.Name));
    }

    [Fact]
    public void Accept_edit_and_respond_become_the_matching_human_response_list()
    {
        var questions = new[] { Read(Inbox) };

        AssertResume("""[{"type": "accept", "args": null}]""", InterruptResumeForm.Build(questions, Form(("p0.0.type", "accept"))));
        AssertResume("""[{"type": "response", "args": "not today"}]""",
            InterruptResumeForm.Build(questions, Form(("p0.0.type", "response"), ("p0.0.response", "not today"))));
        AssertResume("""[{"type": "edit", "args": {"action": "send_email", "args": {"to": "cto@example.com", "count": 3, "urgent": true, "tags": ["a", "b"]}}}]""",
            InterruptResumeForm.Build(questions, Form(("p0.0.type", "edit"), ("p0.0.args.to", "cto@example.com"), ("p0.0.args.count", "3"),
                ("p0.0.args.urgent", "true"), ("p0.0.args.tags", """["a", "b"]"""))));
    }

    [Fact]
    public void An_answer_the_config_does_not_allow_or_a_bad_argument_sends_nothing()
    {
        var questions = new[] { Read(Inbox) };

        var ignore = InterruptResumeForm.Build(questions, Form(("p0.0.type", "ignore")));
        var none = InterruptResumeForm.Build(questions, Form());
        var badCount = InterruptResumeForm.Build(questions, Form(("p0.0.type", "edit"), ("p0.0.args.to", "x"), ("p0.0.args.count", "many"), ("p0.0.args.tags", "[]")));
        var noText = InterruptResumeForm.Build(questions, Form(("p0.0.type", "response"), ("p0.0.response", " ")));

        Assert.All(new[] { ignore, none, badCount, noText }, r => Assert.Null(r.Body));
        Assert.Contains("not an answer", Assert.Single(ignore.Errors), StringComparison.Ordinal);
        Assert.Contains("\"count\" of \"send_email\" must be a number", Assert.Single(badCount.Errors), StringComparison.Ordinal);
        Assert.Contains("Write the response", Assert.Single(noText.Errors), StringComparison.Ordinal);
    }

    [Fact]
    public void A_hitl_request_is_read_with_every_action_and_its_allowed_decisions()
    {
        var question = Assert.IsType<HitlRequestQuestion>(Read(Hitl));

        Assert.Equal(["book_flight", "charge_card"], question.Actions.Select(a => a.Name));
        Assert.Equal(["approve", "edit", "reject"], question.Actions[0].AllowedDecisions);
        Assert.Equal(["approve", "reject"], question.Actions[1].AllowedDecisions);
        Assert.Equal("Charge", question.Actions[1].Description);
    }

    [Fact]
    public void A_hitl_request_is_answered_with_one_decision_per_action_in_order()
    {
        var questions = new[] { Read(Hitl) };

        var resume = InterruptResumeForm.Build(questions, Form(
            ("p0.0.decision", "edit"), ("p0.0.args.from", "BER"), ("p0.0.args.to", "OPO"), ("p0.0.args.passengers", "3"),
            ("p0.1.decision", "reject"), ("p0.1.message", "too expensive")));

        AssertResume("""
            {"decisions": [{"type": "edit", "edited_action": {"name": "book_flight", "args": {"from": "BER", "to": "OPO", "passengers": 3}}},
                           {"type": "reject", "message": "too expensive"}]}
            """, resume);
        AssertResume("""{"decisions": [{"type": "approve"}, {"type": "approve"}]}""",
            InterruptResumeForm.Build(questions, Form(("p0.0.decision", "approve"), ("p0.1.decision", "approve"))));
    }

    [Fact]
    public void A_hitl_request_missing_a_decision_or_with_one_its_config_refuses_sends_nothing()
    {
        var questions = new[] { Read(Hitl) };

        var onlyFirst = InterruptResumeForm.Build(questions, Form(("p0.0.decision", "approve")));
        var editNotAllowed = InterruptResumeForm.Build(questions, Form(("p0.0.decision", "approve"), ("p0.1.decision", "edit")));

        Assert.Null(onlyFirst.Body);
        Assert.Contains("Decide action 2 (\"charge_card\")", Assert.Single(onlyFirst.Errors), StringComparison.Ordinal);
        Assert.Null(editNotAllowed.Body);
        Assert.Contains("\"edit\" is not a decision action 2", Assert.Single(editNotAllowed.Errors), StringComparison.Ordinal);
    }

    [Fact]
    public void An_edit_answers_with_the_arguments_key_the_request_used()
    {
        var questions = new[] { Read("""{"action_requests": [{"name": "run", "arguments": {"cmd": "ls"}}], "review_configs": []}""") };

        AssertResume("""{"decisions": [{"type": "edit", "edited_action": {"name": "run", "arguments": {"cmd": "pwd"}}}]}""",
            InterruptResumeForm.Build(questions, Form(("p0.0.decision", "edit"), ("p0.0.args.cmd", "pwd"))));
    }

    [Fact]
    public void Anything_else_is_answered_with_valid_json_from_the_editor_and_bad_json_sends_nothing()
    {
        var question = Assert.IsType<FreeFormQuestion>(Read("""{"question": "approve?"}"""));
        Assert.Null(question.SchemaFields);

        AssertResume("\"yes\"", InterruptResumeForm.Build([question], Form(("p0.value", "\"yes\""))));
        AssertResume("""{"ok": true}""", InterruptResumeForm.Build([question], Form(("p0.value", """{"ok": true}"""))));
        var bad = InterruptResumeForm.Build([question], Form(("p0.value", "{yes")));
        Assert.Null(bad.Body);
        Assert.StartsWith("Resume value is not valid JSON", Assert.Single(bad.Errors), StringComparison.Ordinal);
        Assert.Null(InterruptResumeForm.Build([question], Form(("p0.value", ""))).Body);
    }

    [Fact]
    public void A_response_schema_becomes_a_form_whose_fields_are_typed_as_the_schema_says()
    {
        var schema = JsonElement.Parse("""
            {"type": "object", "properties": {"approved": {"type": "boolean"}, "reason": {"type": "string", "title": "Why"}, "budget": {"type": "integer"}},
             "required": ["approved", "reason"]}
            """);
        var question = Assert.IsType<FreeFormQuestion>(InterruptQuestion.Read(new PendingInterrupt { Value = JsonElement.Parse("\"approve?\""), ResponseSchema = schema }));

        Assert.Equal([("approved", "boolean", true), ("reason", "string", true), ("budget", "integer", false)],
            question.SchemaFields!.Select(f => (f.Name, f.Type, f.Required)));
        AssertResume("""{"approved": true, "reason": "fine", "budget": 12}""",
            InterruptResumeForm.Build([question], Form(("p0.field.approved", "true"), ("p0.field.reason", "fine"), ("p0.field.budget", "12"))));
        AssertResume("""{"approved": false, "reason": "no"}""", InterruptResumeForm.Build([question], Form(("p0.field.reason", "no"))));
        var missing = InterruptResumeForm.Build([question], Form(("p0.field.budget", "1.5")));
        Assert.Equal(["Fill in Why.", "budget must be a whole number, not \"1.5\"."], missing.Errors);
    }

    [Fact]
    public void A_breakpoint_resumes_with_an_empty_body_and_several_interrupts_by_their_ids()
    {
        Assert.Equal("{}", InterruptResumeForm.Build([], Form()).Body!.ToJsonString());

        var two = new[] { Read("""{"reviewer": "legal"}""", "a"), Read("""{"reviewer": "finance"}""", "b") };
        var body = InterruptResumeForm.Build(two, Form(("p0.value", "\"legal ok\""), ("p1.value", "\"finance ok\""))).Body!;
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse("""{"resume": {"a": "legal ok", "b": "finance ok"}}"""), body), body.ToJsonString());
    }

    private static InterruptQuestion Read(string value, string? id = null) =>
        InterruptQuestion.Read(new PendingInterrupt { Id = id, Value = JsonElement.Parse(value) });

    private static Dictionary<string, string?> Form(params (string Name, string Value)[] fields) =>
        fields.ToDictionary(f => f.Name, f => (string?)f.Value, StringComparer.Ordinal);

    private static void AssertResume(string expected, InterruptResume resume)
    {
        Assert.True(resume.IsValid, string.Join("; ", resume.Errors));
        var body = resume.Body!;
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse(expected), body["resume"]), body.ToJsonString());
    }
}
