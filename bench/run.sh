#!/usr/bin/env bash
# The throughput bench: builds the service and the baseline (bench/Baseline) in Release, starts each on loopback with
# its own temporary files, and drives both with the same wrk load, alternating baseline and service for each case so
# that the ratio compares runs made moments apart. Every process it starts is stopped by its PID on exit.
#
#   bash bench/run.sh            ingest cases, then dispatch
#   bash bench/run.sh ingest     only the ingest cases (baseline vs service)
#   bash bench/run.sh dispatch   only dispatch: draining a backlog, and the lag at a steady rate
#
# Settings (environment): DURATION=10 (s measured per run), WARMUP=3 (s of the same load first, not measured),
# CASES="small:16 small:64 large:16 large:64 large:256" (payload:connections), BACKLOG=20000, RATE_SECONDS=20,
# SERVICE_ENV="Name=value ..." (extra settings for every service started, e.g. WebhookReceiver__Handlers__Log__Enabled=false).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

DURATION=${DURATION:-10}
WARMUP=${WARMUP:-3}
CASES=${CASES:-"small:16 small:64 large:16 large:64 large:256"}
BACKLOG=${BACKLOG:-20000}
RATE_SECONDS=${RATE_SECONDS:-20}
mode=${1:-all}

fail() { echo "bench: $*" >&2; exit 2; }

