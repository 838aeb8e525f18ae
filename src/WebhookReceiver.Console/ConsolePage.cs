using Microsoft.AspNetCore.Antiforgery;
using Microsoft.AspNetCore.Components;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace WebhookReceiver.Console;

/// <summary>
/// The console's layout (<see cref="Components.ConsoleLayout"/>): every page is a Razor component rendered on the server
/// (<see cref="Component{TPage, TModel}"/>) in that layout, with its title and its navigation entry. Links and form actions
/// come from <see cref="Url"/>, so they hold under the host's path base and the configured <c>Console:Path</c>; every form
/// carries <see cref="Components.ConsoleAntiforgery"/>.
/// <para>
/// To add a page: map it in its own static class with an extension on the console's route group (one line appended in
/// <see cref="ConsoleEndpoints.MapConsolePages"/>), so it inherits the group's sign-in, security headers and antiforgery
/// check on POST; read its query through the module's filter (<c>[AsParameters]</c>, parsed by <c>QueryParameters</c>)
/// and a POST's fields with <c>[FromForm]</c> (<c>.DisableAntiforgery()</c>: the group filter has already checked the
/// token); call the module's command; a refused command renders <see cref="Forbidden"/>.
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

    /// <summary>The antiforgery tokens of this request's forms (stored in the antiforgery cookie when new).</summary>
    public static AntiforgeryTokenSet AntiforgeryTokens(HttpContext context) =>
        context.RequestServices.GetRequiredService<IAntiforgery>().GetAndStoreTokens(context);

    /// <summary>
    /// Page component <typeparamref name="TPage"/> in the layout, reading <paramref name="model"/> as a cascading parameter
    /// (<c>[CascadingParameter] private TModel Model</c>: the page's data, loaded by its endpoint).
    /// </summary>
    public static IResult Component<TPage, TModel>(string title, ConsoleSection section, TModel model, int statusCode = StatusCodes.Status200OK)
        where TPage : IComponent =>
        InLayout(title, section, Cascade(model, builder =>
        {
            builder.OpenComponent<TPage>(0);
            builder.CloseComponent();
        }), statusCode);

    // Rendered on the server, whole (no streaming, no circuit, no Blazor script), with the layout's frame as a cascading value.
    private static RazorComponentResult<CascadingValue<ConsoleFrame>> InLayout(string title, ConsoleSection section, RenderFragment content, int statusCode) =>
        new RazorComponentResult<CascadingValue<ConsoleFrame>>(CascadeParameters(new ConsoleFrame(title, section), builder =>
        {
            builder.OpenComponent<Components.ConsoleLayout>(0);
            builder.AddComponentParameter(1, nameof(Components.ConsoleLayout.ChildContent), content);
            builder.CloseComponent();
        }))
        {
            StatusCode = statusCode,
            ContentType = "text/html; charset=utf-8",
            PreventStreamingRendering = true,
        };

    private static RenderFragment Cascade<TValue>(TValue value, RenderFragment content) => builder =>
    {
        builder.OpenComponent<CascadingValue<TValue>>(0);
        foreach (var (name, parameter) in CascadeParameters(value, content))
        {
            builder.AddComponentParameter(1, name, parameter);
        }

        builder.CloseComponent();
    };

    private static Dictionary<string, object?> CascadeParameters<TValue>(TValue value, RenderFragment content) => new()
    {
        [nameof(CascadingValue<TValue>.Value)] = value,
        [nameof(CascadingValue<TValue>.IsFixed)] = true,
        [nameof(CascadingValue<TValue>.ChildContent)] = content,
    };

    /// <summary>The page a refused action or page shows: 403, what the role allows, nothing changed.</summary>
    public static IResult Forbidden(HttpContext context, string detail) =>
        Message("Not allowed", new ConsoleMessage(detail, NothingChanged: true), StatusCodes.Status403Forbidden);

    /// <summary>A 404 page for an id that names nothing.</summary>
    public static IResult NotFound(HttpContext context, string detail) =>
        Message("Not found", new ConsoleMessage(detail, NothingChanged: false), StatusCodes.Status404NotFound);

    /// <summary>A 400 page for a form or filter that cannot be used.</summary>
    public static IResult BadRequest(HttpContext context, string detail) =>
        Message("Bad request", new ConsoleMessage(detail, NothingChanged: true), StatusCodes.Status400BadRequest);

    private static IResult Message(string title, ConsoleMessage message, int statusCode) =>
        Component<Components.MessagePage, ConsoleMessage>(title, ConsoleSection.None, message, statusCode);

    /// <summary>After a form post: back to a console page (303, so a reload does not post again), under the path base.</summary>
    public static IResult SeeOther(HttpContext context, string relative)
    {
        context.Response.Headers.Location = Url(context, relative);
        return Results.StatusCode(StatusCodes.Status303SeeOther);
    }
}

/// <summary>What <see cref="Components.MessagePage"/> says: why, and whether the request changed nothing.</summary>
internal sealed record ConsoleMessage(string Detail, bool NothingChanged);

/// <summary>What the layout shows of a page: its title and its navigation entry.</summary>
internal sealed record ConsoleFrame(string Title, ConsoleSection Section);

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
