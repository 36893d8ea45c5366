#!/usr/bin/env bash
# The log as C2SP tlog-tiles (issue 22), end to end: a tallyd of its own
# behind nginx and Apache, 70,000 deltas (the spec's own example: 273
# full level-0 tiles and a partial one of 112, a full level-1 tile and a
# partial one of 17, a partial level-2 tile of 1).  Through each front:
# status codes, content types and cache headers of the checkpoint and of
# full, partial, absent and misspelt tiles, entry bundles never served;
# then tiles_client.py, which shares nothing with tallyd, recomputes the
# root and a few inclusion proofs from tiles alone and checks an older
# checkpoint's root against the new tree.
set -euo pipefail

REPO=$(cd "$(dirname "$0")/../.." && pwd)
BIN=$REPO/${B:-build}
DIR=$(mktemp -d /tmp/tally-tiles.XXXXXX)
# shellcheck source=../../tools/stack.sh
source "$REPO/tools/stack.sh"

N=${TILES_DELTAS:-70000}
passed=0
failed=0
trap 'stack_finish tiles' EXIT

expect() {	# expect WHAT WANT GOT
	[ "$2" = "$3" ] || { echo "    $1: expected [$2], got [$3]" >&2; return 1; }
}
# answer URL: "status content-type cache-control bytes" of a GET.
answer() {
	curl -s -o "$DIR/body" -D "$DIR/head" -w '%{http_code}' "$1" > "$DIR/code"
	printf '%s %s %s %s' "$(cat "$DIR/code")" \
		"$(sed -n 's/^content-type: *//Ip' "$DIR/head" | tr -d '\r' | tr ' ' _)" \
		"$(sed -n 's/^cache-control: *//Ip' "$DIR/head" | tr -d '\r' | tr ' ' _)" \
		"$(stat -c %s "$DIR/body")"
}
# batch I: a batch of 1000 deltas, its answer in DIR/batch-I.json.
batch() {
	awk -v n="$1" 'BEGIN {
		printf "{\"deltas\":["
		for (i = 0; i < 1000; i++)
			printf "%s{\"customerId\":\"t%d\",\"delta\":1,\"reason\":" \
			    "\"tiles\",\"referenceId\":\"t-%d-%d\"}", (i ? "," : ""),
			    i % 50, n, i
		printf "]}"
	}' | curl -s -H "X-Api-Key: $KEY" -H 'Content-Type: application/json' \
		--data-binary @- "$NGINX/api/v1/balance/delta/batch" \
		> "$DIR/batch-$1.json"
	jq -e '.data.totalFailed == 0' "$DIR/batch-$1.json" >/dev/null
}
size() { curl -s "$NGINX/log/checkpoint" | sed -n 2p; }
wait_size() {	# wait_size N: a signed head of exactly N, within 20 s
	for _ in $(seq 400); do
		[ "$(size)" = "$1" ] && return 0
		sleep 0.05
	done
	return 1
}

stack_conf
stack_ctl init >/dev/null
stack_ctl tenant add acme >/dev/null
KEY=$(stack_key --tenant acme)
stack_start_fronts

echo "== tiles: $N deltas, 1000 to a batch"
start=$(date +%s%N)
stack_check "first batch" batch 0
stack_check "a head of 1000" wait_size 1000
curl -s "$NGINX/log/checkpoint" > "$DIR/old.note"
export -f batch
export KEY NGINX DIR
stack_check "the other batches" bash -c \
	"seq 1 $((N / 1000 - 1)) | xargs -P 2 -I{} bash -c 'batch {}'"
stack_check "a head of $N" wait_size "$N"
echo "   loaded and signed in $((($(date +%s%N) - start) / 1000000)) ms"
RECORDS=()
for b in 0 1 $((N / 2000)) $((N / 1000 - 1)); do
	for i in 0 999; do
		RECORDS+=(--record "$(jq -r ".data.results[$i].recordId" "$DIR/batch-$b.json")")
	done
done

for front in nginx:$NGINX apache:$APACHE; do
	name=${front%%:*} url=${front#*:}
	echo "== $name"
	ok() {	# ok WHAT PATH "STATUS TYPE CACHE BYTES"
		stack_check "$name: $1" expect "GET $2" "$3" "$(answer "$url$2")"
	}
	note=$(curl -s "$url/log/checkpoint" | wc -c)
	ok "the checkpoint, a bare note" /log/checkpoint \
		"200 text/plain;_charset=utf-8 public,_max-age=5 $note"
	stack_check "$name: the checkpoint is the API's note" expect note \
		"$(curl -s "$url/api/v1/log/checkpoint" | jq -j .data.checkpoint)" \
		"$(curl -s "$url/log/checkpoint")"
	full="200 application/octet-stream public,_max-age=31536000,_immutable 8192"
	edge="200 application/octet-stream public,_max-age=5"
	none="application/json no-store"
	ok "a full level-0 tile" /log/tile/0/000 "$full"
	ok "the last full level-0 tile" /log/tile/0/272 "$full"
	ok "the partial level-0 tile" /log/tile/0/273.p/112 "$edge 3584"
	ok "a narrower partial tile" /log/tile/0/000.p/5 "$edge 160"
	stack_check "$name: a partial tile is its full tile's prefix" cmp -s \
		<(curl -s "$url/log/tile/0/000.p/5") \
		<(curl -s "$url/log/tile/0/000" | head -c 160)
	ok "the full level-1 tile" /log/tile/1/000 "$full"
	ok "the partial level-1 tile" /log/tile/1/001.p/17 "$edge 544"
	ok "the partial level-2 tile" /log/tile/2/000.p/1 "$edge 32"
	for path in 0/273 0/273.p/113 0/274.p/1 1/001 1/001.p/18 2/000 2/000.p/2 \
	    3/000.p/1 63/000.p/1 0/x001/000; do
		stack_check "$name: beyond the tree, $path: 404, no-store" expect "$path" \
			"404 $none" "$(answer "$url/log/tile/$path" | cut -d' ' -f1-3)"
	done
	for path in entries/000 entries/000.p/5 entries/x001/000 0/1234 0/5 \
	    0/0000 00/000 64/000 0/000.p/0 0/000.p/256 0/000.p/05 0/000.p \
	    0/x000/005 0/x001 0/000/ 0/X001/000 0/x01/000 -1/000 0/000.p/5/ \
	    0/%30%30%30 "0/x001/../000" 0; do
		stack_check "$name: misspelt or private, $path: 404" expect "$path" \
			404 "$(curl -s --path-as-is -o /dev/null -w '%{http_code}' \
			"$url/log/tile/$path")"
	done
	stack_check "$name: HEAD of a tile" expect HEAD 200 \
		"$(curl -s -I -o /dev/null -w '%{http_code}' "$url/log/tile/0/000")"
	stack_check "$name: POST to the checkpoint: 405" expect POST 405 \
		"$(curl -s -X POST -o /dev/null -w '%{http_code}' "$url/log/checkpoint")"
	echo "== $name: tiles_client.py"
	stack_check "$name: the independent client" python3 \
		"$REPO/tests/e2e/tiles_client.py" "$url" --expect-size "$N" \
		--old "$DIR/old.note" --key "$KEY" "${RECORDS[@]}"
done

echo "tiles: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
