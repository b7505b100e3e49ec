#!/usr/bin/env bash
# Drives paymentctl's fake PortOne V2 with the official npm package
# @portone/server-sdk (0.19.x, pinned by the lock file), unchanged, and
# prints "N passed, N failed".
#
#   scripts/portone-compat/run.sh [flow-name-substring...]
#
# Steps: npm ci from the lock file; build paymentctl; run `paymentctl fake
# --only portone` from a temporary directory on a free loopback port, its
# webhooks sent to a receiver check.mjs runs on another free port; run the
# flows (check.mjs); stop the fake. Exit status 0 only if every flow
# passed; 3 if the npm packages could not be fetched (nothing was
# checked).
#
# PORTONECOMPAT_SKIP_INSTALL=1 reuses node_modules; PORTONECOMPAT_KEEP=1
# keeps the temporary directory (the fake's log).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
tmp="$(mktemp -d "${TMPDIR:-/tmp}/portone-compat.XXXXXX")"
fake_pid=""

fail() {
	echo "portone-compat: $*" >&2
	echo "0 passed, 1 failed"
	exit 1
}

# unavailable: the npm registry could not be reached for the packages; exit
# 3 so CI can tell "could not check" from "incompatible".
unavailable() {
	echo "portone-compat: $* (packages unavailable, nothing was checked)" >&2
	exit 3
}

stop_fake() {
	[[ -n "$fake_pid" ]] || return 0
	if kill -0 "$fake_pid" 2>/dev/null; then
		kill -INT "$fake_pid" 2>/dev/null || true
		for _ in $(seq 1 100); do
			kill -0 "$fake_pid" 2>/dev/null || break
			sleep 0.1
		done
		if kill -0 "$fake_pid" 2>/dev/null; then
			echo "portone-compat: the fake did not stop on SIGINT within 10 s; killing it" >&2
			kill -KILL "$fake_pid" 2>/dev/null || true
		fi
	fi
	wait "$fake_pid" 2>/dev/null || true
	fake_pid=""
}

cleanup() {
	stop_fake
	if [[ "${PORTONECOMPAT_KEEP:-}" == 1 ]]; then
		echo "portone-compat: kept $tmp" >&2
	else
		rm -rf "$tmp"
	fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

cd "$here"

# 1. The official SDK, as the lock file pins it.
if [[ "${PORTONECOMPAT_SKIP_INSTALL:-}" != 1 || ! -f node_modules/@portone/server-sdk/package.json ]]; then
	echo "== npm ci" >&2
	npm ci --ignore-scripts --no-audit --no-fund --loglevel=error >&2 || unavailable "npm ci failed"
fi

# 2. Build paymentctl.
echo "== go build ./cmd/paymentctl" >&2
(cd "$root" && go build -o "$tmp/paymentctl" ./cmd/paymentctl) >&2 || fail "go build failed"

# 3. The fake on a free port, its webhooks to the receiver's free port.
read -r fake_port receiver_port < <(node -e '
const net = require("net");
(async () => {
  const servers = [];
  for (let i = 0; i < 2; i++) {
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
echo "== paymentctl fake --only portone on 127.0.0.1:$fake_port, webhooks to 127.0.0.1:$receiver_port" >&2
(
	cd "$tmp/work"
	exec env "${scrub[@]}" "$tmp/paymentctl" fake --only portone --fake-portone-port "$fake_port" \
		--portone-webhook-url "http://127.0.0.1:$receiver_port/webhooks" --ready-file "$tmp/work/ready.env"
) >"$tmp/fake.out" 2>"$tmp/fake.log" &
fake_pid=$!
for _ in $(seq 1 300); do
	[[ -s "$tmp/work/ready.env" ]] && break
	kill -0 "$fake_pid" 2>/dev/null || break
	sleep 0.1
done
if [[ ! -s "$tmp/work/ready.env" ]]; then
	cat "$tmp/fake.out" "$tmp/fake.log" >&2
	fail "the fake PortOne V2 did not start"
fi
url="$(sed -n 's/^FAKE_PORTONE_URL=//p' "$tmp/work/ready.env")"
# The banner is the source of the credentials, as for a person.
secret="$(sed -n 's/^  API secret  *//p' "$tmp/fake.out")"
webhook_secret="$(sed -n 's/^  webhook secret  *//p' "$tmp/fake.out")"
[[ -n "$url" && -n "$secret" && -n "$webhook_secret" ]] || fail "no URL or credentials in the fake's banner: $(cat "$tmp/fake.out")"

# 4. The flows.
echo "== flows" >&2
set +e
PORTONE_COMPAT_URL="$url" \
	PORTONE_COMPAT_SECRET="$secret" \
	PORTONE_COMPAT_WEBHOOK_SECRET="$webhook_secret" \
	PORTONE_COMPAT_RECEIVER_PORT="$receiver_port" \
	node check.mjs "$@"
code=$?
set -e

stop_fake
if [[ "$code" != 0 ]]; then
	echo "== last lines of the fake's log" >&2
	tail -n 40 "$tmp/fake.log" >&2
fi
exit "$code"
