using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using WebhookReceiver.Kernel;

namespace WebhookReceiver.Access;

/// <summary>
/// <see cref="ReceiverAuthentication.ApiKeyScheme"/>: a request whose <c>X-Api-Key</c> is an operator's key is that operator
/// (name and role claims). Challenged with a 401 problem that says which header to send (<see cref="ChallengeAsync"/>),
/// forbidden with a 403 problem: never a redirect.
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

    /// <summary>The challenge's scheme in <c>WWW-Authenticate</c>: the header to send, as clients read it.</summary>
    public const string Challenge = "X-Api-Key";

    protected override Task HandleChallengeAsync(AuthenticationProperties properties) => ChallengeAsync(Context);

    /// <summary>
    /// 401 problem details that say how to authenticate (<c>WWW-Authenticate: X-Api-Key</c>, and a detail naming the header) and
    /// never why the request failed: a missing, wrong and retired key get the same answer.
    /// </summary>
    public static Task ChallengeAsync(HttpContext context)
    {
        context.Response.Headers.WWWAuthenticate = Challenge;
        return TypedResults.Problem(statusCode: StatusCodes.Status401Unauthorized,
            detail: $"Send an operator's key in the {Header} header.").ExecuteAsync(context);
    }

    protected override Task HandleForbiddenAsync(AuthenticationProperties properties) => Problems.Forbidden().ExecuteAsync(Context);
}
