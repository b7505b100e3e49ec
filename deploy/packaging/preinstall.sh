#!/bin/sh
# Pre-install script of the paymentctl deb and rpm: the system user and
# group the service runs as (User= and Group= of paymentctl.service), made
# before the files are unpacked so /etc/paymentctl can belong to the group.
# Kept on removal, as packages do, so files they own stay attributed.
set -e

if ! getent group paymentctl >/dev/null 2>&1; then
	groupadd --system paymentctl
fi
if ! getent passwd paymentctl >/dev/null 2>&1; then
	nologin=/usr/sbin/nologin
	[ -x "$nologin" ] || nologin=/sbin/nologin
	useradd --system --gid paymentctl --home-dir /var/lib/paymentctl --no-create-home \
		--shell "$nologin" --comment "paymentctl payment server" paymentctl
fi
