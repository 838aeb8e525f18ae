using System.Text.Json;

namespace WebhookReceiver.Console;

/// <summary>The console's own JSON (snake_case like the API), independent of the host's JSON options.</summary>
internal static class ConsoleJson
{
    public static readonly JsonSerializerOptions Options = new(JsonSerializerDefaults.Web) { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };
}
