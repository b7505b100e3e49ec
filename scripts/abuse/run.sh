#!/usr/bin/env bash
# The black-box abuse run (docs/abuse.md): builds paymentctl, starts it on
# loopback with the fake PGs in process and attacks it; prints a report and
# exits 1 when a target is missed. Arguments go to the Go program, e.g.
#   scripts/abuse/run.sh -database-url postgres://…   (default: SQLite)
#   scripts/abuse/run.sh -requests 5000 -hooks 10000 -burst 1000
set -euo pipefail
cd "$(dirname "$0")/../.."
bin=$(mktemp -d -t paymentctl-abuse-bin.XXXXXX)
trap 'rm -rf "$bin"' EXIT
go build -o "$bin/paymentctl" ./cmd/paymentctl
go run ./scripts/abuse -bin "$bin/paymentctl" "$@"
