#!/usr/bin/env bash
# Memory bounded by design (issue 18 part 2, SPEC 3.7), end to end: a
# tallyd of its own behind nginx and Apache.  A customer with 100,000
# deltas in one checkpoint; its receipt bundle (~200 MB) is streamed, so
# tallyd's memory does not grow with it.
#
#   1. load 100,000 deltas (batches of 1000 through the API), lock the month
#   2. one receipt, through nginx, with a read-only customer key: it passes
#      tally-verify in full
#   3. four clients at once (two through nginx, two through Apache) while
#      tallyd's VmRSS is sampled: it grows by at most 16 MiB, and is back
#      within 4 MiB of where it started once they are done; each answer is
#      byte for byte the verified one
#   4. compare with 1,500 theirDeltas, none recorded: the discrepancy list
#      is a bounded page, its total counted; a later page across both kinds
#   5. 32 such compares at once through both: VmRSS grows by at most 48 MiB
#      (it was 2 GB when every discrepancy was JSON)
#
# Memory bounds are what this tests; it asserts no timing.
set -euo pipefail

REPO=$(cd "$(dirname "$0")/../.." && pwd)
BIN=$REPO/${B:-build}
DIR=$(mktemp -d /tmp/tally-memory.XXXXXX)
# shellcheck source=../../tools/stack.sh
source "$REPO/tools/stack.sh"

DELTAS=100000
BATCH=1000
# Under ASan (make asan) the allocator keeps freed memory in quarantine,
# so VmRSS says nothing of tallyd's own bounds, and everything is ~3x
# slower: a smaller customer, the same checks, the bounds only reported.
ASAN=
if grep -q __asan_init "$BIN/tallyd"; then
	ASAN=1
	DELTAS=20000
fi
GROWTH_MAX_KIB=$((16 * 1024))
RETURN_MAX_KIB=$((4 * 1024))
SAMPLER_PID=
passed=0
failed=0
finish() {
	[ -z "$SAMPLER_PID" ] || kill "$SAMPLER_PID" 2>/dev/null || true
	stack_finish memory
}
trap finish EXIT

jqok() { jq -e "$@" >/dev/null; }
# within KIB LIMIT_KIB: a growth within its bound (always, under ASan).
within() { [ -n "$ASAN" ] || [ "$1" -le "$2" ]; }
rss_kib() { awk '/^VmRSS:/ { print $2 }' "/proc/$TALLYD_PID/status"; }

# batch N: POSTs batch N of the load; every item must be accepted.
batch() {
	awk -v n="$1" -v size="$BATCH" 'BEGIN {
		printf "{\"deltas\":["
		for (i = 0; i < size; i++)
			printf "%s{\"customerId\":\"bigcust\",\"delta\":1," \
			    "\"reason\":\"memory test\",\"referenceId\":" \
			    "\"m-%d-%d\"}", (i ? "," : ""), n, i
		printf "]}"
	}' | curl -s -H "X-Api-Key: $KEY" -H 'Content-Type: application/json' \
		--data-binary @- "$NGINX/api/v1/balance/delta/batch" |
		jq -e '.data.totalFailed == 0 and .data.totalQueued == '"$BATCH" >/dev/null
}
load() {
	local n
	for n in $(seq 0 $((DELTAS / BATCH - 1))); do
		echo "$n"
	done | BATCH=$BATCH KEY=$KEY NGINX=$NGINX xargs -P 4 -I{} \
		bash -c "$(declare -f batch); batch {}"
}
# covered: the latest signed head covers every delta loaded.
covered() {
	curl -s "$NGINX/api/v1/log/checkpoint" | jqok ".data.treeSize >= $DELTAS"
}
eventually() {	# eventually SECONDS COMMAND...
	local deadline=$((SECONDS + $1))
	while ! "${@:2}"; do
		[ "$SECONDS" -lt "$deadline" ] || return 1
		sleep 0.2
	done
}
receipt_url() { echo "$1/api/v1/balance/receipt/bigcust?period=$PERIOD"; }
# fetch URL OUT: the receipt through one web server, with the customer key.
fetch() {
	curl -sf -H "X-Api-Key: $CUSTKEY" "$(receipt_url "$1")" -o "$2"
}
# fetch_sum URL OUT: the same, keeping only its SHA-256 (in OUT).
fetch_sum() {
	set -o pipefail
	curl -sf -H "X-Api-Key: $CUSTKEY" "$(receipt_url "$1")" |
		sha256sum | cut -d' ' -f1 > "$2"
}
sampler() {	# writes VmRSS (KiB) every 20 ms until DIR/sampling goes
	while [ -e "$DIR/sampling" ]; do
		rss_kib >> "$DIR/rss.samples" || true
		sleep 0.02
	done
}

