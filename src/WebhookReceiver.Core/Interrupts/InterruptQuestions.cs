using System.Text.Json;
using WebhookReceiver.Webhooks;

namespace WebhookReceiver.Interrupts;

/// <summary>
/// What one pending <c>interrupt(value)</c> asks, in the shape the console renders a form for: the two shapes LangChain's
/// own tools use (<see cref="AgentInboxQuestion"/>, <see cref="HitlRequestQuestion"/>) or anything else
/// (<see cref="FreeFormQuestion"/>).
/// </summary>
internal abstract record InterruptQuestion
{
    /// <summary>The interrupt's id (the key of its answer when several are pending); null on servers that send none.</summary>
    public string? InterruptId { get; init; }

    /// <summary>
    /// Reads <paramref name="pending"/>'s value: a non-empty array whose every item has an <c>action_request</c> object and a
    /// <c>config</c> object is an Agent Inbox <c>HumanInterrupt</c> list; an object with <c>action_requests</c> (array of
    /// objects with a string <c>name</c>) and <c>review_configs</c> (array) is a <c>HITLRequest</c>; anything else is free form.
    /// </summary>
    public static InterruptQuestion Read(PendingInterrupt pending)
    {
        ArgumentNullException.ThrowIfNull(pending);
        var value = pending.Value;
        return (AgentInboxQuestion.TryRead(value) ?? HitlRequestQuestion.TryRead(value) ?? (InterruptQuestion)new FreeFormQuestion(value, pending.ResponseSchema))
            with { InterruptId = pending.Id };
    }

    /// <summary><c>{}</c>: the arguments of an action that sent none.</summary>
    internal static readonly JsonElement EmptyObject = JsonElement.Parse("{}");

    internal static string? Text(JsonElement element, string name) =>
        element.ValueKind == JsonValueKind.Object && element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;

    internal static bool Flag(JsonElement element, string name) =>
        element.ValueKind == JsonValueKind.Object && element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.True;
}

/// <summary>
/// An Agent Inbox <c>HumanInterrupt</c> list (langgraph <c>libs/prebuilt/langgraph/prebuilt/interrupt.py</c>, langchain-ai/agent-inbox
/// <c>src/components/agent-inbox/types.ts</c>): <c>[{action_request: {action, args}, config: {allow_accept, allow_edit,
/// allow_respond, allow_ignore}, description?}]</c>. Answered with a <c>HumanResponse</c> list, one per item in order:
/// <c>{type: "accept", args: null}</c>, <c>{type: "edit", args: {action, args}}</c>, <c>{type: "response", args: "text"}</c>
/// or <c>{type: "ignore", args: null}</c>, only the types the item's config allows.
/// </summary>
internal sealed record AgentInboxQuestion(IReadOnlyList<HumanInterruptItem> Items) : InterruptQuestion
{
    internal static AgentInboxQuestion? TryRead(JsonElement value)
    {
        if (value.ValueKind != JsonValueKind.Array || value.GetArrayLength() == 0)
        {
            return null;
        }

        var items = new List<HumanInterruptItem>();
        foreach (var item in value.EnumerateArray())
        {
            if (item.ValueKind != JsonValueKind.Object
                || !item.TryGetProperty("action_request", out var request) || request.ValueKind != JsonValueKind.Object
                || !item.TryGetProperty("config", out var config) || config.ValueKind != JsonValueKind.Object)
            {
                return null;
            }

            var args = request.TryGetProperty("args", out var a) && a.ValueKind == JsonValueKind.Object ? a.Clone() : EmptyObject;
            items.Add(new HumanInterruptItem(
                Text(request, "action") ?? "",
                args,
                Text(item, "description"),
                Flag(config, "allow_accept"),
                Flag(config, "allow_edit"),
                Flag(config, "allow_respond"),
                Flag(config, "allow_ignore")));
        }

        return new AgentInboxQuestion(items);
    }
}

/// <summary>One <c>HumanInterrupt</c>: the action the graph wants, its arguments (an object), and what the reviewer may answer.</summary>
internal sealed record HumanInterruptItem(
    string Action,
    JsonElement Args,
    string? Description,
    bool AllowAccept,
    bool AllowEdit,
    bool AllowRespond,
    bool AllowIgnore);

/// <summary>
/// LangChain v1's human-in-the-loop middleware <c>HITLRequest</c> (langchain <c>agents/middleware/human_in_the_loop.py</c>):
/// <c>{action_requests: [{name, args, description?}], review_configs: [{action_name, allowed_decisions, args_schema?}]}</c>.
/// Answered with <c>{decisions: [...]}</c>, exactly one per action request in its order (the middleware refuses a count that
/// differs): <c>{type: "approve"}</c>, <c>{type: "edit", edited_action: {name, args}}</c>, <c>{type: "reject", message?}</c>.
/// Some producers write <c>arguments</c> / <c>arguments_schema</c> instead of <c>args</c> / <c>args_schema</c>: read too,
/// and an edit answers with the key the request used.
/// </summary>
internal sealed record HitlRequestQuestion(IReadOnlyList<HitlAction> Actions) : InterruptQuestion
{
    /// <summary>The decision types of the middleware.</summary>
    public static readonly IReadOnlyList<string> DecisionTypes = ["approve", "edit", "reject"];

