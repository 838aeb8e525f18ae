"""Sums a profile of the service by part: a dotnet-trace thread-time profile (speedscope JSON, from `dotnet-trace convert
--format Speedscope`), or a CPU profile from `perf record -g` (perf.data, the process run with DOTNET_PerfMapEnabled=1).

    python3 bench/profile-summary.py trace.speedscope.json [--callers REGEX]
    python3 bench/profile-summary.py perf.data

Thread time: samples of threads blocked in a wait (epoll, semaphores, timers, the file watcher) are dropped. Each
remaining one (managed code running, or native code that is not a wait: SQLite, socket calls) is given to the first
frame, from the leaf up, that belongs to a part below; the shares are of that working time. With --callers, the stacks
under the frames matching REGEX, by share, for finding who holds a lock or allocates.
perf: every sample is CPU time, so nothing is dropped; parts as above, and a sample whose stack names no part (the
unwinder stops at native code built without frame pointers) is given to its leaf's library or kernel path.
"""
import collections
import json
import re
import subprocess
import sys

WAITS = re.compile(r'FileSystemWatcher|WaitOne|WaitHandle|LowLevelLifoSemaphore\.WaitNative|LowLevelMonitor|WaitForSignal|epoll'
                   r'|Thread\.Sleep|Monitor\.Wait|WaitNative|GateThread|WaitSubsystem|WaitForSocketEvents|TimerQueue\.TimerThread'
                   r'|ManualResetEventSlim\.Wait|Task\.SpinThenBlockingWait|Task\.InternalWait'
                   r'|SocketAsyncEngine\.EventLoop')  # native code right under the socket event loop is its epoll_wait
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


NATIVE = [(name, re.compile(pattern)) for name, pattern in [
    ('SQLite file writes (kernel: pwrite, fsync)', r'pwrite|fsync'),
    ('log lines written (kernel: write to stdout)', r'__x64_sys_write$|ksys_write'),
    ('Kestrel + sockets', r'tcp_|sendto|recvfrom|sock_|epoll|ip_|skb|inet_|__netif|loopback|net_rx'),
    ('scheduler, futex (threads waking and sleeping)', r'futex|schedule|sched_|finish_task_switch|try_to_wake_up'),
    ('SQLite (native, caller not unwound)', r'libe_sqlite3'),
    ('runtime (native: GC, type system, stubs)', r'libcoreclr|libclrjit|libSystem'),
]]


def perf_samples(path):
    """Yields each sample's frames, leaf first, as 'symbol (library)' with '::' written '.' as in dotnet-trace's names."""
    out = subprocess.run(['perf', 'script', '-i', path, '-F', 'ip,sym,dso'], capture_output=True, text=True, check=True).stdout
    for block in out.split('\n\n'):
        frames = [line.strip().split(' ', 1)[-1].replace('::', '.') for line in block.strip().splitlines() if line.strip()]
        if frames:
            yield frames


def perf_main(path):
    shares, total = collections.Counter(), 0
    for frames in perf_samples(path):
        total += 1
        part = next((p for n in frames for p, rx in PARTS if rx.search(n)), None) \
            or next((p for n in frames[:12] for p, rx in NATIVE if rx.search(n)), 'other (libc, kernel)')
        shares[part] += 1
    print(f'CPU samples {total}')
    for part, n in shares.most_common():
        print(f'{100 * n / total:5.1f}%  {part}')


def main():
    path = sys.argv[1]
    if not path.endswith('.json'):
        return perf_main(path)
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
