using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Polly.Timeout;
using WebhookReceiver.Kernel;
using WebhookReceiver.Webhooks;

namespace WebhookReceiver.LangGraph;

/// <summary>
/// Calls one LangGraph deployment's REST API (Agent Server API reference; the JS dev server <c>langgraphjs dev</c> answers
/// the same paths). Take it from <see cref="ILangGraphClients"/>, for example in a handler that reads more of a thread.
/// <list type="bullet">
/// <item>A 404 (thread or run gone: deleted, expired by TTL, pruned, or a stateless run's temporary thread) is null, not an exception.</item>
/// <item>401/403 throws <see cref="LangGraphAuthenticationException"/>: the API key is wrong.</item>
/// <item>Reads that get 429, 5xx or no answer within <c>LangGraph:RequestTimeout</c> are retried with exponential backoff
/// (<c>LangGraph:MaxRetries</c>, <c>LangGraph:RetryDelay</c>); creating a run is retried only on 429 (it was refused, not
/// run), since repeating it after a 5xx or a timeout could start it twice.</item>
/// <item>Any other failure throws <see cref="LangGraphApiException"/>. Error bodies are JSON <c>{"detail": ...}</c> (Python)
/// or plain text (JS); only the status code decides what happens.</item>
/// </list>
/// Run records come back as <see cref="LangGraphRun"/> (no <c>values</c> or <c>error</c>: the API's run has neither) with the
/// receiver's secrets and any <c>token=</c> value redacted, as for handlers (the webhook URL sits in <c>kwargs.webhook</c>).
/// </summary>
public sealed class LangGraphClient
{
    /// <summary>Runs asked for per page. The JS dev server 1.5.1 slices <c>[offset, limit)</c>, so only one large page is correct there.</summary>
    internal const int RunsPageSize = 1000;

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        DefaultIgnoreCondition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull,
        MaxDepth = LangGraphRun.MaxSupportedDepth,
    };

    private readonly HttpClient _http;
    private readonly SecretRedactor _redactor;

    /// <summary>A client over <paramref name="http"/>, whose base address and <c>x-api-key</c> header are set here from <paramref name="deployment"/>.</summary>
    internal LangGraphClient(HttpClient http, LangGraphDeploymentOptions deployment, SecretRedactor redactor)
    {
        ArgumentNullException.ThrowIfNull(http);
        ArgumentNullException.ThrowIfNull(deployment);
        _http = http;
        _redactor = redactor;
        Deployment = deployment.Name;
        _http.BaseAddress = new Uri(deployment.ApiUrl.EndsWith('/') ? deployment.ApiUrl : deployment.ApiUrl + "/");
        if (!string.IsNullOrEmpty(deployment.ApiKey))
        {
            _http.DefaultRequestHeaders.Add("x-api-key", deployment.ApiKey);
        }
    }

    /// <summary>The configured name of the deployment this client calls.</summary>
    public string Deployment { get; }

    internal int RunsPerPage { get; set; } = RunsPageSize;

    /// <summary><c>GET /threads/{thread_id}/runs/{run_id}</c>: the run record (status, assistant_id, metadata, kwargs, timestamps), or null when the server has no such run.</summary>
    public async Task<LangGraphRun?> GetRunAsync(string threadId, string runId, CancellationToken cancellationToken = default)
    {
        if (!IsServerId(threadId) || !IsServerId(runId))
        {
            return null;
        }

        using var document = await SendAsync(HttpMethod.Get, $"threads/{threadId}/runs/{runId}", null, "get run", cancellationToken);
        return document is null ? null : ReadRun(document.RootElement);
    }

    /// <summary><c>GET /threads/{thread_id}</c>: the thread with its status, values and pending interrupts, or null when it is gone.</summary>
    public async Task<LangGraphThread?> GetThreadAsync(string threadId, CancellationToken cancellationToken = default)
    {
        if (!IsServerId(threadId))
        {
            return null;
        }

        using var document = await SendAsync(HttpMethod.Get, $"threads/{threadId}", null, "get thread", cancellationToken);
        return document is null ? null : Read<LangGraphThread>(document.RootElement, "get thread");
    }

    /// <summary><c>GET /threads/{thread_id}/state</c>: the latest checkpoint (values, next nodes, tasks and their interrupts), or null when the thread is gone.</summary>
    public async Task<LangGraphThreadState?> GetThreadStateAsync(string threadId, CancellationToken cancellationToken = default)
    {
        if (!IsServerId(threadId))
        {
            return null;
        }

        using var document = await SendAsync(HttpMethod.Get, $"threads/{threadId}/state", null, "get thread state", cancellationToken);
        return document is null ? null : Read<LangGraphThreadState>(document.RootElement, "get thread state");
    }

    /// <summary>
    /// <c>POST /threads/{thread_id}/history</c>: up to <paramref name="limit"/> states, newest first, or null when the thread is
    /// gone. The limit is always sent: the servers' defaults differ (Python 1, JS 10).
    /// </summary>
    public async Task<IReadOnlyList<LangGraphThreadState>?> GetThreadHistoryAsync(string threadId, int limit = 10, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(limit, 1);
        if (!IsServerId(threadId))
        {
            return null;
        }

        using var document = await SendAsync(HttpMethod.Post, $"threads/{threadId}/history", new { limit }, "get thread history", cancellationToken);
        return document is null ? null : Read<List<LangGraphThreadState>>(document.RootElement, "get thread history");
    }

    /// <summary><c>POST /threads/search</c>: one page of threads matching <paramref name="search"/>, in its sort order.</summary>
    public async Task<IReadOnlyList<LangGraphThread>> SearchThreadsAsync(LangGraphThreadSearch search, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(search);
        ArgumentOutOfRangeException.ThrowIfLessThan(search.Limit, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(search.Limit, 1000);
        ArgumentOutOfRangeException.ThrowIfNegative(search.Offset);
        using var document = await SendAsync(HttpMethod.Post, "threads/search", search, "search threads", cancellationToken)
            ?? throw new LangGraphApiException(Deployment, $"LangGraph deployment '{Deployment}' answered 404 to search threads: is ApiUrl the API's base URL?", HttpStatusCode.NotFound);
        return Read<List<LangGraphThread>>(document.RootElement, "search threads");
    }

    /// <summary>
    /// <c>GET /threads/{thread_id}/runs</c>: every run of the thread (optionally only those in <paramref name="status"/>),
    /// newest first by <c>created_at</c>, or null when the thread is gone. Python lists newest first and pages correctly: pages
    /// are read until one comes back short. The JS dev server 1.5.1 lists oldest first and answers any offset above 0 with the
    /// wrong window, so its first page of 1000 runs is all that can be read there.
    /// </summary>
    public async Task<IReadOnlyList<LangGraphRun>?> ListRunsAsync(string threadId, string? status = null, CancellationToken cancellationToken = default)
    {
        if (!IsServerId(threadId))
        {
            return null;
        }

        var runs = new Dictionary<string, LangGraphRun>(StringComparer.Ordinal);
        for (var offset = 0; ; offset += RunsPerPage)
        {
            var query = $"threads/{threadId}/runs?limit={RunsPerPage.ToString(CultureInfo.InvariantCulture)}&offset={offset.ToString(CultureInfo.InvariantCulture)}"
                        + (status is null ? "" : $"&status={Uri.EscapeDataString(status)}");
            using var document = await SendAsync(HttpMethod.Get, query, null, "list runs", cancellationToken);
            if (document is null)
            {
                return offset == 0 ? null : Newest(runs.Values);
            }

            if (document.RootElement.ValueKind != JsonValueKind.Array)
            {
                throw Unreadable("list runs", null);
            }

            var page = 0;
            foreach (var element in document.RootElement.EnumerateArray())
            {
                var run = ReadRun(element);
                if (run.RunId is { } runId)
                {
                    runs.TryAdd(runId, run);
                }

                page++;
            }

            if (page < RunsPerPage)
            {
                return Newest(runs.Values);
            }
        }
    }

    /// <summary>
    /// <c>POST /threads/{thread_id}/runs</c>: starts a run in the background and returns its record (status <c>pending</c>),
    /// or null when the thread (or assistant) does not exist. Not retried after a 5xx or a timeout: the run may have started.
    /// </summary>
    public async Task<LangGraphRun?> CreateRunAsync(string threadId, LangGraphRunRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (!IsServerId(threadId))
        {
            return null;
        }

        using var document = await SendAsync(HttpMethod.Post, $"threads/{threadId}/runs", request, "create run", cancellationToken, idempotent: false);
        return document is null ? null : ReadRun(document.RootElement);
    }

    /// <summary>Both servers only hold UUID ids (and answer another id with 400/422): any other id has nothing to find.</summary>
    private static bool IsServerId(string id) => Guid.TryParse(id, out _);

    private async Task<JsonDocument?> SendAsync(HttpMethod method, string path, object? body, string call, CancellationToken cancellationToken, bool idempotent = true)
    {
        // One client span per call, named by the call (never by its path, which holds ids); each HTTP try is its child.
        using var span = ReceiverTracing.StartLangGraphCall(call, Deployment, method.Method, _http.BaseAddress);
        try
        {
            var document = await SendUntracedAsync(method, path, body, call, idempotent, cancellationToken);
            if (document is null)
            {
                span?.SetTag("http.response.status_code", 404); // Not an error: the thread or run is gone.
            }

            return document;
        }
        catch (LangGraphApiException ex) when (span is not null)
        {
            // A status of 400 and above is the server's answer; below, the answer came but could not be read.
            var answered = ex.StatusCode is { } status && (int)status >= 400 ? (int)status : (int?)null;
            span.SetTag("http.response.status_code", answered);
            span.SetTag("error.type", answered?.ToString(CultureInfo.InvariantCulture) ?? ex.InnerException?.GetType().Name ?? "unreadable_response");
            span.SetStatus(System.Diagnostics.ActivityStatusCode.Error, _redactor.Redact(ex.Message));
            throw;
        }
    }

    private async Task<JsonDocument?> SendUntracedAsync(HttpMethod method, string path, object? body, string call, bool idempotent, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(method, new Uri(path, UriKind.Relative));
        if (body is not null)
        {
            request.Content = JsonContent.Create(body, body.GetType(), options: Json);
        }

        if (!idempotent)
        {
            request.Options.Set(LangGraphResilience.NotIdempotent, true);
        }

        HttpResponseMessage response;
        try
        {
            response = await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
        }
        catch (Exception ex) when (ex is HttpRequestException or TimeoutRejectedException
                                       || (ex is TaskCanceledException && !cancellationToken.IsCancellationRequested))
        {
            throw new LangGraphApiException(Deployment, $"LangGraph deployment '{Deployment}' did not answer {call}: {ex.GetType().Name}: {_redactor.Redact(ex.Message)}", null, ex);
        }

        using (response)
        {
            switch (response.StatusCode)
            {
                case HttpStatusCode.NotFound:
                    return null;
                case HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden:
                    throw new LangGraphAuthenticationException(
                        Deployment,
                        $"LangGraph deployment '{Deployment}' refused {call} with {(int)response.StatusCode}: its API key is wrong or missing "
                        + $"(WebhookReceiver:LangGraph:Deployments, ApiKey, sent as x-api-key). {await ExplanationAsync(response, cancellationToken)}",
                        response.StatusCode);
            }

            if (!response.IsSuccessStatusCode)
            {
                throw new LangGraphApiException(
                    Deployment,
                    $"LangGraph deployment '{Deployment}' answered {call} with {(int)response.StatusCode}. {await ExplanationAsync(response, cancellationToken)}",
                    response.StatusCode);
            }

            try
            {
                await using var stream = await response.Content.ReadAsStreamAsync(cancellationToken);
                return await JsonDocument.ParseAsync(stream, new JsonDocumentOptions { MaxDepth = LangGraphRun.MaxSupportedDepth }, cancellationToken);
            }
            catch (JsonException ex)
            {
                throw Unreadable(call, ex);
            }
        }
    }

    /// <summary>The server's own words: <c>detail</c> of a Python JSON error, or the first 300 characters of a JS plain-text one.</summary>
    private async Task<string> ExplanationAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        var text = (await response.Content.ReadAsStringAsync(cancellationToken)).Trim();
        try
        {
            using var json = JsonDocument.Parse(text);
            if (json.RootElement.ValueKind == JsonValueKind.Object && json.RootElement.TryGetProperty("detail", out var detail))
            {
                text = detail.ValueKind == JsonValueKind.String ? detail.GetString() ?? "" : detail.GetRawText();
            }
        }
        catch (JsonException)
        {
            // Plain text, as the JS server sends.
        }

        text = text.Length > 300 ? text[..300] + "…" : text;
        return text.Length == 0 ? "" : $"The server said: {_redactor.Redact(text)}";
    }

    private LangGraphRun ReadRun(JsonElement element) =>
        element.ValueKind == JsonValueKind.Object && LangGraphRun.Parse(_redactor.Redact(element.GetRawText())) is { } run
            ? run
            : throw Unreadable("read a run", null);

    private T Read<T>(JsonElement element, string call)
    {
        try
        {
            return element.Deserialize<T>(Json) ?? throw Unreadable(call, null);
        }
        catch (JsonException ex)
        {
            throw Unreadable(call, ex);
        }
    }

    private LangGraphApiException Unreadable(string call, Exception? inner) =>
        new(Deployment, $"LangGraph deployment '{Deployment}' answered {call} with a body that is not the expected JSON (is ApiUrl a LangGraph server?).", HttpStatusCode.OK, inner);

    private static List<LangGraphRun> Newest(IEnumerable<LangGraphRun> runs) =>
        runs.OrderByDescending(r => r.CreatedAt ?? DateTimeOffset.MinValue).ToList();
}
