#!/usr/bin/env bash
# Customer search while the indexer (core/indexer.c) works behind the log:
# batches of new customers are recorded while tallyd is killed with
# SIGKILL at random moments and restarted, CYCLES times.  Between kills,
# a search of three characters (index and tail) must count what a walk of
# the tenant (a search of two) counts, whatever the indexer has reached;
# after the last stop, `tallyctl tick` indexes what is left and
# `tallyctl verify` must find the index whole: no customer lost.
#
# Usage: tests/e2e/search.sh [CYCLES]	(default 8)
set -euo pipefail

REPO=$(cd "$(dirname "$0")/../.." && pwd)
BIN=$REPO/${B:-build}
DIR=$(mktemp -d /tmp/tally-search.XXXXXX)
CYCLES=${1:-8}
# shellcheck source=../../tools/stack.sh
source "$REPO/tools/stack.sh"
passed=0
failed=0
trap 'stack_stop; [ -n "${KEEP:-}" ] || rm -rf "$DIR"' EXIT

stack_conf
echo "rate_limit = 0" >> "$DIR/tally.conf"
stack_ctl init >/dev/null
stack_ctl tenant add srch >/dev/null
KEY=$(stack_key --tenant srch --env live)
stack_start_tallyd
PORT=$(stack_free_port) TLS_PORT=$(stack_free_port)
stack_start_nginx "$PORT" "$TLS_PORT"
API=http://127.0.0.1:$PORT/api/v1

# total NEEDLE: how many customers a search of NEEDLE counts.
total() {
	curl -sf -H "X-Api-Key: $KEY" \
		"$API/balance/customers?search=$1&limit=1" |
		jq -r .data.pagination.total
}

# batches ROUND: one client posting batches of 100 new customers.
batches() {
	local n=0 items
	while :; do
		n=$((n + 1))
		items=$(seq 100 | awk -v r="$1" -v n="$n" '{ printf "%s{\"customerId\":\"cu-%s-%s-%s\",\"delta\":1,\"reason\":\"r\"}",
		    (NR > 1 ? "," : ""), r, n, $1 }')
		curl -s -o /dev/null -H "X-Api-Key: $KEY" \
			-H "Content-Type: application/json" \
			-d "{\"deltas\":[$items]}" "$API/balance/delta/batch" ||
			true
	done
}

ready() {
	for _ in $(seq 200); do
		curl -sf -o /dev/null "http://127.0.0.1:$PORT/readyz" &&
			return 0
		sleep 0.05
	done
	return 1
}

# Quiet: the two searches count the same customers.
same_count() {
	local a b
	a=$(total cu) b=$(total cu-)
	echo "   customers: $a by a walk, $b through the index and tail"
	[ "$a" = "$b" ] && [ "$a" -gt 0 ]
}

for c in $(seq "$CYCLES"); do
	stack_check "tallyd serves before kill $c" ready
	batches "$c" &
	client=$!
	sleep "$(printf '0.%03d' $((300 + RANDOM % 700)))"
	kill -STOP "$TALLYD_PID"
	# shellcheck disable=SC2046	# one word per child
	kill -KILL $(pgrep -P "$TALLYD_PID") "$TALLYD_PID" 2>/dev/null || true
	wait "$TALLYD_PID" 2>/dev/null || true
	kill "$client"; wait "$client" 2>/dev/null || true
	stack_start_tallyd
	stack_check "search counts what a walk counts after kill $c" same_count
done
stack_stop
stack_check "tallyctl tick indexes what tallyd left" stack_ctl tick
stack_check "tallyctl verify: the index whole, the log intact" \
	stack_ctl verify
echo "search: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
