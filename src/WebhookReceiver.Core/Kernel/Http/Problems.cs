using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;

namespace WebhookReceiver.Kernel;

/// <summary>The RFC 7807 answers that more than one endpoint gives.</summary>
internal static class Problems
{
    /// <summary>No hint of why: a missing, wrong and retired secret all look the same.</summary>
    public static ProblemHttpResult Unauthorized() => TypedResults.Problem(statusCode: StatusCodes.Status401Unauthorized);

    /// <summary>The caller is known, but its role does not allow this.</summary>
    public static ProblemHttpResult Forbidden() => TypedResults.Problem(statusCode: StatusCodes.Status403Forbidden,
        detail: "Your role does not allow this.");

    /// <summary>Not stored: the sender should try again after Retry-After.</summary>
    public static ProblemHttpResult Unavailable(HttpContext context, int retryAfterSeconds, string detail)
    {
        context.Response.Headers.RetryAfter = retryAfterSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
        return TypedResults.Problem(statusCode: StatusCodes.Status503ServiceUnavailable, detail: detail);
    }

    public static ProblemHttpResult BadRequest(string detail) => TypedResults.Problem(statusCode: StatusCodes.Status400BadRequest, detail: detail);

    public static ProblemHttpResult NotFound(string detail) => TypedResults.Problem(statusCode: StatusCodes.Status404NotFound, detail: detail);
}
