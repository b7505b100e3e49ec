#!/usr/bin/env bash
# Start-up time of `paymentctl serve` (docs/performance.md): from exec to
# the first 200 of GET /readyz (database reachable, schema current, webhook
# workers running), asked every 2 ms by one process (`load ready`, not a
# curl per try, whose forks took CPU from the start being timed), on SQLite (the zero-setup default,
# a database created and migrated by the first start) and on PostgreSQL (a
# throw-away schema migrated beforehand), LOAD_STARTS times each; it
# prints every time and the median. Also the idle RSS 2 s after ready.
#
# Usage: scripts/load/startup.sh
# Environment (all optional):
#   LOAD_POSTGRES_DSN   as for run.sh; empty skips PostgreSQL
#   LOAD_STARTS         starts per database (default 7)
#   LOAD_COLD_BUILD=1   also time a build of the binary with an empty build
#                       cache (minutes; the module cache is kept)
set -euo pipefail
cd "$(dirname "$0")/../.."

base=${LOAD_POSTGRES_DSN-${PAYMENTCTL_TEST_POSTGRES_DSN:-postgres://postgres@127.0.0.1:5432/test?sslmode=disable}}
starts=${LOAD_STARTS:-7}
work=$(mktemp -d -t paymentctl-startup.XXXXXX)
schema="" pid=""
cleanup() {
  [ -n "$pid" ] && kill -TERM "$pid" 2>/dev/null && wait "$pid" 2>/dev/null || true
  [ -n "$schema" ] && "$work/load" schema drop -base "$base" -name "$schema" || true
  rm -rf "$work"
}
trap cleanup EXIT

if [ "${LOAD_COLD_BUILD:-}" = 1 ]; then
  t0=$(date +%s)
  GOCACHE="$work/gocache" go build -o "$work/paymentctl.cold" ./cmd/paymentctl
  echo "first build (empty build cache): $(($(date +%s) - t0)) s"
  rm -rf "$work/gocache"
fi
go build -o "$work/paymentctl" ./cmd/paymentctl
go build -o "$work/load" ./scripts/load

# measure NAME DSN: starts serve on DSN $starts times; an @N@ in DSN is
# replaced by the start's number.
measure() {
  local name=$1 times=() ms rss dsn
  mapfile -t port < <("$work/load" ports 6)
  for n in $(seq "$starts"); do
    dsn=${2//@N@/$n}
    local url="http://127.0.0.1:${port[0]}" t0
    t0=$(date +%s%N)
    PAYMENT_DATABASE_URL="$dsn" PAYMENT_API_HOST=127.0.0.1 PAYMENT_API_PORT="${port[0]}" \
      PAYMENT_FAKE_IAMPORT_PORT="${port[1]}" PAYMENT_FAKE_TOSS_PORT="${port[2]}" PAYMENT_FAKE_PORTONE_PORT="${port[3]}" \
      PAYMENT_METRICS_ADDR="127.0.0.1:${port[4]}" PAYMENT_UPDATOR_PORT="${port[5]}" PAYMENT_LOG_LEVEL=warn \
      "$work/paymentctl" serve 2>>"$work/serve.log" &
    pid=$!
    ms=$("$work/load" ready -url "$url" -since "$t0" -pid "$pid") || { cat "$work/serve.log" >&2; exit 1; }
    times+=("$ms")
    sleep 2
    rss=$(awk '/^VmRSS/ {printf "%.1f", $2/1024}' "/proc/$pid/status")
    kill -TERM "$pid" && wait "$pid" 2>/dev/null || true
    pid=""
  done
  echo "$name: exec -> ready ${times[*]} ms; median $(printf '%s\n' "${times[@]}" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}') ms; idle RSS of the last $rss MB"
}

measure "SQLite, a new database each start (serve migrates it)" "sqlite:$work/new@N@.db"
measure "SQLite" "sqlite:$work/payments.db"
if [ -n "$base" ]; then
  schema=$("$work/load" schema create -base "$base")
  case "$base" in *\?*) dsn="$base&search_path=$schema" ;; *) dsn="$base?search_path=$schema" ;; esac
  measure "PostgreSQL" "$dsn"
fi
