using System.Security.Claims;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using WebhookReceiver.Access;
using WebhookReceiver.Audit;
using WebhookReceiver.LangGraph;
using WebhookReceiver.Tests.Infrastructure;
using WebhookReceiver.Webhooks;

namespace WebhookReceiver.Tests.Access;

/// <summary>
/// The commands check the role themselves (the console calls them with no endpoint policy in front): a viewer is refused and
/// the refusal is audited; the console cookie has its secure defaults; the audit trail is purged by its own age.
/// </summary>
public sealed class CommandAccessTests
{
    [Fact]
    public async Task A_command_called_by_a_viewer_is_forbidden_does_nothing_and_is_audited_and_an_operator_is_let_through()
    {
        await using var app = new TestApp(OperatorKeys.Settings());
        var id = (long)(await Json.ReadAsync(await app.PostWebhookAsync(Payloads.Run().ToJsonString())))["id"]!;
        await using var scope = app.Services.CreateAsyncScope();
        var replay = scope.ServiceProvider.GetRequiredService<ReplayWebhookCommand>();
        var bulk = scope.ServiceProvider.GetRequiredService<ReplayDeadLettersCommand>();
        var sweep = scope.ServiceProvider.GetRequiredService<SweepCommand>();
        var directory = app.Services.GetRequiredService<OperatorDirectory>();
        var vera = OperatorDirectory.Principal(directory.Authenticate(OperatorKeys.Viewer)!, ReceiverAuthentication.ConsoleCookieScheme);
        var otto = OperatorDirectory.Principal(directory.Authenticate(OperatorKeys.Operator)!, ReceiverAuthentication.ConsoleCookieScheme);
        var inbox = app.Services.GetRequiredService<IInboxQueries>();
        async Task<List<string>> States() => (await inbox.GetAsync(id, CancellationToken.None))!.Deliveries.Select(d => d.State).ToList();
        var delivered = await Eventually.MatchAsync(States, states => states.Count > 0 && states.All(s => s == DeliveryState.Succeeded));

        var refused = await replay.ExecuteAsync(vera, id, null, CancellationToken.None);
        var refusedBulk = await bulk.ExecuteAsync(vera, new WebhookQuery(), null, CancellationToken.None);
        var refusedSweep = await sweep.ExecuteAsync(new ClaimsPrincipal(new ClaimsIdentity()), null, null, CancellationToken.None);
        var untouched = await States();
        var done = await replay.ExecuteAsync(otto, id, null, CancellationToken.None);

        Assert.Equal([CommandStatus.Forbidden, CommandStatus.Forbidden, CommandStatus.Forbidden, CommandStatus.Done],
            new[] { refused.Status, refusedBulk.Status, refusedSweep.Status, done.Status });
        Assert.Equal(delivered, untouched); // a refused replay made nothing due again
        Assert.Equal(delivered.Count, done.Value);
        var trail = await app.Services.GetRequiredService<IAuditLog>().ListAsync(new AuditQuery(), CancellationToken.None);
        Assert.Equal(
            [("otto", "replay", "succeeded"), ("(anonymous)", "sweep", "forbidden"), ("vera", "bulk_replay", "forbidden"), ("vera", "replay", "forbidden")],
            trail.Items.Select(r => (r.Actor, r.Action, r.Outcome)));
    }

    [Fact]
    public async Task A_long_detail_is_redacted_before_it_is_cut_so_no_piece_of_a_secret_is_stored()
    {
        await using var app = new TestApp(OperatorKeys.Settings());
        using var started = app.CreateClient();
        await using var scope = app.Services.CreateAsyncScope();
        var gate = scope.ServiceProvider.GetRequiredService<CommandGate>();
        // The key straddles the cut: cut first, its first half would be stored.
        var detail = new string('x', CommandGate.MaxDetailLength - 20) + OperatorKeys.Operator + new string('y', 100);

        var id = await gate.RecordAsync(new ClaimsPrincipal(new ClaimsIdentity([new Claim(ClaimTypes.Name, "otto")], "test")), AuditActions.Resume, "interrupt:1",
            AuditOutcomes.Succeeded, detail);

        var stored = (await app.Services.GetRequiredService<IAuditLog>().ListAsync(new AuditQuery(), CancellationToken.None)).Items.Single(r => r.Id == id).Detail!;
        Assert.Equal(CommandGate.MaxDetailLength, stored.Length);
        Assert.Contains("[REDACTED]", stored, StringComparison.Ordinal);
        Assert.DoesNotContain(OperatorKeys.Operator[..10], stored, StringComparison.Ordinal);
        Assert.Equal("otto", (await app.Services.GetRequiredService<IAuditLog>().ListAsync(new AuditQuery(), CancellationToken.None)).Items.Single().Actor);
    }

    [Fact]
    public async Task The_console_cookie_is_HttpOnly_SameSite_Strict_Secure_over_HTTPS_and_expires_after_the_session_setting()
    {
        await using var app = new TestApp(new() { ["WebhookReceiver:Access:SessionExpiry"] = "02:00:00" });

        var cookie = app.Services.GetRequiredService<IOptionsMonitor<CookieAuthenticationOptions>>().Get(ReceiverAuthentication.ConsoleCookieScheme);

        Assert.Equal((true, SameSiteMode.Strict, CookieSecurePolicy.SameAsRequest), (cookie.Cookie.HttpOnly, cookie.Cookie.SameSite, cookie.Cookie.SecurePolicy));
        Assert.Equal((TimeSpan.FromHours(2), true), (cookie.ExpireTimeSpan, cookie.SlidingExpiration));
    }

    [Fact]
    public async Task Audit_records_older_than_Audit_MaxAge_are_purged_and_newer_ones_kept()
    {
        await using var app = new TestApp(new() { ["WebhookReceiver:Audit:MaxAge"] = "2.00:00:00" });
        using var started = app.CreateClient();
        var audit = app.Services.GetRequiredService<IAuditLog>();
        var now = DateTimeOffset.UtcNow;
        await audit.AppendAsync(new AuditEntry(now.AddDays(-3), "otto", AuditActions.Sweep, "sweep", AuditOutcomes.Succeeded), CancellationToken.None);
        await audit.AppendAsync(new AuditEntry(now.AddDays(-1), "otto", AuditActions.Sweep, "sweep", AuditOutcomes.Succeeded), CancellationToken.None);

        var purged = await app.Services.GetServices<IHostedService>().OfType<AuditRetentionService>().Single().PurgeAsync(CancellationToken.None);

        Assert.Equal(1, purged);
        Assert.Equal([now.AddDays(-1).ToUnixTimeMilliseconds()],
            (await audit.ListAsync(new AuditQuery(), CancellationToken.None)).Items.Select(r => r.At.ToUnixTimeMilliseconds()));
    }
}
