using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json.Nodes;
using WebhookReceiver.Tests.Infrastructure;

namespace WebhookReceiver.Tests.Hardening;

public sealed class AbuseLimitTests
{
    [Fact]
    public async Task A_client_over_its_rate_is_answered_429_with_retry_after_and_nothing_is_stored()
    {
        // The bucket gets a permit back a second after the client's first request: the three must be sent within that
        // second for the third to find it empty. On a loaded machine they may take longer, and then prove nothing either
        // way; a fresh service (a fresh bucket) tries again.
        for (var round = 1; ; round++)
        {
            await using var app = new TestApp(new()
            {
                ["WebhookReceiver:Limits:PermitsPerSecond"] = "1",
                ["WebhookReceiver:Limits:Burst"] = "2",
            });
            await app.CreateClient().GetAsync("/health/ready"); // start-up and the first request's costs, without spending the rate
            var runs = Enumerable.Range(0, 3).Select(_ => Payloads.Run()).ToList();

            var answers = new List<HttpResponseMessage>();
            var sending = System.Diagnostics.Stopwatch.StartNew();
            foreach (var run in runs)
            {
                answers.Add(await app.PostWebhookAsync(run.ToJsonString()));
            }

            if (sending.Elapsed >= TimeSpan.FromSeconds(1) && round < 5)
            {
                continue;
            }

            await AssertThirdLimitedAsync(app, runs, answers);
            return;
        }
    }

    private static async Task AssertThirdLimitedAsync(TestApp app, List<JsonObject> runs, List<HttpResponseMessage> answers)
    {
        Assert.Equal([HttpStatusCode.Accepted, HttpStatusCode.Accepted, HttpStatusCode.TooManyRequests], answers.Select(a => a.StatusCode));
        var limited = answers[2];
        Assert.True(limited.Headers.RetryAfter?.Delta >= TimeSpan.FromSeconds(1));
        Assert.Equal(429, (int)(await Json.ReadAsync(limited))["status"]!);
        var notStored = await app.CreateAdminClient().GetAsync($"/api/runs/{runs[2]["run_id"]}");
        Assert.Equal(HttpStatusCode.NotFound, notStored.StatusCode);
    }

    [Trait("Category", "System")]
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Forwarded_client_addresses_count_only_when_the_proxy_is_configured(bool proxyConfigured)
    {
        using var data = new TempDirectory();
        var settings = ServiceProcess.Settings(data.Path);
        settings["WebhookReceiver__Limits__PermitsPerSecond"] = "1";
        settings["WebhookReceiver__Limits__Burst"] = "3";
        if (proxyConfigured)
        {
            settings["WebhookReceiver__Limits__KnownProxies__0"] = "127.0.0.1";
        }

        await using var service = await ServiceProcess.StartAsync(settings);
        using var client = service.CreateClient();
        await client.GetAsync("/health/ready"); // warm up without spending the rate

        async Task<HttpStatusCode> SendAs(string forwardedFor)
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, $"/webhooks/langgraph?token={TestApp.Token}")
            {
                Content = new StringContent(Payloads.Run().ToJsonString()),
            };
            request.Headers.Add("X-Forwarded-For", forwardedFor);
            return (await client.SendAsync(request)).StatusCode;
        }

        // Two clients behind the proxy send six webhooks each, all at once; a client may burst three, then one a second.
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var answers = await Task.WhenAll(Enumerable.Range(0, 12).Select(i => SendAs(i % 2 == 0 ? "203.0.113.1" : "203.0.113.2")));
        var refills = (int)Math.Ceiling(clock.Elapsed.TotalSeconds);
        var acceptedA = answers.Where((a, i) => i % 2 == 0 && a == HttpStatusCode.Accepted).Count();
        var acceptedB = answers.Where((a, i) => i % 2 == 1 && a == HttpStatusCode.Accepted).Count();

        Assert.All(answers, a => Assert.Contains(a, new[] { HttpStatusCode.Accepted, HttpStatusCode.TooManyRequests }));
        if (proxyConfigured)
        {
            // Each forwarded client has a bucket of its own.
            Assert.True(acceptedA >= 3 && acceptedB >= 3, $"accepted {acceptedA} and {acceptedB}");
        }
        else
        {
            // X-Forwarded-For is ignored: every request draws on the one bucket of the socket's address.
            Assert.True(acceptedA + acceptedB <= 3 + refills, $"accepted {acceptedA + acceptedB} in {clock.Elapsed}");
            Assert.Contains(HttpStatusCode.TooManyRequests, answers);
        }
    }

    [Trait("Category", "System")]
    [Fact]
    public async Task Past_the_in_flight_cap_a_webhook_is_shed_with_503_at_once_and_the_held_one_still_completes()
    {
        using var data = new TempDirectory();
        var settings = ServiceProcess.Settings(data.Path);
        settings["WebhookReceiver__Limits__MaxConcurrentIngests"] = "1";
        await using var service = await ServiceProcess.StartAsync(settings);
        var slow = Payloads.Run();
        var body = Encoding.UTF8.GetBytes(slow.ToJsonString());
        // One webhook first, so the held one below does not spend the window on the first request's start-up costs.
        using var client = service.CreateClient();
        Assert.Equal(HttpStatusCode.Accepted, (await client.PostAsync($"/webhooks/langgraph?token={TestApp.Token}", new StringContent(Payloads.Run().ToJsonString()))).StatusCode);

        // A client that sends its headers and half its body, then pauses: it holds the only slot.
        using var socket = new TcpClient();
        await socket.ConnectAsync(IPAddress.Loopback, service.BaseAddress.Port);
        var stream = socket.GetStream();
        var head = $"POST /webhooks/langgraph?token={TestApp.Token} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: text/plain\r\nContent-Length: {body.Length}\r\n\r\n";
        await stream.WriteAsync(Encoding.ASCII.GetBytes(head));
        await stream.WriteAsync(body.AsMemory(0, body.Length / 2));
        await stream.FlushAsync();

        // Once the held request is inside the endpoint, the next one is shed (the first tries may come before it is).
        // Tries come quickly: Kestrel drops the held request once it has sent less than 240 bytes/s for 5 s.
        HttpResponseMessage shed;
        var tries = 0;
        do
        {
            await Task.Delay(50);
            shed = await client.PostAsync($"/webhooks/langgraph?token={TestApp.Token}", new StringContent(Payloads.Run().ToJsonString()));
        }
        while (shed.StatusCode == HttpStatusCode.Accepted && ++tries < 60);
        await stream.WriteAsync(body.AsMemory(body.Length / 2));
        var answer = await new StreamReader(stream).ReadLineAsync();

        Assert.Equal(HttpStatusCode.ServiceUnavailable, shed.StatusCode);
        Assert.NotNull(shed.Headers.RetryAfter);
        Assert.Equal(503, (int)JsonNode.Parse(await shed.Content.ReadAsStringAsync())!["status"]!);
        Assert.Equal("HTTP/1.1 202 Accepted", answer);
    }
}
