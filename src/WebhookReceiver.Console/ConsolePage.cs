using System.Text;
using Microsoft.AspNetCore.Antiforgery;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace WebhookReceiver.Console;

/// <summary>
/// The console's layout: every page is one call of <see cref="Render"/> with its title, its navigation entry and its body
/// (built with <see cref="Html.Of"/>, which encodes every value). Links and form actions come from <see cref="Url"/>, so they
/// hold under the host's path base and the configured <c>Console:Path</c>; every form carries <see cref="Antiforgery"/>.
/// <para>
/// To add a page (Interrupts, Alerts): map it in your own static class with an extension on the console's route group
/// (<c>group.MapInterruptPages()</c>, one line appended in <see cref="ConsoleEndpoints.MapConsolePages"/>), so it inherits
/// the group's sign-in, security headers and antiforgery check on POST; render it with
/// <c>ConsolePage.Render(context, "Interrupts", ConsoleSection.Interrupts, body)</c>; its navigation entry is already in
/// <see cref="ConsoleSection"/>. A POST reads its form with <c>await context.Request.ReadFormAsync()</c> (the group filter
/// has already checked the token) and calls a command from <c>Commands/</c>; a refused command renders
/// <see cref="Forbidden"/>.
/// </para>
/// <para>
/// The overview keeps an empty <c>&lt;section id="open-alerts"&gt;</c> (in <see cref="OverviewPage"/>) for the open alerts.
/// </para>
/// </summary>
internal static class ConsolePage
{
    /// <summary>The path of a console page below the request's path base, e.g. <c>Url(context, "/webhooks/42")</c> → <c>/base/console/webhooks/42</c>.</summary>
    public static string Url(HttpContext context, string relative = "") =>
        context.Request.PathBase.Add(new PathString(ConsolePath(context))).Value + relative;

    /// <summary>The configured <c>Console:Path</c>.</summary>
    public static string ConsolePath(HttpContext context) =>
        context.RequestServices.GetRequiredService<IOptions<ConsoleOptions>>().Value.Path;

    /// <summary>The hidden antiforgery field every console form carries.</summary>
    public static Html Antiforgery(HttpContext context)
    {
        var tokens = context.RequestServices.GetRequiredService<IAntiforgery>().GetAndStoreTokens(context);
        return Html.Of($"<input type=\"hidden\" name=\"{tokens.FormFieldName}\" value=\"{tokens.RequestToken}\">");
    }

    /// <summary>A whole page in the layout: navigation (with the signed-in name and Sign out), then <paramref name="body"/>.</summary>
    public static IResult Render(HttpContext context, string title, ConsoleSection section, Html body, int statusCode = StatusCodes.Status200OK)
    {
        var user = context.User.Identity is { IsAuthenticated: true, Name: var name } ? name : null;
        var nav = Html.Join(ConsoleSections.Navigation.Select(entry => Html.Of(
            $"<li><a href=\"{Url(context, entry.Path)}\"{Html.Raw(entry.Section == section ? " aria-current=\"page\"" : "")}>{entry.Label}</a></li>")));
        var header = user is null
            ? Html.Empty
            : Html.Of($"""
                <nav aria-label="Console"><ul>{nav}</ul></nav>
                <form class="signout" method="post" action="{Url(context, "/sign-out")}">{Antiforgery(context)}<span class="who">{user}</span> <button type="submit">Sign out</button></form>
                """);
        var page = Html.Of($"""
            <!DOCTYPE html>
            <html lang="en">
            <head>
            <meta charset="utf-8">
            <meta name="viewport" content="width=device-width, initial-scale=1">
            <title>{title} · WebhookReceiver</title>
            <link rel="stylesheet" href="{ConsoleAssets.Url(context, ConsoleAssets.Css)}">
            <script src="{ConsoleAssets.Url(context, ConsoleAssets.Script)}" defer></script>
            </head>
            <body data-console="{Url(context)}">
            <header><a class="brand" href="{Url(context)}">WebhookReceiver</a>{header}</header>
            <main>
            <h1>{title}</h1>
            {body}
            </main>
            </body>
            </html>
            """);
        return Results.Content(page.Value, "text/html; charset=utf-8", Encoding.UTF8, statusCode);
    }

    /// <summary>The page a refused action or page shows: 403, what the role allows, nothing changed.</summary>
    public static IResult Forbidden(HttpContext context, string detail) =>
        Render(context, "Not allowed", ConsoleSection.None, Html.Of($"<p class=\"error\" role=\"alert\">{detail}</p><p>Nothing was changed.</p>"), StatusCodes.Status403Forbidden);

    /// <summary>A 404 page for an id that names nothing.</summary>
    public static IResult NotFound(HttpContext context, string detail) =>
        Render(context, "Not found", ConsoleSection.None, Html.Of($"<p class=\"error\" role=\"alert\">{detail}</p>"), StatusCodes.Status404NotFound);

    /// <summary>A 400 page for a form or filter that cannot be used.</summary>
    public static IResult BadRequest(HttpContext context, string detail) =>
        Render(context, "Bad request", ConsoleSection.None, Html.Of($"<p class=\"error\" role=\"alert\">{detail}</p><p>Nothing was changed.</p>"), StatusCodes.Status400BadRequest);

    /// <summary>After a form post: back to a console page (303, so a reload does not post again), under the path base.</summary>
    public static IResult SeeOther(HttpContext context, string relative)
    {
        context.Response.Headers.Location = Url(context, relative);
        return Results.StatusCode(StatusCodes.Status303SeeOther);
    }
}

/// <summary>The navigation entries; a page names its own so the navigation marks it.</summary>
internal enum ConsoleSection
{
    None,
    Overview,
    Webhooks,
    DeadLetters,
    Interrupts,
    Sweep,
    Handlers,
    Alerts,
    Audit,
}

internal static class ConsoleSections
{
    /// <summary>In order, with their paths below the console's. Interrupts and Alerts are served by their own pages.</summary>
    public static readonly IReadOnlyList<(ConsoleSection Section, string Label, string Path)> Navigation =
    [
        (ConsoleSection.Overview, "Overview", ""),
        (ConsoleSection.Webhooks, "Webhooks", "/webhooks"),
        (ConsoleSection.DeadLetters, "Dead letters", "/dead-letters"),
        (ConsoleSection.Interrupts, "Interrupts", "/interrupts"),
        (ConsoleSection.Sweep, "Sweep", "/sweep"),
        (ConsoleSection.Handlers, "Handlers", "/handlers"),
        (ConsoleSection.Alerts, "Alerts", "/alerts"),
        (ConsoleSection.Audit, "Audit", "/audit"),
    ];
}
