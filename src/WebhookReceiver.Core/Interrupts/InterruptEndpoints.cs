using System.Security.Claims;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Routing;
using Microsoft.OpenApi;
using WebhookReceiver.Access;
using WebhookReceiver.Audit;
using WebhookReceiver.Kernel;
using WebhookReceiver.Webhooks;

namespace WebhookReceiver.Interrupts;

/// <summary>Human in the loop under <c>/api/interrupts</c>: the threads waiting for a person, resuming them, and replaying their deliveries.</summary>
internal static class InterruptEndpoints
{
    public const string InterruptRoute = "GetInterrupt";

    /// <summary>The bodies <c>POST /api/interrupts/{id}/resume</c> takes, as shown in the OpenAPI document.</summary>
    private static readonly Dictionary<string, (string Summary, string Json)> ResumeExamples = new()
    {
        ["one"] = ("One pending interrupt: the answer, any JSON", """{ "resume": { "approved": true, "note": "ship it" } }"""),
        ["several"] = ("Several pending interrupts: an answer per interrupt id", """{ "resume": { "9f1c3b7e-2a4d-4c8e-9b1a-3d5e7f9a1b2c": "yes", "b2e4d6f8-1a3c-4e5f-8a9b-0c1d2e3f4a5b": "no" } }"""),
        ["breakpoint"] = ("A static breakpoint (interrupt_before/after): no value", "{}"),
    };

