using System.Net;
using System.Net.Http.Headers;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;
using WebhookReceiver.Tests.Infrastructure;
using WebhookReceiver.Webhooks;

namespace WebhookReceiver.Tests.FieldInputs;

/// <summary>Tokens as LangGraph sends them: a base64 token (<c>openssl rand -base64 32</c>) goes on the wire as given.</summary>
public sealed class TokenInUrlTests
{
    private const string Base64Token = "Ab3+Zx9/kQ2+mN7/pL4+tR8/wS6+vU1/yX5=";

    private static TestApp App() => new(new() { ["WebhookReceiver:Tokens:0"] = Base64Token });

    private static async Task<HttpStatusCode> PostAsync(TestApp app, string query, AuthenticationHeaderValue? authorization = null)
    {
        using var client = app.CreateClient();
        client.DefaultRequestHeaders.Authorization = authorization;
        using var content = new StringContent(Payloads.Run().ToJsonString());
        return (await client.PostAsync("/webhooks/langgraph" + query, content)).StatusCode;
    }

    [Fact]
    public async Task A_token_with_plus_slash_and_equals_authenticates_sent_raw_as_LangGraph_sends_it()
    {
        await using var app = App();

        Assert.Equal(HttpStatusCode.Accepted, await PostAsync(app, "?token=" + Base64Token));
    }

    [Fact]
    public async Task A_token_with_plus_authenticates_percent_encoded_but_not_with_a_space_in_its_place()
    {
        await using var app = App();

        Assert.Equal(HttpStatusCode.Accepted, await PostAsync(app, "?token=" + Uri.EscapeDataString(Base64Token)));
        Assert.Equal(HttpStatusCode.Unauthorized, await PostAsync(app, "?token=" + Base64Token.Replace("+", "%20", StringComparison.Ordinal)));
        Assert.Equal(HttpStatusCode.Unauthorized, await PostAsync(app, "?token=" + Base64Token.Replace("+", "-", StringComparison.Ordinal)));
    }

    [Theory]
    [InlineData("bearer")]
    [InlineData("BEARER")]
    [InlineData("Bearer")]
    public async Task The_bearer_scheme_is_read_in_any_case(string scheme)
    {
        await using var app = App();

        Assert.Equal(HttpStatusCode.Accepted, await PostAsync(app, "", new AuthenticationHeaderValue(scheme, Base64Token)));
        Assert.Equal(HttpStatusCode.Unauthorized, await PostAsync(app, "", new AuthenticationHeaderValue(scheme, "wrong-token")));
    }
}

/// <summary>The warning about bodies without run_id, on a clock the test moves.</summary>
public sealed class MissingRunIdWarningTests
{
    [Fact]
    public void It_warns_once_per_ten_minutes_counting_the_webhooks_since_the_last_warning()
    {
        var time = new FakeTimeProvider(new DateTimeOffset(2030, 1, 1, 0, 0, 0, TimeSpan.Zero));
        var logger = new ListLogger();
        var warning = new MissingRunIdWarning(time, logger);

        warning.Report();
        warning.Report();
        time.Advance(TimeSpan.FromMinutes(9));
        warning.Report();
        Assert.Single(logger.Messages);

        time.Advance(TimeSpan.FromMinutes(1));
        warning.Report();

        Assert.Equal(2, logger.Messages.Count);
        Assert.All(logger.Messages, m => Assert.Contains("add run_id to webhooks.allowed_fields", m, StringComparison.OrdinalIgnoreCase));
        Assert.StartsWith("1 webhooks", logger.Messages[0], StringComparison.Ordinal);
        Assert.StartsWith("3 webhooks", logger.Messages[1], StringComparison.Ordinal);
    }

    private sealed class ListLogger : ILogger<MissingRunIdWarning>
    {
        public List<string> Messages { get; } = [];

        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            Assert.Equal(LogLevel.Warning, logLevel);
            Messages.Add(formatter(state, exception));
        }
    }
}
