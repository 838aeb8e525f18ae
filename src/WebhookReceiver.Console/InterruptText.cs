using System.Text.Encodings.Web;
using System.Text.Json;
using WebhookReceiver.Interrupts;

namespace WebhookReceiver.Console;

/// <summary>How the interrupt pages write what a graph asked (<see cref="InterruptQuestion"/>, read by the interrupts module): as text the components encode.</summary>
internal static class InterruptText
{
    // Relaxed escaping: the text is HTML-encoded where it is written, so it shows quotes and accents as they are.
    private static readonly JsonWriterOptions Indented = new() { Indented = true, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary>A value as indented JSON text.</summary>
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

    /// <summary>One line on what a pause asks, for the list: each question's actions or value shortened, or the breakpoint's next nodes.</summary>
    public static string Summary(StoredInterrupt interrupt)
    {
        var pending = InterruptLinks.ReadPending(interrupt.Pending);
        return pending.Count == 0
            ? "breakpoint before " + string.Join(", ", JsonSerializer.Deserialize<List<string>>(interrupt.Next) ?? [])
            : string.Join("; ", pending.Select(p => Summary(InterruptQuestion.Read(p))));
    }

    /// <summary>One line on what a question asks: its actions, or its value shortened.</summary>
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
}
