#!/usr/bin/env bash
# The crash test (make crashtest; run.sh runs a short one).  A client
# records single deltas and batches, retrying each request under its own
# Idempotency-Key until it is acknowledged, while tallyd is killed with
# SIGKILL at random moments and restarted, CYCLES times.  Then every
# acknowledged delta must be in the store exactly once and unchanged, and
# nothing else (no batch in part); sequence numbers and log indexes
# gapless, every leaf hash recomputed, all of it VERIFIED, `tallyctl
# verify` clean, and each customer's derived balance, read through nginx,
# the client's own exact sum of what was acknowledged.
#
# Usage: tests/e2e/crash.sh [CYCLES]	(default $CRASH_CYCLES, else 50)
set -euo pipefail

NAME=crash
CYCLES=${1:-${CRASH_CYCLES:-50}}
# shellcheck source=writer.sh
source "$(dirname "$0")/writer.sh"

# Kills all of tallyd at once, as a power cut would: the responder and
# every child it runs, found by parent, so that a new kind of child needs
# nothing here.  Stopped first, so that it forks none while they are
# looked up.
crash_kill_tallyd() {
	local pid=$TALLYD_PID
	kill -STOP "$pid"
	# shellcheck disable=SC2046	# one word per child
	kill -KILL $(pgrep -P "$pid") "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
}

# Serving again: recovery done, the store open (up to 10 s).
ready() {
	for _ in $(seq 200); do
		curl -sf -o /dev/null "$URL/readyz" && return 0
		sleep 0.05
	done
	return 1
}

# Every acknowledged delta VERIFIED (a signed head covers it), within 10 s.
all_verified() {
	for _ in $(seq 200); do
		[ "$(stack_ctl export --tenant crash |
			grep -c '"status":"VERIFIED"')" -eq "$(acked)" ] && return 0
		sleep 0.05
	done
	return 1
}

writer_stack

echo "crash: $CYCLES cycles of kill -9 and restart under a writing client"
started=$SECONDS
writer_start "${CRASH_THREADS:-8}"
cycles=0 busy=0
while [ "$cycles" -lt "$CYCLES" ] && kill -0 "$writer" 2>/dev/null; do
	stack_check "tallyd serves again before kill $((cycles + 1))" ready
	before=$(acked)
	sleep "$(printf '0.%03d' $((50 + RANDOM % 450)))"
	crash_kill_tallyd
	cycles=$((cycles + 1))
	[ "$(acked)" -le "$before" ] || busy=$((busy + 1))
	stack_start_tallyd
done
# Let the retries of the last kill through, then stop the client: each
# of its threads finishes the request it has begun.
sleep 1
writer_stop
echo "crash: $cycles kills in $((SECONDS - started)) s," \
	"$busy of them after new acknowledgements; $(acked) deltas acknowledged"
stack_check "all $CYCLES kills landed while the client was writing" \
	test "$cycles" -eq "$CYCLES"
stack_check "most kills interrupted a stream of acknowledgements" \
	test $((2 * busy)) -ge "$cycles"

stack_check "every acknowledged delta VERIFIED" all_verified
stack_ctl export --tenant crash > "$DIR/export"
stack_check "the store holds exactly what was acknowledged" \
	"$BIN/tests/crash" check "$DIR/acks" "$DIR/export"
stack_check "derived balances are the client's sums" \
	"$BIN/tests/crash" balance "$URL" "$KEY" "$DIR/acks"
stack_check "tallyctl verify holds" stack_ctl verify

if [ "$failed" -eq 0 ]; then
	echo "crash: PASS: $cycles kill -9 cycles, $(acked) acknowledged deltas, all present once, balances exact"
else
	echo "crash: FAIL: $failed checks failed after $cycles kill -9 cycles"
fi
[ "$failed" -eq 0 ]
