using System.Text.Json;
using System.Text.Json.Nodes;

namespace WebhookReceiver.Tests.Infrastructure;

public static class Json
{
    /// <summary>The API's own naming: snake_case.</summary>
    public static readonly JsonSerializerOptions Options = new(JsonSerializerDefaults.Web) { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };

    public static async Task<JsonNode> ReadAsync(HttpResponseMessage response) =>
        JsonNode.Parse(await response.Content.ReadAsStringAsync()) ?? throw new InvalidOperationException("Empty body.");
}
