"""Sums a dotnet-trace thread-time profile (speedscope JSON, from `dotnet-trace convert --format Speedscope`) by part.

    python3 bench/profile-summary.py trace.speedscope.json [--callers REGEX]

Samples of threads blocked in a wait (epoll, semaphores, timers, the file watcher) are dropped. Each remaining one
(managed code running, or native code that is not a wait: SQLite, socket calls) is given to the first frame, from the
leaf up, that belongs to a part below; the shares are of that working time. With --callers, the stacks under the
frames matching REGEX, by share, for finding who holds a lock or allocates.
"""
import collections
import json
import re
import sys

WAITS = re.compile(r'FileSystemWatcher|WaitOne|WaitHandle|LowLevelLifoSemaphore\.WaitNative|LowLevelMonitor|WaitForSignal|epoll'
                   r'|Thread\.Sleep|Monitor\.Wait|WaitNative|GateThread|WaitSubsystem|WaitForSocketEvents|TimerQueue\.TimerThread'
                   r'|ManualResetEventSlim\.Wait|Task\.SpinThenBlockingWait|Task\.InternalWait')
PARTS = [(name, re.compile(pattern)) for name, pattern in [
    ('thread pool: idle workers spinning', r'LowLevelSpinWaiter|LowLevelLifoSemaphore\.Wait$'),
    ('GC (allocation, threads held for a collection)', r'PollGC|GarbageCollect|GCHeap|Alloc|RhpNew|JIT_New'),
    ('lock contention', r'Monitor\.Enter_Slowpath|AwareLock'),
    ('request log (Serilog)', r'Serilog'),
    ('metrics (OpenTelemetry, Meter)', r'OpenTelemetry|System\.Diagnostics\.Metrics|ReceiverMetrics'),
    ('SQLite, ingest writer', r'SqlInbox\+<AppendAsync>|SqlInbox\.AppendAsync|InboxWriter\+<StoreAsync>|InboxWriter\+<ExecuteAsync>'),
    ('SQLite, dispatcher', r'ClaimDueAsync|CompleteAttemptsAsync|OutcomeRecorder|RecordOutcomesAsync'),
    ('handler attempt', r'HandlerInvoker|LogHandler|Dispatcher\+<RunAttemptAsync>'),
    ('JSON parse', r'JsonDocument|LangGraphRun'),
    ('redaction', r'SecretRedactor|Regex'),
    ('body read', r'RequestBody'),
    ('answer (JSON body, Location link)', r'WriteAsJson|GetPathByName|LinkGenerator'),
    ('endpoint: token, queue, binding', r'WebhookEndpoint|RequestDelegateFactory|InboxWriter|WebhookTokens|ConcurrencyLimiter|HandlerCatalog'),
    ('middleware', r'Microsoft\.AspNetCore\.(Authentication|Authorization|RateLimiting|Routing|Diagnostics|HostFiltering)|SwaggerUI|HttpServerErrorType'),
    ('Kestrel + sockets', r'Kestrel|System\.Net\.Sockets|Pipelines'),
    ('hosting (HttpContext, Activity)', r'Microsoft\.AspNetCore\.Hosting|Microsoft\.AspNetCore\.Http'),
]]


def working_stacks(path):
    data = json.load(open(path))
    frames = [f['name'] for f in data['shared']['frames']]
    stacks = collections.Counter()
    for profile in data['profiles']:
        stack, last = [], None
        for event in profile['events']:
            if stack and last is not None and event['at'] > last:
                stacks[tuple(stack)] += event['at'] - last
            last = event['at']
            if event['type'] == 'O':
                stack.append(event['frame'])
            elif stack:
                stack.pop()
    for stack, ms in stacks.items():
        names = [frames[i] for i in stack]
        if len(names) < 2 or names[-1] not in ('CPU_TIME', 'UNMANAGED_CODE_TIME'):
            continue
        if names[-2].startswith('Thread (') or WAITS.search(names[-2]) or (
                names[-1] == 'UNMANAGED_CODE_TIME' and any(WAITS.search(n) for n in names[-4:])):
            continue
        yield names[:-1], ms


def main():
    path = sys.argv[1]
    callers = re.compile(sys.argv[3]) if len(sys.argv) > 3 and sys.argv[2] == '--callers' else None
    shares, found, total = collections.Counter(), collections.Counter(), 0.0
    for names, ms in working_stacks(path):
        total += ms
        part = next((p for n in reversed(names) for p, rx in PARTS if rx.search(n)), 'other runtime (thread pool dispatch, ...)')
        shares[part] += ms
        if callers:
            hit = next((k for k, n in enumerate(names) if callers.search(n)), None)
            if hit is not None:
                found[' <- '.join(re.sub(r'\(.*', '', n).split('!')[-1][:70] for n in reversed(names[max(0, hit - 5):hit + 1]))] += ms
    print(f'working time {total / 1000:.1f} s (thread-seconds)')
    for part, ms in shares.most_common():
        print(f'{100 * ms / total:5.1f}%  {part}')
    for chain, ms in found.most_common(15):
        print(f'{100 * ms / total:5.1f}%  {chain}')


if __name__ == '__main__':
    main()
