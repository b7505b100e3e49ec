#!/usr/bin/env bash
# The growth run of paymentctl (docs/performance.md): does a read or a
# registration get slower as the database fills? A running `paymentctl
# serve` on PostgreSQL (fakes in process), its database filled with COPY
# (not through the API: `load fill`) to each size in turn, default 1,000,
# 100,000 and 1,000,000 histories with cancels (1 in 10) and webhook logs
# with their delivery attempt (3 in 10). At each size it measures:
#   - encrypted reads of histories picked at random from the whole table
#     (wrk, read_many.lua), rate and p99;
#   - Iamport card registrations (wrk, register.lua), rate and p99;
#   - the database's size per 1,000 payments (tables, indexes, TOAST);
#   - the plans of the read's and the registration's look-ups
#     (EXPLAIN (ANALYZE, BUFFERS), in $LOAD_OUT/explain_SIZE.txt).
# Filling 1,000,000 takes a few minutes and about 3 GB.
#
# Usage: scripts/load/growth.sh
# Environment (all optional): LOAD_POSTGRES_DSN, LOAD_DURATION (reads,
# default 10s), LOAD_REG_DURATION (default 2s: each size's registrations
# must last that long, and the fake keeps 10,000 payments for all three
# sizes), LOAD_CONNECTIONS,
# LOAD_PROFILE, LOAD_OUT as for run.sh, and
#   LOAD_SIZES          the sizes, ascending (default "1000 100000 1000000")
#   LOAD_REGISTRATIONS  payments prepared for each size's registration
#                       phase (default 2500; the fake keeps 10,000)
set -euo pipefail
cd "$(dirname "$0")/../.."

base=${LOAD_POSTGRES_DSN:-${PAYMENTCTL_TEST_POSTGRES_DSN:-postgres://postgres@127.0.0.1:5432/test?sslmode=disable}}
duration=${LOAD_DURATION:-10s}
reg_duration=${LOAD_REG_DURATION:-2s}
conns=${LOAD_CONNECTIONS:-32}
sizes=${LOAD_SIZES:-1000 100000 1000000}
regs=${LOAD_REGISTRATIONS:-2500}
profile=${LOAD_PROFILE:-}
out=${LOAD_OUT:-$(mktemp -d -t paymentctl-growth.XXXXXX)}
threads=2
mkdir -p "$out"
[ -n "$profile" ] && mkdir -p "$profile" && profile=$(cd "$profile" && pwd)
# shellcheck source=lib.sh
. scripts/load/lib.sh

load_before=$(cut -d' ' -f1-3 /proc/loadavg)
build
make_schema
start_server
steps=$(wc -w <<<"$sizes")
echo "== preparing: $((regs * steps)) Iamport payments at the fake"
"$work/load" prepare -api "$url" -iamport "$iamport_url" -toss "$toss_url" -dir "$work" -n "$((regs * steps))" -pgs iamport -dsn "$dsn" | tee "$out/prepare.txt"
split -d -n "l/$steps" "$work/iamport.bodies" "$work/iamport.part."

# size_mb: the schema's tables with their indexes and TOAST, in MB.
size_mb() {
  psql -XAt -c "SELECT round(sum(pg_total_relation_size(c.oid)) / 1048576.0, 1) FROM pg_class c
    JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = '$schema' AND c.relkind = 'r'" "$base"
}
# explain SIZE: the plans of what a read and a registration ask, on a
# sampled history.
explain() {
  local id
  id=$(head -n 1 "$work/read.ids")
  PGOPTIONS="-c search_path=$schema" psql -X -v ON_ERROR_STOP=1 "$base" >"$out/explain_$1.txt" <<SQL
EXPLAIN (ANALYZE, BUFFERS) SELECT h.id, h.data, h.password, c.id, c.data FROM payment_histories h
  LEFT JOIN payment_history_cancels c ON c.payment_history_id = h.id WHERE h.id = '$id'
  ORDER BY c.created_at, c.sequence, c.id;
EXPLAIN (ANALYZE, BUFFERS) SELECT 1 FROM payment_histories WHERE vendor_code = 'iamport' AND vendor_uid = 'imp_none';
EXPLAIN (ANALYZE, BUFFERS) SELECT 1 FROM payment_histories WHERE service = '' AND source_schema = 'load' AND source_table = 'orders' AND source_id = 'none';
EXPLAIN (ANALYZE, BUFFERS) SELECT * FROM payment_operations WHERE vendor_code = 'iamport' AND vendor_uid = 'imp_none';
EXPLAIN (ANALYZE, BUFFERS) UPDATE payment_pending_webhooks SET applied_at = now() WHERE vendor_code = 'iamport' AND vendor_uid = 'imp_none' AND applied_at IS NULL RETURNING id;
SQL
}

i=0
rows=()
for size in $sizes; do
  echo "== filling to $size histories"
  "$work/load" fill -api "$url" -iamport "$iamport_url" -dsn "$dsn" -to "$size" -dir "$work" | tee "$out/fill_$size.txt"
  histories=$(psql -XAt -c "SELECT count(*) FROM $schema.payment_histories" "$base")
  mb=$(size_mb)
  explain "$size"
  phase "read_$size" read_many.lua "$duration"
  phase "register_$size" register.lua "$reg_duration" BODIES="$work/iamport.part.$(printf %02d "$i")"
  "$work/load" drain -dsn "$dsn" -timeout 90s >/dev/null
  rows+=("$size|$histories|$mb")
  i=$((i + 1))
done

{
  echo "Growth run $(date -u +%Y-%m-%dT%H:%M:%SZ), $(nproc) cores, load average before: $load_before"
  echo "server: paymentctl serve, PostgreSQL $(psql -XAtc 'SHOW server_version' "$base" 2>/dev/null || echo '?'), wrk -t$threads -c$conns, reads for $duration, registrations for at most $reg_duration"
  echo
  echo "| histories | read req/s | read p99 | registration req/s | registration p99 | database per 1,000 payments | read vs first | registration vs first |"
  echo "|---|---|---|---|---|---|---|---|"
  first_read="" first_reg=""
  for r in "${rows[@]}"; do
    IFS='|' read -r size histories mb <<<"$r"
    rr=$(field "$out/read_$size.txt" 'ok_per_s') rg=$(field "$out/register_$size.txt" 'ok_per_s')
    [ -z "$first_read" ] && first_read=$rr first_reg=$rg
    echo "| $histories | $rr ($(field "$out/read_$size.txt" 'other') errors) | $(field "$out/read_$size.txt" 'p99_ms') ms | $rg ($(field "$out/register_$size.txt" 'other') errors$(grep -q 'ran out' "$out/register_$size.txt" && echo ', payments ran out: lower bound')) | $(field "$out/register_$size.txt" 'p99_ms') ms | $(awk -v m="$mb" -v h="$histories" 'BEGIN { printf "%.2f MB", m / (h / 1000) }') | $(ratio "$rr" "$first_read") | $(ratio "$rg" "$first_reg") |"
  done
  echo
  echo "plans: $out/explain_*.txt; build $build_s s"
} | tee "$out/results.md"
echo "results and logs: $out"
exit 0
