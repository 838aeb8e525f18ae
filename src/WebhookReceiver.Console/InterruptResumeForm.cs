using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using WebhookReceiver.Interrupts;
using WebhookReceiver.Webhooks;

namespace WebhookReceiver.Console;

/// <summary>What a posted resume form makes: the body for the resumer, or why not (then nothing is sent).</summary>
/// <param name="Body"><c>{"resume": value}</c> (one interrupt), <c>{"resume": {"&lt;interrupt id&gt;": value}}</c> (several) or <c>{}</c> (a breakpoint); null when <paramref name="Errors"/> is not empty.</param>
/// <param name="Errors">What the reviewer must fix, one sentence each, naming the field.</param>
internal sealed record InterruptResume(JsonObject? Body, IReadOnlyList<string> Errors)
{
    public bool IsValid => Body is not null && Errors.Count == 0;
}

/// <summary>
/// The resume form of a waiting interrupt: the names of its fields, and the resume value built from a posted form, exactly in
/// the shape the graph expects (see <see cref="AgentInboxQuestion"/>, <see cref="HitlRequestQuestion"/>,
/// <see cref="FreeFormQuestion"/>). Field names: <c>p{i}.</c> for the i-th pending interrupt, then <c>{j}.type</c> /
/// <c>{j}.args.{name}</c> / <c>{j}.response</c> (Agent Inbox item j), <c>{j}.decision</c> / <c>{j}.args.{name}</c> /
/// <c>{j}.message</c> (HITL action j), <c>field.{name}</c> (a schema form) or <c>value</c> (the JSON editor).
/// </summary>
internal static class InterruptResumeForm
{
    /// <summary>The hidden field naming the interrupt the form was rendered for.</summary>
    public const string InterruptIdField = "interrupt_id";

    /// <summary>The hidden field naming the pause (its key: interrupt ids or checkpoint) the form was rendered for.</summary>
    public const string PauseField = "pause";

    public static string Prefix(int pending) => "p" + pending.ToString(CultureInfo.InvariantCulture) + ".";

    public static string Item(int pending, int item, string name) => Prefix(pending) + item.ToString(CultureInfo.InvariantCulture) + "." + name;

    public static string Arg(int pending, int item, string arg) => Item(pending, item, "args." + arg);

    public static string SchemaInput(int pending, string field) => Prefix(pending) + "field." + field;

    public static string JsonInput(int pending) => Prefix(pending) + "value";

    /// <summary>The questions of the pending interrupts, in the stored order.</summary>
    public static IReadOnlyList<InterruptQuestion> Questions(IReadOnlyList<PendingInterrupt> pending) =>
        pending.Select(InterruptQuestion.Read).ToList();

    /// <summary>
    /// Builds the resume body from <paramref name="form"/> (posted field name → value; a missing field is absent). A breakpoint
    /// (no questions) resumes with <c>{}</c>; one interrupt with <c>{"resume": value}</c>; several with their values by id.
    /// </summary>
    public static InterruptResume Build(IReadOnlyList<InterruptQuestion> questions, IReadOnlyDictionary<string, string?> form)
    {
        ArgumentNullException.ThrowIfNull(questions);
        ArgumentNullException.ThrowIfNull(form);
        if (questions.Count == 0)
        {
            return new(new JsonObject(), []);
        }

        var errors = new List<string>();
        var values = new List<JsonNode?>();
        for (var i = 0; i < questions.Count; i++)
        {
            values.Add(questions[i] switch
            {
                AgentInboxQuestion inbox => BuildInbox(i, inbox, form, errors),
                HitlRequestQuestion hitl => BuildHitl(i, hitl, form, errors),
                FreeFormQuestion free => BuildFreeForm(i, free, form, errors),
                _ => throw new ArgumentException("Unknown question kind.", nameof(questions)),
            });
        }

        if (errors.Count > 0)
        {
            return new(null, errors);
        }

        if (questions.Count == 1)
        {
            return new(new JsonObject { ["resume"] = values[0] }, []);
        }

        var byId = new JsonObject();
        for (var i = 0; i < questions.Count; i++)
        {
            byId[questions[i].InterruptId ?? ""] = values[i];
        }

        return new(new JsonObject { ["resume"] = byId }, []);
    }

    /// <summary>A <c>HumanResponse</c> list: one response per item, of a type its config allows.</summary>
    private static JsonArray BuildInbox(int p, AgentInboxQuestion question, IReadOnlyDictionary<string, string?> form, List<string> errors)
    {
        var responses = new JsonArray();
        for (var j = 0; j < question.Items.Count; j++)
        {
            var item = question.Items[j];
            var type = Value(form, Item(p, j, "type"));
            var allowed = type switch
            {
                "accept" => item.AllowAccept,
                "edit" => item.AllowEdit,
                "response" => item.AllowRespond,
                "ignore" => item.AllowIgnore,
                _ => false,
            };
            if (!allowed)
            {
                errors.Add(type is null
                    ? $"Choose an answer for \"{item.Action}\"."
                    : $"\"{type}\" is not an answer \"{item.Action}\" allows.");
                continue;
            }

            JsonNode? args = null;
            if (type == "edit")
            {
                args = new JsonObject { ["action"] = item.Action, ["args"] = ReadArgs(p, j, item.Args, form, errors, item.Action) };
            }
            else if (type == "response")
            {
                var text = Value(form, Item(p, j, "response"));
                if (string.IsNullOrWhiteSpace(text))
                {
                    errors.Add($"Write the response to \"{item.Action}\".");
                    continue;
                }

                args = JsonValue.Create(text);
            }

            responses.Add(new JsonObject { ["type"] = type, ["args"] = args });
        }

        return responses;
    }

