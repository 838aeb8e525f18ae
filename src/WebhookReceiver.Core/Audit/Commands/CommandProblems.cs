using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using WebhookReceiver.Kernel;

namespace WebhookReceiver.Audit;

/// <summary>A command that did not run to the end, as the problem details its endpoint answers.</summary>
internal static class CommandProblems
{
    public static ProblemHttpResult From<T>(CommandResult<T> result) => result.Status switch
    {
        CommandStatus.Forbidden => Problems.Forbidden(),
        CommandStatus.NotFound => Problems.NotFound(result.Detail ?? "Not found."),
        CommandStatus.Conflict => TypedResults.Problem(statusCode: StatusCodes.Status409Conflict, detail: result.Detail),
        _ => throw new InvalidOperationException($"A command that is {result.Status} is no problem."),
    };
}
