using System.Text.Json;
using System.Text.Json.Serialization;
using WebhookReceiver.Webhooks;

namespace WebhookReceiver.Interrupts;

/// <summary>A thread that stopped for a person, as recorded by the receiver.</summary>
/// <param name="State"><c>waiting</c>, <c>resumed</c> (through this receiver) or <c>expired</c> (the thread no longer waits here).</param>
/// <param name="RunId">The run that paused; <c>webhook_id</c> is its stored webhook (null when the sweep found the pause).</param>
/// <param name="Pending">The interrupts the graph waits at: <c>id</c>, the exact <c>value</c> it passed to <c>interrupt()</c>, <c>response_schema</c> when sent. Empty at a static breakpoint.</param>
/// <param name="Next">The nodes that run next.</param>
/// <param name="IsBreakpoint">A static breakpoint (no interrupt pending, a node next): resume with <c>{}</c>.</param>
/// <param name="SeenAt">When the receiver found the pause.</param>
/// <param name="ResumedRunId">The run the resume created; <c>resumed_webhook_id</c> is its stored webhook once it arrived.</param>
/// <param name="ExpiredAt">When the receiver found the thread no longer waiting here; <c>expired_reason</c> says how.</param>
/// <param name="ResumeUrl">Where to resume it (absolute with <c>LangGraph:PublicUrl</c>).</param>
/// <param name="ConsoleUrl">Its page in the operator console, for a person to answer from: absolute, from <c>LangGraph:PublicUrl</c>; null
/// without a public URL or when the console is not added.</param>
/// <param name="Deliveries">Its deliveries to interrupt handlers.</param>
/// <param name="ResumedBy">Who resumed it through the receiver: an operator's name or the host user's name; null until then.</param>
internal sealed record InterruptView(
    long Id,
    string State,
    string Deployment,
    string ThreadId,
    string? RunId,
    long? WebhookId,
    string? AssistantId,
    string? GraphId,
    IReadOnlyList<PendingInterruptView> Pending,
    IReadOnlyList<string> Next,
    string? CheckpointId,
    bool IsBreakpoint,
    DateTimeOffset SeenAt,
    DateTimeOffset? ResumedAt,
    string? ResumedRunId,
    long? ResumedWebhookId,
    DateTimeOffset? ExpiredAt,
    string? ExpiredReason,
    string ResumeUrl,
    string? ConsoleUrl,
    IReadOnlyList<DeliveryView> Deliveries,
    string? ResumedBy)
{
    /// <param name="hideValues">Leave out what the graph asked (each pending <c>value</c> and <c>response_schema</c>): a viewer's view
    /// when <c>Access:HidePayloadsFromViewers</c> is on.</param>
    internal static InterruptView From(StoredInterrupt stored, InterruptLinks links, bool hideValues = false)
    {
        var pending = InterruptLinks.ReadPending(stored.Pending);
        return new(stored.Id, stored.State, stored.Deployment, stored.ThreadId, stored.RunId, stored.WebhookId, stored.AssistantId, stored.GraphId,
            pending.Select(p => hideValues ? new PendingInterruptView(p.Id, null) : new PendingInterruptView(p.Id, p.Value, p.ResponseSchema, QuestionView.From(InterruptQuestion.Read(p)))).ToList(),
            JsonSerializer.Deserialize<List<string>>(stored.Next) ?? [], stored.CheckpointId, pending.Count == 0, stored.SeenAt,
            stored.ResumedAt, stored.ResumedRunId, stored.ResumedWebhookId, stored.EndedAt, stored.Detail, links.ResumeUrl(stored.Id), links.ConsoleUrl(stored.Id),
            stored.Deliveries.Select(d => DeliveryView.From(d)).ToList(), stored.ResumedBy);
    }
}

/// <param name="Value">Exactly what the graph passed to <c>interrupt()</c>; left out for a viewer when <c>Access:HidePayloadsFromViewers</c> is on.</param>
/// <param name="ResponseSchema">The schema of the expected answer, when the server sends one; left out otherwise.</param>
/// <param name="Question">What <c>value</c> asks, read so that a client can answer without parsing it; left out with <c>value</c>.</param>
internal sealed record PendingInterruptView(
    string? Id,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] JsonElement? Value,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] JsonElement? ResponseSchema = null,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] QuestionView? Question = null);

