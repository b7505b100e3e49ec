#!/usr/bin/env bash
# Checks the release packaging: `goreleaser check` and a snapshot build of
# every platform, then runs the host's binary to see the stamped version.
# Not part of CI: installing goreleaser takes about six minutes on 2 cores.
# The binary is cached in .bin/ (ignored by git).
set -euo pipefail
cd "$(dirname "$0")/.."

GORELEASER_VERSION=v2.15.1
bin="$PWD/.bin/goreleaser"
if [ ! -x "$bin" ]; then
  echo "installing goreleaser $GORELEASER_VERSION into .bin/ (takes minutes)"
  GOBIN="$PWD/.bin" go install "github.com/goreleaser/goreleaser/v2@$GORELEASER_VERSION"
fi

"$bin" check
"$bin" release --snapshot --clean

host="dist/paymentctl_$(go env GOOS)_$(go env GOARCH)"
exe=$(ls "$host"*/paymentctl | head -n 1)
echo "--- $exe version"
"$exe" version
"$exe" version | grep -q '^commit: [0-9a-f]\{40\}$' || {
  echo "the snapshot binary carries no commit: is there a git remote? (see ops-anchors §6.5)" >&2
  exit 1
}
