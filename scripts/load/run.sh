#!/usr/bin/env bash
# The load run of paymentctl (docs/performance.md): a running
# `paymentctl serve` on PostgreSQL, fake PGs in process (local mode), wrk on
# loopback. It measures, in about three minutes:
#   - idle RSS after start-up (VmRSS from /proc/<pid>/status);
#   - encrypted reads, PATCH /payments/histories/:id (wrk, read.lua);
#   - registrations of Iamport and Toss card payments made at the fakes
#     beforehand (wrk, register.lua, pre-encrypted bodies);
#   - webhook latency, deposit at the fake Iamport -> event at a service's
#     receiver, p50/p99 (the Go helper, one deposit at a time).
#
# Usage: scripts/load/run.sh
# Environment (all optional):
#   LOAD_POSTGRES_DSN   database to create a throw-away schema in
#                       (default $PAYMENTCTL_TEST_POSTGRES_DSN, else
#                       postgres://postgres@127.0.0.1:5432/test?sslmode=disable)
#   LOAD_DURATION       length of the read phase (default 10s)
#   LOAD_REG_DURATION   length of each registration phase (default 8s);
#                       LOAD_REGISTRATIONS must last that long
#   LOAD_CONNECTIONS    wrk connections (default 32; wrk runs 2 threads)
#   LOAD_REGISTRATIONS  payments prepared per PG (default 9000; the fakes
#                       keep 10,000 payments each)
#   LOAD_WEBHOOKS       deposits timed (default 200)
#   LOAD_PROFILE        a directory: run serve with --pprof-addr on a
#                       loopback port and save a CPU profile of each wrk
#                       phase there
#   LOAD_OUT            where results.md and the logs go (default a temp dir)
# Requires wrk (apt-get install wrk), curl and Go.
set -euo pipefail
cd "$(dirname "$0")/../.."

base=${LOAD_POSTGRES_DSN:-${PAYMENTCTL_TEST_POSTGRES_DSN:-postgres://postgres@127.0.0.1:5432/test?sslmode=disable}}
duration=${LOAD_DURATION:-10s}
reg_duration=${LOAD_REG_DURATION:-8s}
conns=${LOAD_CONNECTIONS:-32}
regs=${LOAD_REGISTRATIONS:-9000}
hooks=${LOAD_WEBHOOKS:-200}
profile=${LOAD_PROFILE:-}
out=${LOAD_OUT:-$(mktemp -d -t paymentctl-load.XXXXXX)}
threads=2
mkdir -p "$out"
[ -n "$profile" ] && mkdir -p "$profile" && profile=$(cd "$profile" && pwd)
command -v wrk >/dev/null || { echo "wrk is not installed: apt-get install -y wrk" >&2; exit 1; }

work=$(mktemp -d -t paymentctl-load-work.XXXXXX)
server_pid="" schema=""
cleanup() {
  if [ -n "$server_pid" ] && kill -0 "$server_pid" 2>/dev/null; then
    kill -TERM "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
  fi
  [ -n "$schema" ] && "$work/load" schema drop -base "$base" -name "$schema" || true
  rm -rf "$work"
}
trap cleanup EXIT

t0=$(date +%s)
load_before=$(cut -d' ' -f1-3 /proc/loadavg)
echo "== building paymentctl and the helper"
go build -o "$work/paymentctl" ./cmd/paymentctl
go build -o "$work/load" ./scripts/load
started=$(date +%s)

mapfile -t port < <("$work/load" ports 6)
api=${port[0]} iamport=${port[1]} toss=${port[2]} metrics=${port[3]} pprof=${port[4]} portone=${port[5]}
schema=$("$work/load" schema create -base "$base")
case "$base" in *\?*) dsn="$base&search_path=$schema" ;; *) dsn="$base?search_path=$schema" ;; esac

export PAYMENT_DATABASE_URL="$dsn" PAYMENT_API_HOST=127.0.0.1 PAYMENT_API_PORT="$api" \
  PAYMENT_FAKE_IAMPORT_PORT="$iamport" PAYMENT_FAKE_TOSS_PORT="$toss" PAYMENT_FAKE_PORTONE_PORT="$portone" \
  PAYMENT_METRICS_ADDR="127.0.0.1:$metrics" PAYMENT_LOG_LEVEL=warn
url="http://127.0.0.1:$api"
iamport_url="http://127.0.0.1:$iamport"
toss_url="http://127.0.0.1:$toss"

