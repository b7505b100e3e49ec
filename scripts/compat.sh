# Shared by the npm compatibility checks, scripts/ts-compat/run.sh and
# scripts/portone-compat/run.sh; sourced, not run. Before sourcing, set:
#   compat_name    the prefix of messages and of the temporary directory
#   compat_keep    1 keeps the temporary directory (its logs) at exit
#   compat_signal  the signal that stops the child process cleanly
# It sets tmp (a new temporary directory, removed at exit unless kept),
# child_pid (the caller's background process, stopped at exit) and scrub
# (env arguments unsetting every PAYMENT_* variable of this environment,
# so the child runs on what the check gives it only), and installs the
# exit traps.

tmp="$(mktemp -d "${TMPDIR:-/tmp}/$compat_name.XXXXXX")"
child_pid=""
scrub=()
while IFS= read -r name; do scrub+=(-u "$name"); done < <(env | grep -o '^PAYMENT_[A-Za-z0-9_]*' || true)

# fail reports a check that could not run as one failure.
fail() {
	echo "$compat_name: $*" >&2
	echo "0 passed, 1 failed"
	exit 1
}

# unavailable: the npm registry could not be reached for the packages; exit
# 3 so CI can tell "could not check" from "incompatible".
unavailable() {
	echo "$compat_name: $* (packages unavailable, nothing was checked)" >&2
	exit 3
}

# stop_child stops child_pid with compat_signal, and kills it if it has
# not stopped within 10 s.
stop_child() {
	[[ -n "$child_pid" ]] || return 0
	if kill -0 "$child_pid" 2>/dev/null; then
		kill "-$compat_signal" "$child_pid" 2>/dev/null || true
		for _ in $(seq 1 100); do
			kill -0 "$child_pid" 2>/dev/null || break
			sleep 0.1
		done
		if kill -0 "$child_pid" 2>/dev/null; then
			echo "$compat_name: the child process did not stop on SIG$compat_signal within 10 s; killing it" >&2
			kill -KILL "$child_pid" 2>/dev/null || true
		fi
	fi
	wait "$child_pid" 2>/dev/null || true
	child_pid=""
}

compat_cleanup() {
	stop_child
	if [[ "${compat_keep:-}" == 1 ]]; then
		echo "$compat_name: kept $tmp" >&2
	else
		rm -rf "$tmp"
	fi
}
trap compat_cleanup EXIT
trap 'exit 130' INT TERM

# npm_ci MARKER SKIP installs the lock file's packages unless MARKER exists and
# SKIP is 1 (the caller's *_SKIP_INSTALL).
npm_ci() {
	if [[ "${2:-}" != 1 || ! -e "$1" ]]; then
		echo "== npm ci" >&2
		npm ci --ignore-scripts --no-audit --no-fund --loglevel=error >&2 || unavailable "npm ci failed"
	fi
}

# build_paymentctl ROOT builds the binary as $tmp/paymentctl.
build_paymentctl() {
	echo "== go build ./cmd/paymentctl" >&2
	(cd "$1" && go build -o "$tmp/paymentctl" ./cmd/paymentctl) >&2 || fail "go build failed"
}

# free_ports N prints N free loopback ports, space-separated: every
# listener of a check takes one, never a default port, since a real
# `paymentctl serve` may be running on this machine.
free_ports() {
	node -e '
const net = require("net");
(async () => {
  const servers = [];
  for (let i = 0; i < Number(process.argv[1]); i++) {
    const s = net.createServer();
    await new Promise((r) => s.listen(0, "127.0.0.1", r));
    servers.push(s);
  }
  console.log(servers.map((s) => s.address().port).join(" "));
  servers.forEach((s) => s.close());
})();' "$1"
}
