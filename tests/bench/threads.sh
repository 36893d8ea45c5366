#!/usr/bin/env bash
# tallyd's CPU per delta, thread by thread, with the work it defers
# counted: the search indexer and the integrator catch up after a write
# step, so a step's rate and its CPU during the step leave part of a
# delta's cost to the next step.  Here tallyd is let go idle before and
# after each wrk step, and each thread's CPU over that span is divided by
# the deltas the step recorded.  CPU per delta moves far less than the
# rates on a shared machine: two builds compared this way, alternating,
# show a difference of a tenth that make bench's rates hide.
#
#   tests/bench/threads.sh [STEP...]    steps: emit, batch (default both)
#
#   B=build       the build directory to run
#   SECS=8        length of each wrk step
#   CONNS=32      wrk connections
#
# Reports; asserts nothing.  Needs what make bench needs (make deps, make
# bench's binaries).
set -euo pipefail

REPO=$(cd "$(dirname "$0")/../.." && pwd)
BIN=$REPO/${B:-build}	# where stack.sh runs tallyd and tallyctl from
LUA=$REPO/tests/bench
SECS=${SECS:-8}
CONNS=${CONNS:-32}
HZ=$(getconf CLK_TCK)
[ $# -gt 0 ] || set -- emit batch

BASE=$(mktemp -d /tmp/tally-threads.XXXXXX)
DIR=$BASE
# shellcheck source=../../tools/stack.sh
source "$REPO/tools/stack.sh"
trap 'stack_stop; rm -rf "$BASE"' EXIT

stack_bench_tenant
stack_start_tallyd
PORT=$(stack_free_port) TLS_PORT=$(stack_free_port)
stack_start_nginx "$PORT" "$TLS_PORT"

# "name ticks waits" for each of tallyd's threads, summed by name: its
# CPU in clock ticks, and how often it gave the CPU up to wait (its
# voluntary context switches: a park in accept, on a lock or a commit).
thread_ticks() {
	local t
	for t in /proc/"$TALLYD_PID"/task/*; do
		printf '%s %s %s\n' "$(tr ' ' _ < "$t/comm")" \
			"$(awk '{ print $14 + $15 }' "$t/stat")" \
			"$(awk '/^voluntary_ctxt_switches/ { print $2 }' \
			"$t/status")"
	done | awk '{ n[$1] += $2; w[$1] += $3 }
		END { for (k in n) print k, n[k], w[k] }' | sort
}

# Until tallyd uses under 3% of a core over a second.
wait_idle() {
	local a b
	while :; do
		a=$(awk '{ print $14 + $15 }' "/proc/$TALLYD_PID/stat")
		sleep 1
		b=$(awk '{ print $14 + $15 }' "/proc/$TALLYD_PID/stat")
		[ $((b - a)) -gt $((HZ * 3 / 100)) ] || return 0
	done
}

for step in "$@"; do
	case $step in
	emit) per=1 ;;
	batch) per=100 ;;
	*) echo "threads.sh: no step $step (emit, batch)" >&2; exit 1 ;;
	esac
	wait_idle
	thread_ticks > "$BASE/before"
	BENCH_KEY=$KEY BENCH_RUN="t$step" wrk -t2 -c"$CONNS" -d"${SECS}s" \
		-s "$LUA/$step.lua" "http://127.0.0.1:$PORT" > "$BASE/$step.wrk"
	wait_idle
	thread_ticks > "$BASE/after"
	deltas=$(( $(sed -n 's/^BENCH //p' "$BASE/$step.wrk" |
		jq .requests) * per ))
	echo "$step: $deltas deltas, $(sed -n 's/^BENCH //p' \
		"$BASE/$step.wrk" | jq -c '{rps, p99Ms, non2xx}')"
	join "$BASE/before" "$BASE/after" | awk -v d="$deltas" -v hz="$HZ" '
		{ us = ($4 - $2) / hz * 1e6 / d; all += us
		  w = ($5 - $3) / d; waits += w
		  printf "  %-18s %7.1f µs/delta %7.3f waits/delta\n",
		      $1, us, w }
		END { printf "  %-18s %7.1f µs/delta %7.3f waits/delta\n",
		      "all", all, waits }'
done
