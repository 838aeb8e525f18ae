using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using WebhookReceiver.Tests.Infrastructure;

namespace WebhookReceiver.Tests.Access;

/// <summary>
/// Every endpoint the app maps under <c>/api</c>, read from its <see cref="EndpointDataSource"/>, against every role: no key is
/// 401, a role below the endpoint's is 403, both as problem details; the role it needs and those above it get through. An
/// endpoint that is not in <see cref="Rules"/> fails the test until its role is written down here.
/// </summary>
public sealed class RoleMatrixTests
{
    private const string Viewer = "viewer";
    private const string Reviewer = "reviewer";
    private const string Operator = "operator";

    /// <summary>Method and route pattern (as mapped) → the lowest role that may call it.</summary>
    private static readonly Dictionary<string, string> Rules = new()
    {
        ["GET /api/webhooks"] = Viewer,
        ["GET /api/webhooks/{id:long}"] = Viewer,
        ["GET /api/runs/{runId}"] = Viewer,
        ["GET /api/handlers"] = Viewer,
        ["GET /api/interrupts"] = Viewer,
        ["GET /api/interrupts/{id:long}"] = Viewer,
        ["POST /api/interrupts/{id:long}/resume"] = Reviewer,
        ["POST /api/webhooks/{id:long}/replay"] = Operator,
        ["POST /api/dead-letters/replay"] = Operator,
        ["POST /api/interrupts/{id:long}/replay"] = Operator,
        ["POST /api/langgraph/sweep"] = Operator,
        ["GET /api/audit"] = Operator,
        ["GET /api/alerts"] = Viewer,
        ["POST /api/alerts/{id:long}/acknowledge"] = Operator,
        // The catch-alls that answer 404 under the API's own resources (any method).
        ["* /api/webhooks/{**rest}"] = Viewer,
        ["* /api/runs/{**rest}"] = Viewer,
        ["* /api/dead-letters/{**rest}"] = Viewer,
        ["* /api/handlers/{**rest}"] = Viewer,
        ["* /api/interrupts/{**rest}"] = Viewer,
        ["* /api/langgraph/{**rest}"] = Viewer,
        ["* /api/audit/{**rest}"] = Viewer,
    };

    private static readonly (string? Key, string? Role)[] Callers =
    [
        (null, null),
        (OperatorKeys.Viewer, Viewer),
        (OperatorKeys.Reviewer, Reviewer),
        (OperatorKeys.Operator, Operator),
        (TestApp.AdminKey, Operator),
        ("not-a-configured-key-xxxxxxxxxxxxxxxxxxxxxxxxx", null),
    ];

    [Fact]
    public async Task Every_api_endpoint_has_a_role_and_each_role_gets_401_403_or_through_as_that_role_allows()
    {
        await using var app = new TestApp(OperatorKeys.Settings());
        using var started = app.CreateClient();
        var mapped = app.Services.GetRequiredService<EndpointDataSource>().Endpoints.OfType<RouteEndpoint>()
            .Where(e => e.RoutePattern.RawText?.StartsWith("/api", StringComparison.Ordinal) == true)
            .SelectMany(e => (e.Metadata.GetMetadata<IHttpMethodMetadata>()?.HttpMethods ?? ["*"]).Select(m => $"{m} {e.RoutePattern.RawText}"))
            .ToHashSet(StringComparer.Ordinal);

        Assert.True(mapped.SetEquals(Rules.Keys),
            $"Endpoints without a rule here: [{string.Join(", ", mapped.Except(Rules.Keys))}]; rules without an endpoint: [{string.Join(", ", Rules.Keys.Except(mapped))}].");

        var wrong = new List<string>();
        foreach (var (endpoint, needed) in Rules)
        {
            foreach (var (key, role) in Callers)
            {
                using var response = await SendAsync(app, endpoint, key);
                var expected = role is null ? HttpStatusCode.Unauthorized
                    : Rank(role) < Rank(needed) ? HttpStatusCode.Forbidden
                    : (HttpStatusCode?)null;
                var got = response.StatusCode;
                var ok = expected is { } status
                    ? got == status && response.Content.Headers.ContentType?.MediaType == "application/problem+json"
                    : got is not HttpStatusCode.Unauthorized and not HttpStatusCode.Forbidden;
                if (!ok)
                {
                    wrong.Add($"{endpoint} as {role ?? (key is null ? "no key" : "a wrong key")}: {(int)got}, expected {(expected is { } e ? ((int)e).ToString(System.Globalization.CultureInfo.InvariantCulture) : "neither 401 nor 403")}");
                }
            }
        }

        Assert.True(wrong.Count == 0, string.Join(Environment.NewLine, wrong));
    }

