#!/usr/bin/env bash
# Checks the release packaging and the Helm chart, as a release would ship
# them:
#
#  1. `goreleaser check`, then a snapshot build of every platform
#     (.goreleaser.yaml) in a fresh clone of HEAD: the archives, the deb and
#     rpm packages and checksums.txt, copied to dist/;
#  2. the contents of each: every archive holds the binary, README.md and
#     LICENSE, and the systemd unit only when it is for Linux; each deb and
#     rpm installs /usr/bin/paymentctl, the unit (with
#     RestartPreventExitStatus=78) and its drop-in, /etc/paymentctl/
#     paymentctl.env as a configuration file readable by the paymentctl
#     group only, and a pre-install script that creates the paymentctl
#     system user; the host's binary prints the commit it was built from;
#  3. `helm lint` and `helm template` of deploy/helm/paymentctl, with
#     assertions on what it renders: probes on /livez and /readyz, a preStop
#     sleep and a grace period above the server's drain, the pre-upgrade
#     Job running `paymentctl schema`, the Secret (or yours), the Service,
#     and a ServiceMonitor only when enabled.
#
# Not part of CI, which it would not fit: on this project's machine kind (2
# cores shared with other builds, load average about 20), installing
# goreleaser and helm from the Go module proxy took 10 minutes (once; they
# are kept in .bin/, ignored by git), and the snapshot build of six
# platforms 28 minutes with a cold build cache, 2 minutes with a warm one.
# Run it before a release and after changing .goreleaser.yaml,
# deploy/packaging, deploy/systemd or deploy/helm.
#
# Needs git, go, tar, unzip, dpkg-deb and rpm (Debian: apt-get install rpm
# unzip). It builds HEAD: uncommitted changes are not in the packages.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

GORELEASER_VERSION=v2.15.1
HELM_VERSION=v4.3.2
chart=deploy/helm/paymentctl

failures=0
fail() {
  echo "FAIL: $*" >&2
  failures=$((failures + 1))
}
ok() { echo "ok: $*"; }

for tool in git go tar unzip dpkg-deb rpm rpm2archive; do
  command -v "$tool" >/dev/null || {
    echo "release-check: $tool is missing (Debian: apt-get install rpm unzip)" >&2
    exit 1
  }
done

# --- tools ---------------------------------------------------------------

mkdir -p .bin
goreleaser="$root/.bin/goreleaser"
helm="$root/.bin/helm"
if [ ! -x "$goreleaser" ]; then
  echo "installing goreleaser $GORELEASER_VERSION into .bin/ (takes minutes)"
  GOBIN="$root/.bin" go install "github.com/goreleaser/goreleaser/v2@$GORELEASER_VERSION"
fi
if [ ! -x "$helm" ]; then
  echo "installing helm $HELM_VERSION into .bin/ (takes minutes)"
  GOBIN="$root/.bin" go install "helm.sh/helm/v4/cmd/helm@$HELM_VERSION"
fi

# --- 1. build ------------------------------------------------------------

# A fresh clone has a remote (origin, this repository), without which a
# snapshot silently drops the commit from the version stamp, and nothing
# that is not committed.
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
if [ -n "$(git status --porcelain)" ]; then
  echo "note: the working tree has uncommitted changes; the packages are built from HEAD $(git rev-parse --short HEAD)"
fi
git clone --quiet "$root" "$work/src"
(
  cd "$work/src"
  "$goreleaser" check
  "$goreleaser" release --snapshot --clean
)
rm -rf dist
cp -r "$work/src/dist" dist
echo "--- dist/"
ls -l dist

# --- 2. contents ---------------------------------------------------------

unit=usr/lib/systemd/system/paymentctl.service
dropin=usr/lib/systemd/system/paymentctl.service.d/package.conf
envfile=etc/paymentctl/paymentctl.env

# has LIST PATTERN WHAT: LIST (one path a line) has a line matching PATTERN.
has() { grep -Eq "$2" <<<"$1" && ok "$3" || fail "$3"; }
# lacks LIST PATTERN WHAT: no line of LIST matches PATTERN.
lacks() { grep -Eq "$2" <<<"$1" && fail "$3" || ok "$3"; }

