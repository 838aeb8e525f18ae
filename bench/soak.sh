#!/usr/bin/env bash
# The soak (issue #27): the service on SQLite at a steady rate well below capacity, retention short so the purge runs
# throughout, a forward target that fails 5% and hangs 1% of calls; RSS, database size, open fds, threads and the
# delivery lag sampled every 10 s and judged flat after the warm-up; the samples drawn as a PNG with gnuplot.
# 127.0.0.1 only; stops by itself after the given minutes; stops only the processes it started.
#
#   bash bench/soak.sh [minutes=60] [warm-up minutes=10] [rate=300]
#   bash bench/soak.sh chart <folder> [warm-up minutes]   redraws a folder's soak.csv as soak.png
#
# Output folder: SOAK_OUT (default /tmp/webhook-soak): soak.csv, soak.png, soak-summary.txt, the service's and
# the sender's logs. Exit status 0 when every bound held (see docs/reliability.md).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

need() { # command, Debian package
  command -v "$1" >/dev/null 2>&1 && return
  [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null || { echo "soak: $1 is missing: sudo apt-get install $2" >&2; exit 2; }
  apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$2" >/dev/null
}

chart() { # folder, warm-up minutes
  need gnuplot gnuplot-nox
  local summary=""; [ -f "$1/soak-summary.txt" ] && summary=$(cut -c1-150 "$1/soak-summary.txt")
  gnuplot -e "csv='$1/soak.csv'; png='$1/soak.png'; warmup=$2; title='WebhookReceiver soak: $(date -u +%F), $(nproc) cores'" \
    "$root/bench/soak-chart.gp"
  echo "soak: chart $1/soak.png"
}

if [ "${1:-}" = chart ]; then chart "$2" "${3:-10}"; exit; fi

minutes=${1:-60}; warmup=${2:-10}; rate=${3:-300}
out=${SOAK_OUT:-/tmp/webhook-soak}
mkdir -p "$out"
bin=$(mktemp -d /tmp/webhook-soak-bin.XXXXXX)
trap 'rm -rf "$bin"' EXIT
need gnuplot gnuplot-nox
echo "soak: building the service and bench/Chaos (Release)"
dotnet publish src/WebhookReceiver -c Release -o "$bin/service" --nologo -v q >"$bin/build.log" 2>&1 || { tail -20 "$bin/build.log"; exit 2; }
dotnet publish bench/Chaos -c Release -o "$bin/chaos" --nologo -v q >>"$bin/build.log" 2>&1 || { tail -20 "$bin/build.log"; exit 2; }
status=0
dotnet "$bin/chaos/Chaos.dll" soak "$bin/service/WebhookReceiver.dll" "$out" "$minutes" "$warmup" "$rate" || status=$?
chart "$out" "$warmup"
exit $status
