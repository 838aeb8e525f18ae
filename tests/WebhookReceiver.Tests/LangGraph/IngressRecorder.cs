using System.Collections.Concurrent;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;

namespace WebhookReceiver.Tests.LangGraph;

/// <summary>One POST to the webhook path as it reached the service, and what the service answered.</summary>
public sealed record IngressRequest(string? RunId, string? ContentType, string? UserAgent, bool HasAuthorizationHeader, bool HasTokenParameter, int StatusCode);

/// <summary>
/// Records every request to the webhook path in front of the service's own pipeline, so that a test sees what the
/// LangGraph server really sent (how often, with which headers) and not only what the service made of it.
/// </summary>
public sealed class IngressRecorder : IStartupFilter
{
    private readonly ConcurrentQueue<IngressRequest> _requests = new();

    public IReadOnlyList<IngressRequest> For(string runId) => _requests.Where(r => r.RunId == runId).ToList();

    public Action<IApplicationBuilder> Configure(Action<IApplicationBuilder> next) => app =>
    {
        app.Use(async (context, nextMiddleware) =>
        {
            var request = context.Request;
            if (!HttpMethods.IsPost(request.Method) || !request.Path.StartsWithSegments("/webhooks/langgraph"))
            {
                await nextMiddleware(context);
                return;
            }

            request.EnableBuffering();
            var runId = await ReadRunIdAsync(request.Body, context.RequestAborted);
            request.Body.Position = 0;
            await nextMiddleware(context);
            _requests.Enqueue(new IngressRequest(
                runId,
                request.ContentType,
                request.Headers.UserAgent.ToString(),
                request.Headers.Authorization.Count > 0,
                request.Query.ContainsKey("token"),
                context.Response.StatusCode));
        });
        next(app);
    };

    private static async Task<string?> ReadRunIdAsync(Stream body, CancellationToken cancellationToken)
    {
        try
        {
            using var document = await JsonDocument.ParseAsync(body, cancellationToken: cancellationToken);
            return document.RootElement.ValueKind == JsonValueKind.Object
                && document.RootElement.TryGetProperty("run_id", out var runId)
                && runId.ValueKind == JsonValueKind.String
                    ? runId.GetString()
                    : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }
}
