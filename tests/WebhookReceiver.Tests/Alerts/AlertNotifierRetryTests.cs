using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;
using Microsoft.Extensions.Options;
using StandardWebhooks;
using WebhookReceiver.Alerts;
using WebhookReceiver.Tests.Infrastructure;

namespace WebhookReceiver.Tests.Alerts;

/// <summary>
/// The operational webhook's retries against a real Kestrel socket: a notice the target refuses is posted again, 1 s then 2 s
/// later, with the same <c>webhook-id</c> and a fresh signature each time, each retry logged; after <c>Webhook:Attempts</c>
/// it is logged as lost.
/// </summary>
public sealed class AlertNotifierRetryTests
{
    private static readonly string Secret = "whsec_" + Convert.ToBase64String("alert-retry-secret-0123456789"u8.ToArray());

    [Fact]
    public async Task A_refused_notice_is_posted_again_with_the_same_id_until_the_target_takes_it()
    {
        await using var target = await LoopbackListener.StartAsync();
        target.Answer = n => n switch { 1 => StatusCodes.Status503ServiceUnavailable, 2 => StatusCodes.Status500InternalServerError, _ => StatusCodes.Status200OK };
        var logs = new FakeLogCollector();

        await NotifyAsync(target, attempts: 5, logs, () => target.WaitForRequestsAsync(3));

        var received = target.Received;
        Assert.Equal(3, received.Count);
        Assert.Single(received.Select(r => r.Headers["webhook-id"]).Distinct());
        Assert.Equal("alert_7_opened", received[0].Headers["webhook-id"]);
        foreach (var request in received)
        {
            var headers = new HeaderDictionary();
            foreach (var name in new[] { "webhook-id", "webhook-timestamp", "webhook-signature" })
            {
                headers[name] = request.Headers[name];
            }

            new StandardWebhook(Secret).Verify(request.Body, headers);
        }

        var retries = await Eventually.MatchAsync(() => Task.FromResult(Messages(logs, LogLevel.Warning)), m => m.Count == 2);
        Assert.Equal("Operational webhook: alert.opened of alert 7 answered 503; retrying in 1 s", retries[0]);
        Assert.Equal("Operational webhook: alert.opened of alert 7 answered 500; retrying in 2 s", retries[1]);
        Assert.Empty(Messages(logs, LogLevel.Error));
    }

    [Fact]
    public async Task A_notice_refused_every_time_is_logged_as_lost_after_its_attempts()
    {
        await using var target = await LoopbackListener.StartAsync();
        target.Answer = _ => StatusCodes.Status502BadGateway;
        var logs = new FakeLogCollector();

        await NotifyAsync(target, attempts: 2, logs, async () =>
            await Eventually.MatchAsync(() => Task.FromResult(Messages(logs, LogLevel.Error)), m => m.Count == 1));

        Assert.Equal(2, target.Received.Count);
        Assert.Equal("Operational webhook: alert.opened of alert 7 (dead_handler) lost after 2 attempts, the last one answered 502",
            Assert.Single(Messages(logs, LogLevel.Error)));
    }

    private static async Task NotifyAsync(LoopbackListener target, int attempts, FakeLogCollector logs, Func<Task> until)
    {
        await using var services = new ServiceCollection().AddHttpClient().BuildServiceProvider();
        var options = Options.Create(new AlertOptions { Webhook = { Url = new Uri(target.Url, "/ops/alerts").ToString(), Secret = Secret, Attempts = attempts } });
        var notifier = new AlertNotifier(options, services.GetRequiredService<IHttpClientFactory>(), TimeProvider.System, new FakeLogger<AlertNotifier>(logs));
        await notifier.StartAsync(CancellationToken.None);
        try
        {
            notifier.Post(AlertNotifier.Opened, new AlertView(7, "dead_handler", "dead_handler:billing", "billing", "open", "billing is failing", 1, null, null, [],
                DateTimeOffset.UnixEpoch, DateTimeOffset.UnixEpoch, null, null, null));
            await until();
        }
        finally
        {
            await notifier.StopAsync(CancellationToken.None);
        }
    }

    private static List<string> Messages(FakeLogCollector logs, LogLevel level) =>
        logs.GetSnapshot().Where(r => r.Level == level).Select(r => r.Message).ToList();
}
