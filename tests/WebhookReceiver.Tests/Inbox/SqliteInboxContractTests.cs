using Microsoft.Extensions.Options;
using WebhookReceiver.Configuration;
using WebhookReceiver.Inbox;

namespace WebhookReceiver.Tests.Inbox;

/// <summary>The inbox contract on a real SQLite file of the test's own.</summary>
public sealed class SqliteInboxContractTests : InboxContractTests
{
    private readonly string _directory = Directory.CreateTempSubdirectory("webhook-receiver-tests-").FullName;

    protected override Task<IWebhookInbox> CreateInboxAsync()
    {
        var options = new WebhookReceiverOptions();
        options.Storage.ConnectionString = $"Data Source={Path.Combine(_directory, "webhooks.db")}";
        return Task.FromResult<IWebhookInbox>(new SqliteInbox(Options.Create(options)));
    }

    protected override Task DestroyStoreAsync()
    {
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        Directory.Delete(_directory, recursive: true);
        return Task.CompletedTask;
    }
}
