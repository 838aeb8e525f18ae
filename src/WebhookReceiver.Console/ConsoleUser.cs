using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using WebhookReceiver.Access;

namespace WebhookReceiver.Console;

/// <summary>
/// What the signed-in person may see and do, by the same policies the commands check and the same payload rule as the API
/// (<see cref="PayloadVisibility"/>): a page shows a button only when its command would allow it.
/// </summary>
internal sealed record ConsoleUser(string Name, bool CanReview, bool CanOperate, bool SeesPayloads)
{
    public static async Task<ConsoleUser> OfAsync(HttpContext context)
    {
        var authorization = context.RequestServices.GetRequiredService<IAuthorizationService>();
        var canReview = (await authorization.AuthorizeAsync(context.User, ReceiverPolicies.Review)).Succeeded;
        var canOperate = (await authorization.AuthorizeAsync(context.User, ReceiverPolicies.Operate)).Succeeded;
        var hidden = await context.RequestServices.GetRequiredService<PayloadVisibility>().HidesFromAsync(context.User);
        return new ConsoleUser(context.User.Identity?.Name ?? "", canReview, canOperate, SeesPayloads: !hidden);
    }
}
