#!/bin/sh
# Pre-remove script of the paymentctl deb and rpm: stop and disable the
# service when the package is removed, not when it is upgraded.
#
# Arguments: deb "remove" (or "upgrade", "deconfigure", "failed-upgrade"),
# rpm "0" (erase) or "1" (upgrade).
set -e

case "$1" in
remove | 0)
	if [ -d /run/systemd/system ]; then
		systemctl disable --now paymentctl.service >/dev/null 2>&1 || true
	fi
	;;
esac
