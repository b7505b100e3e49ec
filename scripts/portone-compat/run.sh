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
compat_name=portone-compat compat_keep="${PORTONECOMPAT_KEEP:-}" compat_signal=INT
# shellcheck source=../compat.sh
. "$root/scripts/compat.sh"

cd "$here"

# 1. The official SDK, as the lock file pins it.
npm_ci node_modules/@portone/server-sdk/package.json "${PORTONECOMPAT_SKIP_INSTALL:-}"

# 2. Build paymentctl.
build_paymentctl "$root"

# 3. The fake on a free port, its webhooks to the receiver's free port.
read -r fake_port receiver_port < <(free_ports 2)
mkdir -p "$tmp/work"
echo "== paymentctl fake --only portone on 127.0.0.1:$fake_port, webhooks to 127.0.0.1:$receiver_port" >&2
(
	cd "$tmp/work"
	exec env "${scrub[@]}" "$tmp/paymentctl" fake --only portone --fake-portone-port "$fake_port" \
		--portone-webhook-url "http://127.0.0.1:$receiver_port/webhooks" --ready-file "$tmp/work/ready.env"
) >"$tmp/fake.out" 2>"$tmp/fake.log" &
child_pid=$!
for _ in $(seq 1 300); do
	[[ -s "$tmp/work/ready.env" ]] && break
	kill -0 "$child_pid" 2>/dev/null || break
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

stop_child
if [[ "$code" != 0 ]]; then
	echo "== last lines of the fake's log" >&2
	tail -n 40 "$tmp/fake.log" >&2
fi
exit "$code"
