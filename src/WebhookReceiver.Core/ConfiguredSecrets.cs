using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using WebhookReceiver.Alerts;
using WebhookReceiver.LangGraph;
using WebhookReceiver.Webhooks;

namespace WebhookReceiver;

/// <summary>
/// The secrets spread over the sections, gathered where the sections meet: webhook tokens (the root's and every
/// LangGraph deployment's), admin keys, forward signing secrets, LangGraph API keys and the alert webhook's signing secret.
/// </summary>
internal static class ConfiguredSecrets
{
    /// <summary>Every accepted webhook token: <c>WebhookReceiver:Tokens</c> and each deployment's <c>Tokens</c>.</summary>
    public static IEnumerable<string> WebhookTokens(IServiceProvider services) =>
        WebhookTokens(services.GetRequiredService<IOptions<WebhookReceiverOptions>>().Value, services.GetRequiredService<IOptions<LangGraphOptions>>().Value);

    public static IEnumerable<string> WebhookTokens(WebhookReceiverOptions root, LangGraphOptions langGraph) =>
        root.Tokens.Concat(langGraph.Deployments.SelectMany(d => d.Tokens));

    /// <summary>Every configured secret: what logs, responses and error messages must never show.</summary>
    public static IEnumerable<string> All(IServiceProvider services) =>
        WebhookTokens(services)
            .Concat(services.GetRequiredService<IOptions<WebhookReceiverOptions>>().Value.AdminKeys)
            .Concat(services.GetRequiredService<IOptions<WebhookReceiverOptions>>().Value.Operators.Select(o => o.Key))
            .Concat(services.GetRequiredService<IOptions<BuiltInHandlerOptions>>().Value.Forward.SelectMany(f => f.SigningSecrets()))
            .Concat(services.GetRequiredService<IOptions<LangGraphOptions>>().Value.Secrets())
            .Concat([services.GetRequiredService<IOptions<AlertOptions>>().Value.Webhook.Secret]);
}

/// <summary>
/// Outside Development the receiver refuses to start without real secrets: a webhook token (the root's or a LangGraph
/// deployment's) and an admin key or named operator, each at least <see cref="WebhookReceiverOptionsValidator.MinSecretLength"/> characters.
/// </summary>
/// <remarks>It takes no logger: the logger is built from these options (its secret scrubber), so asking for one here deadlocks.</remarks>
internal sealed class ProductionSecretsValidator(IHostEnvironment environment, IOptions<LangGraphOptions> langGraph) : IValidateOptions<WebhookReceiverOptions>
{
    public ValidateOptionsResult Validate(string? name, WebhookReceiverOptions options)
    {
        if (environment.IsDevelopment())
        {
            return ValidateOptionsResult.Skip;
        }

        var failures = new List<string>();
        RequireSecrets([.. ConfiguredSecrets.WebhookTokens(options, langGraph.Value)],
            "WebhookReceiver:Tokens (env WebhookReceiver__Tokens__0) or a LangGraph deployment's Tokens", failures);
        // Named operators stand in for admin keys: one of the two is needed, and every key is as long as an admin key.
        if (options.Operators.Count == 0)
        {
            RequireSecrets(options.AdminKeys, "WebhookReceiver:AdminKeys (env WebhookReceiver__AdminKeys__0)", failures);
        }
        else
        {
            if (options.AdminKeys.Count > 0)
            {
                RequireSecrets(options.AdminKeys, "WebhookReceiver:AdminKeys (env WebhookReceiver__AdminKeys__0)", failures);
            }

            RequireSecrets([.. options.Operators.Select(o => o.Key)], "WebhookReceiver:Operators (env WebhookReceiver__Operators__0__Key)", failures);
        }
        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }

    private static void RequireSecrets(List<string> values, string setting, List<string> failures)
    {
        var present = values.Where(v => !string.IsNullOrWhiteSpace(v)).ToList();
        if (present.Count == 0)
        {
            failures.Add($"{setting} is missing: set at least one.");
        }
        else if (present.Any(v => v.Length < WebhookReceiverOptionsValidator.MinSecretLength))
        {
            failures.Add($"{setting} has a value shorter than {WebhookReceiverOptionsValidator.MinSecretLength} characters.");
        }
    }
}