stack_conf
stack_ctl init >/dev/null
stack_ctl tenant add mem >/dev/null
KEY=$(stack_key --tenant mem --env live)
CUSTKEY=$(stack_key --tenant mem --env live --customer bigcust)
stack_start_fronts
PERIOD=$(date -u +%Y-%m)

echo "== 1. $DELTAS deltas of one customer, then its month locked"
stack_check "$DELTAS deltas loaded in batches of $BATCH" load
stack_check "a signed head covers them all" eventually 60 covered
curl -s -X POST -H "X-Api-Key: $KEY" -H 'Content-Type: application/json' \
	--data-binary "{\"customerId\":\"bigcust\",\"period\":\"$PERIOD\"}" \
	"$NGINX/api/v1/balance/checkpoint" > "$DIR/checkpoint.json"
stack_check "the checkpoint covers $DELTAS deltas" \
	jqok ".data.deltasCount == $DELTAS" "$DIR/checkpoint.json"

echo "== 2. one receipt, verified in full"
curl -sf "$NGINX/api/v1/keys" > "$DIR/keys.json"
rss0=$(rss_kib)
stack_check "the receipt through nginx (customer key)" fetch "$NGINX" "$DIR/receipt.json"
rss1=$(rss_kib)
echo "memory: one receipt of $(stat -c %s "$DIR/receipt.json") bytes;" \
	"VmRSS $((rss0 / 1024)) -> $((rss1 / 1024)) MiB"
stack_check "tally-verify passes it" bash -c '"$1" "$2" --keys "$3" > "$4" 2>&1' _ \
	"$BIN/tally-verify" "$DIR/receipt.json" "$DIR/keys.json" "$DIR/verify.out"
stack_check "with all $DELTAS deltas" jqok ".data.deltas | length == $DELTAS" "$DIR/receipt.json"
WANT=$(sha256sum < "$DIR/receipt.json" | cut -d' ' -f1)
rm -f "$DIR/receipt.json"

echo "== 3. four at once (two via nginx, two via Apache), VmRSS sampled"
sleep 1
base=$(rss_kib)
touch "$DIR/sampling"
sampler &
SAMPLER_PID=$!
pids=()
for i in 1 2; do
	fetch_sum "$NGINX" "$DIR/sum.nginx.$i" & pids+=($!)
	fetch_sum "$APACHE" "$DIR/sum.apache.$i" & pids+=($!)
done
ok=0
for p in "${pids[@]}"; do wait "$p" || ok=1; done
rm -f "$DIR/sampling"
wait "$SAMPLER_PID" || true
SAMPLER_PID=
stack_check "four receipts answered" test "$ok" -eq 0
for f in "$DIR"/sum.*; do
	stack_check "${f##*/sum.} is the verified bundle, byte for byte" \
		test "$(cat "$f")" = "$WANT"
done
peak=$(sort -n "$DIR/rss.samples" | tail -1)
sleep 1
after=$(rss_kib)
echo "memory: VmRSS baseline $((base / 1024)) MiB, peak $((peak / 1024)) MiB" \
	"(+$(((peak - base) / 1024)) MiB over $(wc -l < "$DIR/rss.samples") samples)," \
	"after $((after / 1024)) MiB"
stack_check "VmRSS grew by at most 16 MiB ($(((peak - base) / 1024)) MiB)" \
	within $((peak - base)) "$GROWTH_MAX_KIB"
stack_check "VmRSS back within 4 MiB of its baseline ($(((after - base) / 1024)) MiB)" \
	within $((after - base)) "$RETURN_MAX_KIB"