pprof_flag=()
[ -n "$profile" ] && pprof_flag=(--pprof-addr "127.0.0.1:$pprof")
echo "== paymentctl serve on $url (schema $schema)${profile:+, pprof on 127.0.0.1:$pprof}"
"$work/paymentctl" serve "${pprof_flag[@]}" 2>"$out/serve.log" &
server_pid=$!
for _ in $(seq 300); do
  curl -sf "$url/monitors/health" >/dev/null 2>&1 && break
  kill -0 "$server_pid" 2>/dev/null || { cat "$out/serve.log" >&2; exit 1; }
  sleep 0.1
done
curl -sf "$url/monitors/health" >/dev/null || { echo "the server did not come up" >&2; exit 1; }

# Idle: started, schema checked, workers running, no request served yet.
sleep 3
rss_idle=$(awk '/^VmRSS/ {printf "%.1f", $2/1024}' "/proc/$server_pid/status")
echo "idle RSS: $rss_idle MB"

echo "== preparing: 1 read, $regs Iamport + $regs Toss payments at the fakes"
"$work/load" prepare -api "$url" -iamport "$iamport_url" -toss "$toss_url" -dir "$work" -n "$regs" -dsn "$dsn" | tee "$out/prepare.txt"

# phase NAME SCRIPT DURATION [ENV...]: one wrk run, with a CPU profile
# when asked.
phase() {
  local name=$1 script=$2 length=$3
  shift 3
  local prof_pid=""
  if [ -n "$profile" ]; then
    local secs=${length%s}
    curl -s -o "$profile/$name.pprof" "http://127.0.0.1:$pprof/debug/pprof/profile?seconds=$((secs > 3 ? secs - 2 : 1))" &
    prof_pid=$!
  fi
  echo "== $name: wrk -t$threads -c$conns -d$length"
  local before after
  before=$(cpu_sample | tr '\n' ' ')
  env "$@" LOAD_DIR="$work" WRK_THREADS=$threads \
    wrk -t"$threads" -c"$conns" -d"$length" --latency -s "scripts/load/$script" "$url" >"$out/$name.txt"
  after=$(cpu_sample | tr '\n' ' ')
  cpu_report "$name" "$before" "$after" "$(sed -n 's/^ *\([0-9]*\) requests in.*/\1/p' "$out/$name.txt")" >>"$out/$name.txt"
  cat "$out/$name.txt"
  [ -n "$prof_pid" ] && wait "$prof_pid"
  return 0
}
# cpu_sample: "busy total" jiffies of the machine and the server's
# user+system jiffies, to tell a CPU-bound phase from a waiting one.
cpu_sample() {
  awk '/^cpu / {print $2+$3+$4+$7+$8, $2+$3+$4+$5+$6+$7+$8}' /proc/stat
  awk '{print $14+$15}' "/proc/$server_pid/stat"
  psql -XAt -c "SELECT xact_commit + xact_rollback FROM pg_stat_database WHERE datname = current_database()" "$base"
  # PostgreSQL's processes as pid:jiffies (a backend that exits before the
  # second sample is not counted)
  pgrep -u postgres | while read -r p; do awk -v p="$p" '{printf "%s:%d,", p, $14+$15}' "/proc/$p/stat" 2>/dev/null; done
  echo
}
# cpu_report NAME BEFORE AFTER REQUESTS: machine busy % and server CPU per
# request over a phase.
cpu_report() {
  local name=$1 requests=$4 b0 t0 s0 x0 p0 b1 t1 s1 x1 p1
  read -r b0 t0 s0 x0 p0 <<<"$2"
  read -r b1 t1 s1 x1 p1 <<<"$3"
  awk -v n="$name" -v b=$((b1 - b0)) -v t=$((t1 - t0)) -v s=$((s1 - s0)) -v x=$((x1 - x0)) -v p0="$p0" -v p1="$p1" \
    -v r="${requests:-0}" -v hz="$(getconf CLK_TCK)" -v cores="$(nproc)" 'BEGIN {
      k = split(p0, a, ","); for (i = 1; i <= k; i++) if (split(a[i], f, ":") == 2) before[f[1]] = f[2]
      k = split(p1, a, ","); for (i = 1; i <= k; i++) if (split(a[i], f, ":") == 2) pg += f[2] - before[f[1]]
      wall = t / hz / cores
      if (r < 1) r = 1
      printf "cpu %s machine_busy_pct=%.0f server_cpu_pct=%.0f postgres_cpu_pct=%.0f server_ms_per_req=%.3f postgres_ms_per_req=%.3f pg_xacts_per_req=%.2f\n",
        n, 100*b/t, 100*s/hz/wall, 100*pg/hz/wall, 1000*s/hz/r, 1000*pg/hz/r, x/r
    }'
}
# cpu_cell FILE: the CPU line of a phase as a table cell.
cpu_cell() { echo "$(field "$1" 'machine_busy_pct') % busy; server $(field "$1" 'server_ms_per_req') ms, PostgreSQL $(field "$1" 'postgres_ms_per_req') ms, $(field "$1" 'pg_xacts_per_req') transactions"; }
# field FILE REGEX: the first number after REGEX in a wrk report.
field() { sed -n "s/.*$2[= ]*\([0-9.]*\).*/\1/p" "$1" | head -n 1; }

