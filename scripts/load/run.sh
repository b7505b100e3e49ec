#!/usr/bin/env bash
# The load run of paymentctl (docs/performance.md): a running
# `paymentctl serve` on PostgreSQL, fake PGs in process (local mode), wrk on
# loopback. It measures, in about four minutes:
#   - the machine's baselines, in the same run: a bare gin JSON GET (wrk,
#     same threads and connections) and PostgreSQL 2 KB single-row
#     INSERTs (pgbench -c8 -j2), so the results are reported as ratios
#     that hold on a busy machine too;
#   - start-up, exec to the first 200 of /readyz, and idle RSS after
#     start-up (VmRSS from /proc/<pid>/status);
#   - encrypted reads, PATCH /payments/histories/:id (wrk, read.lua);
#   - registrations of Iamport and Toss card payments made at the fakes
#     beforehand (wrk, register.lua, pre-encrypted bodies);
#   - webhook latency, deposit at the fake Iamport -> event at a service's
#     receiver, p50/p99 (the Go helper, one deposit at a time);
#   - the drain rate of a backlog of LOAD_BACKLOG queued deliveries to a
#     fast receiver;
#   - with pg_stat_statements in the database (optional), the statements
#     PostgreSQL ran per request of each phase.
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
#   LOAD_REGISTRATIONS  payments prepared per PG (default 20000, enough
#                       for 8 s at 2,500/s; the in-process fakes are told
#                       to keep 1,000 more, PAYMENT_FAKE_CAPACITY)
#   LOAD_WEBHOOKS       deposits timed (default 200)
#   LOAD_BACKLOG        deliveries queued for the drain measure (default
#                       10000)
#   LOAD_PROFILE        a directory: run serve with --pprof-addr on a
#                       loopback port and save a CPU profile of each wrk
#                       phase there
#   LOAD_OUT            where results.md and the logs go (default a temp dir)
# Requires wrk (apt-get install wrk), curl, psql, pgbench (PostgreSQL's
# client tools) and Go.
set -euo pipefail
cd "$(dirname "$0")/../.."

