using System.Text;
using WebhookReceiver.Webhooks;

namespace WebhookReceiver.Tests.Storage;

/// <summary>
/// What every inbox engine promises about LangGraph deployments and run verifications (the subclasses below): the deployment
/// is stored, listed and filtered; the first verification recorded stands, except an <c>error</c>, which a later answer replaces;
/// <c>rejected</c> deliveries are listed by state.
/// </summary>
public abstract class VerificationContractTests<TEngine> : EngineContract<TEngine>
    where TEngine : IInboxEngine, new()
{
    private static readonly DateTimeOffset T0 = new(2030, 1, 1, 12, 0, 0, TimeSpan.Zero);

    private IRunVerificationStore Verifications => Stores.Verifications;

    [Fact]
    public async Task The_deployment_is_stored_with_the_webhook_shown_and_filtered_on()
    {
        await Inbox.AppendAsync([Webhook("run-prod", "prod"), Webhook("run-staging", "staging"), Webhook("run-none", null)], CancellationToken.None);

        var prod = await Inbox.ListAsync(new WebhookQuery { Deployment = "prod" }, CancellationToken.None);
        var all = await Inbox.ListAsync(new WebhookQuery(), CancellationToken.None);

        Assert.Equal("run-prod", Assert.Single(prod.Items).RunId);
        Assert.Equal("prod", prod.Items[0].Deployment);
        Assert.Equal([("run-none", null), ("run-prod", "prod"), ("run-staging", "staging")], all.Items.OrderBy(w => w.RunId).Select(w => (w.RunId, w.Deployment)));
        Assert.Equal("staging", (await Inbox.GetByRunIdAsync("run-staging", CancellationToken.None))!.Deployment);
        Assert.Equal(new WebhookVerificationState("prod", null), await Verifications.ReadVerificationAsync(prod.Items[0].Id, CancellationToken.None));
    }

    [Fact]
    public async Task The_first_verification_recorded_stands_an_error_is_replaced_and_verifications_are_filtered_on()
    {
        var ids = await Inbox.AppendAsync([Webhook("run-a", "prod"), Webhook("run-b", "prod")], CancellationToken.None);
        var error = new RunVerification(VerificationResult.Error, "503", T0);
        var notFound = new RunVerification(VerificationResult.NotFound, "no run", T0.AddSeconds(1));
        var verified = new RunVerification(VerificationResult.Verified, null, T0.AddSeconds(2));

        Assert.True((await Verifications.RecordVerificationAsync(ids[0].Id, error, CancellationToken.None)).Recorded);
        Assert.True((await Verifications.RecordVerificationAsync(ids[0].Id, notFound, CancellationToken.None)).Recorded);
        var late = await Verifications.RecordVerificationAsync(ids[0].Id, verified, CancellationToken.None);
        await Verifications.RecordVerificationAsync(ids[1].Id, verified, CancellationToken.None);

        Assert.Equal((notFound, false), late);
        Assert.Equal(notFound, (await Inbox.GetAsync(ids[0].Id, CancellationToken.None))!.Verification);
        var notFoundOnly = await Inbox.ListAsync(new WebhookQuery { Verification = VerificationResult.NotFound }, CancellationToken.None);
        Assert.Equal("run-a", Assert.Single(notFoundOnly.Items).RunId);
        Assert.Equal(notFound, notFoundOnly.Items[0].Verification);
    }

    [Fact]
    public async Task A_rejected_delivery_is_not_due_again_is_listed_by_state_and_a_replay_makes_it_due()
    {
        var id = (await Inbox.AppendAsync([Webhook("run-a", "prod")], CancellationToken.None))[0].Id;
        var claimed = Assert.Single(await Inbox.ClaimDueAsync("me", T0, T0.AddMinutes(1), 10, CancellationToken.None));
        await Inbox.CompleteAttemptAsync(new AttemptResult(claimed.DeliveryId, "me", 1, 0, T0, T0, false, "rejected: not_found", DeliveryState.Rejected, null), CancellationToken.None);

        Assert.Empty(await Inbox.ClaimDueAsync("me", T0.AddHours(1), T0.AddHours(2), 10, CancellationToken.None));
        Assert.Single((await Inbox.ListAsync(new WebhookQuery { DeliveryState = DeliveryState.Rejected }, CancellationToken.None)).Items);
        await Inbox.ReplayAsync(id, ["h1"], T0.AddHours(1), CancellationToken.None);
        var again = Assert.Single(await Inbox.ClaimDueAsync("me", T0.AddHours(1), T0.AddHours(2), 10, CancellationToken.None));
        Assert.Equal((2, 1), (again.Attempt, again.AttemptInRound)); // A new round: the replay is the admin's decision.
    }

    private static NewWebhook Webhook(string runId, string? deployment) =>
        new(runId, "thread-1", "assistant-a", "agent", "success", T0, Encoding.UTF8.GetBytes($$"""{"run_id":"{{runId}}"}"""), ["h1"], deployment);
}

/// <summary>The verification contract on a real SQLite file of the test's own.</summary>
public sealed class SqliteVerificationContractTests : VerificationContractTests<SqliteEngine>;

/// <summary>The verification contract on a real PostgreSQL server, in a database of the test's own.</summary>
[Trait("Category", "System")]
public sealed class PostgresVerificationContractTests : VerificationContractTests<PostgresEngine>;
