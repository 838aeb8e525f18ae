// Sums the runtime's allocation samples (GCAllocationTick: one event per ~100 KB allocated, naming the type of the object
// that crossed the mark, with its stack) in a .nettrace written by `dotnet-trace collect --profile gc-verbose`: by type,
// and by the first frame of the stack, from the leaf up, that is not the runtime's or the base library's own (who
// asked for the memory). With REQUESTS (the requests served meanwhile) it also prints the bytes per request.
//
//   dotnet run --project bench/AllocSummary -- trace.nettrace [REQUESTS]
using Microsoft.Diagnostics.Tracing.Etlx;
using Microsoft.Diagnostics.Tracing.Parsers.Clr;

if (args.Length < 1)
{
    Console.Error.WriteLine("usage: AllocSummary TRACE.nettrace [REQUESTS]");
    return 2;
}

var byType = new Dictionary<string, long>();
var byCaller = new Dictionary<string, long>();
long total = 0;
var etlx = TraceLog.CreateFromEventPipeDataFile(args[0]);
using (var log = TraceLog.OpenOrConvert(etlx))
{
    foreach (var data in log.Events.ByEventType<GCAllocationTickTraceData>())
    {
        var type = string.IsNullOrEmpty(data.TypeName) ? "(unnamed)" : data.TypeName;
        byType[type] = byType.GetValueOrDefault(type) + data.AllocationAmount64;
        var caller = Caller(data.CallStack());
        byCaller[caller] = byCaller.GetValueOrDefault(caller) + data.AllocationAmount64;
        total += data.AllocationAmount64;
    }
}

File.Delete(etlx);
Console.WriteLine($"allocation samples: {total / 1e6:F1} MB sampled");
if (args.Length > 1 && long.TryParse(args[1], out var requests) && requests > 0)
{
    Console.WriteLine($"allocated per request: {total / 1024.0 / requests:F1} KB ({requests} requests)");
}

Print("by type", byType);
Print("by the first frame outside the runtime and the base library (from the leaf up)", byCaller);
return 0;

void Print(string title, Dictionary<string, long> sums)
{
    Console.WriteLine(title);
    foreach (var (name, bytes) in sums.OrderByDescending(p => p.Value).Take(25))
    {
        Console.WriteLine($"{100.0 * bytes / total,5:F1}%  {name}");
    }
}

// The runtime's and the base library's frames (allocation helpers, string building, collections, tasks) say what was
// allocated, not who wanted it: the first frame past them does.
static string Caller(TraceCallStack? stack)
{
    for (var frame = stack; frame is not null; frame = frame.Caller)
    {
        var module = frame.CodeAddress.ModuleName ?? "";
        var method = frame.CodeAddress.FullMethodName ?? "";
        if (method.Length == 0 || module is "System.Private.CoreLib" or "coreclr" or "libcoreclr" or "System.Runtime"
            || module.StartsWith("System.Collections", StringComparison.Ordinal) || module.StartsWith("System.Linq", StringComparison.Ordinal)
            || module.StartsWith("System.Memory", StringComparison.Ordinal) || module.StartsWith("System.Text.Encod", StringComparison.Ordinal))
        {
            continue;
        }

        var open = method.IndexOf('(', StringComparison.Ordinal);
        return $"{module}!{(open > 0 ? method[..open] : method)}";
    }

    return "(no managed frame)";
}
