#!/usr/bin/env bash
# Runs the original TypeScript SDK (payment-backend@4.0.0, lib/api) against
# a fresh `paymentctl serve` in local mode and prints "N passed, N failed".
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
# package; stop the server. Exit status 0 only if every flow passed.
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

tmp="$(mktemp -d "${TMPDIR:-/tmp}/ts-compat.XXXXXX")"
server_pid=""

fail() {
	echo "ts-compat: $*" >&2
	echo "0 passed, 1 failed"
	exit 1
}

# unavailable: the npm registry could not be reached for the packages; exit
# 3 so CI can tell "could not check" from "incompatible".
unavailable() {
	echo "ts-compat: $* (packages unavailable, nothing was checked)" >&2
	exit 3
}

stop_server() {
	[[ -n "$server_pid" ]] || return 0
	if kill -0 "$server_pid" 2>/dev/null; then
		kill -TERM "$server_pid" 2>/dev/null || true
		for _ in $(seq 1 100); do
			kill -0 "$server_pid" 2>/dev/null || break
			sleep 0.1
		done
		if kill -0 "$server_pid" 2>/dev/null; then
			echo "ts-compat: server did not stop on SIGTERM within 10 s; killing it" >&2
			kill -KILL "$server_pid" 2>/dev/null || true
		fi
	fi
	wait "$server_pid" 2>/dev/null || true
	server_pid=""
}

cleanup() {
	stop_server
	if [[ "${TSCOMPAT_KEEP:-}" == 1 ]]; then
		echo "ts-compat: kept $tmp" >&2
	else
		rm -rf "$tmp"
	fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

cd "$here"

# 1. Node dependencies and the original SDK.
if [[ "${TSCOMPAT_SKIP_INSTALL:-}" != 1 || ! -d node_modules/typia ]]; then
	echo "== npm ci" >&2
	npm ci --ignore-scripts --no-audit --no-fund --loglevel=error >&2 || unavailable "npm ci failed"
fi
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
echo "== go build ./cmd/paymentctl" >&2
(cd "$root" && go build -o "$tmp/paymentctl" ./cmd/paymentctl) >&2 || fail "go build failed"

# A webhook signing secret as an operator makes one: the whsec_ line of
# `paymentctl config generate`. The receiver verifies every forwarded
# webhook with it through the npm `standardwebhooks` package.
webhook_secret="$("$tmp/paymentctl" config generate | sed -n 's/^PAYMENT_WEBHOOK_SECRET=//p')"
[[ "$webhook_secret" == whsec_* ]] || fail "config generate printed no whsec_ PAYMENT_WEBHOOK_SECRET"

# 4. Serve it in local mode from a temporary directory on free ports.
# Every port the server listens on is a free one, never a default: a real
# `paymentctl serve` may be running on this machine.
read -r api_port iamport_port toss_port metrics_port portone_port updator_port < <(node -e '
const net = require("net");
(async () => {
  const servers = [];
  for (let i = 0; i < 6; i++) {
    const s = net.createServer();
    await new Promise((r) => s.listen(0, "127.0.0.1", r));
    servers.push(s);
  }
  console.log(servers.map((s) => s.address().port).join(" "));
  servers.forEach((s) => s.close());
})();')
mkdir -p "$tmp/work"
scrub=()
while IFS= read -r name; do scrub+=(-u "$name"); done < <(env | grep -o '^PAYMENT_[A-Za-z0-9_]*' || true)
echo "== paymentctl serve on 127.0.0.1:$api_port (fakes $iamport_port, $toss_port, $portone_port)" >&2
(
	cd "$tmp/work"
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
		"$tmp/paymentctl" serve --api-host 127.0.0.1 --api-port "$api_port"
) >"$tmp/server.log" 2>&1 &
server_pid=$!

api="http://127.0.0.1:$api_port"
ready=0
for _ in $(seq 1 300); do
	kill -0 "$server_pid" 2>/dev/null || break
	if node -e 'fetch(process.argv[1]).then((r) => process.exit(r.status === 200 ? 0 : 1), () => process.exit(1))' "$api/monitors/health"; then
		ready=1
		break
	fi
	sleep 0.1
done
if [[ "$ready" != 1 ]]; then
	cat "$tmp/server.log" >&2
	fail "paymentctl did not become healthy at $api"
fi

# 5. The flows.
echo "== flows" >&2
set +e
TSCOMPAT_API="$api" \
	TSCOMPAT_IAMPORT="http://127.0.0.1:$iamport_port" \
	TSCOMPAT_TOSS="http://127.0.0.1:$toss_port" \
	PAYMENT_CONNECTION_ENCRYPTION_KEY="$key" \
	PAYMENT_CONNECTION_ENCRYPTION_IV="$iv" \
	PAYMENT_WEBHOOK_SECRET="$webhook_secret" \
	node build/main.js "$@"
code=$?
set -e

stop_server
if [[ "$code" != 0 ]]; then
	echo "== last lines of the server log" >&2
	tail -n 40 "$tmp/server.log" >&2
fi
exit "$code"