    public static void MapInterrupts(this RouteGroupBuilder api)
    {
        api.MapGet("/interrupts", ListInterruptsAsync).WithTags("Human in the loop").WithName("ListInterrupts")
            .WithSummary("Threads that stopped for a person, newest first")
            .WithDescription("A run that pauses at `interrupt()` (or a static breakpoint) ends `success`; its thread is `interrupted`. The receiver " +
                "asks the thread after each `success` webhook of a configured LangGraph deployment and records every pause once. Filter by `state` " +
                "(`waiting`, `resumed`, `expired`), `deployment`, `graph_id` and `thread_id`; page with `limit` (1-500) and `next_cursor`.")
            .ProducesValidationProblem()
            .AddOpenApiOperationTransformer((operation, _, _) =>
            {
                foreach (var parameter in (operation.Parameters ?? []).OfType<OpenApiParameter>().Where(p => p.Name == "state"))
                {
                    parameter.Schema = new OpenApiSchema { Type = JsonSchemaType.String, Enum = InterruptState.All.Select(s => (JsonNode)s).ToList() };
                }

                return Task.CompletedTask;
            });
        api.MapGet("/interrupts/{id:long}", GetInterruptAsync).WithTags("Human in the loop").WithName(InterruptRoute)
            .WithSummary("One interrupt: what the graph asked, the run that paused, and how it ended")
            .WithDescription("`pending` holds each interrupt's `id` and the exact `value` the graph passed to `interrupt()` (and `response_schema` when " +
                "the server sends one); empty at a static breakpoint, where `next` names the nodes that run next. Once resumed, `resumed_run_id` is " +
                "the new run, and `resumed_webhook_id` its stored webhook when it has arrived. Each pending interrupt's `question` says what its " +
                "`value` asks, so a client can answer without parsing it: `kind` `agent_inbox` (an Agent Inbox `HumanInterrupt` list: resume with " +
                "one `{type, args}` per action, in order), `hitl` (LangChain's `HITLRequest`: resume with `{\"decisions\": [...]}`, one per action, " +
                "in order) or `free_form` (anything else); `actions` lists each action's `name`, `args`, `description` and `allowed_decisions` " +
                "(`accept`/`edit`/`response`/`ignore` or `approve`/`edit`/`reject`); `fields` (`name`, `type`, `label`, `required`) come from " +
                "`response_schema` (free form) or an action's `args_schema` (hitl) when it is an object of string, number, integer or boolean " +
                "properties. `question` is left out with `value` for a viewer when payloads are hidden. `console_url` is the interrupt's page in " +
                "the operator console (absolute, from `LangGraph:PublicUrl`), null without a public URL or a console.");
        api.MapPost("/interrupts/{id:long}/resume", ResumeInterruptAsync).WithTags("Human in the loop").WithName("ResumeInterrupt").RequireAuthorization(ReceiverPolicies.Review)
            .WithSummary("Resume a waiting thread")
            .WithDescription("Creates the resumed run on the deployment (`POST /threads/{thread_id}/runs` with the paused run's assistant, " +
                "`command.resume` and this receiver's webhook URL from `WebhookReceiver:LangGraph:PublicUrl`) and answers 202 with its `run_id`; " +
                "its webhook arrives like any other; the interrupt records who resumed it (`resumed_by`). Role reviewer. 400: the body does not fit the pause. 404: no such interrupt. 409: resumed already, " +
                "expired (the thread no longer waits here: resumed elsewhere), being resumed by another request (of any replica) right now, " +
                "or resuming is off (`LangGraph:PublicUrl` is not set, or the deployment is no longer configured: `detail` names the setting). " +
                "422: LangGraph refused the resume (its reason in `detail`). 502: LangGraph did not answer.")
            .Produces<ResumeAccepted>(StatusCodes.Status202Accepted)
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status409Conflict)
            .ProducesProblem(StatusCodes.Status422UnprocessableEntity)
            .ProducesProblem(StatusCodes.Status502BadGateway)
            .AddOpenApiOperationTransformer((operation, _, _) =>
            {
                // The body is read by the endpoint (so that bad JSON is a problem of ours); described here.
                var body = new OpenApiMediaType
                {
                    Schema = new OpenApiSchema { Type = JsonSchemaType.Object, Description = "`{\"resume\": value}`, `{\"resume\": {\"<interrupt id>\": value}}` or `{}`." },
                    Examples = ResumeExamples.ToDictionary(e => e.Key, e => (IOpenApiExample)new OpenApiExample { Summary = e.Value.Summary, Value = JsonNode.Parse(e.Value.Json) }),
                };
                operation.RequestBody = new OpenApiRequestBody
                {
                    Required = true,
                    Description = "The answer: for one pending interrupt any JSON as `resume`; for several, an object keyed by interrupt id; `{}` for a static breakpoint.",
                    Content = new Dictionary<string, OpenApiMediaType> { ["application/json"] = body },
                };
                return Task.CompletedTask;
            });
        api.MapPost("/interrupts/{id:long}/replay", ReplayInterruptAsync).WithTags("Replay").WithName("ReplayInterrupt").RequireAuthorization(ReceiverPolicies.Operate)
            .WithSummary("Deliver an interrupt again to its interrupt handlers")
            .WithDescription("Makes the interrupt due again for every interrupt handler that has a delivery for it or accepts it now, or only for " +
                "`handler`: a dead letter is delivered again, and handlers that already succeeded run again (replay is an explicit request). " +
                "`POST /api/dead-letters/replay` replays the dead deliveries of interrupts in bulk.");
    }

    public static async Task<Results<Ok<InterruptList>, ValidationProblem>> ListInterruptsAsync(
        IInboxInterrupts inbox,
        InterruptLinks links,
        PayloadVisibility visibility,
        ClaimsPrincipal user,
        [AsParameters] InterruptFilter filter,
        CancellationToken cancellationToken)
    {
        var errors = new Dictionary<string, string[]>();
        var query = filter.ToQuery(errors);
        if (errors.Count > 0)
        {
            return TypedResults.ValidationProblem(errors);
        }

        var page = await inbox.ListInterruptsAsync(query, cancellationToken);
        var hide = await visibility.HidesFromAsync(user);
        return TypedResults.Ok(new InterruptList(page.Items.Select(i => InterruptView.From(i, links, hide)).ToList(), page.NextCursor));
    }

    public static async Task<Results<Ok<InterruptView>, ProblemHttpResult>> GetInterruptAsync(
        long id, IInboxInterrupts inbox, InterruptLinks links, PayloadVisibility visibility, ClaimsPrincipal user, CancellationToken cancellationToken) =>
        await inbox.GetInterruptAsync(id, cancellationToken) is { } interrupt
            ? TypedResults.Ok(InterruptView.From(interrupt, links, await visibility.HidesFromAsync(user)))
            : Problems.NotFound($"No interrupt has id {id}.");

    public static async Task<Results<Accepted<ResumeAccepted>, ProblemHttpResult>> ResumeInterruptAsync(
        long id, HttpRequest request, ResumeInterruptCommand resume, ClaimsPrincipal user, LinkGenerator paths, CancellationToken cancellationToken)
    {
        JsonObject body;
        try
        {
            body = await JsonNode.ParseAsync(request.Body, cancellationToken: cancellationToken) as JsonObject
                   ?? throw new JsonException("not an object");
        }
        catch (JsonException)
        {
            return TypedResults.Problem(statusCode: StatusCodes.Status400BadRequest, title: "The body is not a JSON object",
                detail: "Send {\"resume\": value} (one pending interrupt), {\"resume\": {\"<interrupt id>\": value}} (several) or {} (a static breakpoint).");
        }

        var command = await resume.ExecuteAsync(user, id, body, cancellationToken);
        if (command.Status != CommandStatus.Done)
        {
            return CommandProblems.From(command);
        }

        var result = command.Value!;
        return result.Kind switch
        {
            ResumeOutcome.Resumed => TypedResults.Accepted(paths.GetPathByName(request.HttpContext, InterruptRoute, new { id }),
                new ResumeAccepted(id, result.Interrupt!.ThreadId, result.RunId!, InterruptState.Resumed)),
            ResumeOutcome.NotFound => Problems.NotFound(result.Detail!),
            ResumeOutcome.Invalid => Problem(StatusCodes.Status400BadRequest, "The body does not fit this pause", result.Detail),
            ResumeOutcome.Conflict => Problem(StatusCodes.Status409Conflict, "The interrupt is not waiting", result.Detail),
            ResumeOutcome.Expired => Problem(StatusCodes.Status409Conflict, "The thread no longer waits here", result.Detail),
            ResumeOutcome.Rejected => Problem(StatusCodes.Status422UnprocessableEntity, "LangGraph refused the resume", result.Detail),
            ResumeOutcome.Unreachable => Problem(StatusCodes.Status502BadGateway, "LangGraph did not answer", result.Detail),
            // A setting, not an outage: a 5xx would page monitors and make clients retry.
            _ => Problem(StatusCodes.Status409Conflict, "Resuming is switched off", result.Detail),
        };
    }

    public static async Task<Results<Accepted<ReplayResult>, ProblemHttpResult>> ReplayInterruptAsync(
        long id, [FromQuery(Name = "handler")] string? handler, ReplayInterruptCommand replay, ClaimsPrincipal user, LinkGenerator paths,
        HttpContext context, CancellationToken cancellationToken)
    {
        var result = await replay.ExecuteAsync(user, id, handler, cancellationToken);
        return result.Status == CommandStatus.Done
            ? TypedResults.Accepted(paths.GetPathByName(context, InterruptRoute, new { id }), new ReplayResult(result.Value))
            : CommandProblems.From(result);
    }

    private static ProblemHttpResult Problem(int status, string title, string? detail) =>
        TypedResults.Problem(statusCode: status, title: title, detail: detail);
}
