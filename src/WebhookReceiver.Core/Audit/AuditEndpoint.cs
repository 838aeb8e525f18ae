using System.Globalization;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Routing;
using WebhookReceiver.Access;
using WebhookReceiver.Audit;

using WebhookReceiver.Webhooks;

namespace WebhookReceiver.Audit;

/// <summary><c>GET /api/audit</c>: the audit trail, newest first (role operator).</summary>
internal static class AuditEndpoint
{
    public static RouteHandlerBuilder MapAuditEndpoint(this IEndpointRouteBuilder api) =>
        api.MapGet("/audit", ListAuditAsync).WithTags("Audit").WithName("ListAudit").RequireAuthorization(ReceiverPolicies.Operate)
            .WithSummary("The audit trail: who did what, when, to what, and how it ended; newest first")
            .WithDescription("Every state-changing action, through the API or the console: `replay` (target `webhook:{id}` or `interrupt:{id}`), " +
                "`bulk_replay` (target `dead-letters`, detail the count and filter), `resume` (target `interrupt:{id}`, detail the value sent, " +
                "secrets redacted), `sweep`, `sign_in`, `sign_in_failed`. `actor` is the operator's name (`admin` for an `AdminKeys` key) or " +
                "the host user's name; `outcome` is `succeeded`, `forbidden`, `not_found`, `refused` or `failed`. Filter by `action`, `actor`, " +
                "`target` (exact), `from` (inclusive) and `to` (exclusive, ISO 8601); page with `limit` (1-500) and `next_cursor`. " +
                "Kept for `Audit:MaxAge`. Role operator.")
            .ProducesValidationProblem();

    public static async Task<Results<Ok<AuditList>, ValidationProblem>> ListAuditAsync(
        IAuditLog audit,
        [FromQuery(Name = "action")] string? action,
        [FromQuery(Name = "actor")] string? actor,
        [FromQuery(Name = "target")] string? target,
        [FromQuery(Name = "from")] string? from,
        [FromQuery(Name = "to")] string? to,
        [FromQuery(Name = "cursor")] string? cursor,
        [FromQuery(Name = "limit")] string? limit,
        CancellationToken cancellationToken)
    {
        var errors = new Dictionary<string, string[]>();
        var (before, size) = QueryParameters.Paging(cursor, limit, errors);
        var query = new AuditQuery
        {
            Action = action,
            Actor = actor,
            Target = target,
            From = Time(from, "from", errors),
            To = Time(to, "to", errors),
            Before = before,
            Limit = size,
        };
        if (action is not null && !AuditActions.All.Contains(action))
        {
            errors["action"] = [$"One of: {string.Join(", ", AuditActions.All)}."];
        }

        foreach (var (name, value) in new[] { ("actor", actor), ("target", target) })
        {
            if (value is not null && !IndexableText.CanMatch(value))
            {
                errors[name] = [$"At most {IndexableText.MaxLength} characters, with no NUL."];
            }
        }

        if (errors.Count > 0)
        {
            return TypedResults.ValidationProblem(errors);
        }

        var page = await audit.ListAsync(query, cancellationToken);
        return TypedResults.Ok(new AuditList(page.Items.Select(r => new AuditView(r.Id, r.At, r.Actor, r.Action, r.Target, r.Outcome, r.Detail)).ToList(), page.NextCursor));
    }

    private static DateTimeOffset? Time(string? value, string name, Dictionary<string, string[]> errors)
    {
        if (value is null)
        {
            return null;
        }

        if (DateTimeOffset.TryParse(value, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var parsed))
        {
            return parsed;
        }

        errors[name] = ["An ISO 8601 time such as 2026-12-01T00:00:00Z."];
        return null;
    }
}

/// <summary>One audit record.</summary>
/// <param name="Actor">Who: an operator's name (<c>admin</c> for an <c>AdminKeys</c> key) or the host user's name.</param>
/// <param name="Action"><c>replay</c>, <c>bulk_replay</c>, <c>resume</c>, <c>sweep</c>, <c>sign_in</c>, <c>sign_in_failed</c>, <c>acknowledge_alert</c>.</param>
/// <param name="Target">What it acted on: <c>webhook:42</c>, <c>interrupt:7</c>, <c>dead-letters</c>, <c>sweep</c>, <c>deployment:prod</c>, <c>console</c>.</param>
/// <param name="Outcome"><c>succeeded</c>, <c>forbidden</c>, <c>not_found</c>, <c>refused</c> or <c>failed</c>.</param>
/// <param name="Detail">A count, the value sent (secrets redacted), why it was refused; null when there is nothing to add.</param>
internal sealed record AuditView(long Id, DateTimeOffset At, string Actor, string Action, string Target, string Outcome, string? Detail);

/// <param name="NextCursor">Pass as <c>cursor</c> for the next (older) page; null on the last page.</param>
internal sealed record AuditList(IReadOnlyList<AuditView> Items, long? NextCursor);