/// <summary>
/// What one pending interrupt asks (<see cref="InterruptQuestion"/>), as the console reads it.
/// <list type="bullet">
/// <item><c>agent_inbox</c>: an Agent Inbox <c>HumanInterrupt</c> list; answer <c>resume</c> with a list holding one
/// <c>{type, args}</c> per action, in order, <c>type</c> one of the action's <c>allowed_decisions</c> (<c>accept</c>, <c>edit</c>,
/// <c>response</c>, <c>ignore</c>).</item>
/// <item><c>hitl</c>: LangChain's <c>HITLRequest</c>; answer <c>{"decisions": [...]}</c>, one <c>{type, ...}</c> per action in order,
/// <c>type</c> one of its <c>allowed_decisions</c> (<c>approve</c>, <c>edit</c>, <c>reject</c>).</item>
/// <item><c>free_form</c>: any other value; no actions; <c>fields</c> when <c>response_schema</c> is an object of string, number,
/// integer or boolean properties (or one such type: one field named <c>""</c>), else null (any JSON answers).</item>
/// </list>
/// </summary>
internal sealed record QuestionView(string Kind, IReadOnlyList<QuestionActionView> Actions, IReadOnlyList<QuestionFieldView>? Fields)
{
    public const string AgentInbox = "agent_inbox";
    public const string Hitl = "hitl";
    public const string FreeForm = "free_form";

    internal static QuestionView From(InterruptQuestion question) => question switch
    {
        AgentInboxQuestion inbox => new(AgentInbox, inbox.Items.Select(i => new QuestionActionView(i.Action, i.Args, i.Description,
            [.. new[] { (i.AllowAccept, "accept"), (i.AllowEdit, "edit"), (i.AllowRespond, "response"), (i.AllowIgnore, "ignore") }.Where(d => d.Item1).Select(d => d.Item2)],
            null)).ToList(), null),
        HitlRequestQuestion hitl => new(Hitl, hitl.Actions.Select(a => new QuestionActionView(a.Name, a.Args, a.Description, a.AllowedDecisions,
            QuestionFieldView.From(SchemaField.Read(a.ArgsSchema)))).ToList(), null),
        FreeFormQuestion free => new(FreeForm, [], QuestionFieldView.From(free.SchemaFields)),
        _ => throw new ArgumentOutOfRangeException(nameof(question), question.GetType().Name, "Not a kind of question."),
    };
}

/// <summary>One action the graph wants reviewed.</summary>
/// <param name="Name">The tool or action name.</param>
/// <param name="Args">Its arguments (an object; <c>{}</c> when it sent none).</param>
/// <param name="AllowedDecisions">The answer types this action takes, in the vocabulary of its kind.</param>
/// <param name="Fields">The fields of the action's <c>args_schema</c> (hitl only), when it is one a form can be made of; else left out.</param>
internal sealed record QuestionActionView(
    string Name,
    JsonElement Args,
    string? Description,
    IReadOnlyList<string> AllowedDecisions,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] IReadOnlyList<QuestionFieldView>? Fields);

/// <summary>One field of the expected answer, from a schema.</summary>
/// <param name="Name">The property name; <c>""</c> when the schema is of one plain type (the answer is the value itself).</param>
/// <param name="Type"><c>string</c>, <c>number</c>, <c>integer</c> or <c>boolean</c>.</param>
/// <param name="Label">The schema's <c>title</c>, else its <c>description</c>.</param>
internal sealed record QuestionFieldView(string Name, string Type, string? Label, bool Required)
{
    internal static List<QuestionFieldView>? From(IReadOnlyList<SchemaField>? fields) =>
        fields?.Select(f => new QuestionFieldView(f.Name, f.Type, f.Label, f.Required)).ToList();
}

/// <param name="NextCursor">Pass as <c>cursor</c> for the next (older) page; null on the last page.</param>
internal sealed record InterruptList(IReadOnlyList<InterruptView> Items, long? NextCursor);

/// <summary>A resume the deployment accepted: <c>run_id</c> is the new run (same thread), whose webhook arrives when it finishes.</summary>
internal sealed record ResumeAccepted(long InterruptId, string ThreadId, string RunId, string State);
