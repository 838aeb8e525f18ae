using System.Net;

namespace WebhookReceiver.LangGraph;

/// <summary>
/// A LangGraph server did not give a usable answer: an error status other than 404 (after the retries reads get), no
/// answer in time, or a body that is not the expected JSON. The message names the deployment, the call and the status,
/// and carries the server's own explanation (<c>detail</c> from Python, the plain-text body from JS); never the API key.
/// </summary>
public class LangGraphApiException : Exception
{
    public LangGraphApiException(string deployment, string message, HttpStatusCode? statusCode = null, Exception? innerException = null)
        : base(message, innerException)
    {
        Deployment = deployment;
        StatusCode = statusCode;
    }

    public LangGraphApiException()
    {
        Deployment = "";
    }

    public LangGraphApiException(string message)
        : base(message)
    {
        Deployment = "";
    }

    public LangGraphApiException(string message, Exception innerException)
        : base(message, innerException)
    {
        Deployment = "";
    }

    /// <summary>The configured name of the deployment that was asked.</summary>
    public string Deployment { get; }

    /// <summary>The server's status code; null when it did not answer.</summary>
    public HttpStatusCode? StatusCode { get; }
}

/// <summary>
/// The server answered 401 or 403: the deployment's <c>ApiKey</c> is missing, wrong, or of another workspace (on LangSmith
/// Deployment it must be a LangSmith API key of the deployment's workspace, sent as <c>x-api-key</c>). Never retried.
/// </summary>
internal sealed class LangGraphAuthenticationException : LangGraphApiException
{
    public LangGraphAuthenticationException(string deployment, string message, HttpStatusCode statusCode)
        : base(deployment, message, statusCode)
    {
    }

    public LangGraphAuthenticationException()
    {
    }

    public LangGraphAuthenticationException(string message)
        : base(message)
    {
    }

    public LangGraphAuthenticationException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