    /// <summary><c>{"decisions": [...]}</c>: a decision for every action request, in order, each of a type its review config allows.</summary>
    private static JsonObject BuildHitl(int p, HitlRequestQuestion question, IReadOnlyDictionary<string, string?> form, List<string> errors)
    {
        var decisions = new JsonArray();
        for (var j = 0; j < question.Actions.Count; j++)
        {
            var action = question.Actions[j];
            var type = Value(form, Item(p, j, "decision"));
            if (type is null || !action.AllowedDecisions.Contains(type))
            {
                errors.Add(type is null
                    ? $"Decide action {j + 1} (\"{action.Name}\"): every action needs a decision."
                    : $"\"{type}\" is not a decision action {j + 1} (\"{action.Name}\") allows.");
                continue;
            }

            var decision = new JsonObject { ["type"] = type };
            if (type == "edit")
            {
                decision["edited_action"] = new JsonObject { ["name"] = action.Name, [action.ArgsKey] = ReadArgs(p, j, action.Args, form, errors, action.Name) };
            }
            else if (type == "reject" && Value(form, Item(p, j, "message")) is { Length: > 0 } message)
            {
                decision["message"] = message;
            }

            decisions.Add(decision);
        }

        return new JsonObject { ["decisions"] = decisions };
    }

    private static JsonNode? BuildFreeForm(int p, FreeFormQuestion question, IReadOnlyDictionary<string, string?> form, List<string> errors)
    {
        if (question.SchemaFields is { } fields)
        {
            if (fields is [{ Name: "" } whole])
            {
                return ReadTyped(Value(form, SchemaInput(p, "")), whole.Type, whole.Label ?? "the answer", whole.Required, errors);
            }

            var answer = new JsonObject();
            foreach (var field in fields)
            {
                var value = ReadTyped(Value(form, SchemaInput(p, field.Name)), field.Type, field.Label ?? field.Name, field.Required, errors);
                if (value is not null || field.Required)
                {
                    answer[field.Name] = value;
                }
            }

            return answer;
        }

        var text = Value(form, JsonInput(p));
        if (string.IsNullOrWhiteSpace(text))
        {
            errors.Add("Resume value: write the answer as JSON (a string in quotes, a number, an object...).");
            return null;
        }

        try
        {
            return JsonNode.Parse(text);
        }
        catch (JsonException ex)
        {
            errors.Add($"Resume value is not valid JSON: {ex.Message}");
            return null;
        }
    }

    /// <summary>The edited arguments: each posted field read as the JSON kind of the original argument.</summary>
    private static JsonObject ReadArgs(int p, int j, JsonElement original, IReadOnlyDictionary<string, string?> form, List<string> errors, string action)
    {
        var args = new JsonObject();
        foreach (var arg in original.EnumerateObject())
        {
            var posted = Value(form, Arg(p, j, arg.Name));
            var label = $"\"{arg.Name}\" of \"{action}\"";
            args[arg.Name] = arg.Value.ValueKind switch
            {
                JsonValueKind.String => posted ?? "",
                JsonValueKind.Number => ReadTyped(posted, "number", label, true, errors),
                JsonValueKind.True or JsonValueKind.False => ReadTyped(posted, "boolean", label, true, errors),
                _ => ReadJson(posted, label, errors),
            };
        }

        return args;
    }

    /// <summary>A posted field as a JSON value of the schema <paramref name="type"/>; null (and an error when required) when empty.</summary>
    private static JsonValue? ReadTyped(string? posted, string type, string label, bool required, List<string> errors)
    {
        if (type == "string")
        {
            if (string.IsNullOrEmpty(posted) && required)
            {
                errors.Add($"Fill in {label}.");
            }

            return string.IsNullOrEmpty(posted) && !required ? null : JsonValue.Create(posted ?? "");
        }

        if (type == "boolean")
        {
            // A checkbox posts "true" (or "on") when ticked and nothing when not.
            return JsonValue.Create(posted is "true" or "on");
        }

        if (string.IsNullOrWhiteSpace(posted))
        {
            if (required)
            {
                errors.Add($"Fill in {label}.");
            }

            return null;
        }

        if (type == "integer" && long.TryParse(posted, NumberStyles.Integer, CultureInfo.InvariantCulture, out var whole))
        {
            return JsonValue.Create(whole);
        }

        if (type == "number" && decimal.TryParse(posted, NumberStyles.Float, CultureInfo.InvariantCulture, out var number))
        {
            return number == decimal.Truncate(number) && number is >= long.MinValue and <= long.MaxValue
                ? JsonValue.Create((long)number)
                : JsonValue.Create(number);
        }

        errors.Add($"{label} must be {(type == "integer" ? "a whole number" : "a number")}, not \"{posted}\".");
        return null;
    }

    private static JsonNode? ReadJson(string? posted, string label, List<string> errors)
    {
        try
        {
            return JsonNode.Parse(string.IsNullOrWhiteSpace(posted) ? "null" : posted);
        }
        catch (JsonException)
        {
            errors.Add($"{label} must be JSON.");
            return null;
        }
    }

    private static string? Value(IReadOnlyDictionary<string, string?> form, string name) =>
        form.TryGetValue(name, out var value) ? value : null;
}
