#!/usr/bin/env bash
# Issue 23: a replication group of three nodes (tools/cluster.sh, each in
# a network namespace of its own) behind one nginx, under the crash
# test's client (tests/e2e/crash.c: single emits and batches, each
# retried under its own Idempotency-Key until acknowledged).  Meanwhile
# the master is killed with SIGKILL, CYCLES times, and its supervisor
# starts it again as a replica; then the master is cut off from the
# others while the client writes, and let back in.  Afterwards, on every
# node: every acknowledged delta exactly once and nothing else,
# sequences and log indexes gapless, all VERIFIED, `tallyctl verify`
# clean, the same signed head; every head served during the run a prefix
# of the last (an independent client, from tiles); a delta.verified
# webhook delivered for every acknowledged delta.
#
# Usage: tests/e2e/cluster.sh [CYCLES]	(default $CLUSTER_CYCLES, else 5)
# Needs root (network namespaces).  The failover times are printed.
set -euo pipefail

CYCLES=${1:-${CLUSTER_CYCLES:-5}}
REPO=$(cd "$(dirname "$0")/../.." && pwd)
BIN=$REPO/${B:-build}
DIR=$(mktemp -d /tmp/tally-cluster.XXXXXX)
# shellcheck source=../../tools/stack.sh
source "$REPO/tools/stack.sh"
CLUSTER_DIR=$DIR CLUSTER_NETNS=1 PORT=$(stack_free_port)
# shellcheck source=../../tools/cluster.sh
source "$REPO/tools/cluster.sh"

passed=0
failed=0
writer=
poller=
receiver=
finish() {
	local pid
	for pid in "$writer" "$poller" "$receiver"; do
		[ -z "$pid" ] || kill -KILL "$pid" 2>/dev/null || true
	done
	if [ "$1" -ne 0 ]; then
		for name in "${CLUSTER_NODES[@]}"; do
			DIR=$CLUSTER_DIR/$name stack_log_tails "cluster $name"
		done
		stack_log_tails cluster
		stack_failed_list cluster
	fi
	cluster_stop
	if [ "$1" -eq 0 ] && [ -z "${KEEP:-}" ]; then
		rm -rf "$DIR"
	else
		echo "cluster: state kept in $DIR" >&2
	fi
}
trap 'finish $?' EXIT

acked() { wc -l < "$DIR/acks"; }

acks_grow() { [ "$(acked)" -gt "$1" ]; }

has_master() { cluster_live_master >/dev/null; }

# probe_write ID: one emit, under its own Idempotency-Key, tried every
# 50 ms until a 2xx: after a kill, when writes are taken again (the
# client's own acknowledgements may be answers to requests sent before).
# Acknowledged, it is one more line of the client's (crash.c's format,
# for one of its customers), in $DIR/probes until the client is done
# with $DIR/acks.
probe_write() {
	local body code
	body="{\"customerId\":\"crash_$((RANDOM % 4))\",\"delta\":1,\"reason\":\"failover\",\"referenceId\":\"$1\"}"
	until code=$(curl -s -o "$DIR/probe.out" -w '%{http_code}' -X POST \
		-H "X-Api-Key: $KEY" -H "Content-Type: application/json" \
		-H "Idempotency-Key: $1" -d "$body" \
		"$URL/api/v1/balance/delta") && [ "${code:0:1}" = 2 ]; do
		sleep 0.05
	done
	python3 -c 'import json, sys
d = json.load(open(sys.argv[1]))["data"]
print(sys.argv[2], d["recordId"], d["customerId"], d["sequenceNumber"],
      d["delta"])' "$DIR/probe.out" "$1" >> "$DIR/probes"
}

# Every head nginx serves, kept once each, while the client writes.
poll_heads() {
	mkdir -p "$DIR/heads"
	while :; do
		if curl -sf -o "$DIR/heads/new" "$CLUSTER_URL/log/checkpoint"; then
			mv "$DIR/heads/new" "$DIR/heads/$(sha256sum < "$DIR/heads/new" |
				cut -c1-16)"
		fi
		sleep 0.2
	done
}

cluster_setup
# The receiver of webhooks, on the bridge, which every namespace reaches.
ip addr add 10.77.0.254/24 dev tallybr0
RPORT=$(stack_free_port)
mkdir -p "$DIR/hooks/req"
"$BIN/tests/hookrecv" "$RPORT" "$DIR/hooks" 10.77.0.254 &
receiver=$!
for name in "${CLUSTER_NODES[@]}"; do
	echo "webhook_allow_private = yes" >> "$DIR/$name/tally.conf"
done
cluster_ctl n1 tenant add crash >/dev/null
KEY=$(cluster_ctl n1 key create --tenant crash --env live)
stack_secret "${KEY#*.}"
cluster_ctl n1 webhook add --tenant crash "http://10.77.0.254:$RPORT/hook" \
	> "$DIR/hooks/endpoint"
stack_check "the group elects a master and nginx serves" cluster_start
# n1's environment, made by tallyctl init alone, is made again for the
# group: expected, said once at info, never as an error.
stack_check "the first start logs no error of remaking the environment" \
	bash -c '! grep -h "BDB1540\|open environment" "$@"' _ "$DIR"/n*/tallyd.log
