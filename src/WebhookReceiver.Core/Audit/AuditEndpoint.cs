using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Routing;
using WebhookReceiver.Access;
using WebhookReceiver.Kernel;

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
        IAuditLog audit, [AsParameters] AuditFilter filter, CancellationToken cancellationToken)
    {
        var errors = new Dictionary<string, string[]>();
        var query = filter.ToQuery(errors);
        if (errors.Count > 0)
        {
            return TypedResults.ValidationProblem(errors);
        }

        var page = await audit.ListAsync(query, cancellationToken);
        return TypedResults.Ok(new AuditList(page.Items.Select(r => new AuditView(r.Id, r.At, r.Actor, r.Action, r.Target, r.Outcome, r.Detail)).ToList(), page.NextCursor));
    }
}

/// <summary>The audit trail's filters and paging, as <c>GET /api/audit</c> and the console's audit page read them.</summary>
internal sealed class AuditFilter
{
    /// <summary>One of <see cref="AuditActions.All"/>.</summary>
    [FromQuery(Name = "action")]
    public string? Action { get; init; }

    [FromQuery(Name = "actor")]
    public string? Actor { get; init; }

    /// <summary>Exact, e.g. <c>webhook:42</c>.</summary>
    [FromQuery(Name = "target")]
    public string? Target { get; init; }

    /// <summary>At or after this time (ISO 8601).</summary>
    [FromQuery(Name = "from")]
    public string? From { get; init; }

    /// <summary>Before this time (ISO 8601).</summary>
    [FromQuery(Name = "to")]
    public string? To { get; init; }

    [FromQuery(Name = "cursor")]
    public string? Cursor { get; init; }

    [FromQuery(Name = "limit")]
    public string? Limit { get; init; }

    /// <summary>The store's query; each value that cannot be used is added to <paramref name="errors"/> under its query name.</summary>
    public AuditQuery ToQuery(Dictionary<string, string[]> errors)
    {
        var (before, size) = QueryParameters.Paging(Cursor, Limit, errors);
        return new AuditQuery
        {
            Action = QueryParameters.OneOf(Action, "action", AuditActions.All, errors),
            Actor = QueryParameters.Indexable(Actor, "actor", errors),
            Target = QueryParameters.Indexable(Target, "target", errors),
            From = QueryParameters.Time(From, "from", errors),
            To = QueryParameters.Time(To, "to", errors),
            Before = before,
            Limit = size,
        };
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
