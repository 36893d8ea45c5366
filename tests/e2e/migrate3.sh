#!/usr/bin/env bash
# Data format 2 -> 3 -> 4 -> 5 -> 6 -> 7 (issue 22): a data directory the last format 2
# release wrote (tests/fixtures/v2-datadir.tar.gz, made by
# tests/fixtures/make-v2.sh: 600 deltas, one node record per subtree)
# is migrated into tiles as it is first opened, its logged search index
# (custgrams.db) replaced by search.db (of blocks, format 5), format 6
# recorded (customers' records keep their latest month, written anew at
# each customer's next delta), format 7 (the leaf hash index in sorted
# runs, leaves.db kept for the leaves before), and then:
#   - tallyctl verify passes on the new layout, leaf by leaf and tile by
#     tile, and tree.db is left empty;
#   - every root and proof the old release answered (the fixture's
#     expected/) is answered byte for byte the same;
#   - the independent client (tiles_client.py) recomputes the root from
#     tiles alone and proves the old head's tree a prefix;
#   - the log grows on the tiles: 100 deltas more, signed, verified (its
#     customers' records rewritten, and their months checked by verify),
#     a new leaf and an old one proved by their hashes.
# Prints "migrate3: N passed, M failed".
set -euo pipefail

REPO=$(cd "$(dirname "$0")/../.." && pwd)
BIN=$REPO/${B:-build}
DIR=$(mktemp -d /tmp/tally-migrate3.XXXXXX)
# shellcheck source=../../tools/stack.sh
source "$REPO/tools/stack.sh"
passed=0
failed=0
trap 'stack_finish migrate3' EXIT

same() {	# same FILE PATH: the answer's data is what the old release said
	cmp -s "$DIR/expected/$1" <(curl -sf "$API$2" | jq -S .data)
}
records_left() {	# records_left FILE: the records in a database dump
	db5.3_dump -p -h "$DIR/db" "$1" | sed -n '/^HEADER=END/,/^DATA=END/p' |
		awk '/^ / { n++ } END { print n / 2 }'	# a key line, a value line
}
format() {	# format: the data format meta.db records, in the dump's escapes
	db5.3_dump -p -h "$DIR/db" meta.db | grep -A1 -x ' format' | tail -1
}
wait_size() {	# wait_size N: a signed head of N, within 20 s
	for _ in $(seq 400); do
		[ "$(curl -s "$API/log/checkpoint" | jq -r .data.treeSize)" = "$1" ] &&
			return 0
		sleep 0.05
	done
	return 1
}

stack_conf
tar -C "$DIR" -xzf "$REPO/tests/fixtures/v2-datadir.tar.gz"
[ "$(id -u)" -ne 0 ] || chown -R "$STACK_USER" "$DIR/db"

echo "== format 2 -> 7: tallyctl verify opens and migrates it"
TREE_BYTES=$(stat -c %s "$DIR/db/tree.db")
stack_check "the fixture has format 2's 1196 node records" \
	test "$(records_left tree.db)" = 1196
stack_check "the fixture is in format 2" test "$(format)" = ' \00\00\00\00\00\00\00\02'
stack_ctl verify > "$DIR/verify.out" 2> "$DIR/verify.err" || true
stack_check "verify passes on the tiles: 600 leaves" \
	grep -q '^verify: 600 leaves' "$DIR/verify.out"
stack_check "it records format 7" test "$(format)" = ' \00\00\00\00\00\00\00\07'
stack_check "its logged search index is gone (search.db instead)" \
	test ! -e "$DIR/db/custgrams.db" -a -e "$DIR/db/search.db"
stack_check "tree.db is empty" test "$(records_left tree.db)" = 0
stack_check "and its pages are given back ($(stat -c %s "$DIR/db/tree.db") bytes)" \
	test "$(stat -c %s "$DIR/db/tree.db")" -lt "$TREE_BYTES"
stack_check "tiles.db holds tiles 0/0, 0/1, 0/2 and 1/0" \
	test "$(records_left tiles.db)" = 4
stack_check "opened again, it verifies again" grep -q '^verify: 600 leaves' \
	<(stack_ctl verify 2>/dev/null)

stack_start_tallyd
PORT=$(stack_free_port)
stack_start_nginx "$PORT" "$(stack_free_port)"
URL=http://127.0.0.1:$PORT
API=$URL/api/v1
KEY=$(stack_key --tenant fixture)

echo "== the old release's answers, from the tiles"
while read -r file path; do
	stack_check "$path" same "$file" "$path"
done < "$DIR/expected/urls"
RECORDS=()
while read -r id; do RECORDS+=(--record "$id"); done < "$DIR/expected/records"
stack_check "the independent client reads the migrated tiles" python3 \
	"$REPO/tests/e2e/tiles_client.py" "$URL" --expect-size 600 \
	--old "$DIR/expected/old.note" --key "$KEY" "${RECORDS[@]}"

echo "== the log grows on the tiles"
curl -s "$URL/log/checkpoint" > "$DIR/600.note"
awk 'BEGIN {
	printf "{\"deltas\":["
	for (i = 0; i < 100; i++)
		printf "%s{\"customerId\":\"f%d\",\"delta\":1,\"reason\":" \
		    "\"after\",\"referenceId\":\"v3-%d\"}", (i ? "," : ""), i % 10, i
	printf "]}"
}' | curl -s -H "X-Api-Key: $KEY" -H 'Content-Type: application/json' \
	--data-binary @- "$API/balance/delta/batch" > "$DIR/batch.json"
stack_check "100 deltas more" jq -e '.data.totalFailed == 0' "$DIR/batch.json" >/dev/null
stack_check "a head of 700" wait_size 700
stack_check "the client: 700 from tiles, the 600 tree a prefix" python3 \
	"$REPO/tests/e2e/tiles_client.py" "$URL" --expect-size 700 \
	--old "$DIR/600.note" --key "$KEY" \
	--record "$(jq -r '.data.results[99].recordId' "$DIR/batch.json")" \
	"${RECORDS[@]}"
stack_check "verify passes: 700 leaves" grep -q '^verify: 700 leaves' \
	<(stack_ctl verify 2>/dev/null)
# leafIndex of the proof asked by the leafHash of the proof of leaf $1.
by_hash() {
	local hash
	hash=$(curl -s "$API/log/proof/inclusion?index=$1&treeSize=700" |
		jq -r .data.leafHash)
	curl -s "$API/log/proof/inclusion?leafHash=$hash&treeSize=700" |
		jq -r .data.leafIndex
}
stack_check "leaf 650 proved by its hash (the leaf runs)" \
	test "$(by_hash 650)" = 650
stack_check "leaf 299 proved by its hash (leaves.db, from before format 7)" \
	test "$(by_hash 299)" = 299

echo "migrate3: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
