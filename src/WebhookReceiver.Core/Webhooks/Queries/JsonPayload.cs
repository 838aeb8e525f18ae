using System.Text.Json;
using System.Text.Json.Serialization;

namespace WebhookReceiver.Webhooks;

/// <summary>
/// A stored body, written into a response byte for byte: it was valid JSON when it was stored, and nothing is decoded on
/// the way out, so an escape .NET cannot hold as text (a lone surrogate such as <c>"\ud83d"</c>, left by a sender that cut
/// text in the middle of an emoji) is returned as it arrived instead of failing the response.
/// </summary>
[JsonConverter(typeof(JsonPayloadConverter))]
internal sealed class JsonPayload(byte[] utf8)
{
    /// <summary>The JSON text, UTF-8.</summary>
    public ReadOnlyMemory<byte> Utf8 { get; } = utf8;

    public override string ToString() => System.Text.Encoding.UTF8.GetString(Utf8.Span);
}

internal sealed class JsonPayloadConverter : JsonConverter<JsonPayload>
{
    public override JsonPayload Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        using var document = JsonDocument.ParseValue(ref reader);
        return new JsonPayload(JsonSerializer.SerializeToUtf8Bytes(document.RootElement));
    }

    // Validated when it was received (the receiver's MaxJsonDepth and all): checking again would only cost time.
    public override void Write(Utf8JsonWriter writer, JsonPayload value, JsonSerializerOptions options) =>
        writer.WriteRawValue(value.Utf8.Span, skipInputValidation: true);
}
