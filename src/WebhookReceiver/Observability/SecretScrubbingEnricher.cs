using Serilog.Core;
using Serilog.Events;
using WebhookReceiver.Kernel;

namespace WebhookReceiver.Observability;

/// <summary>
/// Rewrites every log property that holds a secret, whichever component logged it: ASP.NET's own hosting log prints the
/// query string (<c>?token=...</c>), and a handler's error may quote a URL.
/// </summary>
internal sealed class SecretScrubbingEnricher(SecretRedactor redactor) : ILogEventEnricher
{
    public void Enrich(LogEvent logEvent, ILogEventPropertyFactory propertyFactory)
    {
        List<LogEventProperty>? scrubbed = null;
        foreach (var (name, value) in logEvent.Properties)
        {
            if (Scrub(value) is { } clean)
            {
                (scrubbed ??= []).Add(new LogEventProperty(name, clean));
            }
        }

        scrubbed?.ForEach(logEvent.AddOrUpdateProperty);
    }

    /// <summary>The value without secrets, or null when it held none.</summary>
    private LogEventPropertyValue? Scrub(LogEventPropertyValue value)
    {
        switch (value)
        {
            // Strings, and objects such as QueryString or Uri that render as text; numbers and dates cannot hold a secret.
            case ScalarValue { Value: string or not IConvertible } scalar
                when scalar.Value?.ToString() is { } text && redactor.ContainsSecret(text):
                return new ScalarValue(redactor.Redact(text));
            case SequenceValue sequence:
                var elements = sequence.Elements.Select(e => Scrub(e)).ToList();
                return elements.Any(e => e is not null)
                    ? new SequenceValue(elements.Select((e, i) => e ?? sequence.Elements[i]))
                    : null;
            case StructureValue structure:
                var properties = structure.Properties.Select(p => Scrub(p.Value)).ToList();
                return properties.Any(p => p is not null)
                    ? new StructureValue(structure.Properties.Select((p, i) => new LogEventProperty(p.Name, properties[i] ?? p.Value)), structure.TypeTag)
                    : null;
            case DictionaryValue dictionary:
                var entries = dictionary.Elements.ToList();
                var values = entries.Select(e => Scrub(e.Value)).ToList();
                return values.Any(v => v is not null)
                    ? new DictionaryValue(entries.Select((e, i) => new KeyValuePair<ScalarValue, LogEventPropertyValue>(e.Key, values[i] ?? e.Value)))
                    : null;
            default:
                return null;
        }
    }
}
