#!/usr/bin/env bash
# The throughput bench: builds the service, the bare baseline (bench/Baseline) and the hand-written peers (bench/Naive:
# Kestrel + one SQLite INSERT per request; bench/fastapi_receiver.py: FastAPI + SQLite) in Release, starts each on
# loopback with its own temporary files, and drives every one with the same wrk load, alternating them within each case
# and round so that the ratios compare runs made moments apart. Every process it starts is stopped by its PID on exit.
#
#   bash bench/run.sh            ingest cases, then dispatch
#   bash bench/run.sh ingest     only the ingest cases (every receiver in KINDS)
#   bash bench/run.sh dispatch   only dispatch: draining a backlog, and the lag at a steady rate
#
# Settings (environment): DURATION=6 (s measured per run), WARMUP=20 (s of the same load before the first case of each
# process, not measured: the runtime's tiered JIT keeps recompiling the hot path for ~15 s of this load, and a receiver
# runs for hours; each later case of the same process gets 2 s), ROUNDS=2 (each receiver's figure is the median of its
# rounds), CASES="small:16 small:64 large:16 large:64 large:256" (payload:connections), KINDS="baseline service ingest
# naive fastapi fastapi-parse" (ingest = the service with no handler, nothing to dispatch), BACKLOG=20000, RATE_SECONDS=20,
# SERVICE_ENV="Name=value ..." (extra settings for every service started, e.g. WebhookReceiver__Handlers__Log__Enabled=false),
# BEFORE=DIR (a published build of the service, e.g. of the commit before a change: the receiver "before" runs it with the
# defaults, alternating with the others), IDLE_WAIT=120 (s: before each window, at most this long a wait until the machine
# is idle, IDLE_BUSY=15 % of all cores busy or less over one second; 0 skips the wait), RUN_IDS=uuid7 (or counter: the
# shape of the run ids sent, see bench/webhook.lua).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

