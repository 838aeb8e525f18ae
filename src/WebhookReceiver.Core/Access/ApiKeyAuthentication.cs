using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using WebhookReceiver.Kernel;

namespace WebhookReceiver.Access;

/// <summary>
/// <see cref="ReceiverAuthentication.ApiKeyScheme"/>: a request whose <c>X-Api-Key</c> is an operator's key is that operator
/// (name and role claims). Challenged with a bare 401 problem, forbidden with a 403 problem: never a redirect.
/// </summary>
internal sealed class ApiKeyAuthenticationHandler(
    IOptionsMonitor<AuthenticationSchemeOptions> options, ILoggerFactory logger, UrlEncoder encoder, OperatorDirectory operators)
    : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
{
    /// <summary>The header that carries the key.</summary>
    public const string Header = "X-Api-Key";

    protected override Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        if (!Request.Headers.TryGetValue(Header, out var sent))
        {
            return Task.FromResult(AuthenticateResult.NoResult());
        }

        if (sent.Count != 1 || operators.Authenticate(sent[0]) is not { } person)
        {
            // No detail: a wrong key and a retired one look the same.
            return Task.FromResult(AuthenticateResult.Fail("The key is not valid."));
        }

        return Task.FromResult(AuthenticateResult.Success(new AuthenticationTicket(OperatorDirectory.Principal(person, Scheme.Name), Scheme.Name)));
    }

    protected override Task HandleChallengeAsync(AuthenticationProperties properties) => Problems.Unauthorized().ExecuteAsync(Context);

    protected override Task HandleForbiddenAsync(AuthenticationProperties properties) => Problems.Forbidden().ExecuteAsync(Context);
}
