#!/usr/bin/env bash
# make run: tallyd behind nginx on 127.0.0.1:$PORT (HTTPS on $TLS_PORT),
# with a demo tenant and a live vendor key, in the foreground until
# Ctrl-C or SIGTERM.  State lives in var/ (or $TALLY_VAR) and is kept
# across runs: the data, the key, the certificate.  tallyd is started
# again whenever it exits (tools/supervise.sh).
set -euo pipefail

REPO=$(cd "$(dirname "$0")/.." && pwd)
BIN=$REPO/${B:-build}
DIR=${TALLY_VAR:-$REPO/var}
PORT=${PORT:-8080}
TLS_PORT=${TLS_PORT:-8443}
# shellcheck source=stack.sh
source "$REPO/tools/stack.sh"
# shellcheck source=supervise.sh
source "$REPO/tools/supervise.sh"

mkdir -p "$DIR"
[ -f "$DIR/tally.conf" ] || stack_conf
# Data made while tallyd and tallyctl still ran as root: they now become
# STACK_USER and refuse files that are not its own, so hand it over once.
if [ "$(id -u)" -eq 0 ] && [ -d "$DIR/db" ] &&
	[ "$(stat -c %u "$DIR/db")" -eq 0 ]; then
	chown -R "$STACK_USER:" "$DIR/db"
fi
stack_ctl init >/dev/null  # idempotent: makes the signing key once
stack_ctl tenant list | grep -q '^demo ' || stack_ctl tenant add demo >/dev/null
# make cluster left its own key here (tools/cluster.sh): make run's
# comes back, or, if it never had one, one is made.
if [ -s "$DIR/cluster/demo.key" ] &&
	cmp -s "$DIR/demo.key" "$DIR/cluster/demo.key"; then
	if [ -s "$DIR/demo.key.run" ]; then
		mv "$DIR/demo.key.run" "$DIR/demo.key"
	else
		rm -f "$DIR/demo.key"
	fi
fi
if [ ! -s "$DIR/demo.key" ]; then
	(umask 077 && stack_ctl key create --tenant demo --env live \
		> "$DIR/demo.key.new")
	mv "$DIR/demo.key.new" "$DIR/demo.key"
	echo "Demo tenant 'demo', live vendor key (shown once, kept in $DIR/demo.key):"
	echo "  $(cat "$DIR/demo.key")"
fi

trap 'stack_stop; exit 0' INT TERM
trap stack_stop EXIT
supervise_tallyd
stack_start_nginx "$PORT" "$TLS_PORT"

cat <<MSG
Tally is serving on http://127.0.0.1:$PORT and https://127.0.0.1:$TLS_PORT
(self-signed certificate: $DIR/tls/cert.pem).  Try:
  curl -H "X-Api-Key: \$(cat $DIR/demo.key)" http://127.0.0.1:$PORT/api/v1/auth/whoami
Logs: $DIR/tallyd.log, $DIR/nginx-error.log.
tallyd is started again if it exits.  Ctrl-C stops.
MSG

# tallyd's supervisor outlives tallyd; if it or nginx exits, stop all
# and fail.
set +e
wait -n "${STACK_PIDS[@]}"
echo "run: a server process exited; stopping" >&2
exit 1
