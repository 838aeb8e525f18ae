#!/usr/bin/env bash
# Profiles the service under the bench load, once warm: perf (CPU samples), dotnet-trace (thread-time samples) and
# dotnet-counters, each summed by bench/profile-summary.py, and dotnet-trace's allocation samples (gc-verbose), summed by
# type by bench/AllocSummary. Installs dotnet-trace and dotnet-counters from NuGet (dotnet
# tool install -g) and perf from Debian (linux-perf) when missing.
#
#   bash bench/profile.sh              defaults (the log handler on: the dispatcher runs)
#   bash bench/profile.sh ingest       no handler: ingest alone
#
# Settings: SIZE=small, CONNS=64, WARMUP=20 (s of the same load first: the tiered JIT recompiles the hot path for ~15 s),
# TRACE_SECONDS=5 (each profile), SERVICE_DIR (profile that published build instead of building this checkout). The
# profiled process runs with DOTNET_PerfMapEnabled=1 (perf names JIT-compiled code)
# and DOTNET_EnableWriteXorExecute=0 (else that code is mapped from a memfd perf cannot read): profiling only, never in
# production. Output in a temporary folder it names; it stops only the processes it started.
set -euo pipefail
cd "$(dirname "$0")/.."
SIZE=${SIZE:-small}; CONNS=${CONNS:-64}; WARMUP=${WARMUP:-20}; SECONDS_TRACED=${TRACE_SECONDS:-5}
tools=10.0.750501
export PATH="$PATH:$HOME/.dotnet/tools"
for tool in dotnet-trace dotnet-counters; do
  command -v "$tool" >/dev/null || dotnet tool install -g "$tool" --version "$tools" >/dev/null
done
command -v wrk >/dev/null || { echo "profile: wrk is missing (bash bench/run.sh installs it)" >&2; exit 2; }
if ! command -v perf >/dev/null; then
  [ "$(id -u)" = 0 ] || { echo "profile: perf is missing: sudo apt-get install linux-perf" >&2; exit 2; }
  apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends linux-perf >/dev/null \
    || { echo "profile: could not install linux-perf" >&2; exit 2; }
fi

out=$(mktemp -d /tmp/webhook-profile.XXXXXX)
if [ -n "${SERVICE_DIR:-}" ]; then
  ln -s "$(cd "$SERVICE_DIR" && pwd)" "$out/service" # a build published before (e.g. the commit before a change)
else
  dotnet publish src/WebhookReceiver -c Release -o "$out/service" --nologo -v q >"$out/build.log" 2>&1 || { tail -20 "$out/build.log"; exit 2; }
fi
dotnet build bench/AllocSummary -c Release -o "$out/allocsummary" --nologo -v q >>"$out/build.log" 2>&1 || { tail -20 "$out/build.log"; exit 2; }
token=$(od -An -N24 -tx1 /dev/urandom | tr -d ' \n')
port=$((20000 + RANDOM % 20000))
extra=(); [ "${1:-}" = ingest ] && extra=(WebhookReceiver__Handlers__Log__Enabled=false)
env DOTNET_PerfMapEnabled=1 DOTNET_EnableWriteXorExecute=0 ASPNETCORE_ENVIRONMENT=Production ASPNETCORE_URLS="http://127.0.0.1:$port" WebhookReceiver__Tokens__0="$token" \
  WebhookReceiver__AdminKeys__0="$token" WebhookReceiver__Storage__ConnectionString="Data Source=$out/profile.db" \
  WebhookReceiver__Limits__PermitsPerSecond=0 "${extra[@]}" dotnet "$out/service/WebhookReceiver.dll" >"$out/service.log" 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null || true' EXIT
for _ in $(seq 1 600); do curl -fsS -o /dev/null "http://127.0.0.1:$port/health/ready" 2>/dev/null && break; sleep 0.1; done

load() { wrk -t2 -c"$CONNS" -d"$1"s --timeout 30s --latency -s bench/webhook.lua "http://127.0.0.1:$port/webhooks/langgraph" -- "$SIZE" "$token" "$2" 0 "${RUN_IDS:-uuid7}"; }
load "$WARMUP" warm >/dev/null
load $((SECONDS_TRACED + 1)) perf >"$out/perf.wrk" &
loader=$!
sleep 0.5
perf record -F 999 -g -p "$pid" -o "$out/perf.data" -- sleep "$SECONDS_TRACED" 2>/dev/null
wait "$loader"
load $((SECONDS_TRACED + 1)) traced >"$out/traced.wrk" &
loader=$!
sleep 0.5
dotnet-trace collect -p "$pid" --profile dotnet-sampled-thread-time --duration "00:00:00:$SECONDS_TRACED" -o "$out/trace.nettrace" >/dev/null
wait "$loader"
load $((SECONDS_TRACED + 1)) counted >"$out/counted.wrk" &
loader=$!
sleep 0.5
dotnet-counters collect -p "$pid" --duration "00:00:$SECONDS_TRACED" --format csv -o "$out/counters.csv" \
  --counters System.Runtime,Microsoft.AspNetCore.Hosting >/dev/null
wait "$loader"
# Allocations: the runtime's allocation samples (one per ~100 KB allocated, naming the type), summed by bench/AllocSummary.
load $((SECONDS_TRACED + 1)) allocated >"$out/allocated.wrk" &
loader=$!
sleep 0.5
dotnet-trace collect -p "$pid" --profile gc-verbose --duration "00:00:00:$SECONDS_TRACED" -o "$out/alloc.nettrace" >/dev/null
wait "$loader"
dotnet-trace convert "$out/trace.nettrace" --format Speedscope -o "$out/trace" >/dev/null
echo "profile: files in $out"
grep -h "Requests/sec" "$out/perf.wrk" "$out/traced.wrk" "$out/counted.wrk" "$out/allocated.wrk"
python3 bench/profile-summary.py "$out/perf.data"
python3 bench/profile-summary.py "$out/trace.speedscope.json"
awk -F, 'NR > 1 && $3 ~ /total_allocated|gc.collections|lock_contentions|work_item.count/ { sum[$3] += $5; n[$3]++ }
  END { for (k in sum) printf "%14.1f  %s (mean of the run)\n", sum[k] / n[k], k }' "$out/counters.csv" | sort -k2
# The requests of the traced seconds: wrk's count over its SECONDS_TRACED + 1 s, scaled to the trace's SECONDS_TRACED.
dotnet "$out/allocsummary/AllocSummary.dll" "$out/alloc.nettrace" \
  "$(awk -v s="$SECONDS_TRACED" '/requests in/ { printf "%d", $1 * s / (s + 1) }' "$out/allocated.wrk")"