need() { # command, Debian package
  command -v "$1" >/dev/null 2>&1 && return
  [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null || fail "$1 is missing: sudo apt-get install $2"
  echo "bench: installing $2"
  apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$2" >/dev/null \
    || fail "could not install $2"
}
need wrk wrk
need sqlite3 sqlite3
need curl curl

work=$(mktemp -d /tmp/webhook-bench.XXXXXX)
started=() # PIDs of the apps this script started, and only those
cleanup() {
  for pid in "${started[@]}"; do kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT

echo "bench: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "bench: building service and baseline (Release)"
dotnet publish src/WebhookReceiver -c Release -o "$work/service" --nologo -v q >"$work/build.log" 2>&1 || { tail -20 "$work/build.log"; fail "service build failed"; }
dotnet publish bench/Baseline -c Release -o "$work/baseline" --nologo -v q >>"$work/build.log" 2>&1 || { tail -20 "$work/build.log"; fail "baseline build failed"; }

# Secrets of the required length (Production refuses shorter ones), made up for this run.
token=$(od -An -N24 -tx1 /dev/urandom | tr -d ' \n')
admin_key=$(od -An -N24 -tx1 /dev/urandom | tr -d ' \n')

free_port() {
  local port
  while :; do
    port=$((20000 + RANDOM % 20000))
    (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null || { echo "$port"; return; }
  done
}

kb() { awk -v key="$2:" '$1 == key { print $2 }' "/proc/$1/status"; } # VmRSS / VmHWM of a PID, in kB
now_ms() { date +%s%3N; }

# start_app KIND [NAME=VALUE...]: starts baseline or service on a free port with a fresh database (unless DB is set);
# sets app_pid, app_port, app_url, ready_ms (start to /health/ready answering 200) and idle_rss_kb.
start_app() {
  local kind=$1; shift
  app_port=$(free_port)
  app_url="http://127.0.0.1:$app_port"
  local t0; t0=$(now_ms)
  if [ "$kind" = baseline ]; then
    env ASPNETCORE_URLS="$app_url" BASELINE_TOKEN="$token" dotnet "$work/baseline/Baseline.dll" >"$work/baseline.log" 2>&1 &
  else
    env ASPNETCORE_ENVIRONMENT=Production ASPNETCORE_URLS="$app_url" \
      WebhookReceiver__Tokens__0="$token" WebhookReceiver__AdminKeys__0="$admin_key" \
      WebhookReceiver__Storage__ConnectionString="Data Source=${DB:-$work/bench-$RANDOM.db}" \
      WebhookReceiver__Limits__PermitsPerSecond=0 \
      ${SERVICE_ENV:-} "$@" dotnet "$work/service/WebhookReceiver.dll" >"$work/service.log" 2>&1 &
  fi
  app_pid=$!
  started+=("$app_pid")
  for _ in $(seq 1 300); do
    if curl -fsS -o /dev/null "$app_url/health/ready" 2>/dev/null; then
      ready_ms=$(($(now_ms) - t0))
      sleep 1 # let start-up work settle before reading the idle footprint
      idle_rss_kb=$(kb "$app_pid" VmRSS)
      return
    fi
    kill -0 "$app_pid" 2>/dev/null || break
    sleep 0.05
  done
  tail -20 "$work/$kind.log" >&2
  fail "$kind did not become ready"
}

stop_app() {
  kill "$app_pid" 2>/dev/null || true
  wait "$app_pid" 2>/dev/null || true
  local kept=()
  for pid in "${started[@]}"; do [ "$pid" = "$app_pid" ] || kept+=("$pid"); done
  started=("${kept[@]}")
  rm -f "$work"/bench-*.db*
}

to_ms() { # wrk's "1.23ms" / "850.00us" / "1.20s" -> milliseconds
  awk -v v="$1" 'BEGIN { n = v + 0; if (v ~ /us$/) n /= 1000; else if (v ~ /[0-9]s$/) n *= 1000; printf "%.2f", n }'
}

# wrk_run SIZE CONNECTIONS SECONDS PREFIX: sets rps (all answers), ok_rps (2xx answers: stored webhooks), p50, p99 (ms),
# errors (non-2xx responses + socket errors)
wrk_run() {
  local out
  out=$(wrk -t2 -c"$2" -d"$3"s --timeout 30s --latency -s bench/webhook.lua "$app_url/webhooks/langgraph" -- "$1" "$token" "$4")
  rps=$(awk '/^Requests\/sec:/ { printf "%.0f", $2 }' <<<"$out")
  p50=$(to_ms "$(awk '$1 == "50%" { print $2 }' <<<"$out")")
  p99=$(to_ms "$(awk '$1 == "99%" { print $2 }' <<<"$out")")
  errors=$(awk '/Non-2xx/ { n += $NF } /Socket errors/ { gsub(/,/, ""); n += $4 + $6 + $8 + $10 } END { print n + 0 }' <<<"$out")
  ok_rps=$(awk -v rps="$rps" -v errors="$errors" '/requests in/ { n = $1 } END { printf "%.0f", (n > 0 ? rps * (n - errors) / n : 0) }' <<<"$out")
}

ingest() {
  # ratio: the service's 2xx/s over the baseline's; under overload the service's other answers are 503 Retry-After.
  printf '\n%-8s %-6s %5s %9s %9s %9s %9s %8s %9s %6s\n' app payload conns "req/s" "2xx/s" "p50 ms" "p99 ms" errors "VmHWM MB" ratio
  local case size conns kind base_rps n=0
  for case in $CASES; do
    size=${case%%:*}; conns=${case##*:}
    for kind in baseline service; do
      n=$((n + 1))
      start_app "$kind"
      [ "$kind" = service ] && echo "$ready_ms $idle_rss_kb" >>"$work/startups"
      wrk_run "$size" "$conns" "$WARMUP" "warm$n" >/dev/null
      wrk_run "$size" "$conns" "$DURATION" "run$n"
      local hwm; hwm=$(kb "$app_pid" VmHWM)
      stop_app
      if [ "$kind" = baseline ]; then base_rps=$ok_rps; ratio=""; else ratio=$(awk -v s="$ok_rps" -v b="$base_rps" 'BEGIN { printf "%.0f%%", 100 * s / b }'); fi
      printf '%-8s %-6s %5s %9s %9s %9s %9s %8s %9.0f %6s\n' "$kind" "$size" "$conns" "$rps" "$ok_rps" "$p50" "$p99" "$errors" "$((hwm / 1024))" "$ratio"
    done
  done
  sort -n "$work/startups" | awk '{ ms[NR] = $1; rss[NR] = $2 } END {
    printf "\nservice start-up to /health/ready: median %d ms (of %d starts); idle RSS after start-up: median %.0f MB\n", ms[int((NR + 1) / 2)], NR, rss[int((NR + 1) / 2)] / 1024 }'
}

pending() { sqlite3 -readonly "$1" "SELECT COUNT(*) FROM deliveries WHERE state IN ('pending', 'failed')"; }

dispatch() {
  local db="$work/dispatch.db"
  echo
  echo "dispatch: filling a backlog of >= $BACKLOG webhooks (their first handler dead-letters them at once)"
  # The fill runs a handler named "log" that fails (a forward to a closed port) with one attempt: every delivery is
  # dead-lettered. The measured service then runs the real log handler, and replaying the dead letters makes the
  # whole backlog due at one instant.
  DB=$db start_app service WebhookReceiver__Handlers__Log__Enabled=false \
    WebhookReceiver__Handlers__Forward__0__Name=log WebhookReceiver__Handlers__Forward__0__Url=http://127.0.0.1:9/ \
    WebhookReceiver__Handlers__Forward__0__Secret=bench-secret-0123456789 WebhookReceiver__Dispatch__MaxAttempts=1
  local stored=0 round=0
  while [ "$stored" -lt "$BACKLOG" ]; do
    round=$((round + 1))
    wrk_run small 16 5 "fill$round"
    stored=$(sqlite3 -readonly "$db" "SELECT COUNT(*) FROM webhooks")
  done
  while [ "$(pending "$db")" != 0 ]; do sleep 0.2; done
  stop_app_keep_db

  DB=$db start_app service
  local t0 replayed left
  t0=$(now_ms)
  replayed=$(curl -fsS -X POST -H "X-Api-Key: $admin_key" "$app_url/api/dead-letters/replay" | grep -o '"replayed":[0-9]*' | cut -d: -f2)
  while left=$(pending "$db") && [ "$left" != 0 ]; do sleep 0.05; done
  local ms=$(($(now_ms) - t0))
  stop_app_keep_db
  awk -v n="$replayed" -v ms="$ms" 'BEGIN { printf "dispatch: drained %d deliveries (log handler) in %.2f s: %.0f deliveries/s\n", n, ms / 1000, n * 1000 / ms }'
  rm -f "$db"*

  echo "dispatch: steady load of ~1,000 webhooks/s for ${RATE_SECONDS} s (32 connections, each pausing 30 ms before a request)"
  DB=$db start_app service
  local out
  out=$(wrk -t2 -c32 -d"$RATE_SECONDS"s --timeout 30s -s bench/webhook.lua "$app_url/webhooks/langgraph" -- small "$token" steady 30)
  sleep 2 # the last deliveries start
  stop_app_keep_db
  awk '/^Requests\/sec:/ { printf "dispatch: sent %.0f webhooks/s\n", $2 }' <<<"$out"
  # Lag as the histogram webhookreceiver.dispatch.lag measures it: stored (received_at) to the first attempt's start.
  sqlite3 -readonly "$db" "
    WITH lag AS (SELECT a.started_at - w.received_at AS ms FROM attempts a JOIN deliveries d ON d.id = a.delivery_id
                 JOIN webhooks w ON w.id = d.webhook_id WHERE a.attempt = 1),
         ranked AS (SELECT ms, ROW_NUMBER() OVER (ORDER BY ms) AS k, COUNT(*) OVER () AS n FROM lag)
    SELECT printf('dispatch: stored-to-handler lag over %d deliveries: p50 %d ms, p99 %d ms, max %d ms',
      MAX(n), MAX(CASE WHEN k = (n + 1) / 2 THEN ms END), MAX(CASE WHEN k = (n * 99 + 99) / 100 THEN ms END), MAX(ms)) FROM ranked"
  rm -f "$db"*
}

stop_app_keep_db() {
  kill "$app_pid" 2>/dev/null || true
  wait "$app_pid" 2>/dev/null || true
  local kept=()
  for pid in "${started[@]}"; do [ "$pid" = "$app_pid" ] || kept+=("$pid"); done
  started=("${kept[@]}")
}

case "$mode" in
  ingest) ingest ;;
  dispatch) dispatch ;;
  all) ingest; dispatch ;;
  *) fail "unknown mode $mode: ingest, dispatch or all" ;;
esac
