# Shared by the load runs (run.sh, growth.sh), sourced from the repository
# root: checks, the throw-away schema, building and starting `paymentctl
# serve` on PostgreSQL with the fakes in process, and wrk phases with the
# CPU the server and PostgreSQL spent per request.
#
# Before sourcing, set base (the database to make the schema in), out
# (where logs and results go), conns and threads (wrk), profile (a
# directory for CPU profiles, or empty).

command -v wrk >/dev/null || { echo "wrk is not installed: apt-get install -y wrk" >&2; exit 1; }
command -v psql >/dev/null || { echo "psql is not installed (PostgreSQL's client tools)" >&2; exit 1; }

work=$(mktemp -d -t paymentctl-load-work.XXXXXX)
server_pid="" schema="" gin_pid=""
cleanup() {
  [ -n "$gin_pid" ] && kill "$gin_pid" 2>/dev/null || true
  stop_server
  [ -n "$schema" ] && "$work/load" schema drop -base "$base" -name "$schema" || true
  rm -rf "$work"
}
trap cleanup EXIT

# build: the binary and the helper, timed (build_s).
build() {
  local t0
  t0=$(date +%s)
  echo "== building paymentctl and the helper"
  go build -o "$work/paymentctl" ./cmd/paymentctl
  go build -o "$work/load" ./scripts/load
  build_s=$(($(date +%s) - t0))
}

# make_schema: free ports, a migrated schema, and the server's environment
# (api, iamport, toss, ... ports; dsn; url, iamport_url, toss_url).
make_schema() {
  mapfile -t port < <("$work/load" ports 8)
  api=${port[0]} iamport=${port[1]} toss=${port[2]} metrics=${port[3]} pprof=${port[4]} portone=${port[5]} ginport=${port[6]} updater=${port[7]}
  schema=$("$work/load" schema create -base "$base")
  case "$base" in *\?*) dsn="$base&search_path=$schema" ;; *) dsn="$base?search_path=$schema" ;; esac
  export PAYMENT_DATABASE_URL="$dsn" PAYMENT_API_HOST=127.0.0.1 PAYMENT_API_PORT="$api" \
    PAYMENT_FAKE_IAMPORT_PORT="$iamport" PAYMENT_FAKE_TOSS_PORT="$toss" PAYMENT_FAKE_PORTONE_PORT="$portone" \
    PAYMENT_METRICS_ADDR="127.0.0.1:$metrics" PAYMENT_UPDATOR_PORT="$updater" PAYMENT_LOG_LEVEL=warn
  url="http://127.0.0.1:$api"
  iamport_url="http://127.0.0.1:$iamport"
  toss_url="http://127.0.0.1:$toss"
  # PostgreSQL's own processes (children of its postmaster), so that other
  # clusters on the machine are not counted.
  local datadir
  datadir=$(psql -XAt -c "SHOW data_directory" "$base" 2>/dev/null || true)
  pg_master=""
  [ -n "$datadir" ] && [ -r "$datadir/postmaster.pid" ] && pg_master=$(head -n 1 "$datadir/postmaster.pid")
}

# start_server: serve (with --pprof-addr when profiling), waiting for the
# first 200 of /readyz, asked every 2 ms (`load ready`); startup_ms is
# exec to ready.
start_server() {
  local pprof_flag=() exec_ns
  [ -n "$profile" ] && pprof_flag=(--pprof-addr "127.0.0.1:$pprof")
  echo "== paymentctl serve on $url (schema $schema)${profile:+, pprof on 127.0.0.1:$pprof}"
  exec_ns=$(date +%s%N)
  "$work/paymentctl" serve "${pprof_flag[@]}" 2>>"$out/serve.log" &
  server_pid=$!
  startup_ms=$("$work/load" ready -url "$url" -since "$exec_ns" -pid "$server_pid") ||
    { cat "$out/serve.log" >&2; echo "the server did not come up" >&2; exit 1; }
  echo "start-up (exec to ready): $startup_ms ms"
}

# stop_server: SIGTERM and wait.
stop_server() {
  if [ -n "$server_pid" ] && kill -0 "$server_pid" 2>/dev/null; then
    kill -TERM "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
  fi
  server_pid=""
}

# rss KIND: the server's VmRSS or VmHWM in MB.
rss() { awk -v k="$1:" '$1 == k {printf "%.1f", $2/1024}' "/proc/$server_pid/status"; }

# phase NAME SCRIPT DURATION [ENV...]: one wrk run, with a CPU profile
# when asked; its report, CPU and statement lines go to $out/NAME.txt.
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
  local before after stmts0 stmts1 requests
  stmts0=$(stmt_sample)
  stmt_calls >"$out/$name.calls0"
  before=$(cpu_sample | tr '\n' ' ')
  env "$@" LOAD_DIR="$work" WRK_THREADS=$threads \
    wrk -t"$threads" -c"$conns" -d"$length" --latency -s "scripts/load/$script" "$url" >"$out/$name.txt"
  after=$(cpu_sample | tr '\n' ' ')
  stmts1=$(stmt_sample)
  stmt_calls >"$out/$name.calls1"
  requests=$(sed -n 's/^ *\([0-9]*\) requests in.*/\1/p' "$out/$name.txt")
  grep -q '^status ' "$out/$name.txt" || wrk_counts "$out/$name.txt" >>"$out/$name.txt"
  cpu_report "$name" "$before" "$after" "$requests" >>"$out/$name.txt"
  if [ -n "$stmts0" ] && [ -n "$stmts1" ]; then
    awk -v s=$((stmts1 - stmts0)) -v r="${requests:-0}" \
      'BEGIN { if (r < 1) r = 1; printf "statements pg_statements_per_req=%.2f\n", s / r }' >>"$out/$name.txt"
    stmt_diff "$out/$name.calls0" "$out/$name.calls1" "${requests:-0}" >"$out/$name.statements"
  fi
  cat "$out/$name.txt"
  [ -n "$prof_pid" ] && wait "$prof_pid"
  return 0
}

