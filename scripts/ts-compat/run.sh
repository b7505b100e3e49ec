#!/usr/bin/env bash
# Runs the original TypeScript SDK (payment-backend@4.0.0, lib/api) against
# a fresh `paymentctl serve` in local mode and prints "N passed, N failed";
# then again against a server with two services (services.list,
# require_key), calling as one of them: its API key in the connection's
# headers, its own key, IV and webhook secret.
#
#   scripts/ts-compat/run.sh [flow-name-substring...]
#
# Steps: npm ci from the lock file; the SDK tarball with `npm pack`, checked
# against its pinned integrity and unpacked as node_modules/payment-backend
# (the package itself cannot be installed: its runtime dependencies
# fake-iamport-server and fake-toss-payments-server are not on the
# registry); compile the flows (tsc with the typia transform); build
# paymentctl; generate a webhook secret with `paymentctl config generate`;
# serve it from a temporary directory on free loopback ports; run the
# flows, which verify every forwarded webhook with the npm standardwebhooks
# package; stop the server; the same with services configured. Exit status
# 0 only if every flow of both runs passed.
#
# TSCOMPAT_SKIP_INSTALL=1 reuses node_modules; TSCOMPAT_KEEP=1 keeps the
# temporary directory (server log, SQLite file).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
sdk_spec="payment-backend@4.0.0"
sdk_integrity="sha512-2Ad6RxDKZvx2KXhkZelh0ZXx7oZpjtceFS1CVqzIrKcCjIwa8u+zCD+VBqIyKHD3F8JwtdERQ3gWdcXtruTtgw=="
key="MCKOxv9B23r7EatArCFcBP03nfaS03T8"
iv="9haeYD1tIf4v8xs7"

compat_name=ts-compat compat_keep="${TSCOMPAT_KEEP:-}" compat_signal=TERM
# shellcheck source=../compat.sh
. "$root/scripts/compat.sh"

cd "$here"

# 1. Node dependencies and the original SDK.
npm_ci node_modules/typia "${TSCOMPAT_SKIP_INSTALL:-}"
if [[ ! -f node_modules/payment-backend/lib/api/index.js ]]; then
	echo "== npm pack $sdk_spec" >&2
	packed="$(npm pack "$sdk_spec" --json --pack-destination "$tmp" 2>/dev/null)" || unavailable "npm pack $sdk_spec failed"
	got="$(node -e 'const j=JSON.parse(require("fs").readFileSync(0,"utf8"));console.log(j[0].filename+" "+j[0].integrity)' <<<"$packed")"
	[[ "${got#* }" == "$sdk_integrity" ]] || fail "$sdk_spec integrity ${got#* }, want $sdk_integrity"
	mkdir -p node_modules/payment-backend
	tar -xzf "$tmp/${got%% *}" -C node_modules/payment-backend --strip-components=1 package/package.json package/lib
fi

# 2. Compile the flows (typia's transform needs the TypeScript program).
echo "== tspc" >&2
rm -rf build
node_modules/.bin/tspc -p tsconfig.json >&2 || fail "TypeScript compilation failed"

# 3. Build paymentctl.
build_paymentctl "$root"

# A webhook signing secret as an operator makes one: the whsec_ line of
# `paymentctl config generate`. The receiver verifies every forwarded
# webhook with it through the npm `standardwebhooks` package.
webhook_secret="$("$tmp/paymentctl" config generate | sed -n 's/^PAYMENT_WEBHOOK_SECRET=//p')"
[[ "$webhook_secret" == whsec_* ]] || fail "config generate printed no whsec_ PAYMENT_WEBHOOK_SECRET"

