using System.Buffers;
using System.IO.Pipelines;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;

namespace WebhookReceiver.Webhooks;

/// <summary>Reads a request body whole, whatever its content type, refusing it as soon as it passes the limit.</summary>
internal static class RequestBody
{
    /// <summary>The body's bytes, or null when it is larger than <paramref name="limit"/>.</summary>
    public static async Task<byte[]?> ReadAsync(HttpRequest request, long limit, CancellationToken cancellationToken)
    {
        if (request.ContentLength > limit)
        {
            return null;
        }

        // This limit is enforced here, with a problem-details answer, instead of by Kestrel's own cap.
        if (request.HttpContext.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } cap)
        {
            cap.MaxRequestBodySize = null;
        }

        var reader = request.BodyReader;
        if (request.ContentLength is { } length && length <= Array.MaxLength)
        {
            return await ReadKnownLengthAsync(reader, length, cancellationToken);
        }

        while (true)
        {
            var read = await reader.ReadAsync(cancellationToken);
            var buffer = read.Buffer;
            if (buffer.Length > limit)
            {
                reader.AdvanceTo(buffer.End);
                return null;
            }

            if (read.IsCompleted)
            {
                var body = buffer.ToArray();
                reader.AdvanceTo(buffer.End);
                return body;
            }

            reader.AdvanceTo(buffer.Start, buffer.End); // Keep it all; wait for more.
        }
    }

    // The size is announced (LangGraph's servers announce it): the body is copied into its array as it arrives, so the
    // server's buffers are given back at once instead of holding a second copy of every large body until it is whole.
    // Only the first MiB is set aside before it arrives: a client announcing a large body and sending nothing costs little.
    private const int PreallocatedBytes = 1024 * 1024;

    private static async Task<byte[]> ReadKnownLengthAsync(PipeReader reader, long length, CancellationToken cancellationToken)
    {
        var body = new byte[Math.Min(length, PreallocatedBytes)];
        var filled = 0;
        while (true)
        {
            // Kestrel ends the body at Content-Length, and fails the read when the client stops short of it.
            var read = await reader.ReadAsync(cancellationToken);
            var buffer = read.Buffer;
            if (filled + buffer.Length > body.Length)
            {
                Array.Resize(ref body, (int)Math.Min(length, Math.Max(2L * body.Length, filled + buffer.Length)));
            }

            buffer.CopyTo(body.AsSpan(filled));
            filled += (int)buffer.Length;
            reader.AdvanceTo(buffer.End);
            if (read.IsCompleted)
            {
                return filled == body.Length ? body : body[..filled];
            }
        }
    }
}