base=${LOAD_POSTGRES_DSN:-${PAYMENTCTL_TEST_POSTGRES_DSN:-postgres://postgres@127.0.0.1:5432/test?sslmode=disable}}
duration=${LOAD_DURATION:-10s}
reg_duration=${LOAD_REG_DURATION:-8s}
conns=${LOAD_CONNECTIONS:-32}
regs=${LOAD_REGISTRATIONS:-20000}
hooks=${LOAD_WEBHOOKS:-200}
backlog=${LOAD_BACKLOG:-10000}
profile=${LOAD_PROFILE:-}
out=${LOAD_OUT:-$(mktemp -d -t paymentctl-load.XXXXXX)}
threads=2
mkdir -p "$out"
[ -n "$profile" ] && mkdir -p "$profile" && profile=$(cd "$profile" && pwd)
pgbench=$(command -v pgbench || ls /usr/lib/postgresql/*/bin/pgbench 2>/dev/null | sort -V | tail -n 1)
[ -x "$pgbench" ] || { echo "pgbench is not installed (PostgreSQL's client tools)" >&2; exit 1; }
# shellcheck source=lib.sh
. scripts/load/lib.sh

load_before=$(cut -d' ' -f1-3 /proc/loadavg)
build
started=$(date +%s)
make_schema
# The fakes keep every prepared payment, so a registration phase runs
# out only if it registers them all (register.lua then says so).
export PAYMENT_FAKE_CAPACITY=$((regs + 1000))
start_server

# Idle: started, schema checked, workers running, no request served yet.
sleep 3
rss_idle=$(rss VmRSS)
echo "idle RSS: $rss_idle MB"

echo "== preparing: 1 read, $regs Iamport + $regs Toss payments at the fakes"
"$work/load" prepare -api "$url" -iamport "$iamport_url" -toss "$toss_url" -dir "$work" -n "$regs" -dsn "$dsn" | tee "$out/prepare.txt"
# The in-process fakes now hold the prepared payments.
rss_prepared=$(rss VmRSS)

echo "== baseline: bare gin JSON GET, wrk -t$threads -c$conns -d$duration"
"$work/load" gin -addr "127.0.0.1:$ginport" >/dev/null &
gin_pid=$!
for _ in $(seq 200); do curl -sf -o /dev/null "http://127.0.0.1:$ginport/plain" && break; sleep 0.05; done
gin_cpu0=$(awk '{print $14+$15}' "/proc/$gin_pid/stat")
wrk -t"$threads" -c"$conns" -d"$duration" --latency "http://127.0.0.1:$ginport/plain" >"$out/gin.txt"
gin_cpu1=$(awk '{print $14+$15}' "/proc/$gin_pid/stat")
kill "$gin_pid" && wait "$gin_pid" 2>/dev/null || true
gin_pid=""
gin_rps=$(sed -n 's/^Requests\/sec: *\([0-9.]*\).*/\1/p' "$out/gin.txt")
# The gin server's CPU per request, to set beside the read's.
awk -v j=$((gin_cpu1 - gin_cpu0)) -v r="$(sed -n 's/^ *\([0-9]*\) requests in.*/\1/p' "$out/gin.txt")" -v hz="$(getconf CLK_TCK)" \
  'BEGIN { if (r < 1) r = 1; printf "cpu gin server_ms_per_req=%.3f\n", 1000 * j / hz / r }' >>"$out/gin.txt"
echo "gin plain: $gin_rps req/s, server $(field "$out/gin.txt" 'server_ms_per_req') ms of CPU per request"

echo "== baseline: PostgreSQL 2 KB single-row INSERTs, pgbench -n -c8 -j2 -T${reg_duration%s}"
"$work/load" insert-script -schema "$schema" -out "$work" | psql -XAq -v ON_ERROR_STOP=1 "$base"
"$pgbench" -n -f "$work/insert.sql" -c8 -j2 -T"${reg_duration%s}" "$base" >"$out/pgbench.txt" 2>&1
insert_tps=$(sed -n 's/^tps = \([0-9.]*\).*/\1/p' "$out/pgbench.txt" | head -n 1)
echo "2 KB inserts: $insert_tps tps"
psql -XAq -c "DROP TABLE $schema.load_insert_baseline" "$base"

phase read read.lua "$duration"
rss_read=$(rss VmRSS)
phase register_iamport register.lua "$reg_duration" BODIES="$work/iamport.bodies"
echo "== waiting for the webhook jobs the registrations caused (replays, Toss confirm webhooks)"
"$work/load" drain -dsn "$dsn" -timeout 5m | tee "$out/drain_iamport.txt"
phase register_toss register.lua "$reg_duration" BODIES="$work/toss.bodies"
"$work/load" drain -dsn "$dsn" -timeout 5m | tee "$out/drain_toss.txt"
# The tables grew by 40,000 rows in the last minute, before autovacuum's
# first look (it wakes once a minute): ANALYZE as it would, so that what
# follows is timed against planner statistics a running server has, not
# the empty tables' (with those, the history look-up by the PG's id was
# planned on the index of vendor_code and source_id and read every
# Iamport history: 8-10 ms a statement; docs/performance.md).
psql -XAq -c "ANALYZE" "$base"

echo "== webhook latency: $hooks deposits, one at a time"
"$work/load" webhook -api "$url" -iamport "$iamport_url" -n "$hooks" -dsn "$dsn" -metrics "http://127.0.0.1:$metrics/metrics" | tee "$out/webhook.txt"

echo "== backlog: $backlog deliveries queued at once, to a fast receiver"
"$work/load" backlog -api "$url" -iamport "$iamport_url" -dsn "$dsn" -n "$backlog" | tee "$out/backlog.txt"

rss_after=$(rss VmRSS)
rss_peak=$(rss VmHWM)
finished=$(date +%s)

{
  echo "Load run $(date -u +%Y-%m-%dT%H:%M:%SZ), $(nproc) cores, load average before: $load_before"
  echo "server: paymentctl serve$([ -n "$profile" ] && echo ' --pprof-addr (profiling)'), PostgreSQL $(psql -XAtc 'SHOW server_version' "$base" 2>/dev/null || echo '?'), wrk -t$threads -c$conns, reads for $duration, registrations for at most $reg_duration"
  echo
  read_rps=$(field "$out/read.txt" 'ok_per_s') iamport_rps=$(field "$out/register_iamport.txt" 'ok_per_s')
  echo "| measure | result | p50 | p99 | CPU per request | target |"
  echo "|---|---|---|---|---|---|"
  echo "| baseline: bare gin JSON GET | $gin_rps req/s | $(sed -n 's/^ *50% *//p' "$out/gin.txt") | $(sed -n 's/^ *99% *//p' "$out/gin.txt") | server $(field "$out/gin.txt" 'server_ms_per_req') ms | |"
  echo "| baseline: PostgreSQL 2 KB single-row INSERT (pgbench -c8 -j2) | $insert_tps tps | | | | |"
  echo "| encrypted read, PATCH /payments/histories/:id | $read_rps req/s ($(field "$out/read.txt" 'other') errors) | $(field "$out/read.txt" 'p50_ms') ms | $(field "$out/read.txt" 'p99_ms') ms | $(cpu_cell "$out/read.txt") | |"
  for pg in iamport toss; do
    f="$out/register_$pg.txt"
    echo "| registration, $pg card$([ $pg = toss ] && echo ' (+ confirm)') | $(field "$f" 'ok_per_s') req/s ($(field "$f" 'other') errors$(grep -q 'ran out' "$f" && echo ', payments ran out: lower bound')) | $(field "$f" 'p50_ms') ms | $(field "$f" 'p99_ms') ms | $(cpu_cell "$f") | |"
  done
  echo "| **read / gin plain** | $(ratio "$read_rps" "$gin_rps") | | | | >= 0.35 |"
  echo "| **Iamport registration / 2 KB insert** | $(ratio "$iamport_rps" "$insert_tps") | | | | >= 0.30 |"
  echo "| webhook, deposit -> receiver ($(field "$out/webhook.txt" 'n=') events, one at a time, after $(field "$out/webhook.txt" 'settle_s=') s waiting for the server's webhook work$(grep -q 'settled=false' "$out/webhook.txt" && echo ', which had NOT ended')) | | $(field "$out/webhook.txt" 'p50_ms') ms | $(field "$out/webhook.txt" 'p99_ms') ms | | p50 <= 5 ms, p99 <= 25 ms |"
  echo "| webhook backlog of $(field "$out/backlog.txt" 'n=') deliveries drained | $(field "$out/backlog.txt" 'per_s') /s ($(field "$out/backlog.txt" 'drained_s') s) | | | | >= 1,000 /s |"
  echo "| start-up, exec -> /readyz 200 | $startup_ms ms | | | | <= 200 ms |"
  echo "| RSS idle after start-up | $rss_idle MB | | | | <= 30 MB |"
  echo "| RSS after preparing (the in-process fakes hold $((2 * regs + 1)) payments), then right after the read phase | $rss_prepared MB, then $rss_read MB | | | | |"
  echo "| RSS after the run (peak) | $rss_after MB ($rss_peak MB) | | | | |"
  echo
  echo "webhook queue after the registrations (replayed or new PG webhooks): $(cat "$out/drain_iamport.txt") (Iamport), $(cat "$out/drain_toss.txt") (Toss)"
  [ -s "$out/register_iamport.statements" ] && echo "statements of the Iamport registrations, per request: $out/register_iamport.statements"
  echo "run time $((finished - started)) s (build $build_s s)"
} | tee "$out/results.md"
echo "results and logs: $out"
[ -n "$profile" ] && echo "CPU profiles: $profile/*.pprof (go tool pprof -top FILE)"
exit 0