# wrk_counts FILE: the status, rate and latency lines of a phase whose
# script has no response() callback (the read: wrk then parses no answer
# in Lua, as for the gin baseline), from wrk's own report. An answer
# other than 2xx/3xx ("Non-2xx or 3xx responses") and every socket error
# (connect, read, write, timeout) is counted as not a read; latency
# percentiles come from --latency.
wrk_counts() {
  awk '
    function ms(v) {
      if (v ~ /us$/) return v / 1000
      if (v ~ /ms$/) return v + 0
      if (v ~ /m$/) return v * 60000
      if (v ~ /s$/) return v * 1000
      return v + 0
    }
    / requests in / { n = $1; d = $4; sub(/,$/, "", d); secs = ms(d) / 1000 }
    /^ *Non-2xx or 3xx responses:/ { bad += $NF }
    /^ *Socket errors:/ { for (i = 3; i <= NF; i += 2) { v = $(i + 1); sub(/,$/, "", v); sock += v } }
    /^ *(50|90|99)% / && lat { p[$1] = ms($2) }
    /Latency Distribution/ { lat = 1 }
    END {
      ok = n - bad - sock
      if (ok < 0) ok = 0
      if (secs <= 0) secs = 1
      printf "status ok=%d other=%d (non-2xx %d, socket errors %d)\n", ok, bad + sock, bad, sock
      printf "rate ok_per_s=%.1f over %.1fs\n", ok / secs, secs
      printf "latency p50_ms=%.2f\nlatency p90_ms=%.2f\nlatency p99_ms=%.2f\n", p["50%"], p["90%"], p["99%"]
    }' "$1"
}

# cpu_sample: "busy total" jiffies of the machine, the server's
# user+system jiffies, the database's transactions, and PostgreSQL's
# processes as pid:jiffies (a backend that exits before the second sample
# is not counted).
cpu_sample() {
  awk '/^cpu / {print $2+$3+$4+$7+$8, $2+$3+$4+$5+$6+$7+$8}' /proc/stat
  awk '{print $14+$15}' "/proc/$server_pid/stat"
  psql -XAt -c "SELECT xact_commit + xact_rollback FROM pg_stat_database WHERE datname = current_database()" "$base"
  local pids
  if [ -n "$pg_master" ]; then pids=$(pgrep -P "$pg_master"); else pids=$(pgrep -u postgres); fi
  for p in $pids; do awk -v p="$p" '{printf "%s:%d,", p, $14+$15}' "/proc/$p/stat" 2>/dev/null; done
  echo
}

# cpu_report NAME BEFORE AFTER REQUESTS: machine busy % and the CPU of the
# server and of PostgreSQL per request over a phase.
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

# stmt_sample: statements PostgreSQL has run in the run's database so far
# (pg_stat_statements, when installed there; else empty).
stmt_sample() {
  psql -XAt -c "SELECT coalesce(sum(calls), 0) FROM pg_stat_statements WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database())" "$base" 2>/dev/null || true
}

# stmt_calls: calls and text of each statement of the run's database so
# far (pg_stat_statements; empty without it), one "queryid calls text"
# a line, tab-separated.
stmt_calls() {
  psql -XAt -F $'\t' -c "SELECT queryid, calls, left(regexp_replace(query, '\s+', ' ', 'g'), 160) FROM pg_stat_statements WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database())" "$base" 2>/dev/null || true
}

# stmt_diff BEFORE AFTER REQUESTS: the statements a phase ran, most
# called first, with their calls per request: where its transactions and
# round trips went.
stmt_diff() {
  awk -F'\t' -v r="$3" 'NR == FNR { before[$1] = $2; next }
    { n = $2 - before[$1]; if (n > 0) printf "%.3f per request (%d): %s\n", n / (r < 1 ? 1 : r), n, $3 }' "$1" "$2" | sort -rn
}

# cpu_cell FILE: the CPU line of a phase as a table cell.
cpu_cell() { echo "$(field "$1" 'machine_busy_pct') % busy; server $(field "$1" 'server_ms_per_req') ms, PostgreSQL $(field "$1" 'postgres_ms_per_req') ms, $(field "$1" 'pg_xacts_per_req') transactions$(stmt_cell "$1")"; }
# stmt_cell FILE: the statements per request of a phase, when counted.
stmt_cell() { local v; v=$(field "$1" 'pg_statements_per_req'); [ -n "$v" ] && echo ", $v statements"; return 0; }
# ratio A B: A / B to two places, or ? when either is missing.
ratio() { awk -v a="${1:-0}" -v b="${2:-0}" 'BEGIN { if (a > 0 && b > 0) printf "%.2f", a / b; else printf "?" }'; }
# field FILE REGEX: the first number after REGEX in a wrk report.
field() { sed -n "s/.*$2[= ]*\([0-9.]*\).*/\1/p" "$1" | head -n 1; }