URL=$CLUSTER_URL

echo "cluster: $CYCLES kills of the master under a writing client"
: > "$DIR/acks"
: > "$DIR/probes"
"$BIN/tests/crash" write "$URL" "$KEY" "$DIR/acks" 4 > "$DIR/writer.out" &
writer=$!
poll_heads &
poller=$!
failovers=()
for cycle in $(seq "$CYCLES"); do
	stack_check "a master before kill $cycle" cluster_until 30 has_master
	master=$(cluster_live_master)
	before=$(acked)
	stack_check "writes are acknowledged before kill $cycle" \
		cluster_until 30 acks_grow $((before + 20))
	start=$(cluster_now_ms)
	cluster_kill "$master"
	stack_check "writes are acknowledged again after kill $cycle ($master)" \
		timeout 30 bash -c "$(declare -f probe_write); KEY=$KEY URL=$URL \
		DIR=$DIR probe_write failover-$cycle"
	failovers+=($(($(cluster_now_ms) - start)))
	stack_check "$master comes back (a replica caught up, or the master)" \
		cluster_until 60 cluster_back "$master"
done
echo "cluster: failover (SIGKILL of the master to the next acknowledged" \
	"write), ms: ${failovers[*]}"

echo "cluster: the master cut off from the others while the client writes"
master=$(cluster_live_master)
stack_check "a master to cut off" test -n "$master"
cluster_partition "$master"
before=$(acked)
stack_check "the majority elects another master and acknowledges writes" \
	cluster_until 30 acks_grow $((before + 20))
other_master() { local m; m=$(cluster_live_master); [ -n "$m" ] && [ "$m" != "$1" ]; }
stack_check "another master among the majority" cluster_until 30 other_master "$master"
# What an operator asks the node that was cut off, while it still is.
says_role() {
	local first
	first=$(timeout 10 ${CLUSTER_NETNS:+ip netns exec tally-$1} \
		"$BIN/tallyctl" -c "$DIR/$1/tally.conf" repl status | head -n 1)
	echo "cluster: $1 cut off says: $first"
	case $first in master\ *|replica\ *|electing\ *) return 0 ;; esac
	return 1
}
stack_check "tallyctl repl status answers on the node cut off" \
	says_role "$master"
cluster_heal "$master"
stack_check "$master, let back in, follows the new master" \
	cluster_until 60 cluster_follows "$master"

# The retries of the last moments through, then each client thread
# finishes the request it has begun.
sleep 1
kill -TERM "$writer"
stack_check "the client got every request acknowledged" wait "$writer"
writer=
kill "$poller"
poller=
cat "$DIR/writer.out"
cat "$DIR/probes" >> "$DIR/acks"
echo "cluster: $(acked) deltas acknowledged"

# One node's view, judged whole.
all_verified() {
	[ "$(cluster_ctl "$1" export --tenant crash |
		grep -c '"status":"VERIFIED"')" -eq "$(acked)" ]
}
for name in "${CLUSTER_NODES[@]}"; do
	stack_check "$name: every acknowledged delta VERIFIED" \
		cluster_until 30 all_verified "$name"
	cluster_ctl "$name" export --tenant crash > "$DIR/export.$name"
	stack_check "$name: holds exactly what was acknowledged" \
		"$BIN/tests/crash" check "$DIR/acks" "$DIR/export.$name"
	stack_check "$name: tallyctl verify holds" cluster_ctl "$name" verify
	cluster_ctl "$name" repl status > "$DIR/status.$name"
	stack_check "$name: repl status names its signed head" \
		grep -q '^head: [1-9][0-9]* 0x' "$DIR/status.$name"
	grep '^head:' "$DIR/status.$name" > "$DIR/head.$name" || true
done
stack_check "every node signed the same head" \
	test "$(cat "$DIR"/head.* | sort -u | wc -l)" -eq 1
stack_check "derived balances are the client's sums" \
	"$BIN/tests/crash" balance "$URL" "$KEY" "$DIR/acks"

olds=()
for f in "$DIR"/heads/*; do olds+=(--old "$f"); done
echo "cluster: $((${#olds[@]} / 2)) distinct heads served during the run"
stack_check "every head served is a prefix of the last (from tiles)" \
	python3 "$REPO/tests/e2e/tiles_client.py" "$URL" "${olds[@]}"

# delta.verified for every acknowledged delta, at least once.
delivered() {
	grep -rhoE '"recordId":"[^"]*"' "$DIR/hooks/req" | cut -d'"' -f4 |
		sort -u > "$DIR/delivered"
	[ -z "$(cut -d' ' -f2 "$DIR/acks" | sort -u |
		comm -23 - "$DIR/delivered")" ]
}
stack_check "a webhook for every acknowledged delta" cluster_until 60 delivered

if [ "$failed" -eq 0 ]; then
	echo "cluster: PASS: $CYCLES master kills and a partition," \
		"$(acked) acknowledged deltas on all three nodes"
else
	echo "cluster: FAIL: $failed checks failed"
fi
[ "$failed" -eq 0 ]
