#!/usr/bin/env bash
# The chaos run (issue #27): webhooks streamed at the service (new runs, duplicates, retries, interrupted runs, bodies near
# the size limit) while it is SIGKILLed at random moments and restarted, its store broken under it (SQLite: the tmpfs
# holding the file filled, then freed; PostgreSQL: the server restarted under two replicas), its forward target failing
# 10% and hanging 3% of calls; then the sender's log of every answer is checked against the store and the target's log.
# Meanwhile real runs are made on the LangGraph JS dev server the suite uses (tests/langgraph-e2e), their webhooks sent to
# a stand-in in front of the replicas that passes them on, and answers 503 itself while no replica answers (the dev
# server's queue loop dies on a refused or reset webhook send); the pauses of its graph "ask" are resumed through the
# receiver, and the runs whose webhook got that 503 must come back through the receiver's sweep. CHAOS_LANGGRAPH=0 leaves
# it out. Needs root (the tmpfs mount), PostgreSQL's server binaries (installed with apt-get when missing) and Node.js
# with npm. 127.0.0.1 only; bounded in kills and minutes; stops only what it started.
#
#   bash bench/chaos.sh [sqlite|postgres|both] [kills=100] [max minutes per engine=30]
#
# Output folder: CHAOS_OUT (default /tmp/webhook-chaos): chaos-summary.txt (one line per engine), and per engine the
# sender's log (sender.tsv), the target's (target.tsv), the faults (faults.tsv) and each replica's console.
# Exit status 0 when nothing was lost or corrupted and every check held (see docs/reliability.md).
set -euo pipefail
cd "$(dirname "$0")/.."
engines=${1:-both}; kills=${2:-100}; minutes=${3:-30}
out=${CHAOS_OUT:-/tmp/webhook-chaos}
[ "$(id -u)" = 0 ] || { echo "chaos: run as root (it mounts a small tmpfs to fill it)" >&2; exit 2; }
if [ "$engines" != sqlite ] && ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
  apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends postgresql >/dev/null
fi
if [ "${CHAOS_LANGGRAPH:-1}" != 0 ] && [ ! -f tests/langgraph-e2e/node_modules/.package-lock.json ]; then
  (cd tests/langgraph-e2e && npm ci --no-audit --no-fund --loglevel=error)
fi
mkdir -p "$out"
bin=$(mktemp -d /tmp/webhook-chaos-bin.XXXXXX)
trap 'rm -rf "$bin"' EXIT
echo "chaos: building the service and bench/Chaos (Release)"
dotnet publish src/WebhookReceiver -c Release -o "$bin/service" --nologo -v q >"$bin/build.log" 2>&1 || { tail -20 "$bin/build.log"; exit 2; }
dotnet publish bench/Chaos -c Release -o "$bin/chaos" --nologo -v q >>"$bin/build.log" 2>&1 || { tail -20 "$bin/build.log"; exit 2; }
dotnet "$bin/chaos/Chaos.dll" chaos "$bin/service/WebhookReceiver.dll" "$out" "$engines" "$kills" "$minutes" "$PWD"