    [Fact]
    public async Task A_viewer_key_opens_the_guarded_OpenAPI_document_and_no_key_does_not()
    {
        await using var app = new TestApp(OperatorKeys.Settings(new() { ["WebhookReceiver:OpenApi:RequireAdminKey"] = "true" }));

        using var viewer = await OperatorKeys.Client(app, OperatorKeys.Viewer).GetAsync("/openapi/webhook-receiver.json");
        using var none = await app.CreateClient().GetAsync("/openapi/webhook-receiver.json");
        using var wrong = await OperatorKeys.Client(app, "not-a-configured-key-xxxxxxxxxxxxxxxxxxxxxxxxx").GetAsync("/openapi/webhook-receiver.json");

        Assert.Equal(HttpStatusCode.OK, viewer.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, none.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, wrong.StatusCode);
        Assert.Equal(await ChallengeAsync(none), await ChallengeAsync(wrong));
    }

    [Fact]
    public async Task A_401_from_the_API_names_the_header_to_send_and_is_the_same_for_a_missing_and_a_wrong_key()
    {
        await using var app = new TestApp(OperatorKeys.Settings());

        using var none = await app.CreateClient().GetAsync("/api/webhooks");
        using var wrong = await OperatorKeys.Client(app, "not-a-configured-key-xxxxxxxxxxxxxxxxxxxxxxxxx").GetAsync("/api/webhooks");

        var challenge = await ChallengeAsync(none);
        Assert.Equal(("X-Api-Key", "application/problem+json", 401, "Send an operator's key in the X-Api-Key header."), challenge);
        Assert.Equal(challenge, await ChallengeAsync(wrong));
    }

    // What a 401 tells the caller: its challenge, content type, status and detail (the trace id aside).
    private static async Task<(string? Challenge, string? ContentType, int? Status, string? Detail)> ChallengeAsync(HttpResponseMessage response)
    {
        var problem = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
        return (response.Headers.WwwAuthenticate.ToString(), response.Content.Headers.ContentType?.MediaType, (int?)problem["status"], (string?)problem["detail"]);
    }

    private static int Rank(string role) => role switch { Viewer => 0, Reviewer => 1, _ => 2 };

    // A request that reaches the endpoint: route values that name nothing (404 past the role check), a JSON body for posts.
    private static async Task<HttpResponseMessage> SendAsync(TestApp app, string endpoint, string? key)
    {
        var (method, pattern) = (endpoint[..endpoint.IndexOf(' ', StringComparison.Ordinal)], endpoint[(endpoint.IndexOf(' ', StringComparison.Ordinal) + 1)..]);
        var path = pattern.Replace("{id:long}", "987654", StringComparison.Ordinal).Replace("{runId}", "no-such-run", StringComparison.Ordinal)
            .Replace("{**rest}", "no/such/thing", StringComparison.Ordinal);
        using var request = new HttpRequestMessage(new HttpMethod(method == "*" ? "GET" : method), path);
        if (method == "POST")
        {
            request.Content = new StringContent("""{"resume": "yes"}""", Encoding.UTF8, "application/json");
        }

        return await OperatorKeys.Client(app, key).SendAsync(request);
    }
}
