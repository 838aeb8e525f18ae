using System.Collections.Concurrent;
using System.IO.Compression;
using Google.Protobuf;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace WebhookReceiver.Tests.Infrastructure;

/// <summary>
/// An OTLP/HTTP collector on a free 127.0.0.1 port, as far as a test needs one: it takes every export (POST
/// <c>/v1/traces</c>, <c>/v1/metrics</c>, ...), keeps its bytes as sent, and decodes the spans of trace exports
/// (opentelemetry-proto's <c>ExportTraceServiceRequest</c>, protobuf: the .NET exporter sends no JSON). Point a process
/// at it with <c>OTEL_EXPORTER_OTLP_ENDPOINT</c> = <see cref="Url"/> and <c>OTEL_EXPORTER_OTLP_PROTOCOL=http/protobuf</c>.
/// </summary>
public sealed class OtlpReceiver : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly ConcurrentQueue<ExportedSpan> _spans = new();
    private readonly ConcurrentQueue<(string Path, byte[] Body)> _exports = new();

    private OtlpReceiver(WebApplication app) => _app = app;

    public Uri Url { get; private set; } = null!;

    public IReadOnlyList<ExportedSpan> Spans => _spans.ToList();

    /// <summary>Every export received, by path, its body as sent (after gzip, if it was compressed).</summary>
    public IReadOnlyList<(string Path, byte[] Body)> Exports => _exports.ToList();

    public static async Task<OtlpReceiver> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        var app = builder.Build();
        var receiver = new OtlpReceiver(app);
        app.MapPost("/v1/{signal}", async (HttpContext context, string signal) =>
        {
            using var body = new MemoryStream();
            await context.Request.Body.CopyToAsync(body);
            var bytes = body.ToArray();
            if (context.Request.Headers.ContentEncoding == "gzip")
            {
                await using var gzip = new GZipStream(new MemoryStream(bytes), CompressionMode.Decompress);
                using var plain = new MemoryStream();
                await gzip.CopyToAsync(plain);
                bytes = plain.ToArray();
            }

            receiver._exports.Enqueue((context.Request.Path, bytes));
            if (signal == "traces")
            {
                foreach (var span in OtlpTraceDecoder.Decode(bytes))
                {
                    receiver._spans.Enqueue(span);
                }
            }

            // An empty Export*ServiceResponse: everything accepted.
            return Results.Bytes([], "application/x-protobuf");
        });
        await app.StartAsync();
        receiver.Url = new Uri(app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First());
        return receiver;
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}

/// <param name="TraceId">32 lowercase hex digits.</param>
/// <param name="SpanId">16 lowercase hex digits.</param>
/// <param name="ParentSpanId">16 hex digits, or empty for a root span.</param>
/// <param name="Kind">OTLP's SpanKind: 1 internal, 2 server, 3 client, 4 producer, 5 consumer.</param>
/// <param name="StatusCode">OTLP's StatusCode: 0 unset, 1 ok, 2 error.</param>
public sealed record ExportedSpan(
    string TraceId,
    string SpanId,
    string ParentSpanId,
    string Name,
    int Kind,
    IReadOnlyDictionary<string, object> Attributes,
    IReadOnlyList<(string TraceId, string SpanId)> Links,
    int StatusCode,
    string StatusMessage,
    string Scope,
    IReadOnlyDictionary<string, object> Resource)
{
    public object? this[string attribute] => Attributes.GetValueOrDefault(attribute);

    public override string ToString() =>
        $"{Name} [{Scope}] trace {TraceId} span {SpanId} parent {(ParentSpanId.Length == 0 ? "-" : ParentSpanId)} " +
        string.Join(", ", Attributes.Select(a => $"{a.Key}={a.Value}"));
}

/// <summary>
/// Reads the few fields of opentelemetry-proto (trace/v1/trace.proto, common/v1/common.proto) a test looks at, field by
/// field over Google.Protobuf's <see cref="CodedInputStream"/>; every other field is skipped.
/// </summary>
public static class OtlpTraceDecoder
{
    public static List<ExportedSpan> Decode(byte[] exportTraceServiceRequest)
    {
        var spans = new List<ExportedSpan>();
        foreach (var resourceSpans in Repeated(exportTraceServiceRequest, 1))
        {
            var resource = new Dictionary<string, object>(StringComparer.Ordinal);
            foreach (var resourceMessage in Repeated(resourceSpans, 1))
            {
                foreach (var keyValue in Repeated(resourceMessage, 1))
                {
                    AddAttribute(resource, keyValue);
                }
            }

            foreach (var scopeSpans in Repeated(resourceSpans, 2))
            {
                var scope = Repeated(scopeSpans, 1).Select(s => Text(s, 1)).FirstOrDefault() ?? "";
                spans.AddRange(Repeated(scopeSpans, 2).Select(span => Span(span, scope, resource)));
            }
        }

        return spans;
    }

