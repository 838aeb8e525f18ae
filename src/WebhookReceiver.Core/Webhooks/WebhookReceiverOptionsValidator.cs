using Microsoft.Extensions.Options;

namespace WebhookReceiver.Webhooks;

/// <summary>The root keys data annotations cannot check: a token must travel in a URL as it is.</summary>
internal sealed class WebhookReceiverOptionsValidator : IValidateOptions<WebhookReceiverOptions>
{
    /// <summary>The shortest webhook token or admin key accepted outside Development.</summary>
    internal const int MinSecretLength = 32;

    public ValidateOptionsResult Validate(string? name, WebhookReceiverOptions options)
    {
        // LangGraph sends the webhook URL as it was given: '&' and '#' end the query value there, whitespace breaks the URL.
        return options.Tokens.Any(BreaksUrl)
            ? ValidateOptionsResult.Fail("WebhookReceiver:Tokens (env WebhookReceiver__Tokens__0) has a value containing '&', '#' or whitespace, which cannot " +
                "travel unencoded in the webhook URL's ?token=: use a URL-safe token, such as `openssl rand -hex 32`.")
            : ValidateOptionsResult.Success;
    }

    /// <summary>True for a token that cannot travel unencoded in a URL's query value.</summary>
    internal static bool BreaksUrl(string? token) =>
        token is not null && (token.AsSpan().IndexOfAny(UrlBreakingCharacters) >= 0 || token.Any(char.IsWhiteSpace));

    private static readonly System.Buffers.SearchValues<char> UrlBreakingCharacters = System.Buffers.SearchValues.Create("&#");
}

/// <summary>The data annotations on the root keys, checked by generated code at start-up.</summary>
[OptionsValidator]
internal sealed partial class WebhookReceiverOptionsAnnotations : IValidateOptions<WebhookReceiverOptions>;