DURATION=${DURATION:-6}
WARMUP=${WARMUP:-20}
ROUNDS=${ROUNDS:-2}
CASES=${CASES:-"small:16 small:64 large:16 large:64 large:256"}
KINDS=${KINDS:-"baseline service ingest naive fastapi fastapi-parse"}
[[ " $KINDS " != *" before "* ]] || [ -f "${BEFORE:-}/WebhookReceiver.dll" ] || { echo "bench: KINDS has 'before': set BEFORE to a published service" >&2; exit 2; }
BACKLOG=${BACKLOG:-20000}
BEFORE=${BEFORE:-}
IDLE_WAIT=${IDLE_WAIT:-120}
IDLE_BUSY=${IDLE_BUSY:-15}
RUN_IDS=${RUN_IDS:-uuid7}
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
# Debian's own FastAPI and uvicorn (with uvloop and httptools, as `uvicorn[standard]` has them), for the Python peer.
if [[ " $KINDS " == *" fastapi"* ]]; then
  if ! /usr/bin/python3 -c "import fastapi, uvicorn, uvloop, httptools" 2>/dev/null; then
    [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null || fail "FastAPI is missing: sudo apt-get install python3-fastapi python3-uvicorn python3-uvloop python3-httptools"
    echo "bench: installing python3-fastapi python3-uvicorn python3-uvloop python3-httptools"
    apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
      python3-fastapi python3-uvicorn python3-uvloop python3-httptools >/dev/null || fail "could not install FastAPI"
  fi
fi

work=$(mktemp -d /tmp/webhook-bench.XXXXXX)
started=() # PIDs of the apps this script started, and only those
cleanup() {
  for pid in "${started[@]}"; do kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT

echo "bench: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "bench: building service, baseline and naive receiver (Release)"
dotnet publish src/WebhookReceiver -c Release -o "$work/service" --nologo -v q >"$work/build.log" 2>&1 || { tail -20 "$work/build.log"; fail "service build failed"; }
dotnet publish bench/Baseline -c Release -o "$work/baseline" --nologo -v q >>"$work/build.log" 2>&1 || { tail -20 "$work/build.log"; fail "baseline build failed"; }
dotnet publish bench/Naive -c Release -o "$work/naive" --nologo -v q >>"$work/build.log" 2>&1 || { tail -20 "$work/build.log"; fail "naive build failed"; }

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

# busy_pct: the share of all cores' time not idle over the next second (/proc/stat; iowait counts as idle).
busy_pct() {
  local a b
  a=$(awk '/^cpu / { print $2 + $3 + $4 + $7 + $8 + $9, $5 + $6 }' /proc/stat); sleep 1
  b=$(awk '/^cpu / { print $2 + $3 + $4 + $7 + $8 + $9, $5 + $6 }' /proc/stat)
  awk -v a="$a" -v b="$b" 'BEGIN { split(a, x, " "); split(b, y, " "); busy = y[1] - x[1]; all = busy + y[2] - x[2]; printf "%.0f", (all > 0 ? 100 * busy / all : 0) }'
}

# wait_idle: waits, at most IDLE_WAIT seconds, until the machine is idle (a receiver that is still dispatching its backlog,
# or anything else running, would slow the next window); sets idle_busy to the busy share the window starts at, and says
# so when it starts on a busy machine.
wait_idle() {
  local waited=0
  idle_busy=$(busy_pct)
  while [ "$idle_busy" -gt "$IDLE_BUSY" ] && [ "$waited" -lt "$IDLE_WAIT" ]; do
    waited=$((waited + 1))
    idle_busy=$(busy_pct)
  done
  if [ "$idle_busy" -gt "$IDLE_BUSY" ] && [ "$IDLE_WAIT" -gt 0 ]; then
    echo "bench: not idle after ${waited} s (${idle_busy}% busy, load $(cut -d' ' -f1-3 /proc/loadavg)): going on" >&2
  fi
}

kb() { awk -v key="$2:" '$1 == key { print $2 }' "/proc/$1/status"; } # VmRSS / VmHWM of a PID, in kB
now_ms() { date +%s%3N; }

# start_app KIND [NAME=VALUE...]: starts a receiver (baseline, service, ingest, naive, fastapi, fastapi-parse) on a free
# port with a fresh database (the service's: unless DB is set); sets app_pid, app_port, app_url, ready_ms (start to
# /health/ready answering 200) and idle_rss_kb.
start_app() {
  local kind=$1; shift
  app_port=$(free_port)
  app_url="http://127.0.0.1:$app_port"
  local t0; t0=$(now_ms)
  case "$kind" in
    baseline)
      env ASPNETCORE_URLS="$app_url" BASELINE_TOKEN="$token" dotnet "$work/baseline/Baseline.dll" >"$work/$kind.log" 2>&1 & ;;
    naive)
      env ASPNETCORE_URLS="$app_url" BASELINE_TOKEN="$token" NAIVE_DB="$work/bench-$RANDOM.db" dotnet "$work/naive/Naive.dll" >"$work/$kind.log" 2>&1 & ;;
    fastapi|fastapi-parse)
      env BASELINE_TOKEN="$token" NAIVE_DB="$work/bench-$RANDOM.db" FASTAPI_MODE="${kind#fastapi-}" PYTHONPATH="$root/bench" \
        /usr/bin/python3 -m uvicorn fastapi_receiver:app --host 127.0.0.1 --port "$app_port" --loop uvloop --http httptools \
        --no-access-log --log-level warning >"$work/$kind.log" 2>&1 & ;;
    service|ingest|before)
      [ "$kind" = ingest ] && set -- WebhookReceiver__Handlers__Log__Enabled=false "$@"
      local dir=$work/service; [ "$kind" = before ] && dir=$BEFORE
      env ASPNETCORE_ENVIRONMENT=Production ASPNETCORE_URLS="$app_url" \
        WebhookReceiver__Tokens__0="$token" WebhookReceiver__AdminKeys__0="$admin_key" \
        WebhookReceiver__Storage__ConnectionString="Data Source=${DB:-$work/bench-$RANDOM.db}" \
        WebhookReceiver__Limits__PermitsPerSecond=0 \
        ${SERVICE_ENV:-} "$@" dotnet "$dir/WebhookReceiver.dll" >"$work/$kind.log" 2>&1 & ;;
    *) fail "unknown receiver $kind" ;;
  esac
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
  out=$(wrk -t2 -c"$2" -d"$3"s --timeout 30s --latency -s bench/webhook.lua "$app_url/webhooks/langgraph" -- "$1" "$token" "$4" 0 "$RUN_IDS")
  rps=$(awk '/^Requests\/sec:/ { printf "%.0f", $2 }' <<<"$out")
  p50=$(to_ms "$(awk '$1 == "50%" { print $2 }' <<<"$out")")
  p99=$(to_ms "$(awk '$1 == "99%" { print $2 }' <<<"$out")")
  errors=$(awk '/Non-2xx/ { n += $NF } /Socket errors/ { gsub(/,/, ""); n += $4 + $6 + $8 + $10 } END { print n + 0 }' <<<"$out")
  ok_rps=$(awk -v rps="$rps" -v errors="$errors" '/requests in/ { n = $1 } END { printf "%.0f", (n > 0 ? rps * (n - errors) / n : 0) }' <<<"$out")
}

