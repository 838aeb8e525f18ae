#!/usr/bin/env bash
# One A/B measurement of the service under the bench load, for comparing a change against its parent: starts the
# published service in PUBLISH_DIR with the extra settings given, warms it up, measures it, and prints req/s, p99, the
# process's CPU time per webhook (utime + stime from /proc over the measured run, divided by the requests wrk counted)
# and the bytes it wrote per webhook (wchar from /proc: the SQLite log and file, and the log lines). Run the two
# builds alternately, several times: identical runs differ by 10-20% in req/s on a two-core machine.
#
#   dotnet publish src/WebhookReceiver -c Release -o /tmp/before      (and /tmp/after from the change)
#   bash bench/ab.sh /tmp/before WebhookReceiver__Handlers__Log__Enabled=false
#
# Settings: SIZE=small (or large), CONNS=64, WARMUP=20 (s), DURATION=5 (s), RUN_IDS=uuid7 (or counter: see bench/webhook.lua).
# Stops only the process it started.
set -euo pipefail
cd "$(dirname "$0")/.."
dir=${1:?usage: bash bench/ab.sh PUBLISH_DIR [NAME=VALUE ...]}; shift
SIZE=${SIZE:-small}; CONNS=${CONNS:-64}; WARMUP=${WARMUP:-20}; DURATION=${DURATION:-5}; RUN_IDS=${RUN_IDS:-uuid7}
command -v wrk >/dev/null || { echo "ab: wrk is missing (bash bench/run.sh installs it)" >&2; exit 2; }

work=$(mktemp -d /tmp/webhook-ab.XXXXXX)
token=$(od -An -N24 -tx1 /dev/urandom | tr -d ' \n')
port=$((20000 + RANDOM % 20000)); url="http://127.0.0.1:$port"
env ASPNETCORE_ENVIRONMENT=Production ASPNETCORE_URLS="$url" WebhookReceiver__Tokens__0="$token" WebhookReceiver__AdminKeys__0="$token" \
  WebhookReceiver__Storage__ConnectionString="Data Source=$work/ab.db" WebhookReceiver__Limits__PermitsPerSecond=0 "$@" \
  dotnet "$dir/WebhookReceiver.dll" >"$work/service.log" 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null; rm -rf "$work"' EXIT
for _ in $(seq 1 300); do curl -fsS -o /dev/null "$url/health/ready" 2>/dev/null && break; sleep 0.05; done

load() { wrk -t2 -c"$CONNS" -d"$1"s --timeout 30s --latency -s bench/webhook.lua "$url/webhooks/langgraph" -- "$SIZE" "$token" "$2" 0 "$RUN_IDS"; }
cpu() { awk '{ print $14 + $15 }' "/proc/$pid/stat"; }      # clock ticks
written() { awk '/^wchar/ { print $2 }' "/proc/$pid/io"; }  # bytes
load "$WARMUP" warm >/dev/null
cpu0=$(cpu); w0=$(written)
out=$(load "$DURATION" measured)
cpu1=$(cpu); w1=$(written)
n=$(awk '/requests in/ { print $1 }' <<<"$out")
awk -v n="$n" -v ticks=$((cpu1 - cpu0)) -v hz="$(getconf CLK_TCK)" -v bytes=$((w1 - w0)) '
  /^Requests\/sec:/ { rps = $2 } $1 == "99%" { p99 = $2 } /Non-2xx/ { errors = $NF }
  END { printf "%.0f req/s  p99 %s  %.0f us CPU/webhook  %.0f bytes written/webhook  %d non-2xx\n", rps, p99, ticks * 1e6 / hz / n, bytes / n, errors }' <<<"$out"
