#!/bin/sh
# Creates the system user tallyd and tallyctl become when started as root
# (tally.conf's `user`, default tally), only when it is missing.  A
# process started by anyone else keeps its own user: nothing to do.
set -eu

USER_NAME=${TALLY_USER:-tally}
[ "$(id -u)" -eq 0 ] || exit 0
getent passwd "$USER_NAME" >/dev/null && exit 0
echo "deps: creating system user $USER_NAME"
# No home, no shell, no password: it only ever runs tallyd.
useradd --system --user-group --home-dir /nonexistent --no-create-home \
	--shell /usr/sbin/nologin "$USER_NAME"
