#!/usr/bin/env bash
# The rolling-update run (docs/rolling.md): three `paymentctl serve`
# instances (a master and two slaves of the updater) on loopback ports,
# sharing one PostgreSQL schema and one `paymentctl fake`, loaded at more
# than 1,000 requests per second by scripts/rolling/load while
# `paymentctl update local` rolls them:
#   1. five times in a row, each time to a new (empty) commit;
#   2. to a commit that does not compile;
#   3. to a commit whose server never becomes ready (/monitors/health 503).
# It checks: no request failed, the good updates succeeded and the bad ones
# were reported as failed, and every instance ends on the last good commit.
#
# The updater's repository is a `git clone --local` of this repository in a
# temp directory (its committed HEAD), where the driver makes the commits;
# this repository is not touched. Everything listens on 127.0.0.1 and is
# stopped at the end. It takes about five minutes with a warm Go build
# cache.
#
# Usage: scripts/rolling/run.sh
# Environment (all optional):
#   ROLLING_POSTGRES_DSN  database to create a throw-away schema in (default
#                         $PAYMENTCTL_TEST_POSTGRES_DSN, else
#                         postgres://postgres@127.0.0.1:5432/test?sslmode=disable)
#   ROLLING_RATE          reads per second to aim at (default 1500)
#   ROLLING_WORKERS       read workers, each pinned to one instance, half
#                         keep-alive (default 12; with more than 10 requests
#                         in flight an instance's PostgreSQL pool reconnects
#                         all the time, see docs/rolling.md)
#   ROLLING_REGISTER_RATE registrations per second, by 6 workers (default 12)
#   ROLLING_UPDATES       good updates (default 5)
#   ROLLING_BASELINE      load before the first update, seconds (default 10)
#   ROLLING_GAP           load between updates, seconds (default 5)
#   ROLLING_OUT           where results.md, the logs and the reports go
#                         (default a new temp directory, printed)
#   ROLLING_KEEP=1        keep the work directory (clone, releases)
# Requires git, go, curl, jq and a PostgreSQL server.
set -euo pipefail
cd "$(dirname "$0")/../.."
src=$(pwd)

