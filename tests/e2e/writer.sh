# Sourced by crash.sh and backup.sh: their own stack (tools/stack.sh),
# a tenant "crash" with a vendor key, the crash test's writing client
# (tests/e2e/crash.c) and the harness around them.  The caller sets NAME
# (its temporary directory is /tmp/tally-NAME.*) before sourcing.

REPO=$(cd "$(dirname "$0")/../.." && pwd)
BIN=$REPO/${B:-build}
DIR=$(mktemp -d "/tmp/tally-$NAME.XXXXXX")
# shellcheck source=../../tools/stack.sh
source "$REPO/tools/stack.sh"

passed=0
failed=0
writer=
finish() {	# finish EXIT_STATUS
	[ -z "$writer" ] || kill -KILL "$writer" 2>/dev/null || true
	stack_stop
	if [ "$1" -eq 0 ] && [ -z "${KEEP:-}" ]; then
		rm -rf "$DIR"
	else
		echo "$NAME: state kept in $DIR" >&2
	fi
}
trap 'finish $?' EXIT

# tallyd behind nginx at URL; KEY records for tenant crash.
writer_stack() {
	stack_conf
	stack_ctl init >/dev/null
	stack_ctl tenant add crash >/dev/null
	KEY=$(stack_key --tenant crash)
	stack_start_tallyd
	PORT=$(stack_free_port)
	stack_start_nginx "$PORT" "$(stack_free_port)"
	URL=http://127.0.0.1:$PORT
}

# writer_start THREADS: the client writes until writer_stop; what it got
# acknowledged is in $DIR/acks, one line a delta, in order.
writer_start() {
	: > "$DIR/acks"
	"$BIN/tests/crash" write "$URL" "$KEY" "$DIR/acks" "$1" \
		> "$DIR/writer.out" &
	writer=$!
}

# Each of the client's threads finishes the request it has begun.
writer_stop() {
	kill -TERM "$writer"
	stack_check "the client got every request acknowledged" wait "$writer"
	writer=
	cat "$DIR/writer.out"
}

acked() { wc -l < "$DIR/acks"; }
