using System.Reflection;
using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;

namespace WebhookReceiver.Kernel;

/// <summary>
/// Names the properties of the receiver's own types (query API views, the webhook endpoint's answer) in snake_case, like
/// LangGraph's fields, whatever naming policy the host chose; every other type is left to the host's resolvers. Put first
/// in the host's HTTP JSON resolver chain, it also makes the OpenAPI document describe those types as they are written.
/// </summary>
internal sealed class ReceiverJsonNames : IJsonTypeInfoResolver
{
    private static readonly Assembly Receiver = typeof(ReceiverJsonNames).Assembly;
    private readonly DefaultJsonTypeInfoResolver _reflection = new() { Modifiers = { SnakeCase } };

    public JsonTypeInfo? GetTypeInfo(Type type, JsonSerializerOptions options) =>
        type.Assembly == Receiver ? _reflection.GetTypeInfo(type, options) : null;

    private static void SnakeCase(JsonTypeInfo type)
    {
        if (type.Kind != JsonTypeInfoKind.Object)
        {
            return;
        }

        foreach (var property in type.Properties)
        {
            if (property.AttributeProvider is MemberInfo member && member.GetCustomAttribute<JsonPropertyNameAttribute>() is null)
            {
                property.Name = JsonNamingPolicy.SnakeCaseLower.ConvertName(member.Name);
            }
        }
    }
}
