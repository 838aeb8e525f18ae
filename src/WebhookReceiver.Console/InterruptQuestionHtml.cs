using System.Globalization;
using System.Text.Encodings.Web;
using System.Text.Json;

using WebhookReceiver.Interrupts;

namespace WebhookReceiver.Console;

/// <summary>
/// The HTML of what a graph asked and of its resume form (field names from <see cref="InterruptResumeForm"/>): the Agent Inbox
/// buttons Accept / Edit / Respond / Ignore (only those the config allows), a decision per <c>HITLRequest</c> action (only
/// its allowed decisions), a form from the response schema, or the JSON editor "Resume value". A form re-rendered after an
/// error keeps what was posted.
/// </summary>
internal static class InterruptQuestionHtml
{
    // Relaxed escaping: the text is HTML-encoded where it is written, so it shows quotes and accents as they are.
    private static readonly JsonWriterOptions Indented = new() { Indented = true, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary>A value as indented JSON text (encoded when written into <see cref="Html.Of"/>).</summary>
    public static string Pretty(JsonElement value)
    {
        if (value.ValueKind == JsonValueKind.Undefined)
        {
            return "";
        }

        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer, Indented))
        {
            value.WriteTo(writer);
        }

        return System.Text.Encoding.UTF8.GetString(buffer.ToArray());
    }

    /// <summary>One line on what a question asks, for the list: its actions, or its value shortened.</summary>
    public static string Summary(InterruptQuestion question)
    {
        var text = question switch
        {
            AgentInboxQuestion inbox => string.Join(", ", inbox.Items.Select(i => i.Action)),
            HitlRequestQuestion hitl => string.Join(", ", hitl.Actions.Select(a => a.Name)),
            FreeFormQuestion free => free.Value.ValueKind == JsonValueKind.Undefined ? "" : free.Value.GetRawText(),
            _ => "",
        };
        return text.Length <= 100 ? text : text[..97] + "...";
    }

    /// <summary>What the graph asked: read-only, for everyone who may see the page.</summary>
    public static Html Asked(InterruptQuestion question) => question switch
    {
        AgentInboxQuestion inbox => Html.Join(inbox.Items.Select(item => Html.Of($"""
            <div class="asked inbox-item">
            <p><strong>{item.Action}</strong>{Html.When(item.Description is not null, Html.Of($": {item.Description}"))}</p>
            {ArgsTable(item.Args)}
            </div>
            """))),
        HitlRequestQuestion hitl => Html.Of($"""
            <ol class="asked hitl-actions">{Html.Join(hitl.Actions.Select(action => Html.Of($"""
                <li><strong>{action.Name}</strong>{Html.When(action.Description is not null, Html.Of($": {action.Description}"))}{ArgsTable(action.Args)}
                <span class="muted">allowed: {string.Join(", ", action.AllowedDecisions)}</span></li>
                """)))}</ol>
            """),
        FreeFormQuestion free => Html.Of($"""
            <pre class="asked payload">{Pretty(free.Value)}</pre>
            {(free.ResponseSchema is { } schema ? Html.Of($"<details><summary>Response schema</summary><pre>{Pretty(schema)}</pre></details>") : Html.Empty)}
            """),
        _ => Html.Empty,
    };

    /// <summary>
    /// The fields answering question <paramref name="p"/> (its index among the pending ones), filled from
    /// <paramref name="posted"/>. <paramref name="soleInboxItem"/>: the page has this one Agent Inbox item only, so its
    /// answers are submit buttons; otherwise radios, sent with the form's one Resume button.
    /// </summary>
    public static Html Fields(int p, InterruptQuestion question, IReadOnlyDictionary<string, string?> posted, bool soleInboxItem) => question switch
    {
        AgentInboxQuestion inbox => Html.Join(inbox.Items.Select((item, j) => InboxFields(p, j, item, posted, soleInboxItem))),
        HitlRequestQuestion hitl => Html.Join(hitl.Actions.Select((action, j) => HitlFields(p, j, action, posted))),
        FreeFormQuestion free => FreeFormFields(p, free, posted),
        _ => Html.Empty,
    };

    private static Html InboxFields(int p, int j, HumanInterruptItem item, IReadOnlyDictionary<string, string?> posted, bool buttons)
    {
        var type = InterruptResumeForm.Item(p, j, "type");
        var choices = new List<(string Value, string Label)>();
        if (item.AllowAccept)
        {
            choices.Add(("accept", "Accept"));
        }

        if (item.AllowEdit)
        {
            choices.Add(("edit", "Edit"));
        }

        if (item.AllowRespond)
        {
            choices.Add(("response", "Respond"));
        }

        if (item.AllowIgnore)
        {
            choices.Add(("ignore", "Ignore"));
        }

        var edit = Html.When(item.AllowEdit, Html.Of($"""
            <fieldset class="edit-args"><legend>Edited arguments of {item.Action}</legend>{ArgInputs(p, j, item.Args, posted)}</fieldset>
            """));
        var respond = Html.When(item.AllowRespond, Html.Of($"""
            <label>Response <textarea name="{InterruptResumeForm.Item(p, j, "response")}" rows="3">{Posted(posted, InterruptResumeForm.Item(p, j, "response"))}</textarea></label>
            """));
        var answers = buttons
            ? Html.Of($"""<div class="actions">{Html.Join(choices.Select(c => Html.Of($"<button type=\"submit\" name=\"{type}\" value=\"{c.Value}\">{c.Label}</button>")))}</div>""")
            : Html.Of($"""<div class="choices">{Radios(type, choices, posted)}</div>""");
        return Html.Of($"""
            <fieldset class="inbox-answer" data-action="{item.Action}"><legend>{item.Action}</legend>
            {edit}{respond}{answers}
            </fieldset>
            """);
    }

    private static Html HitlFields(int p, int j, HitlAction action, IReadOnlyDictionary<string, string?> posted)
    {
        var decision = InterruptResumeForm.Item(p, j, "decision");
        var labels = new Dictionary<string, string>(StringComparer.Ordinal) { ["approve"] = "Approve", ["edit"] = "Edit", ["reject"] = "Reject" };
        var choices = action.AllowedDecisions.Select(d => (d, labels[d])).ToList();
        return Html.Of($"""
            <fieldset class="hitl-decision" data-action="{action.Name}"><legend>{(j + 1).ToString(CultureInfo.InvariantCulture)}. {action.Name}</legend>
            <div class="choices">{Radios(decision, choices, posted)}</div>
            {Html.When(action.AllowedDecisions.Contains("edit"), Html.Of($"<fieldset class=\"edit-args\"><legend>Edited arguments of {action.Name}</legend>{ArgInputs(p, j, action.Args, posted)}</fieldset>"))}
            {Html.When(action.AllowedDecisions.Contains("reject"), Html.Of($"<label>Rejection message <input type=\"text\" name=\"{InterruptResumeForm.Item(p, j, "message")}\" value=\"{Posted(posted, InterruptResumeForm.Item(p, j, "message"))}\"></label>"))}
            </fieldset>
            """);
    }

    private static Html FreeFormFields(int p, FreeFormQuestion question, IReadOnlyDictionary<string, string?> posted)
    {
        if (question.SchemaFields is { } fields)
        {
            return Html.Of($"""
                <fieldset class="schema-form"><legend>Answer</legend>{Html.Join(fields.Select(f => SchemaInput(p, f, posted)))}</fieldset>
                """);
        }

        var name = InterruptResumeForm.JsonInput(p);
        var id = "resume-value-" + p.ToString(CultureInfo.InvariantCulture);
        return Html.Of($"""
            <label for="{id}">Resume value</label>
            <textarea id="{id}" name="{name}" rows="6" spellcheck="false" placeholder="&quot;yes&quot;">{Posted(posted, name)}</textarea>
            <p class="muted">JSON: a string in quotes, a number, true/false, an object or a list. It is checked before it is sent.</p>
            """);
    }

    private static Html SchemaInput(int p, SchemaField field, IReadOnlyDictionary<string, string?> posted)
    {
        var name = InterruptResumeForm.SchemaInput(p, field.Name);
        var label = field.Label ?? (field.Name.Length == 0 ? "Answer" : field.Name);
        if (field.Type == "boolean")
        {
            return Html.Of($"""<label><input type="checkbox" name="{name}" value="true"{Html.Raw(Posted(posted, name) == "true" ? " checked" : "")}> {label}</label>""");
        }

        return Html.Of($"""<label>{label}{Html.When(field.Required, Html.Raw(" *"))} <input type="text" name="{name}" value="{Posted(posted, name)}"{Html.Raw(field.Type == "string" ? "" : " inputmode=\"decimal\"")}></label>""");
    }

    /// <summary>An input per argument, filled with the posted value, else the argument as the graph sent it.</summary>
    private static Html ArgInputs(int p, int j, JsonElement args, IReadOnlyDictionary<string, string?> posted) =>
        Html.Join(args.EnumerateObject().Select(arg =>
        {
            var name = InterruptResumeForm.Arg(p, j, arg.Name);
            var value = posted.TryGetValue(name, out var v) ? v ?? "" : arg.Value.ValueKind == JsonValueKind.String ? arg.Value.GetString()! : arg.Value.GetRawText();
            return arg.Value.ValueKind is JsonValueKind.Object or JsonValueKind.Array
                ? Html.Of($"""<label>{arg.Name} <textarea name="{name}" rows="3" spellcheck="false">{value}</textarea></label>""")
                : Html.Of($"""<label>{arg.Name} <input type="text" name="{name}" value="{value}"></label>""");
        }));

    private static Html ArgsTable(JsonElement args) =>
        args.ValueKind != JsonValueKind.Object || !args.EnumerateObject().Any()
            ? Html.Empty
            : Html.Of($"""
                <table class="args"><tbody>{Html.Join(args.EnumerateObject().Select(a => Html.Of($"<tr><th>{a.Name}</th><td><code>{(a.Value.ValueKind == JsonValueKind.String ? a.Value.GetString() : a.Value.GetRawText())}</code></td></tr>")))}</tbody></table>
                """);

    private static Html Radios(string name, IEnumerable<(string Value, string Label)> choices, IReadOnlyDictionary<string, string?> posted) =>
        Html.Join(choices.Select(c => Html.Of(
            $"""<label><input type="radio" name="{name}" value="{c.Value}"{Html.Raw(Posted(posted, name) == c.Value ? " checked" : "")}> {c.Label}</label> """)));

    private static string Posted(IReadOnlyDictionary<string, string?> posted, string name) =>
        posted.TryGetValue(name, out var value) ? value ?? "" : "";
}
