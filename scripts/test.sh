#!/usr/bin/env bash
# The test command: installs what the tests need (where this user may install packages), starts a throwaway
# PostgreSQL server, runs every test, and ends with one line "N passed, N failed" read from the TRX results.
# A prerequisite that cannot be installed stops it with a message naming it; nothing is skipped silently.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
results="$root/TestResults"

fail() { echo "test: $*" >&2; exit 2; }

can_install() { [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; }

apt_updated=
apt_install() {
  can_install || fail "missing $*: install it (sudo apt-get install $*) and run this again"
  if [ -z "$apt_updated" ]; then apt-get update -qq >/dev/null; apt_updated=1; fi
  echo "test: installing $*"
  # A package with a daemon (prometheus, postgresql) must not start it here: policy-rc.d's 101 tells invoke-rc.d not to.
  local policy=/usr/sbin/policy-rc.d added=
  if [ ! -e "$policy" ]; then printf '#!/bin/sh\nexit 101\n' > "$policy" && chmod +x "$policy" && added=1; fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null || { [ -z "$added" ] || rm -f "$policy"; fail "could not install $*"; }
  [ -z "$added" ] || rm -f "$policy"
}

command -v dotnet >/dev/null || fail "the .NET 10 SDK (dotnet) is required"
command -v node >/dev/null && command -v npm >/dev/null || fail "Node.js 20+ with npm is required (the LangGraph end-to-end test runs a real LangGraph server)"

# --- PostgreSQL: a throwaway cluster on a free loopback port, stopped on exit even when tests fail ---
pg_bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
if [ -z "$pg_bin" ] || [ ! -x "$pg_bin/initdb" ]; then
  apt_install postgresql
  pg_bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
fi

# --- Chromium for the Swagger UI browser test ---
if ! command -v chromium >/dev/null 2>&1; then apt_install chromium; fi

# --- promtool (Debian's prometheus package) for the alert rules' checks and unit tests in deploy/prometheus ---
if ! command -v promtool >/dev/null 2>&1; then apt_install prometheus; fi
command -v promtool >/dev/null 2>&1 || fail "promtool is still missing after installing prometheus"

# --- Node packages of the LangGraph end-to-end test and of the Kubernetes manifests' schema check, from their lockfiles ---
for dir in tests/langgraph-e2e tests/deploy-manifests; do
  # Installed when missing, and again when the lockfile changed since the last install.
  if [ -f "$dir/package-lock.json" ] && { [ ! -f "$dir/node_modules/.package-lock.json" ] || [ "$dir/package-lock.json" -nt "$dir/node_modules/.package-lock.json" ]; }; then
    echo "test: npm ci in $dir"
    (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error) || fail "npm ci failed in $dir"
  fi
done

free_port() { node -e "const s=require('net').createServer();s.listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close()})"; }

pg_dir=$(mktemp -d /tmp/webhook-receiver-pg.XXXXXX)
pg_port=$(free_port)
as_pg() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
if [ "$(id -u)" = 0 ]; then
  id postgres >/dev/null 2>&1 || useradd --system --home-dir /var/lib/postgresql postgres
  chown postgres "$pg_dir"
fi
stop_pg() {
  as_pg "$pg_bin/pg_ctl" -D "$pg_dir/data" -m immediate stop >/dev/null 2>&1 || true
  rm -rf "$pg_dir"
}
trap stop_pg EXIT
as_pg "$pg_bin/initdb" -D "$pg_dir/data" -U postgres --auth=trust --no-sync >/dev/null || fail "initdb failed"
as_pg "$pg_bin/pg_ctl" -D "$pg_dir/data" -l "$pg_dir/server.log" -w -t 30 \
  -o "-p $pg_port -k $pg_dir -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=300" start >/dev/null \
  || { cat "$pg_dir/server.log" >&2; fail "PostgreSQL did not start"; }
export WEBHOOKRECEIVER_TEST_POSTGRES="Host=127.0.0.1;Port=$pg_port;Username=postgres;Database=postgres"
echo "test: PostgreSQL $("$pg_bin/postgres" --version | awk '{print $3}') on 127.0.0.1:$pg_port"

# --- the tests ---
rm -rf "$results"
status=0
dotnet test WebhookReceiver.sln --logger "trx;LogFileName=results.trx" --results-directory "$results" "$@" || status=$?

trx="$results/results.trx"
[ -f "$trx" ] || fail "no test results were written (build failed?)"
counter() { grep -o "<Counters [^>]*" "$trx" | grep -o " $1=\"[0-9]*\"" | grep -o '[0-9]*'; }
passed=$(counter passed)
failed=$(( $(counter failed) + $(counter error) + $(counter timeout) + $(counter aborted) ))
echo "$passed passed, $failed failed"
[ "$status" = 0 ] && [ "$failed" = 0 ] && [ "$passed" -gt 0 ]
