using System.Text;
using Microsoft.AspNetCore.Http;
using WebhookReceiver.Tests.Infrastructure;

namespace WebhookReceiver.Tests.Hardening;

/// <summary>With every log category at its most verbose, a full run leaks no token, admin key or forward secret anywhere.</summary>
[Trait("Category", "System")]
public sealed class SecretLeakTests
{
    private const string ForwardSecret = "whsec_c2VjcmV0LWZvci10aGUtbGVhay10ZXN0LTAxMjM0NTY=";

    [Fact]
    public async Task No_log_line_response_problem_or_metric_label_holds_a_secret()
    {
        await using var target = await LoopbackListener.StartAsync();
        target.Answer = n => n == 1 ? StatusCodes.Status500InternalServerError : StatusCodes.Status200OK;
        using var data = new TempDirectory();
        var settings = ServiceProcess.Settings(data.Path);
        settings["Serilog__MinimumLevel__Default"] = "Verbose";
        foreach (var category in new[] { "Microsoft.AspNetCore", "Microsoft.Extensions.Http", "System.Net.Http.HttpClient" })
        {
            settings[$"Serilog__MinimumLevel__Override__{category}"] = "Verbose";
        }

        settings["WebhookReceiver__Handlers__Forward__0__Name"] = "crm";
        settings["WebhookReceiver__Handlers__Forward__0__Url"] = new Uri(target.Url, $"/hooks?token={TestApp.Token}").ToString();
        settings["WebhookReceiver__Handlers__Forward__0__Secret"] = ForwardSecret;
        settings["WebhookReceiver__Handlers__Forward__1__Name"] = "down";
        settings["WebhookReceiver__Handlers__Forward__1__Url"] = "http://127.0.0.1:9/closed";
        settings["WebhookReceiver__Handlers__Forward__1__Secret"] = ForwardSecret;
        settings["WebhookReceiver__Dispatch__InitialRetryDelay"] = "00:00:00.100";
        settings["WebhookReceiver__Dispatch__MaxAttempts"] = "2";
        await using var service = await ServiceProcess.StartAsync(settings);
        using var client = service.CreateClient();
        using var admin = service.CreateClient(admin: true);
        var responses = new List<string>();

        async Task Send(HttpRequestMessage request, HttpClient? via = null)
        {
            using var response = await (via ?? client).SendAsync(request);
            responses.Add($"{(int)response.StatusCode} {response.Headers} {response.Content.Headers} {await response.Content.ReadAsStringAsync()}");
        }

        HttpRequestMessage Post(string url, string body) => new(HttpMethod.Post, url) { Content = new StringContent(body, Encoding.UTF8, "text/plain") };

        var run = Payloads.Run();
        await Send(Post($"/webhooks/langgraph?token={TestApp.Token}", run.ToJsonString()));          // accepted
        await Send(Post($"/webhooks/langgraph?token={TestApp.Token}", run.ToJsonString()));          // duplicate
        var header = Post("/webhooks/langgraph", Payloads.Run(token: TestApp.SecondToken).ToJsonString());
        header.Headers.Add("Authorization", $"Bearer {TestApp.SecondToken}");
        await Send(header);                                                                          // token in a header
        await Send(Post($"/webhooks/langgraph?token={TestApp.Token}", $"{{\"oops\": \"{TestApp.Token}"));  // invalid, echoing the token
        await Send(Post($"/webhooks/langgraph?token={TestApp.Token}x", "{}"));                      // a wrong token close to the real one
        await Send(Post($"/webhooks/langgraph?token={TestApp.AdminKey}", "{}"));                    // the admin key as a token
        await Send(new HttpRequestMessage(HttpMethod.Get, $"/api/webhooks?thread_id={TestApp.Token}"));   // no admin key
        foreach (var url in new[] { "/api/webhooks", $"/api/runs/{run["run_id"]}", "/api/handlers", $"/api/webhooks?limit={TestApp.Token}" })
        {
            await Send(new HttpRequestMessage(HttpMethod.Get, url), admin);
        }

        await target.WaitForRequestsAsync(3); // the failed forward, its retry, and the header-token webhook
        await Eventually.MatchAsync(
            async () => await admin.GetStringAsync("/api/webhooks?delivery_state=failed") + await admin.GetStringAsync("/api/webhooks?delivery_state=pending"),
            body => !body.Contains("run_id", StringComparison.Ordinal));
        await Send(new HttpRequestMessage(HttpMethod.Get, $"/api/runs/{run["run_id"]}"), admin);    // now with the attempts' errors
        await Send(new HttpRequestMessage(HttpMethod.Get, "/metrics"));
        await service.TerminateAsync(TimeSpan.FromSeconds(30));

        var lines = service.Output.ToList();
        Assert.Contains(lines, l => l.Contains("Request starting", StringComparison.Ordinal));        // the verbose hosting log ran
        Assert.Contains(lines, l => l.Contains("answered 500", StringComparison.Ordinal));            // a handler failure was logged
        Assert.Contains(responses, r => r.Contains("webhookreceiver_delivery_attempts_total", StringComparison.Ordinal));
        foreach (var secret in new[] { TestApp.Token, TestApp.SecondToken, TestApp.AdminKey, ForwardSecret, ForwardSecret["whsec_".Length..] })
        {
            Assert.DoesNotContain(lines, l => l.Contains(secret, StringComparison.Ordinal));
            Assert.DoesNotContain(responses, r => r.Contains(secret, StringComparison.Ordinal));
            Assert.DoesNotContain(target.Received, r => r.Body.Contains(secret, StringComparison.Ordinal)); // forwarded payloads
        }

        System.Console.WriteLine($"secret scan: {lines.Count} log lines, {responses.Count} responses, {target.Received.Count} forwarded requests");
        Assert.True(lines.Count > 50, $"only {lines.Count} log lines");
    }
}
