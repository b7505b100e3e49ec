#!/bin/sh
# Post-remove script of the paymentctl deb and rpm: forget the removed unit.
# The paymentctl user, /var/lib/paymentctl and (until a purge) the
# environment file stay.
set -e

if [ -d /run/systemd/system ]; then
	systemctl daemon-reload >/dev/null 2>&1 || true
fi
