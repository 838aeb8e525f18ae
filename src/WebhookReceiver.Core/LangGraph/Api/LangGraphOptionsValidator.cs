using Microsoft.Extensions.Options;
using WebhookReceiver.Webhooks;

namespace WebhookReceiver.LangGraph;

/// <summary>
/// The LangGraph settings that data annotations cannot check: URLs that must be absolute http(s), and deployment names
/// that must be unique. Each failure is one line naming the setting; a URL is never echoed (it may hold credentials).
/// </summary>
internal sealed class LangGraphOptionsValidator : IValidateOptions<LangGraphOptions>
{
    public ValidateOptionsResult Validate(string? name, LangGraphOptions options)
    {
        var langGraph = options;
        var failures = new List<string>();
        var names = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        for (var i = 0; i < langGraph.Deployments.Count; i++)
        {
            var deployment = langGraph.Deployments[i];
            var setting = $"{LangGraphOptions.Section}:Deployments:{i}";
            if (string.IsNullOrWhiteSpace(deployment.Name))
            {
                failures.Add($"{setting}:Name is missing: give every LangGraph deployment a name.");
            }
            else if (!names.Add(deployment.Name))
            {
                failures.Add($"{setting}:Name '{deployment.Name}' is used by another deployment: names must be unique.");
            }

            // Accepted as webhook tokens: they travel in the webhook URL like WebhookReceiver:Tokens.
            if (deployment.Tokens.Any(WebhookReceiverOptionsValidator.BreaksUrl))
            {
                failures.Add($"{setting}:Tokens has a value containing '&', '#' or whitespace, which cannot travel unencoded in the webhook URL's ?token=.");
            }

            if (!IsHttpUrl(deployment.ApiUrl))
            {
                failures.Add($"{setting}:ApiUrl must be an absolute http or https URL, such as https://my-agent.us.langgraph.app.");
            }
        }

        if (!string.IsNullOrEmpty(langGraph.PublicUrl) && !IsHttpUrl(langGraph.PublicUrl))
        {
            failures.Add($"{LangGraphOptions.Section}:PublicUrl must be an absolute http or https URL, such as https://hooks.example.com/webhooks/langgraph, or empty.");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }

    internal static bool IsHttpUrl(string? text) =>
        Uri.TryCreate(text, UriKind.Absolute, out var uri)
        && (uri.Scheme == Uri.UriSchemeHttp || uri.Scheme == Uri.UriSchemeHttps)
        && !string.IsNullOrEmpty(uri.Host);
}

/// <summary>The data annotations on <see cref="LangGraphOptions"/> and its deployments, checked by generated code at start-up.</summary>
[OptionsValidator]
internal sealed partial class LangGraphOptionsAnnotations : IValidateOptions<LangGraphOptions>;