median() { sort -n | awk '{ v[NR] = $1 } END { if (NR == 0) print 0; else if (NR % 2) print v[(NR + 1) / 2]; else printf "%.2f", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

ingest() {
  # Each receiver's figure is the median of its ROUNDS runs. Within a round each receiver in turn is started, warmed up and
  # measured in every case, so every ratio compares runs made minutes apart under the same load; VmHWM is the process's
  # peak so far (cases run in the order given). 2xx/s counts stored webhooks (under overload the service answers 503).
  local case size conns kind round first n=0
  : >"$work/runs"
  : >"$work/cold"
  : >"$work/startups"
  for round in $(seq 1 "$ROUNDS"); do
    for kind in $KINDS; do
      wait_idle
      start_app "$kind"
      [[ "$kind" = service || "$kind" = ingest || "$kind" = before ]] && echo "$kind $ready_ms $idle_rss_kb" >>"$work/startups"
      first=1
      for case in $CASES; do
        size=${case%%:*}; conns=${case##*:}
        n=$((n + 1))
        if [ "$first" = 1 ]; then
          # The first DURATION seconds after start-up are kept as the cold figure; then the warm-up proper.
          wrk_run "$size" "$conns" "$DURATION" "cold$n"
          echo "$case $kind $ok_rps $p99" >>"$work/cold"
          wrk_run "$size" "$conns" "$WARMUP" "warm$n" >/dev/null
          first=0
        else
          wrk_run "$size" "$conns" 2 "warm$n" >/dev/null
        fi
        wait_idle
        wrk_run "$size" "$conns" "$DURATION" "run$n"
        echo "$case $kind $rps $ok_rps $p50 $p99 $errors $(($(kb "$app_pid" VmHWM) / 1024)) $idle_busy" >>"$work/runs"
      done
      stop_app
    done
  done

  printf '\n%-14s %-6s %5s %9s %9s %8s %8s %7s %8s %7s\n' receiver payload conns "req/s" "2xx/s" "p50 ms" "p99 ms" errors "VmHWM MB" "of bare"
  for case in $CASES; do
    size=${case%%:*}; conns=${case##*:}
    local base; base=$(awk -v c="$case" '$1 == c && $2 == "baseline" { print $4 }' "$work/runs" | median)
    for kind in $KINDS; do
      local col f; local -a m=()
      for col in 3 4 5 6 7 8; do
        f=$(awk -v c="$case" -v k="$kind" -v i="$col" '$1 == c && $2 == k { print $i }' "$work/runs" | median)
        m+=("$f")
      done
      eval "ok_$(tr - _ <<<"$kind")=${m[1]}"
      printf '%-14s %-6s %5s %9.0f %9.0f %8s %8s %7.0f %8.0f %7s\n' "$kind" "$size" "$conns" "${m[0]}" "${m[1]}" "${m[2]}" "${m[3]}" "${m[4]}" "${m[5]}" \
        "$(awk -v s="${m[1]}" -v b="$base" 'BEGIN { if (b > 0) printf "%.2f", s / b; else print "-" }')"
    done
    # Every ratio of the service (defaults) to the others, and of ingest with dispatch running to ingest with no handler.
    local ratios="" other
    for other in baseline before naive fastapi fastapi-parse ingest; do
      [[ " $KINDS " == *" $other "* && " $KINDS " == *" service "* ]] || continue
      ratios+=$(awk -v s="${ok_service:-0}" -v o="$(eval echo "\${ok_$(tr - _ <<<"$other"):-0}")" -v n="$other" \
        'BEGIN { if (o > 0) printf "  service/%s %.2f", n, s / o }')
    done
    echo "ratios $size @ $conns:$ratios"
  done
  local first_case=${CASES%% *}
  echo
  echo "cold: the first $DURATION s after start-up, ${first_case%%:*} @ ${first_case##*:} (JIT still tiering up), median 2xx/s and p99 ms"
  for kind in $KINDS; do
    awk -v k="$kind" '$2 == k { print $3 }' "$work/cold" | median | xargs printf '%-14s %9.0f' "$kind"
    awk -v k="$kind" '$2 == k { print $4 }' "$work/cold" | median | xargs printf ' %8s\n'
  done
  echo
  for kind in service ingest before; do
    grep -q "^$kind " "$work/startups" || continue
    printf '%s start-up to /health/ready: median %s ms (of %s starts); idle RSS after start-up: median %.0f MB\n' "$kind" \
      "$(awk -v k="$kind" '$1 == k { print $2 }' "$work/startups" | median)" "$(grep -c "^$kind " "$work/startups")" \
      "$(awk -v k="$kind" '$1 == k { print $3 / 1024 }' "$work/startups" | median)"
  done
  sort -n -k9 "$work/runs" | awk '{ b[NR] = $9 } END { if (NR) printf "measured windows started with the machine %d%% busy (median), %d%% at most (IDLE_BUSY %d)\n", b[int((NR + 1) / 2)], b[NR], '"$IDLE_BUSY"' }'
}

pending() { sqlite3 -readonly "$1" "SELECT COUNT(*) FROM deliveries WHERE state IN ('pending', 'failed')"; }

dispatch() { # KIND: service, or before (the build in BEFORE)
  local kind=${1:-service} db="$work/dispatch.db"
  echo
  echo "dispatch ($kind): filling two backlogs of >= $BACKLOG webhooks each (their first handler dead-letters them at once)"
  # The fill runs a handler named "log" that fails (a forward to a closed port) with one attempt: every delivery is
  # dead-lettered. The measured service then runs the real log handler; replaying the first backlog's dead letters warms
  # it up (the cold figure), and replaying the second's, made due at one instant, is the measured drain.
  wait_idle
  DB=$db start_app "$kind" WebhookReceiver__Handlers__Log__Enabled=false \
    WebhookReceiver__Handlers__Forward__0__Name=log WebhookReceiver__Handlers__Forward__0__Url=http://127.0.0.1:9/ \
    WebhookReceiver__Handlers__Forward__0__Secret=bench-secret-0123456789 WebhookReceiver__Dispatch__MaxAttempts=1
  local stored=0 round=0 mark=""
  while [ "$stored" -lt $((2 * BACKLOG)) ]; do
    round=$((round + 1))
    wrk_run small 16 5 "fill$round"
    stored=$(sqlite3 -readonly "$db" "SELECT COUNT(*) FROM webhooks")
    if [ -z "$mark" ] && [ "$stored" -ge "$BACKLOG" ]; then sleep 0.01; mark=$(date -u +%Y-%m-%dT%H:%M:%S.%3NZ); sleep 0.01; fi
  done
  while [ "$(pending "$db")" != 0 ]; do sleep 0.2; done
  stop_app_keep_db

  wait_idle
  DB=$db start_app "$kind"
  local phase filter t0 replayed left ms
  for phase in cold warm; do
    [ "$phase" = cold ] && filter="received_to=$mark" || filter="received_from=$mark"
    t0=$(now_ms)
    replayed=$(curl -fsS -X POST -H "X-Api-Key: $admin_key" "$app_url/api/dead-letters/replay?$filter" | grep -o '"replayed":[0-9]*' | cut -d: -f2)
    while left=$(pending "$db") && [ "$left" != 0 ]; do sleep 0.05; done
    ms=$(($(now_ms) - t0))
    awk -v p="$phase" -v n="$replayed" -v ms="$ms" 'BEGIN { printf "dispatch ('"$kind"'): %s, drained %d deliveries (log handler) in %.2f s: %.0f deliveries/s\n", p, n, ms / 1000, n * 1000 / ms }'
  done
  stop_app_keep_db
  rm -f "$db"*

  echo "dispatch ($kind): steady load of ~1,000 webhooks/s for ${RATE_SECONDS} s after ${WARMUP} s of it (32 connections, each pausing 30 ms before a request)"
  wait_idle
  DB=$db start_app "$kind"
  wrk -t2 -c32 -d"$WARMUP"s --timeout 30s -s bench/webhook.lua "$app_url/webhooks/langgraph" -- small "$token" warm 30 "$RUN_IDS" >/dev/null
  local out since
  since=$(now_ms)
  out=$(wrk -t2 -c32 -d"$RATE_SECONDS"s --timeout 30s -s bench/webhook.lua "$app_url/webhooks/langgraph" -- small "$token" steady 30 "$RUN_IDS")
  sleep 2 # the last deliveries start
  stop_app_keep_db
  awk '/^Requests\/sec:/ { printf "dispatch ('"$kind"'): sent %.0f webhooks/s\n", $2 }' <<<"$out"
  # Lag as the histogram webhookreceiver.dispatch.lag measures it: stored (received_at) to the first attempt's start.
  sqlite3 -readonly "$db" "
    WITH lag AS (SELECT a.started_at - w.received_at AS ms FROM attempts a JOIN deliveries d ON d.id = a.delivery_id
                 JOIN webhooks w ON w.id = d.webhook_id WHERE a.attempt = 1 AND w.received_at >= $since),
         ranked AS (SELECT ms, ROW_NUMBER() OVER (ORDER BY ms) AS k, COUNT(*) OVER () AS n FROM lag)
    SELECT printf('dispatch ($kind): stored-to-handler lag over %d deliveries: p50 %d ms, p99 %d ms, max %d ms',
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

# Dispatch of the build in BEFORE too, when the ingest cases compare it.
dispatch_all() { dispatch service; [[ -z "$BEFORE" || " $KINDS " != *" before "* ]] || dispatch before; }

case "$mode" in
  ingest) ingest ;;
  dispatch) dispatch_all ;;
  all) ingest; dispatch_all ;;
  *) fail "unknown mode $mode: ingest, dispatch or all" ;;
esac
