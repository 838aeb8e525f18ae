using WebhookReceiver.Tests.Infrastructure;

namespace WebhookReceiver.Tests.Access;

/// <summary>Three named operators, one of each role, as configuration; <see cref="TestApp.AdminKey"/> stays an operator named admin.</summary>
public static class OperatorKeys
{
    public const string Viewer = "viewer-key-vvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvv";
    public const string Reviewer = "reviewer-key-rrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrr";
    public const string Operator = "operator-key-oooooooooooooooooooooooooooooooo";

    /// <summary>Vera (viewer), Rita (reviewer), Otto (operator).</summary>
    public static Dictionary<string, string?> Settings(Dictionary<string, string?>? more = null)
    {
        var settings = new Dictionary<string, string?>
        {
            ["WebhookReceiver:Operators:0:Name"] = "vera",
            ["WebhookReceiver:Operators:0:Key"] = Viewer,
            ["WebhookReceiver:Operators:0:Role"] = "viewer",
            ["WebhookReceiver:Operators:1:Name"] = "rita",
            ["WebhookReceiver:Operators:1:Key"] = Reviewer,
            ["WebhookReceiver:Operators:1:Role"] = "reviewer",
            ["WebhookReceiver:Operators:2:Name"] = "otto",
            ["WebhookReceiver:Operators:2:Key"] = Operator,
            ["WebhookReceiver:Operators:2:Role"] = "Operator", // roles are read in any case
        };
        foreach (var (key, value) in more ?? [])
        {
            settings[key] = value;
        }

        return settings;
    }

    public static HttpClient Client(TestApp app, string? key)
    {
        var client = app.CreateClient();
        if (key is not null)
        {
            client.DefaultRequestHeaders.Add("X-Api-Key", key);
        }

        return client;
    }
}
