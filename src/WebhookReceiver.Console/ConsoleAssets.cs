using System.Security.Cryptography;
using Microsoft.AspNetCore.Http;
using Microsoft.Net.Http.Headers;

namespace WebhookReceiver.Console;

/// <summary>
/// The console's CSS and JS, embedded in the library (no CDN, no build step) and served by the console at
/// <c>{Console:Path}/assets/{name}?v={hash}</c>: the hash changes with the content, so a browser may keep each for a year.
/// </summary>
internal static class ConsoleAssets
{
    public const string Css = "console.css";
    public const string Script = "console.js";

    private static readonly Dictionary<string, (byte[] Bytes, string ContentType, string Version)> Files = new(StringComparer.Ordinal)
    {
        [Css] = Load(Css, "text/css; charset=utf-8"),
        [Script] = Load(Script, "text/javascript; charset=utf-8"),
    };

    public static string Url(HttpContext context, string name) => ConsolePage.Url(context, $"/assets/{name}?v={Files[name].Version}");

    public static IResult Serve(string name, HttpContext context)
    {
        if (!Files.TryGetValue(name, out var file))
        {
            return Results.NotFound();
        }

        var etag = new EntityTagHeaderValue($"\"{file.Version}\"");
        context.Response.Headers.CacheControl = context.Request.Query["v"] == file.Version ? "public, max-age=31536000, immutable" : "no-cache";
        context.Response.Headers.ETag = etag.ToString();
        if (context.Request.Headers.IfNoneMatch.ToString() == etag.ToString())
        {
            return Results.StatusCode(StatusCodes.Status304NotModified);
        }

        return Results.Bytes(file.Bytes, file.ContentType);
    }

    private static (byte[], string, string) Load(string name, string contentType)
    {
        using var stream = typeof(ConsoleAssets).Assembly.GetManifestResourceStream($"WebhookReceiver.Console.Assets.{name}")
            ?? throw new InvalidOperationException($"The console asset {name} is not embedded in the library.");
        using var memory = new MemoryStream();
        stream.CopyTo(memory);
        var bytes = memory.ToArray();
        return (bytes, contentType, Convert.ToHexStringLower(SHA256.HashData(bytes))[..12]);
    }
}
