#!/usr/bin/env bash
# The A/B figure (bench/ab.sh) on PostgreSQL: starts a throwaway PostgreSQL cluster on a free loopback port (durable as
# shipped: fsync and synchronous_commit on), then measures each published build given, alternating their order round by
# round, each run on a database of its own. Stops only the server it started.
#
#   bash bench/postgres.sh /tmp/before /tmp/after          (ROUNDS=3; ab.sh's SIZE, CONNS, WARMUP, DURATION apply)
#
# Needs PostgreSQL's server binaries (Debian's postgresql package: bash scripts/test.sh installs it).
set -euo pipefail
cd "$(dirname "$0")/.."
[ $# -ge 1 ] || { echo "usage: bash bench/postgres.sh PUBLISH_DIR [PUBLISH_DIR ...]" >&2; exit 2; }
ROUNDS=${ROUNDS:-3}
pg_bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
[ -x "${pg_bin:-}/initdb" ] || { echo "postgres: PostgreSQL is missing: sudo apt-get install postgresql" >&2; exit 2; }

pg_dir=$(mktemp -d /tmp/webhook-bench-pg.XXXXXX)
pg_port=$((20000 + RANDOM % 20000))
as_pg() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
[ "$(id -u)" != 0 ] || { id postgres >/dev/null 2>&1 || useradd --system --home-dir /var/lib/postgresql postgres; chown postgres "$pg_dir"; }
stop_pg() { as_pg "$pg_bin/pg_ctl" -D "$pg_dir/data" -m fast stop >/dev/null 2>&1 || true; rm -rf "$pg_dir"; }
trap stop_pg EXIT
as_pg "$pg_bin/initdb" -D "$pg_dir/data" -U postgres --auth=trust >/dev/null
as_pg "$pg_bin/pg_ctl" -D "$pg_dir/data" -l "$pg_dir/server.log" -w -t 30 \
  -o "-p $pg_port -k $pg_dir -c listen_addresses=127.0.0.1" start >/dev/null || { cat "$pg_dir/server.log" >&2; exit 2; }
echo "postgres: PostgreSQL $("$pg_bin/postgres" --version | awk '{print $3}') on 127.0.0.1:$pg_port (fsync, synchronous_commit on)"

n=0
for round in $(seq 1 "$ROUNDS"); do
  dirs=("$@")
  [ $((round % 2)) = 1 ] || mapfile -t dirs < <(printf '%s\n' "$@" | tac)
  for dir in "${dirs[@]}"; do
    n=$((n + 1))
    as_pg "$pg_bin/createdb" -h "$pg_dir" -p "$pg_port" -U postgres "bench$n"
    echo "round $round $dir: $(bash bench/ab.sh "$dir" WebhookReceiver__Storage__Provider=Postgres \
      "WebhookReceiver__Storage__ConnectionString=Host=127.0.0.1;Port=$pg_port;Username=postgres;Database=bench$n" | tail -1)"
  done
done