base=${ROLLING_POSTGRES_DSN:-${PAYMENTCTL_TEST_POSTGRES_DSN:-postgres://postgres@127.0.0.1:5432/test?sslmode=disable}}
rate=${ROLLING_RATE:-1500}
workers=${ROLLING_WORKERS:-12}
reg_rate=${ROLLING_REGISTER_RATE:-12}
updates=${ROLLING_UPDATES:-5}
baseline=${ROLLING_BASELINE:-10}
gap=${ROLLING_GAP:-5}
out=${ROLLING_OUT:-$(mktemp -d -t paymentctl-rolling-out.XXXXXX)}
mkdir -p "$out"
out=$(cd "$out" && pwd)
for tool in git go curl jq; do
  command -v "$tool" >/dev/null || { echo "rolling: $tool is not installed" >&2; exit 1; }
done

work=$(mktemp -d -t paymentctl-rolling.XXXXXX)
repo=$work/repo
phases=$out/phases.log
: >"$phases"
pgids=() load_pid="" update_pid="" schema=""

# pause sleeps in the background, so that a signal is handled at once.
pause() {
  sleep "$1" &
  wait $! || true
}
log() { printf '%s  %s\n' "$(date +%H:%M:%S)" "$*" | tee -a "$out/driver.log" >&2; }
loadavg() { cut -d' ' -f1-3 /proc/loadavg; }

# stop_group ends a process group started with setsid: SIGTERM, then
# SIGKILL after 20 s.
stop_group() {
  local g=$1
  kill -TERM -- "-$g" 2>/dev/null || return 0
  for _ in $(seq 200); do
    kill -0 -- "-$g" 2>/dev/null || return 0
    sleep 0.1
  done
  log "process group $g did not stop within 20 s; killing it"
  kill -KILL -- "-$g" 2>/dev/null || true
}

cleanup() {
  set +e
  trap '' INT TERM # finish cleaning up
  [ -n "$update_pid" ] && kill -TERM "$update_pid" 2>/dev/null
  if [ -n "$load_pid" ] && kill -0 "$load_pid" 2>/dev/null; then
    kill -TERM "$load_pid"
    wait "$load_pid" 2>/dev/null
  fi
  # Slaves first, then the master, then the fakes: the reverse of the start.
  for ((k = ${#pgids[@]} - 1; k >= 0; k--)); do stop_group "${pgids[k]}"; done
  [ -n "$schema" ] && "$work/bin/load" schema drop -base "$base" -name "$schema"
  if [ "${ROLLING_KEEP:-}" = 1 ]; then
    log "kept $work"
  else
    rm -rf "$work"
  fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

log "results in $out; load average $(loadavg) on $(nproc) CPUs"
load_start=$(loadavg)

# --- 1. the updater's repository, the bootstrap release, the load client
log "cloning $src (committed HEAD) into $repo"
git clone --quiet --local "$src" "$repo"
git -C "$repo" remote remove origin # self-contained: `git fetch` has nothing to fetch
git -C "$repo" config user.name "rolling run"
git -C "$repo" config user.email "rolling@localhost"
branch=$(git -C "$repo" symbolic-ref --short HEAD)
bootstrap_hash=$(git -C "$repo" rev-parse HEAD)

log "building the load client and the bootstrap release ($(git -C "$repo" rev-parse --short HEAD), -trimpath as the updater builds)"
mkdir -p "$work/bin" "$work/bootstrap"
go build -o "$work/bin/load" ./scripts/rolling/load
t0=$(date +%s)
(cd "$repo" && go build -trimpath -o "$work/bootstrap/paymentctl" ./cmd/paymentctl)
log "bootstrap built in $(($(date +%s) - t0)) s"
cli=$work/bootstrap/paymentctl # the operator's copy, outside every release directory

mapfile -t port < <("$work/bin/load" ports 12)
iamport_port=${port[9]} toss_port=${port[10]} portone_port=${port[11]}

# --- 2. database and fake PGs, shared by the instances
schema=$("$work/bin/load" schema create -base "$base")
case "$base" in *\?*) dsn="$base&search_path=$schema" ;; *) dsn="$base?search_path=$schema" ;; esac
log "PostgreSQL schema $schema created and migrated"

setsid "$cli" fake --fake-iamport-port "$iamport_port" --fake-toss-port "$toss_port" --fake-portone-port "$portone_port" \
  --ready-file "$work/fake.ready" --log-level warn >"$out/fake.log" 2>&1 &
pgids+=("$!")
for _ in $(seq 100); do [ -s "$work/fake.ready" ] && break; sleep 0.1; done
[ -s "$work/fake.ready" ] || { log "the fake PGs did not start"; cat "$out/fake.log" >&2; exit 1; }
iamport_url=http://127.0.0.1:$iamport_port
toss_url=http://127.0.0.1:$toss_port

secret=$(head -c 18 /dev/urandom | base64 | tr -d '/+=')
export PAYMENT_MODE=local PAYMENT_SYSTEM_PASSWORD="$secret" PAYMENT_LOG_LEVEL=info
common=(
  PAYMENT_DATABASE_URL="$dsn" PAYMENT_API_HOST=127.0.0.1 PAYMENT_UPDATOR_REPO="$repo"
  PAYMENT_IAMPORT_URL="$iamport_url" PAYMENT_IAMPORT_KEY=test_imp_key PAYMENT_IAMPORT_SECRET=test_imp_secret
  PAYMENT_TOSS_PAYMENTS_URL="$toss_url" PAYMENT_TOSS_PAYMENTS_SECRET=test_ak_ZORzdMaqN3wQd5k6ygr5AkYXQGwy
)

# --- 3. three instances, each started through its own <releases>/current
api=() agent=()
master_agent=127.0.0.1:${port[3]}
for i in 1 2 3; do
  api[i]=${port[i - 1]} agent[i]=${port[i + 2]}
  rel=$work/i$i/releases
  mkdir -p "$rel/bootstrap"
  cp "$work/bootstrap/paymentctl" "$rel/bootstrap/paymentctl"
  ln -sfn bootstrap "$rel/current"
  master=$master_agent
  [ "$i" = 1 ] && master=""
  (cd "$work/i$i" && exec env "${common[@]}" \
    PAYMENT_API_PORT="${api[i]}" PAYMENT_UPDATOR_PORT="${agent[i]}" PAYMENT_METRICS_ADDR="127.0.0.1:${port[i + 5]}" \
    PAYMENT_UPDATOR_RELEASES="$rel" PAYMENT_UPDATOR_MASTER="$master" \
    setsid "$rel/current/paymentctl" serve --pid-file "$work/i$i/pid" >"$out/i$i.log" 2>&1) &
  pgids+=("$!")
done
urls=() monitor_args=()
for i in 1 2 3; do
  url=http://127.0.0.1:${api[i]}
  for _ in $(seq 300); do curl -fsS -o /dev/null "$url/monitors/health" 2>/dev/null && break; sleep 0.1; done
  curl -fsS -o /dev/null "$url/monitors/health" || { log "instance $i did not become healthy"; tail -20 "$out/i$i.log" >&2; exit 1; }
  urls+=("$url") monitor_args+=(--url "$url")
done
log "instances serving: ${urls[*]} (master agent $master_agent)"
"$work/bin/load" members -master "$master_agent" -want 3 | tee -a "$out/driver.log"

# --- 4. the load, for the whole run
log "starting the load: $rate reads/s ($workers workers) and $reg_rate registrations/s over 3 instances"
"$work/bin/load" run -api "$(IFS=,; echo "${urls[*]}")" -iamport "$iamport_url" -toss "$toss_url" \
  -rate "$rate" -workers "$workers" -register-rate "$reg_rate" -register-workers 6 \
  -started "$work/load.started" -phases "$phases" -out "$out" >"$out/load.out" 2>"$out/load.err" &
load_pid=$!
for _ in $(seq 600); do [ -e "$work/load.started" ] && break; kill -0 "$load_pid" 2>/dev/null || break; sleep 0.1; done
[ -e "$work/load.started" ] || { log "the load did not start"; cat "$out/load.err" >&2; exit 1; }
load_before=$(loadavg)
log "load running; baseline for ${baseline} s (load average $load_before)"
pause "$baseline"

# update LABEL [ARGS]: runs `paymentctl update local` under the load, marks
# its window in the phases file and records its outcome in $out/updates.tsv.
: >"$out/updates.tsv"
update() {
  local label=$1 t0 t1 rc outcome target
  shift
  target=$(git -C "$repo" rev-parse HEAD)
  echo "$(date +%s%N) begin $label" >>"$phases"
  t0=$(date +%s%N)
  rc=0
  # In the background, so that a signal to this script is handled at once.
  env PAYMENT_UPDATOR_PORT="${agent[1]}" "$cli" update local "$@" >"$out/$label.log" 2>&1 &
  update_pid=$!
  wait "$update_pid" || rc=$?
  update_pid=""
  t1=$(date +%s%N)
  if [ "$rc" = 0 ]; then
    outcome="ok: every instance on ${target:0:7}"
  else
    outcome="failed (exit $rc): $(grep -m1 -o 'update FAILED.*' "$out/$label.log" | cut -c1-160)"
  fi
  echo "$t1 end $label $outcome" >>"$phases"
  printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$label" "${target:0:7}" "$(awk "BEGIN{printf \"%.1f\", ($t1-$t0)/1e9}")" "$rc" "$(loadavg)" "$outcome" >>"$out/updates.tsv"
  log "$label → ${target:0:7}: $outcome ($(awk "BEGIN{printf \"%.1f\", ($t1-$t0)/1e9}") s, load average $(loadavg))"
  return 0
}

failures=()
for n in $(seq "$updates"); do
  git -C "$repo" commit --quiet --allow-empty -m "rolling: empty commit $n"
  update "update-$n"
  [ "$(cut -f4 "$out/updates.tsv" | tail -1)" = 0 ] || failures+=("update-$n did not succeed")
  pause "$gap"
done
good=$(git -C "$repo" rev-parse HEAD)

# A revision that does not compile.
cat >"$repo/cmd/paymentctl/rolling_broken.go" <<'EOF'
package main

// This revision must not build: the rolling run checks that the updater
// reports it and leaves every instance on the previous commit.
var rollingBroken int = "not an int"
EOF
git -C "$repo" add cmd/paymentctl/rolling_broken.go
git -C "$repo" commit --quiet -m "rolling: a revision that does not compile"
update "broken-build"
[ "$(cut -f4 "$out/updates.tsv" | tail -1)" != 0 ] || failures+=("broken-build was not reported as failed")
git -C "$repo" revert --quiet --no-edit HEAD
pause "$gap"

# A revision that builds but never becomes ready: /monitors/health, the
# readiness check of a handoff, always answers 503.
health='func (h *monitorHandlers) health(c *gin.Context) {'
grep -qF "$health" "$repo/server/monitor_handlers.go" || { log "server/monitor_handlers.go has no health handler to break"; exit 1; }
perl -0pi -e 's/(\Q'"$health"'\E\n)/$1\tc.String(http.StatusServiceUnavailable, "rolling: this revision never becomes ready")\n\treturn\n/' "$repo/server/monitor_handlers.go"
grep -q 'this revision never becomes ready' "$repo/server/monitor_handlers.go" || { log "could not patch the health handler"; exit 1; }
git -C "$repo" commit --quiet -am "rolling: a revision that never becomes ready"
update "never-ready"
[ "$(cut -f4 "$out/updates.tsv" | tail -1)" != 0 ] || failures+=("never-ready was not reported as failed")
pause "$gap"

# --- 5. stop the load, read every instance's commit
load_end=$(loadavg)
kill -INT "$load_pid"
load_rc=0
wait "$load_pid" || load_rc=$?
load_pid=""
[ "$load_rc" = 0 ] || failures+=("the load client reported failed requests or an error (exit $load_rc)")

"$cli" monitor local "${monitor_args[@]}" --json >"$out/monitor.json" 2>"$out/monitor.err" || failures+=("monitor failed")
jq -r '.[] | [.instance, .status, (.system.commit.hash // ""), .version, .uptime_seconds] | @tsv' "$out/monitor.json" >"$out/commits.tsv" || true
while IFS=$'\t' read -r inst status commit _; do
  [ "$status" = up ] && [ "$commit" = "$good" ] || failures+=("$inst: $status on ${commit:-?}, want $good")
done <"$out/commits.tsv"
[ "$(wc -l <"$out/commits.tsv")" = 3 ] || failures+=("monitor listed $(wc -l <"$out/commits.tsv") instances, want 3")

# --- results.md
{
  echo "# Rolling-update run, $(date -u +'%Y-%m-%d %H:%M UTC')"
  echo
  echo "Machine: $(nproc) CPUs, $(go version | cut -d' ' -f3). Load average (1, 5, 15 min): $load_start at the start, $load_before when the load began, $load_end at its end."
  echo "Branch \`$branch\`: bootstrap ${bootstrap_hash:0:7} (built without stamps), last good commit ${good:0:7}."
  echo
  echo "| update | target | took | exit | load average after | outcome |"
  echo "|---|---|--:|--:|---|---|"
  while IFS=$'\t' read -r label target took rc avg outcome; do
    echo "| $label | $target | $took s | $rc | $avg | $outcome |"
  done <"$out/updates.tsv"
  echo
  cat "$out/report.md" 2>/dev/null || echo "(the load client wrote no report: see load.err)"
  echo
  echo "Every instance at the end (\`paymentctl monitor local --url … --json\`):"
  echo
  echo "| instance | status | commit | version | uptime (s) |"
  echo "|---|---|---|---|--:|"
  while IFS=$'\t' read -r inst status commit version uptime; do
    echo "| $inst | $status | ${commit:0:7} | $version | $uptime |"
  done <"$out/commits.tsv"
  echo
  if [ ${#failures[@]} = 0 ]; then
    echo "All checks passed."
  else
    echo "Checks that FAILED:"
    printf -- '- %s\n' "${failures[@]}"
  fi
} >"$out/results.md"
cat "$out/results.md"
log "results in $out/results.md"
[ ${#failures[@]} = 0 ]