archives=0
for a in dist/paymentctl_*.tar.gz dist/paymentctl_*.zip; do
  [ -e "$a" ] || continue
  archives=$((archives + 1))
  name=$(basename "$a")
  case "$a" in
  *.zip) list=$(unzip -Z1 "$a") ;;
  *) list=$(tar -tzf "$a") ;;
  esac
  has "$list" '/paymentctl(\.exe)?$' "$name holds the binary"
  has "$list" '/README\.md$' "$name holds README.md"
  has "$list" '/LICENSE$' "$name holds LICENSE"
  case "$name" in
  *_linux_*) has "$list" '/paymentctl\.service$' "$name holds the systemd unit" ;;
  *) lacks "$list" 'paymentctl\.service' "$name has no systemd unit" ;;
  esac
done
[ "$archives" -eq 6 ] && ok "6 archives (linux, darwin, windows × amd64, arm64)" ||
  fail "$archives archives, want 6 (linux, darwin, windows × amd64, arm64)"

# The unit as packaged: it must keep systemd from restarting a server that
# exits 78 (invalid configuration).
check_unit() { # UNIT-TEXT PACKAGE
  has "$1" '^RestartPreventExitStatus=78$' "$2: the unit has RestartPreventExitStatus=78"
  has "$1" '^User=paymentctl$' "$2: the unit runs as paymentctl"
  has "$1" '^EnvironmentFile=-?/etc/paymentctl/paymentctl\.env$' "$2: the unit reads /etc/paymentctl/paymentctl.env"
}
# The pre-install script must create the system user (and its group)
# before the files owned by its group are unpacked.
check_preinstall() { # SCRIPT-TEXT PACKAGE
  local joined # continuation lines joined
  joined=$(sed -e ':a' -e '/\\$/{N;s/\\\n[[:space:]]*/ /;ba' -e '}' <<<"$1")
  has "$joined" 'groupadd --system paymentctl' "$2: pre-install creates the paymentctl group"
  has "$joined" 'useradd --system .* paymentctl$' "$2: pre-install creates the paymentctl system user"
}

debs=0
for p in dist/*.deb; do
  [ -e "$p" ] || continue
  debs=$((debs + 1))
  name=$(basename "$p")
  contents=$(dpkg-deb -c "$p")
  has "$contents" '^-rwxr-xr-x root/root .* \./usr/bin/paymentctl$' "$name installs /usr/bin/paymentctl"
  has "$contents" " \./$unit\$" "$name installs the systemd unit"
  has "$contents" " \./$dropin\$" "$name installs the unit's drop-in"
  has "$contents" "^-rw-r----- root/paymentctl .* \./$envfile\$" "$name installs /$envfile, mode 0640, group paymentctl"
  info=$(dpkg-deb -I "$p")
  has "$info" '^ Package: paymentctl$' "$name is the package paymentctl"
  has "$info" ' \*  preinst  ' "$name has an executable pre-install script"
  extracted="$work/deb-$debs"
  mkdir -p "$extracted"
  dpkg-deb -e "$p" "$extracted/control"
  has "$(cat "$extracted/control/conffiles")" "^/$envfile\$" "$name marks /$envfile as a configuration file"
  check_preinstall "$(cat "$extracted/control/preinst")" "$name"
  check_unit "$(dpkg-deb --fsys-tarfile "$p" | tar -xO "./$unit")" "$name"
done
[ "$debs" -eq 2 ] && ok "2 deb packages" || fail "$debs deb packages, want 2 (amd64, arm64)"

rpms=0
for p in dist/*.rpm; do
  [ -e "$p" ] || continue
  rpms=$((rpms + 1))
  name=$(basename "$p")
  files=$(rpm -qlp "$p" 2>/dev/null)
  has "$files" '^/usr/bin/paymentctl$' "$name installs /usr/bin/paymentctl"
  has "$files" "^/$unit\$" "$name installs the systemd unit"
  has "$files" "^/$dropin\$" "$name installs the unit's drop-in"
  has "$(rpm -qcp "$p" 2>/dev/null)" "^/$envfile\$" "$name marks /$envfile as a configuration file"
  has "$(rpm -qp --qf '[%{FILEMODES:perms} %{FILEUSERNAME} %{FILEGROUPNAME} %{FILENAMES}\n]' "$p" 2>/dev/null)" \
    "^-rw-r----- root paymentctl /$envfile\$" "$name installs /$envfile, mode 0640, group paymentctl"
  scripts=$(rpm -qp --scripts "$p" 2>/dev/null)
  has "$scripts" '^preinstall scriptlet' "$name has a pre-install script"
  check_preinstall "$(sed -n '/^preinstall scriptlet/,/^[a-z]* scriptlet/p' <<<"$scripts")" "$name"
  check_unit "$(rpm2archive - <"$p" | tar -xzO "./$unit")" "$name"
done
[ "$rpms" -eq 2 ] && ok "2 rpm packages" || fail "$rpms rpm packages, want 2 (x86_64, aarch64)"

host="dist/paymentctl_$(go env GOOS)_$(go env GOARCH)"
exe=$(ls "$host"*/paymentctl | head -n 1)
echo "--- $exe version"
"$exe" version
"$exe" version | grep -q "^commit: $(git rev-parse HEAD)\$" &&
  ok "the snapshot binary carries HEAD's commit" ||
  fail "the snapshot binary does not carry HEAD's commit (see ops-anchors §6.5)"

