using System.Security.Claims;
using Microsoft.AspNetCore.Authorization;
using Microsoft.Extensions.Options;

namespace WebhookReceiver.Access;

/// <summary>
/// Whether a person may see payloads (webhook bodies, what an interrupt asked): everyone may, unless
/// <c>Access:HidePayloadsFromViewers</c> is on and the person does not meet <see cref="ReceiverPolicies.Review"/>.
/// </summary>
internal sealed class PayloadVisibility(IAuthorizationService authorization, IOptions<AccessOptions> options)
{
    /// <summary>True when <paramref name="user"/> is to get metadata, states and errors only.</summary>
    public async Task<bool> HidesFromAsync(ClaimsPrincipal user) =>
        options.Value.HidePayloadsFromViewers && !(await authorization.AuthorizeAsync(user, resource: null, ReceiverPolicies.Review)).Succeeded;
}
