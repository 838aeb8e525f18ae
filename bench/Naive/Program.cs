using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.Data.Sqlite;

// A peer in the bench: the durable receiver people write by hand. Checks the token, reads the body, takes its run_id,
// and commits one SQLite INSERT per request (WAL, synchronous=NORMAL, as the service's default) on one connection
// guarded by a lock, before answering 202. No dedup answer, limits, redaction, metrics, logging or dispatch.
var builder = WebApplication.CreateSlimBuilder(args);
builder.Logging.ClearProviders();
var app = builder.Build();

var token = Encoding.UTF8.GetBytes(app.Configuration["BASELINE_TOKEN"]
    ?? throw new InvalidOperationException("Set BASELINE_TOKEN to the token the load sends."));
var connection = new SqliteConnection($"Data Source={app.Configuration["NAIVE_DB"] ?? throw new InvalidOperationException("Set NAIVE_DB to the SQLite file.")}");
connection.Open();
using (var schema = connection.CreateCommand())
{
    schema.CommandText = """
        PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;
        CREATE TABLE IF NOT EXISTS webhooks (id INTEGER PRIMARY KEY, run_id TEXT UNIQUE, received_at INTEGER NOT NULL, payload BLOB NOT NULL);
        """;
    schema.ExecuteNonQuery();
}

var insert = connection.CreateCommand();
insert.CommandText = "INSERT INTO webhooks (run_id, received_at, payload) VALUES ($run_id, $received_at, $payload) ON CONFLICT DO NOTHING";
var runIdParameter = insert.Parameters.Add("$run_id", SqliteType.Text);
var receivedAtParameter = insert.Parameters.Add("$received_at", SqliteType.Integer);
var payloadParameter = insert.Parameters.Add("$payload", SqliteType.Blob);
var gate = new Lock();

app.MapPost("/webhooks/langgraph", async (HttpRequest request) =>
{
    var header = request.Headers.Authorization.ToString();
    var sent = header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase) ? header[7..] : header;
    if (!CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(sent), token))
    {
        return Results.StatusCode(StatusCodes.Status401Unauthorized);
    }

    using var buffer = new MemoryStream();
    await request.Body.CopyToAsync(buffer);
    var body = buffer.ToArray();
    string? runId;
    try
    {
        using var document = JsonDocument.Parse(body);
        runId = document.RootElement.TryGetProperty("run_id", out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;
    }
    catch (JsonException)
    {
        return Results.StatusCode(StatusCodes.Status400BadRequest);
    }

    lock (gate)
    {
        runIdParameter.Value = (object?)runId ?? DBNull.Value;
        receivedAtParameter.Value = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        payloadParameter.Value = body;
        insert.ExecuteNonQuery();
    }

    return Results.StatusCode(StatusCodes.Status202Accepted);
});
app.MapGet("/health/ready", () => Results.Ok());

await app.RunAsync();