phase read read.lua "$duration"
phase register_iamport register.lua "$reg_duration" BODIES="$work/iamport.bodies"
echo "== waiting for the webhook jobs the registrations caused (replays, Toss confirm webhooks)"
"$work/load" drain -dsn "$dsn" -timeout 90s | tee "$out/drain_iamport.txt"
phase register_toss register.lua "$reg_duration" BODIES="$work/toss.bodies"
"$work/load" drain -dsn "$dsn" -timeout 90s | tee "$out/drain_toss.txt"

echo "== webhook latency: $hooks deposits, one at a time"
"$work/load" webhook -api "$url" -iamport "$iamport_url" -n "$hooks" -dsn "$dsn" | tee "$out/webhook.txt"

rss_after=$(awk '/^VmRSS/ {printf "%.1f", $2/1024}' "/proc/$server_pid/status")
rss_peak=$(awk '/^VmHWM/ {printf "%.1f", $2/1024}' "/proc/$server_pid/status")
finished=$(date +%s)

{
  echo "Load run $(date -u +%Y-%m-%dT%H:%M:%SZ), $(nproc) cores, load average before: $load_before"
  echo "server: paymentctl serve$([ -n "$profile" ] && echo ' --pprof-addr (profiling)'), PostgreSQL $(psql -XAtc 'SHOW server_version' "$base" 2>/dev/null || echo '?'), wrk -t$threads -c$conns, reads for $duration, registrations for at most $reg_duration"
  echo
  echo "| measure | result | p50 | p99 | CPU per request | target |"
  echo "|---|---|---|---|---|---|"
  echo "| encrypted read, PATCH /payments/histories/:id | $(field "$out/read.txt" 'ok_per_s') req/s ($(field "$out/read.txt" 'other') errors) | $(field "$out/read.txt" 'p50_ms') ms | $(field "$out/read.txt" 'p99_ms') ms | $(cpu_cell "$out/read.txt") | >= 10,000 req/s |"
  for pg in iamport toss; do
    f="$out/register_$pg.txt"
    echo "| registration, $pg card$([ $pg = toss ] && echo ' (+ confirm)') | $(field "$f" 'ok_per_s') req/s ($(field "$f" 'other') errors$(grep -q 'ran out' "$f" && echo ', payments ran out: lower bound')) | $(field "$f" 'p50_ms') ms | $(field "$f" 'p99_ms') ms | $(cpu_cell "$f") | >= 1,500 req/s |"
  done
  echo "| webhook, deposit -> receiver ($(field "$out/webhook.txt" 'n=') events) | | $(field "$out/webhook.txt" 'p50_ms') ms | $(field "$out/webhook.txt" 'p99_ms') ms | | p50 <= 20 ms |"
  echo "| RSS idle after start-up | $rss_idle MB | | | | <= 40 MB |"
  echo "| RSS after the run (peak) | $rss_after MB ($rss_peak MB) | | | | |"
  echo
  echo "webhook queue after the registrations (replayed or new PG webhooks): $(cat "$out/drain_iamport.txt") (Iamport), $(cat "$out/drain_toss.txt") (Toss)"
  echo "run time $((finished - started)) s (build $((started - t0)) s)"
} | tee "$out/results.md"
echo "results and logs: $out"
[ -n "$profile" ] && echo "CPU profiles: $profile/*.pprof (go tool pprof -top FILE)"
exit 0