echo "== 4. compare with 1,500 theirDeltas, none recorded: a bounded page"
# compare_body EXTRA: 1,500 referenceIds the record does not hold.
compare_body() {
	awk -v extra="$1" 'BEGIN {
		printf "{\"customerId\":\"bigcust\",\"yourBalance\":0%s," \
		    "\"theirDeltas\":[", extra
		for (i = 0; i < 1500; i++)
			printf "%s{\"referenceId\":\"x-%04d\",\"delta\":2}", \
			    (i ? "," : ""), i
		printf "]}"
	}'
}
compare() {	# compare URL EXTRA OUT
	compare_body "$2" | curl -s -H "X-Api-Key: $CUSTKEY" \
		-H 'Content-Type: application/json' --data-binary @- \
		"$1/api/v1/balance/compare" > "$3"
}
TOTAL=$((DELTAS + 1500))
compare "$NGINX" "" "$DIR/compare.json"
echo "memory: compare answered $(stat -c %s "$DIR/compare.json") bytes"
stack_check "compare answers a first page of 1000 of $TOTAL (nginx)" jqok "
	.data.discrepanciesTotal == $TOTAL and .data.truncated == true and
	(.data.discrepancies | length) == 1000 and
	.data.discrepancyPagination == {limit: 1000, offset: 0, total: $TOTAL} and
	.data.deltasCount == $DELTAS" "$DIR/compare.json"
stack_check "the answer is bounded ($(stat -c %s "$DIR/compare.json") bytes)" \
	test "$(stat -c %s "$DIR/compare.json")" -le 262144
stack_check "ordered by referenceId: m-… recorded only, then x-… theirs only" jqok '
	.data.discrepancies | (map(.referenceId) | . == sort) and
	.[0].kind == "missing_in_theirs" and .[0].recorded == 1 and .[0].theirs == null' \
	"$DIR/compare.json"
# The last recorded referenceId in byte order: m-<largest batch>-999.
LAST_REF=m-$(seq 0 $((DELTAS / BATCH - 1)) | LC_ALL=C sort | tail -1)-999
compare "$APACHE" ",\"discrepancyLimit\":10,\"discrepancyOffset\":$((DELTAS - 5))" \
	"$DIR/compare2.json"
stack_check "a later page, across the two kinds (Apache)" jqok --arg last "$LAST_REF" '
	(.data.discrepancies | length) == 10 and .data.truncated == true and
	.data.discrepancies[4].referenceId == $last and
	.data.discrepancies[5] == {referenceId: "x-0000", kind: "missing_in_record",
		recorded: null, theirs: 2}' "$DIR/compare2.json"
compare "$NGINX" ',"discrepancyLimit":1001' "$DIR/compare3.json"
stack_check "discrepancyLimit above 1000 refused" jqok \
	'.error.code == "VALIDATION_ERROR" and .error.field == "discrepancyLimit"' \
	"$DIR/compare3.json"

echo "== 5. 32 such compares at once (16 via nginx, 16 via Apache), VmRSS sampled"
base=$(rss_kib)
: > "$DIR/rss.samples"
touch "$DIR/sampling"
sampler &
SAMPLER_PID=$!
pids=()
for i in $(seq 16); do
	compare "$NGINX" "" "$DIR/c.nginx.$i" & pids+=($!)
	compare "$APACHE" "" "$DIR/c.apache.$i" & pids+=($!)
done
for p in "${pids[@]}"; do wait "$p" || true; done
rm -f "$DIR/sampling"
wait "$SAMPLER_PID" || true
SAMPLER_PID=
peak=$(sort -n "$DIR/rss.samples" | tail -1)
sleep 1
after=$(rss_kib)
echo "memory: compares: VmRSS baseline $((base / 1024)) MiB, peak $((peak / 1024)) MiB," \
	"after $((after / 1024)) MiB"
# tallyd serves at most 16 at once (its request threads), each holding a
# parsed body of 1,500 deltas and a page of 1,000 discrepancies, ~2 MiB:
# 33-34 MiB measured from a baseline the upkeep thread trims every second
# (malloc_trim), 2 GB when every discrepancy was JSON.
stack_check "VmRSS grew by at most 48 MiB ($(((peak - base) / 1024)) MiB)" \
	within $((peak - base)) $((48 * 1024))
stack_check "32 compares answered, each a page of 1000" env TOTAL="$TOTAL" bash -c \
	'for f in "$@"; do jq -e ".data.discrepanciesTotal == $TOTAL and (.data.discrepancies | length) == 1000" "$f" >/dev/null || exit 1; done' \
	_ "$DIR"/c.*

echo "memory: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
