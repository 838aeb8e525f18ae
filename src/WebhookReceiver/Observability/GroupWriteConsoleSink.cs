using System.Buffers;
using System.Text;
using System.Threading.Channels;
using Serilog;
using Serilog.Configuration;
using Serilog.Core;
using Serilog.Events;
using Serilog.Formatting;

namespace WebhookReceiver.Observability;

/// <summary>
/// Standard output for log events, written the way the inbox commits: each event is formatted on the thread that logs it,
/// and one writer puts every line waiting into a single write. Serilog's console sink formats and writes (a system call)
/// under one lock per event: under load the request threads queued on that lock (8.5% of the ingest path's time in the
/// profile, docs/benchmarks.md). Lines keep their order per thread and are never dropped: when the writer falls
/// <see cref="Capacity"/> lines behind, loggers wait for it, as they would for a slow console.
/// </summary>
internal sealed class GroupWriteConsoleSink : ILogEventSink, IDisposable
{
    private const int Capacity = 10_000;
    private const int MaxWriteBytes = 256 * 1024;

    private readonly ITextFormatter _formatter;
    private readonly Stream _output;
    // Unbounded with one reader: its lock is held only to link a line in (a bounded channel's was the next one loggers
    // queued on); the bound is kept by counting.
    private readonly Channel<string> _lines = Channel.CreateUnbounded<string>(new UnboundedChannelOptions { SingleReader = true });
    private readonly Task _writer;
    private int _waiting;

    public GroupWriteConsoleSink(ITextFormatter formatter, Stream output)
    {
        _formatter = formatter;
        _output = output;
        _writer = Task.Run(WriteLinesAsync);
    }

    public void Emit(LogEvent logEvent)
    {
        using var line = new StringWriter(System.Globalization.CultureInfo.InvariantCulture);
        _formatter.Format(logEvent, line);
        // Too far behind: wait for the writer (Emit is synchronous), as a logger waits for a slow console.
        while (Volatile.Read(ref _waiting) >= Capacity && !_writer.IsCompleted)
        {
            Thread.Sleep(1);
        }

        // Closed (disposed): the event is written nowhere, as with any closed sink.
        if (_lines.Writer.TryWrite(line.ToString()))
        {
            Interlocked.Increment(ref _waiting);
        }
    }

    private async Task WriteLinesAsync()
    {
        var buffer = new ArrayBufferWriter<byte>(16 * 1024);
        while (await _lines.Reader.WaitToReadAsync())
        {
            var taken = 0;
            while (buffer.WrittenCount < MaxWriteBytes && _lines.Reader.TryRead(out var text))
            {
                Encoding.UTF8.GetBytes(text, buffer);
                taken++;
            }

            Interlocked.Add(ref _waiting, -taken);

            try
            {
                await _output.WriteAsync(buffer.WrittenMemory);
                await _output.FlushAsync();
            }
            catch (IOException)
            {
                // Standard output is gone (a closed pipe): as Console.Out, drop the lines rather than fail the logger.
            }

            buffer.ResetWrittenCount();
        }
    }

    /// <summary>Writes every line already logged, then stops (Serilog disposes its sinks at <c>Log.CloseAndFlush</c> and host shutdown).</summary>
    public void Dispose()
    {
        _lines.Writer.TryComplete();
        _writer.Wait(TimeSpan.FromSeconds(5));
    }
}

/// <summary>
/// <c>WriteTo.GroupWriteConsole(formatter)</c>: the service's console sink, named in the <c>Serilog:WriteTo</c> section of
/// appsettings.json (<c>"Name": "GroupWriteConsole"</c>, with <c>"Using": ["WebhookReceiver"]</c>). Public because Serilog's
/// configuration reader looks for sinks among an assembly's exported types.
/// </summary>
public static class GroupWriteConsoleSinkExtensions
{
    public static LoggerConfiguration GroupWriteConsole(this LoggerSinkConfiguration sinks, ITextFormatter formatter) =>
        sinks.Sink(new GroupWriteConsoleSink(formatter, Console.OpenStandardOutput()));
}