    private static ExportedSpan Span(byte[] span, string scope, IReadOnlyDictionary<string, object> resource)
    {
        string traceId = "", spanId = "", parent = "", name = "", statusMessage = "";
        int kind = 0, statusCode = 0;
        var attributes = new Dictionary<string, object>(StringComparer.Ordinal);
        var links = new List<(string, string)>();
        var input = new CodedInputStream(span);
        uint tag;
        while ((tag = input.ReadTag()) != 0)
        {
            switch (WireFormat.GetTagFieldNumber(tag))
            {
                case 1: traceId = Convert.ToHexStringLower(input.ReadBytes().ToByteArray()); break;
                case 2: spanId = Convert.ToHexStringLower(input.ReadBytes().ToByteArray()); break;
                case 4: parent = Convert.ToHexStringLower(input.ReadBytes().ToByteArray()); break;
                case 5: name = input.ReadString(); break;
                case 6: kind = input.ReadEnum(); break;
                case 9: AddAttribute(attributes, input.ReadBytes().ToByteArray()); break;
                case 13:
                    var link = input.ReadBytes().ToByteArray();
                    links.Add((Convert.ToHexStringLower(Field(link, 1) ?? []), Convert.ToHexStringLower(Field(link, 2) ?? [])));
                    break;
                case 15:
                    var status = input.ReadBytes().ToByteArray();
                    statusMessage = Text(status, 2) ?? "";
                    statusCode = (int)(Varint(status, 3) ?? 0);
                    break;
                default: input.SkipLastField(); break;
            }
        }

        return new ExportedSpan(traceId, spanId, parent, name, kind, attributes, links, statusCode, statusMessage, scope, resource);
    }

    /// <summary>A KeyValue: string key (1), AnyValue (2) of which strings, bools, ints and doubles are read.</summary>
    private static void AddAttribute(Dictionary<string, object> attributes, byte[] keyValue)
    {
        var key = Text(keyValue, 1) ?? "";
        var value = Field(keyValue, 2) ?? [];
        var input = new CodedInputStream(value);
        object read = "";
        uint tag;
        while ((tag = input.ReadTag()) != 0)
        {
            read = WireFormat.GetTagFieldNumber(tag) switch
            {
                1 => input.ReadString(),
                2 => input.ReadBool(),
                3 => input.ReadInt64(),
                4 => input.ReadDouble(),
                _ => Skip(input),
            };
        }

        attributes[key] = read;
    }

    private static string Skip(CodedInputStream input)
    {
        input.SkipLastField();
        return "(not read)";
    }

    /// <summary>Every length-delimited occurrence of field <paramref name="number"/>.</summary>
    private static List<byte[]> Repeated(byte[] message, int number)
    {
        var found = new List<byte[]>();
        var input = new CodedInputStream(message);
        uint tag;
        while ((tag = input.ReadTag()) != 0)
        {
            if (WireFormat.GetTagFieldNumber(tag) == number && WireFormat.GetTagWireType(tag) == WireFormat.WireType.LengthDelimited)
            {
                found.Add(input.ReadBytes().ToByteArray());
            }
            else
            {
                input.SkipLastField();
            }
        }

        return found;
    }

    private static byte[]? Field(byte[] message, int number) => Repeated(message, number).FirstOrDefault();

    private static string? Text(byte[] message, int number) => Field(message, number) is { } bytes ? System.Text.Encoding.UTF8.GetString(bytes) : null;

    private static ulong? Varint(byte[] message, int number)
    {
        var input = new CodedInputStream(message);
        uint tag;
        while ((tag = input.ReadTag()) != 0)
        {
            if (WireFormat.GetTagFieldNumber(tag) == number && WireFormat.GetTagWireType(tag) == WireFormat.WireType.Varint)
            {
                return input.ReadUInt64();
            }

            input.SkipLastField();
        }

        return null;
    }
}