    internal static HitlRequestQuestion? TryRead(JsonElement value)
    {
        if (value.ValueKind != JsonValueKind.Object
            || !value.TryGetProperty("action_requests", out var requests) || requests.ValueKind != JsonValueKind.Array || requests.GetArrayLength() == 0
            || !value.TryGetProperty("review_configs", out var configs) || configs.ValueKind != JsonValueKind.Array)
        {
            return null;
        }

        var byAction = new Dictionary<string, JsonElement>(StringComparer.Ordinal);
        foreach (var config in configs.EnumerateArray())
        {
            if (Text(config, "action_name") is { } name)
            {
                byAction.TryAdd(name, config);
            }
        }

        var actions = new List<HitlAction>();
        foreach (var request in requests.EnumerateArray())
        {
            if (Text(request, "name") is not { } name)
            {
                return null;
            }

            var argsKey = request.TryGetProperty("args", out _) || !request.TryGetProperty("arguments", out _) ? "args" : "arguments";
            var args = request.TryGetProperty(argsKey, out var a) && a.ValueKind == JsonValueKind.Object ? a.Clone() : EmptyObject;
            IReadOnlyList<string> allowed = DecisionTypes;
            JsonElement? schema = null;
            if (byAction.TryGetValue(name, out var config))
            {
                if (config.TryGetProperty("allowed_decisions", out var decisions) && decisions.ValueKind == JsonValueKind.Array)
                {
                    allowed = decisions.EnumerateArray().Where(d => d.ValueKind == JsonValueKind.String).Select(d => d.GetString()!)
                        .Where(d => DecisionTypes.Contains(d)).ToList();
                }

                schema = config.TryGetProperty("args_schema", out var s) || config.TryGetProperty("arguments_schema", out s) ? s.Clone() : null;
            }

            actions.Add(new HitlAction(name, argsKey, args, Text(request, "description") ?? (byAction.TryGetValue(name, out var c) ? Text(c, "description") : null), allowed, schema));
        }

        return new HitlRequestQuestion(actions);
    }
}

/// <summary>One action request of a <c>HITLRequest</c> with its review config (all three decisions when it has none).</summary>
/// <param name="ArgsKey"><c>args</c>, or <c>arguments</c> when the request used that name.</param>
internal sealed record HitlAction(string Name, string ArgsKey, JsonElement Args, string? Description, IReadOnlyList<string> AllowedDecisions, JsonElement? ArgsSchema);

/// <summary>
/// Any other interrupt value: answered with a form generated from <see cref="ResponseSchema"/> when the server sent one it can
/// render (<see cref="SchemaFields"/>), else with a JSON editor (the value as typed, validated before it is sent).
/// </summary>
internal sealed record FreeFormQuestion(JsonElement Value, JsonElement? ResponseSchema) : InterruptQuestion
{
    /// <summary>
    /// The fields of a response schema the console renders as a form: an object schema's properties of type string, number,
    /// integer or boolean (each with its <c>title</c>/<c>description</c>, and whether it is <c>required</c>), or one field
    /// named <c>""</c> for a schema of one of those types. Null when the schema is absent or has any other shape (the JSON
    /// editor then).
    /// </summary>
    public IReadOnlyList<SchemaField>? SchemaFields { get; } = SchemaField.Read(ResponseSchema);
}

/// <summary>One field of a form generated from a response schema: <see cref="Name"/> <c>""</c> stands for the whole value.</summary>
internal sealed record SchemaField(string Name, string Type, string? Label, bool Required)
{
    public static readonly IReadOnlyList<string> Types = ["string", "number", "integer", "boolean"];

    /// <summary>
    /// The fields of <paramref name="schema"/> a form can be generated for: an object schema's properties of type string,
    /// number, integer or boolean, or one field named <c>""</c> for a schema of one of those types; null for any other shape.
    /// </summary>
    internal static List<SchemaField>? Read(JsonElement? schema)
    {
        if (schema is not { ValueKind: JsonValueKind.Object } s || InterruptQuestion.Text(s, "type") is not { } type)
        {
            return null;
        }

        if (Types.Contains(type))
        {
            return [new("", type, InterruptQuestion.Text(s, "title") ?? InterruptQuestion.Text(s, "description"), true)];
        }

        if (type != "object" || !s.TryGetProperty("properties", out var properties) || properties.ValueKind != JsonValueKind.Object)
        {
            return null;
        }

        var required = s.TryGetProperty("required", out var r) && r.ValueKind == JsonValueKind.Array
            ? r.EnumerateArray().Where(x => x.ValueKind == JsonValueKind.String).Select(x => x.GetString()!).ToHashSet(StringComparer.Ordinal)
            : [];
        var fields = new List<SchemaField>();
        foreach (var property in properties.EnumerateObject())
        {
            if (InterruptQuestion.Text(property.Value, "type") is not { } propertyType || !Types.Contains(propertyType))
            {
                return null;
            }

            fields.Add(new SchemaField(property.Name, propertyType, InterruptQuestion.Text(property.Value, "title") ?? InterruptQuestion.Text(property.Value, "description"), required.Contains(property.Name)));
        }

        return fields.Count == 0 ? null : fields;
    }
}