# Services: the second run configures two services and calls as one of
# them, its API key in the connection's headers (`Authorization: Bearer`),
# with its own key, IV and webhook secret, and requires a key. The
# credentials are what `paymentctl config generate --service` prints.
service_field() { sed -n "s/^$2: *//p; s/^ *$2: *//p" <<<"$1" | head -1; }
shop="$("$tmp/paymentctl" config generate --service shop)"
billing="$("$tmp/paymentctl" config generate --service billing)"
shop_api_key="$(service_field "$shop" api_key)"
shop_key="$(sed -n 's/.*encryption: {key: "\([^"]*\)".*/\1/p' <<<"$shop")"
shop_iv="$(sed -n 's/.*iv: "\([^"]*\)".*/\1/p' <<<"$shop")"
shop_whsec="$(sed -n 's/.*webhook_secret: "\([^"]*\)".*/\1/p' <<<"$shop")"
[[ "$shop_api_key" == pk_* && ${#shop_key} == 32 && ${#shop_iv} == 16 && "$shop_whsec" == whsec_* ]] ||
	fail "config generate --service printed no usable credentials"
# The YAML entries config generate printed, as the services.list of a file.
{
	echo "services:"
	echo "  require_key: true"
	echo "  list:"
	sed -n '/^  - name:/,$p' <<<"$shop"
	sed -n '/^  - name:/,$p' <<<"$billing"
} >"$tmp/services.yaml"

mkdir -p "$tmp/work"

# run_flows LABEL [paymentctl serve flags...] -- [flow environment...]:
# serve paymentctl in local mode from a fresh directory on free ports, run
# the flows against it with the given environment, stop the server. It
# returns the flows' exit status.
run_flows() {
	local label="$1"
	shift
	local serve_args=()
	while [[ $# -gt 0 && "$1" != -- ]]; do serve_args+=("$1"); shift; done
	shift
	local work="$tmp/work/$label"
	mkdir -p "$work"
	local api_port iamport_port toss_port metrics_port portone_port updator_port
	read -r api_port iamport_port toss_port metrics_port portone_port updator_port < <(free_ports 6)
	echo "== [$label] paymentctl serve on 127.0.0.1:$api_port (fakes $iamport_port, $toss_port, $portone_port)" >&2
	(
		cd "$work"
		exec env "${scrub[@]}" \
			PAYMENT_MODE=local \
			PAYMENT_FAKE_IAMPORT_PORT="$iamport_port" \
			PAYMENT_FAKE_TOSS_PORT="$toss_port" \
			PAYMENT_FAKE_PORTONE_PORT="$portone_port" \
			PAYMENT_METRICS_ADDR="127.0.0.1:$metrics_port" \
			PAYMENT_UPDATOR_PORT="$updator_port" \
			PAYMENT_CONNECTION_ENCRYPTION_KEY="$key" \
			PAYMENT_CONNECTION_ENCRYPTION_IV="$iv" \
			PAYMENT_WEBHOOK_SECRET="$webhook_secret" \
			"$tmp/paymentctl" serve --api-host 127.0.0.1 --api-port "$api_port" "${serve_args[@]}"
	) >"$work/server.log" 2>&1 &
	child_pid=$!

	local api="http://127.0.0.1:$api_port" ready=0
	for _ in $(seq 1 300); do
		kill -0 "$child_pid" 2>/dev/null || break
		if node -e 'fetch(process.argv[1]).then((r) => process.exit(r.status === 200 ? 0 : 1), () => process.exit(1))' "$api/monitors/health"; then
			ready=1
			break
		fi
		sleep 0.1
	done
	if [[ "$ready" != 1 ]]; then
		cat "$work/server.log" >&2
		fail "[$label] paymentctl did not become healthy at $api"
	fi

	echo "== [$label] flows" >&2
	local code
	set +e
	env TSCOMPAT_API="$api" \
		TSCOMPAT_IAMPORT="http://127.0.0.1:$iamport_port" \
		TSCOMPAT_TOSS="http://127.0.0.1:$toss_port" \
		"$@" \
		node build/main.js "${flows[@]}" | sed "s/^/[$label] /"
	code=${PIPESTATUS[0]}
	set -e

	stop_child
	if [[ "$code" != 0 ]]; then
		echo "== [$label] last lines of the server log" >&2
		tail -n 40 "$work/server.log" >&2
	fi
	return "$code"
}

flows=("$@")
status=0
# 4. The flows as the original runs them: no services, the top-level keys.
run_flows default -- \
	PAYMENT_CONNECTION_ENCRYPTION_KEY="$key" \
	PAYMENT_CONNECTION_ENCRYPTION_IV="$iv" \
	PAYMENT_WEBHOOK_SECRET="$webhook_secret" || status=1
# 5. Again as the service "shop" of a server with two services.
run_flows services --config "$tmp/services.yaml" -- \
	TSCOMPAT_API_KEY="$shop_api_key" \
	PAYMENT_CONNECTION_ENCRYPTION_KEY="$shop_key" \
	PAYMENT_CONNECTION_ENCRYPTION_IV="$shop_iv" \
	PAYMENT_WEBHOOK_SECRET="$shop_whsec" || status=1
exit "$status"
