using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using WebhookReceiver.Access;
using WebhookReceiver.Interrupts;
using WebhookReceiver.Webhooks;
using WebhookReceiver.LangGraph;

namespace WebhookReceiver.Console;

/// <summary>The console's services; its options section is bound with the others in <c>AddWebhookReceiver</c>.</summary>
internal static class ConsoleRegistration
{
    internal static IServiceCollection AddReceiverConsole(this IServiceCollection services)
    {
        services.AddAntiforgery();
        services.TryAddSingleton<SignInThrottle>();
        services.TryAddSingleton<ConsoleSessions>();
        services.TryAddSingleton<ConsoleOverview>();
        services.TryAddSingleton<RecentSweeps>();
        // Interrupts link to the console's pages (Interrupt.ConsoleUrl, console_url in the API).
        services.AddOptions<InterruptLinkOptions>().Configure<IOptions<ConsoleOptions>>((links, console) => links.ConsolePath = console.Value.Path);
        // Access registered the cookie with secure defaults; the console adds where it signs in and what ends a session.
        services.AddOptions<CookieAuthenticationOptions>(ReceiverAuthentication.ConsoleCookieScheme)
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
}