# --- 3. Helm chart -------------------------------------------------------

"$helm" lint --strict "$chart" && ok "helm lint --strict" || fail "helm lint --strict"

# kind DOCS KIND: the documents of DOCS (helm template's output) of KIND.
kind() { awk -v k="kind: $2" 'BEGIN { RS = "\n---\n" } index("\n" $0 "\n", "\n" k "\n") { print; print "---" }' <<<"$1"; }
# block DOC KEY: the lines indented under the first "KEY:" line of DOC.
block() {
  awk -v key="$2:" '
    !found && $1 == key { found = 1; match($0, /^ */); indent = RLENGTH; next }
    found { match($0, /^ */); if (RLENGTH <= indent && $0 !~ /^ *$/) exit; print }' <<<"$1"
}

render=$("$helm" template pay "$chart")
deployment=$(kind "$render" Deployment)
has "$(block "$deployment" livenessProbe)" '^ +path: /livez$' "liveness probe on /livez"
has "$(block "$deployment" readinessProbe)" '^ +path: /readyz$' "readiness probe on /readyz"
has "$(block "$deployment" startupProbe)" '^ +path: /livez$' "startup probe on /livez"
has "$(block "$(block "$deployment" preStop)" sleep)" '^ +seconds: [1-9][0-9]*$' "a preStop sleep before SIGTERM"
has "$deployment" '^ +terminationGracePeriodSeconds: 30$' "terminationGracePeriodSeconds 30"
has "$deployment" '^ +maxUnavailable: 0$' "rolling updates keep every replica until its successor is ready"
job=$(kind "$render" Job)
has "$job" '^ +helm\.sh/hook: pre-install,pre-upgrade$' "the schema Job is a pre-install and pre-upgrade hook"
has "$job" '^ +args: \[schema, ' "the schema Job runs paymentctl schema"
has "$job" '^ +key: PAYMENT_SCHEMA_DSN$' "the schema Job gets the superuser DSN"
lacks "$deployment" 'key: PAYMENT_SCHEMA_DSN$' "the server does not get the superuser DSN"
secret=$(kind "$render" Secret)
has "$secret" '^  PAYMENT_CONNECTION_ENCRYPTION_KEY: ' "a Secret with the keys"
has "$(kind "$render" Service)" '^  type: ClusterIP$' "a Service"
lacks "$render" '^kind: ServiceMonitor$' "no ServiceMonitor unless enabled"

render=$("$helm" template pay "$chart" --set serviceMonitor.enabled=true)
has "$(block "$(kind "$render" ServiceMonitor)" endpoints)" '^ +path: /metrics$' "a ServiceMonitor on /metrics when enabled"

render=$("$helm" template pay "$chart" --set secret.existingSecret=mine)
lacks "$render" '^kind: Secret$' "no chart-made Secret with secret.existingSecret"
has "$render" '^ +name: mine$' "secret.existingSecret is the Secret referenced"

if out=$("$helm" template pay "$chart" --set terminationGracePeriodSeconds=20 2>&1); then
  fail "a grace period of 20 s (under 5 + 1 + 15) renders"
else
  has "$out" 'must exceed the preStop sleep' "a grace period under the preStop sleep and the drain is refused"
fi

echo
if [ "$failures" -ne 0 ]; then
  echo "release-check: $failures check(s) failed" >&2
  exit 1
fi
echo "release-check: packages in dist/, chart in $chart: all checks passed"
