using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using WebhookReceiver.Tests.Infrastructure;

namespace WebhookReceiver.Tests.Access;

/// <summary>
/// Operators from configuration are checked at start-up: each fault stops it with one line naming the setting (and its
/// environment variable), never the key itself.
/// </summary>
public sealed class OperatorSettingsTests
{
    private const string KeyA = "operator-key-aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
    private const string KeyB = "operator-key-bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb";
    private const string AdminKey = "admin-key-cccccccccccccccccccccccccccccccccccc";

    public static TheoryData<string, string[], string> Faults => new()
    {
        { "unknown role", ["ann", KeyA, "admin", "bob", KeyB, "viewer"], "WebhookReceiver:Operators:0:Role (env WebhookReceiver__Operators__0__Role) is 'admin': use one of viewer, reviewer, operator." },
        { "empty key", ["ann", KeyA, "viewer", "bob", "", "viewer"], "WebhookReceiver:Operators:1:Key (env WebhookReceiver__Operators__1__Key) is empty" },
        { "empty name", ["", KeyA, "viewer", "bob", KeyB, "viewer"], "WebhookReceiver:Operators:0:Name (env WebhookReceiver__Operators__0__Name) is empty" },
        { "duplicate name", ["ann", KeyA, "viewer", "ANN", KeyB, "operator"], "WebhookReceiver:Operators:1:Name (env WebhookReceiver__Operators__1__Name) is 'ANN', the name of WebhookReceiver:Operators:0:Name" },
        { "duplicate key", ["ann", KeyA, "viewer", "bob", KeyA, "operator"], "WebhookReceiver:Operators:1:Key (env WebhookReceiver__Operators__1__Key) is the same key as WebhookReceiver:Operators:0" },
        { "an admin key again", ["ann", AdminKey, "viewer", "bob", KeyB, "operator"], "WebhookReceiver:Operators:0:Key (env WebhookReceiver__Operators__0__Key) is the same key as WebhookReceiver:AdminKeys:0" },
    };

    [Theory]
    [MemberData(nameof(Faults))]
    public async Task A_bad_operator_stops_the_start_up_naming_the_setting_and_never_the_key(string fault, string[] operators, string expected)
    {
        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => StartAsync(operators));

        Assert.True(error.Message.Contains(expected, StringComparison.Ordinal), $"{fault}: {error.Message}");
        foreach (var key in new[] { KeyA, KeyB, AdminKey })
        {
            Assert.DoesNotContain(key, error.Message, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task Good_operators_pass_the_checks()
    {
        using var host = await StartAsync(["ann", KeyA, "viewer", "bob", KeyB, " Reviewer "]);
        Assert.NotNull(host);
    }

    [Fact]
    public async Task Outside_Development_an_operator_key_shorter_than_32_characters_stops_the_start_up_and_operators_stand_in_for_admin_keys()
    {
        var refused = await Assert.ThrowsAsync<OptionsValidationException>(() => StartAsync(["ann", "short-key", "viewer"], environment: "Production", adminKey: null));
        using var started = await StartAsync(["ann", KeyA, "operator"], environment: "Production", adminKey: null);

        Assert.Contains("WebhookReceiver:Operators (env WebhookReceiver__Operators__0__Key) has a value shorter than 32 characters", refused.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("short-key", refused.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("AdminKeys", refused.Message, StringComparison.Ordinal);
    }

    private static async Task<IHost> StartAsync(string[] operators, string environment = "Development", string? adminKey = AdminKey)
    {
        using var directory = new TempDirectory();
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { EnvironmentName = environment });
        builder.Configuration["WebhookReceiver:Storage:ConnectionString"] = $"Data Source={Path.Combine(directory.Path, "webhooks.db")}";
        builder.Configuration["WebhookReceiver:Tokens:0"] = TestApp.Token;
        if (adminKey is not null)
        {
            builder.Configuration["WebhookReceiver:AdminKeys:0"] = adminKey;
        }

        for (var i = 0; i < operators.Length / 3; i++)
        {
            builder.Configuration[$"WebhookReceiver:Operators:{i}:Name"] = operators[3 * i];
            builder.Configuration[$"WebhookReceiver:Operators:{i}:Key"] = operators[3 * i + 1];
            builder.Configuration[$"WebhookReceiver:Operators:{i}:Role"] = operators[3 * i + 2];
        }

        builder.Services.AddWebhookReceiver(builder.Configuration);
        var host = builder.Build();
        try
        {
            // The options are what start-up validates; reading them runs their validators (the operators' keys are access's own).
            _ = host.Services.GetRequiredService<IOptions<WebhookReceiver.Webhooks.WebhookReceiverOptions>>().Value;
            _ = host.Services.GetRequiredService<IOptions<WebhookReceiver.Access.OperatorKeyOptions>>().Value;
            return host;
        }
        catch
        {
            host.Dispose();
            throw;
        }
    }
}
