using System.Globalization;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Options;
using WebhookReceiver.Access;
using WebhookReceiver.Audit;
using WebhookReceiver.Console.Components;

namespace WebhookReceiver.Console;

/// <summary>
/// Sign in with an operator key (<c>Operators:{i}:Key</c> or an admin key): the key is checked by
/// <see cref="OperatorDirectory"/>, never stored, logged or echoed; the session is the console cookie
/// (<see cref="ReceiverAuthentication.ConsoleCookieScheme"/>: HttpOnly, SameSite=Strict, Secure over HTTPS, with an expiry).
/// Failed attempts are slowed down and, past the limit, refused per client address (<see cref="SignInThrottle"/>); both
/// outcomes are audited.
/// </summary>
internal static class ConsoleSignIn
{
    public static void MapConsoleSignIn(this RouteGroupBuilder console)
    {
        console.MapGet("/sign-in", (HttpContext context, string? returnUrl) => Page(context, returnUrl, error: null, StatusCodes.Status200OK)).AllowAnonymous();
        // The console's own filter checks the antiforgery token (the host's pipeline may have no UseAntiforgery()).
        console.MapPost("/sign-in", SignInAsync).AllowAnonymous().DisableAntiforgery();
        // Signed in: the form's antiforgery token was made for the session's user, and is checked against it.
        console.MapPost("/sign-out", SignOutAsync).RequireAuthorization(ReceiverPolicies.View);
        console.MapGet("/forbidden", (HttpContext context) => ConsolePage.Forbidden(context, "Your role does not allow this page.")).RequireAuthorization(ReceiverPolicies.View);
    }

    private static IResult Page(HttpContext context, string? returnUrl, string? error, int statusCode) =>
        ConsolePage.Component<SignInPage, SignInModel>("Sign in", ConsoleSection.None,
            new SignInModel(ConsolePage.Url(context, "/sign-in"), LocalReturnUrl(context, returnUrl), error), statusCode);

    private static async Task<IResult> SignInAsync(
        HttpContext context, [AsParameters] SignInForm form, OperatorDirectory operators, SignInThrottle throttle, IAuditLog audit, TimeProvider time,
        IOptionsMonitor<CookieAuthenticationOptions> cookies, CancellationToken cancellationToken)
    {
        var returnUrl = form.ReturnUrl;
        var address = context.Connection.RemoteIpAddress?.ToString() ?? "unknown";
        if (throttle.RetryAfter(address) is { } wait)
        {
            context.Response.Headers.RetryAfter = Math.Ceiling(wait.TotalSeconds).ToString(CultureInfo.InvariantCulture);
            return Page(context, returnUrl, "Too many failed sign-ins from this address: wait a while and try again.", StatusCodes.Status429TooManyRequests);
        }

        if (operators.Authenticate(form.Key ?? "") is not { } person)
        {
            var delay = throttle.Fail(address);
            await audit.AppendAsync(new AuditEntry(time.GetUtcNow(), "(unknown)", AuditActions.SignInFailed, $"client:{address}", AuditOutcomes.Refused,
                "console sign-in with a key that is not configured"), cancellationToken);
            // Held before it answers, longer each time: guessing keys from one address gets slow, then refused.
            await Task.Delay(delay, time, cancellationToken);
            return Page(context, returnUrl, "That key is not valid.", StatusCodes.Status401Unauthorized);
        }

        throttle.Succeed(address);
        var principal = OperatorDirectory.Principal(person, ReceiverAuthentication.ConsoleCookieScheme);
        ((System.Security.Claims.ClaimsIdentity)principal.Identity!).AddClaim(new(ConsoleSessions.ClaimType, ConsoleSessions.NewId()));
        var expiry = cookies.Get(ReceiverAuthentication.ConsoleCookieScheme).ExpireTimeSpan;
        await context.SignInAsync(ReceiverAuthentication.ConsoleCookieScheme, principal,
            new AuthenticationProperties { IsPersistent = true, ExpiresUtc = time.GetUtcNow() + expiry });
        await audit.AppendAsync(new AuditEntry(time.GetUtcNow(), person.Name, AuditActions.SignIn, $"client:{address}", AuditOutcomes.Succeeded,
            $"console, role {person.Role}"), cancellationToken);
        context.Response.Headers.Location = LocalReturnUrl(context, returnUrl);
        return Results.StatusCode(StatusCodes.Status303SeeOther);
    }

    private static async Task<IResult> SignOutAsync(
        HttpContext context, ConsoleSessions sessions, TimeProvider time, IOptionsMonitor<CookieAuthenticationOptions> cookies, CancellationToken cancellationToken)
    {
        // Ended for as long as its cookie could still be valid: a sliding session is renewed up to its expiry from now.
        await sessions.EndAsync(context.User, CommandGate.ActorName(context.User),
            time.GetUtcNow() + cookies.Get(ReceiverAuthentication.ConsoleCookieScheme).ExpireTimeSpan, cancellationToken);

        await context.SignOutAsync(ReceiverAuthentication.ConsoleCookieScheme);
        return ConsolePage.SeeOther(context, "/sign-in");
    }

    // Back to where the person was going, when that is a console page of this host; otherwise the overview (no open redirect).
    private static string LocalReturnUrl(HttpContext context, string? returnUrl)
    {
        var console = ConsolePage.Url(context);
        if (returnUrl is not { Length: > 0 } url || !url.StartsWith(console, StringComparison.Ordinal) || (url.Length > console.Length && url[console.Length] is not ('/' or '?')))
        {
            return console;
        }

        // The path as a browser resolves it: no "..", no "//" or "\\" that would leave the console or the host.
        var path = Uri.UnescapeDataString(url.Split('?', 2)[0]);
        return path.Contains("//", StringComparison.Ordinal) || path.Contains('\\', StringComparison.Ordinal) || path.Split('/').Any(s => s is "." or "..")
            ? console
            : url;
    }
}

/// <summary>The sign-in form's fields.</summary>
internal sealed class SignInForm
{
    [FromForm(Name = "key")]
    public string? Key { get; init; }

    [FromForm(Name = "returnUrl")]
    public string? ReturnUrl { get; init; }
}

/// <summary>What <see cref="SignInPage"/> shows: where it posts, where to go after, and why the last attempt failed.</summary>
internal sealed record SignInModel(string Action, string ReturnUrl, string? Error);
