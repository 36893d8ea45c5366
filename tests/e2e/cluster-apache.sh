#!/usr/bin/env bash
# Issue 23 behind Apache: a replication group of three nodes
# (tools/cluster.sh, loopback) behind one Apache whose balancer lists
# every node (apache/cluster.conf.in), under the crash test's client
# (tests/e2e/crash.c), which retries a failed request under its own
# Idempotency-Key until acknowledged.  The master is killed once with
# SIGKILL while it writes.  Afterwards, on every node: every
# acknowledged delta exactly once and nothing else; and each customer's
# balance, read through Apache, the sum of its acknowledged deltas.
#
# Apache does not retry a request a node answered: a replica's 503 to a
# write, and a 503 during the election, reach the client, and it is the
# client's own retries (same key, same body) that get every write
# recorded; failonstatus=503 keeps later writes off the replicas.  Nor
# does Apache try another node within a request (maxattempts=0): when
# it did, a POST cut off by the kill went to the next node without its
# body and was answered 400.  The script prints how many 503s the
# client got, and fails on any 400.
#
# Usage: tests/e2e/cluster-apache.sh	(about 20 s)
set -euo pipefail

REPO=$(cd "$(dirname "$0")/../.." && pwd)
BIN=$REPO/${B:-build}
DIR=$(mktemp -d /tmp/tally-cluster-apache.XXXXXX)
# shellcheck source=../../tools/stack.sh
source "$REPO/tools/stack.sh"
CLUSTER_DIR=$DIR PORT=$(stack_free_port)
# shellcheck source=../../tools/cluster.sh
source "$REPO/tools/cluster.sh"
CLUSTER_REPL_BASE=$(cluster_free_repl_base)

passed=0
failed=0
writer=
finish() {
	[ -z "$writer" ] || kill -KILL "$writer" 2>/dev/null || true
	if [ "$1" -ne 0 ] || [ "$failed" -ne 0 ]; then
		for name in "${CLUSTER_NODES[@]}"; do
			DIR=$CLUSTER_DIR/$name stack_log_tails "cluster-apache $name"
		done
		stack_log_tails cluster-apache
		stack_failed_list cluster-apache
	fi
	cluster_stop
	if [ "$1" -eq 0 ] && [ "$failed" -eq 0 ] && [ -z "${KEEP:-}" ]; then
		rm -rf "$DIR"
	else
		echo "cluster-apache: state kept in $DIR" >&2
	fi
}
trap 'finish $?' EXIT

acked() { wc -l < "$DIR/acks"; }
acks_grow() { [ "$(acked)" -gt "$1" ]; }

# The master as the nodes' tallyctl says (cluster_master), not through
# Apache: one 503 (a node starting) takes a node out of Apache's rotation
# for a minute, and while only GETs come no failover brings it back.
has_master() { [ -n "$(cluster_master)" ]; }

all_verified() {
	[ "$(cluster_ctl "$1" export --tenant crash |
		grep -c '"status":"VERIFIED"')" -eq "$(acked)" ]
}

cluster_setup
cluster_ctl n1 tenant add crash >/dev/null
KEY=$(cluster_ctl n1 key create --tenant crash --env live)
stack_secret "${KEY#*.}"
stack_check "the group elects a master" cluster_start
stack_check "Apache serves the group" \
	cluster_start_apache "$(stack_free_port)"
URL=$CLUSTER_APACHE_URL
stack_check "a master" cluster_until 30 has_master

echo "cluster-apache: a writing client, one kill of the master"
: > "$DIR/acks"
"$BIN/tests/crash" write "$URL" "$KEY" "$DIR/acks" 4 > "$DIR/writer.out" &
writer=$!
master=$(cluster_master)
stack_check "writes are acknowledged before the kill" \
	cluster_until 30 acks_grow 20
sleep 4
cluster_kill "$master"
before=$(acked)
stack_check "writes are acknowledged again after the kill ($master)" \
	cluster_until 30 acks_grow $((before + 20))
stack_check "$master comes back (a replica caught up, or the master)" \
	cluster_until 60 cluster_back "$master"
sleep 3
kill -TERM "$writer"
stack_check "the client got every request acknowledged" wait "$writer"
writer=
cat "$DIR/writer.out"
echo "cluster-apache: $(acked) deltas acknowledged;" \
	"Apache answered $(awk '$8 == 503' "$DIR/apache-access.log" |
	wc -l) requests with 503 (the client retried them)"

stack_check "no request reached a node without its body (400)" \
	test "$(awk '$8 == 400' "$DIR/apache-access.log" | wc -l)" -eq 0

for name in "${CLUSTER_NODES[@]}"; do
	stack_check "$name: every acknowledged delta VERIFIED" \
		cluster_until 30 all_verified "$name"
	cluster_ctl "$name" export --tenant crash > "$DIR/export.$name"
	stack_check "$name: holds exactly what was acknowledged" \
		"$BIN/tests/crash" check "$DIR/acks" "$DIR/export.$name"
done
stack_check "balances read through Apache are the client's sums" \
	"$BIN/tests/crash" balance "$URL" "$KEY" "$DIR/acks"

if [ "$failed" -eq 0 ]; then
	echo "cluster-apache: PASS: $(acked) acknowledged deltas on all" \
		"three nodes, a master killed behind Apache"
else
	echo "cluster-apache: FAIL: $failed checks failed"
fi
[ "$failed" -eq 0 ]
