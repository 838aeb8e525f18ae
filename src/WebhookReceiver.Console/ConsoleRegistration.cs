using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using WebhookReceiver.Access;
using WebhookReceiver.Console;
using WebhookReceiver.Interrupts;
using WebhookReceiver.Kernel;
using WebhookReceiver.LangGraph;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Adds the operator console to a host that adds the receiver (<c>AddWebhookReceiver</c>).</summary>
public static class WebhookReceiverConsoleServiceCollectionExtensions
{
    /// <summary>
    /// Adds the console's services: its options from <c>WebhookReceiver:Console</c> (validated at start-up), antiforgery, the
    /// sign-in cookie scheme <see cref="ReceiverAuthentication.ConsoleCookieScheme"/> (cookie <c>.WebhookReceiver.Console</c>:
    /// HttpOnly, SameSite=Strict, Secure over HTTPS, sliding expiry <c>WebhookReceiver:Access:SessionExpiry</c>), the session
    /// check, the sign-in throttle and the overview. The receiver itself comes from <c>AddWebhookReceiver</c>, called before or
    /// after. Calling it again adds nothing. Map the pages with <c>MapWebhookReceiverConsole()</c>.
    /// </summary>
    public static IServiceCollection AddWebhookReceiverConsole(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        if (services.Any(d => d.ServiceType == typeof(ConsoleMarker)))
        {
            return services;
        }

        services.AddSingleton<ConsoleMarker>();
        services.AddSection<ConsoleOptions, ConsoleOptionsAnnotations>(configuration, ConsoleOptions.Section);
        services.AddAntiforgery();
        // The pages are components rendered on the server (RazorComponentResult): no circuit, no Blazor script.
        services.AddRazorComponents();
        services.TryAddSingleton<SignInThrottle>();
        services.TryAddSingleton<ConsoleSessions>();
        services.TryAddSingleton<ConsoleOverview>();
        services.TryAddSingleton<RecentSweeps>();
        // Interrupts link to the console's pages (Interrupt.ConsoleUrl, console_url in the API).
        services.AddOptions<InterruptLinkOptions>().Configure<IOptions<ConsoleOptions>>((links, console) => links.ConsolePath = console.Value.Path);
        // The receiver's policy scheme forwards the console's endpoints (ConsoleEndpointMetadata) to this cookie.
        services.AddAuthentication().AddCookie(ReceiverAuthentication.ConsoleCookieScheme);
        services.AddOptions<CookieAuthenticationOptions>(ReceiverAuthentication.ConsoleCookieScheme)
            .Configure<IOptions<AccessOptions>>((cookie, access) =>
            {
                cookie.Cookie.Name = ".WebhookReceiver.Console";
                cookie.Cookie.HttpOnly = true;
                cookie.Cookie.SameSite = SameSiteMode.Strict;
                cookie.Cookie.SecurePolicy = CookieSecurePolicy.SameAsRequest;
                cookie.ExpireTimeSpan = access.Value.SessionExpiry;
                cookie.SlidingExpiration = true;
            })
            .PostConfigure<IOptions<ConsoleOptions>, ConsoleSessions>((cookie, console, sessions) =>
            {
                cookie.LoginPath = console.Value.Path + "/sign-in";
                cookie.LogoutPath = console.Value.Path + "/sign-out";
                cookie.AccessDeniedPath = console.Value.Path + "/forbidden";
                cookie.ReturnUrlParameter = "returnUrl";
                var validate = cookie.Events.OnValidatePrincipal;
                cookie.Events.OnValidatePrincipal = async context =>
                {
                    await sessions.ValidateAsync(context);
                    if (context.Principal is not null)
                    {
                        await validate(context);
                    }
                };
            });
        return services;
    }

    private sealed class ConsoleMarker;
}
