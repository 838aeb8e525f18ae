using Microsoft.AspNetCore.Antiforgery;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using WebhookReceiver.Access;
using WebhookReceiver.Kernel;

namespace WebhookReceiver.Console;

/// <summary>
/// The console's route table, under <c>Console:Path</c>: the sign-in page and the assets are open; every other page needs a
/// console session with the viewer role at least (the cookie scheme, chosen by <see cref="ConsoleEndpointMetadata"/>), and
/// each action checks its own role in its command. Every response carries the console's security headers, every POST is
/// refused (400 problem details, nothing changed) without a valid antiforgery token.
/// </summary>
internal static class ConsoleEndpoints
{
    /// <summary>
    /// Scripts and styles from the console only (no inline script, no CDN), data for the live overview from the console
    /// only, forms posted to the console only, and no framing.
    /// </summary>
    public const string ContentSecurityPolicy =
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
        "form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

    public static RouteGroupBuilder MapConsole(this IEndpointRouteBuilder endpoints)
    {
        if (endpoints.ServiceProvider.GetService<ConsoleSessions>() is null)
        {
            throw new InvalidOperationException("MapWebhookReceiverConsole() needs the console's services: call builder.Services.AddWebhookReceiverConsole(builder.Configuration) first.");
        }

        var path = endpoints.ServiceProvider.GetRequiredService<IOptions<ConsoleOptions>>().Value.Path;
        var console = endpoints.MapGroup(path)
            .ExcludeFromDescription()
            .WithMetadata(new ConsoleEndpointMetadata())
            .AddEndpointFilter(SecurityHeadersAsync)
            .AddEndpointFilter(AntiforgeryAsync);
        console.MapGet("/assets/{name}", (string name, HttpContext context) => ConsoleAssets.Serve(name, context)).AllowAnonymous();
        console.MapConsoleSignIn();

        var pages = console.MapGroup("").RequireAuthorization(ReceiverPolicies.View);
        pages.MapConsolePages();
        return console;
    }

    /// <summary>The signed-in pages. Engineers adding pages append their one line here.</summary>
    public static RouteGroupBuilder MapConsolePages(this RouteGroupBuilder pages)
    {
        pages.MapOverviewPage();
        pages.MapWebhookPages();
        pages.MapDeadLetterPages();
        pages.MapSweepPage();
        pages.MapHandlersPage();
        pages.MapAuditPage();
        pages.MapInterruptPages();
        pages.MapAlertPages();
        return pages;
    }

    private static async ValueTask<object?> SecurityHeadersAsync(EndpointFilterInvocationContext invocation, EndpointFilterDelegate next)
    {
        var headers = invocation.HttpContext.Response.Headers;
        headers.ContentSecurityPolicy = ContentSecurityPolicy;
        headers.XContentTypeOptions = "nosniff";
        headers["Referrer-Policy"] = "no-referrer";
        return await next(invocation);
    }

    // The library cannot add UseAntiforgery() to the host's pipeline, so the console checks each POST itself, before its handler runs.
    private static async ValueTask<object?> AntiforgeryAsync(EndpointFilterInvocationContext invocation, EndpointFilterDelegate next)
    {
        var context = invocation.HttpContext;
        if (HttpMethods.IsPost(context.Request.Method)
            && !await context.RequestServices.GetRequiredService<IAntiforgery>().IsRequestValidAsync(context))
        {
            return Problems.BadRequest("The form's antiforgery token is missing or not valid: reload the page and send the form again. Nothing was changed.");
        }

        // What antiforgery itself sets on a page with a form: set first, it has nothing to override, so it logs no warning.
        context.Response.Headers.CacheControl = "no-cache, no-store";
        context.Response.Headers.Pragma = "no-cache";
        return await next(invocation);
    }
}
