#!/bin/sh
# Post-install script of the paymentctl deb and rpm.
#
# First install: tell systemd about the unit, start nothing (the
# environment file needs secrets first). Upgrade of a running server:
# `systemctl reload`, which hands the listening sockets to the binary just
# installed, without downtime (deploy/systemd/paymentctl.service).
#
# Arguments: deb "configure <old version or empty>", rpm "1" (install) or
# "2" and more (upgrade).
set -e

upgrade=false
case "$1" in
configure) [ -n "$2" ] && upgrade=true ;;
[2-9] | [1-9][0-9]*) upgrade=true ;;
esac

if [ -d /run/systemd/system ]; then
	systemctl daemon-reload >/dev/null 2>&1 || true
	if $upgrade && systemctl is-active --quiet paymentctl.service; then
		systemctl reload paymentctl.service || echo "paymentctl: reload failed; see journalctl -u paymentctl" >&2
	fi
fi
if ! $upgrade; then
	echo "paymentctl: fill in /etc/paymentctl/paymentctl.env, then: systemctl enable --now paymentctl"
fi
