using System.Security.Cryptography;
using System.Text;

// The bench's yardstick: the cheapest endpoint that still does the webhook's first job, checking the token, and answers
// 202 without reading, parsing or storing the body. The service's throughput is reported as a ratio of this one's.
var builder = WebApplication.CreateSlimBuilder(args);
builder.Logging.ClearProviders();
var app = builder.Build();

var token = Encoding.UTF8.GetBytes(app.Configuration["BASELINE_TOKEN"]
    ?? throw new InvalidOperationException("Set BASELINE_TOKEN to the token the load sends."));

app.MapPost("/webhooks/langgraph", (HttpRequest request) =>
{
    var header = request.Headers.Authorization.ToString();
    var sent = header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase) ? header[7..] : header;
    return CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(sent), token)
        ? Results.StatusCode(StatusCodes.Status202Accepted)
        : Results.StatusCode(StatusCodes.Status401Unauthorized);
});
app.MapGet("/health/ready", () => Results.Ok());

await app.RunAsync();
