namespace WebhookReceiver.Http;

/// <summary>
/// The service's error pages: every error as RFC 7807 problem details, including the framework's own 404/405 and a
/// request it cannot bind (the client's error, 400, not a 500). An app adopting the library keeps its own.
/// </summary>
internal static class HttpProblemsExtensions
{
    /// <summary>Problem details for every error the service writes, its own and the framework's (the library leaves this to its host).</summary>
    public static IServiceCollection AddHttpProblems(this IServiceCollection services) => services.AddProblemDetails();

    public static IApplicationBuilder UseHttpProblems(this IApplicationBuilder app) => app
        .UseExceptionHandler(new ExceptionHandlerOptions
        {
            StatusCodeSelector = exception => exception is BadHttpRequestException bad ? bad.StatusCode : StatusCodes.Status500InternalServerError,
        })
        .UseStatusCodePages();
}
