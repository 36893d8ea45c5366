#!/usr/bin/env bash
# Rate limits per API key, through nginx: a tallyd whose keys may make 5
# requests a second (burst 5).  One client floods with key A and gets 429
# RATE_LIMITED with Retry-After; at the same time a well-behaved client
# of key B, at 2 requests a second, gets 200 every time.
set -euo pipefail

REPO=$(cd "$(dirname "$0")/../.." && pwd)
BIN=$REPO/${B:-build}
DIR=$(mktemp -d /tmp/tally-rate.XXXXXX)
# shellcheck source=../../tools/stack.sh
source "$REPO/tools/stack.sh"
trap 'stack_stop; [ -n "${KEEP:-}" ] || rm -rf "$DIR"' EXIT

stack_conf
printf 'rate_limit = 5\nrate_burst = 5\n' >> "$DIR/tally.conf"
stack_ctl init >/dev/null
stack_ctl tenant add rate >/dev/null
A=$(stack_key --tenant rate)
B=$(stack_key --tenant rate)
stack_start_tallyd
PORT=$(stack_free_port)
stack_start_nginx "$PORT" "$(stack_free_port)"
URL=http://127.0.0.1:$PORT/api/v1/auth/whoami

failures=0
# flood KEY N: N requests back to back; one "status retry-after" per line
flood() {
	local i
	for ((i = 0; i < $2; i++)); do
		curl -s -o /dev/null -D - -H "X-Api-Key: $1" "$URL" |
			awk 'NR == 1 { s = $2 } tolower($1) == "retry-after:" \
			    { r = $2 + 0 } END { print s, r + 0 }'
	done
}

# Three clients share key A, so it floods however slow one request is.
flooders=()
for n in 1 2 3; do
	flood "$A" 20 > "$DIR/a$n.out" &
	flooders+=($!)
done
for _ in 1 2 3 4 5 6; do
	flood "$B" 1 >> "$DIR/b.out"
	sleep 0.5
done
wait "${flooders[@]}"
cat "$DIR"/a?.out > "$DIR/a.out"

limited=$(grep -c '^429 [1-9]' "$DIR/a.out" || true)
ok_a=$(grep -c '^200 ' "$DIR/a.out" || true)
ok_b=$(grep -c '^200 ' "$DIR/b.out" || true)
echo "ratelimit: key A: $ok_a of 60 answered 200, $limited refused 429 with Retry-After"
echo "ratelimit: key B: $ok_b of 6 answered 200 meanwhile"
[ "$limited" -ge 15 ] || { echo "FAIL: key A was not limited" >&2; failures=1; }
[ "$ok_a" -ge 5 ] || { echo "FAIL: key A's burst was not served" >&2; failures=1; }
[ "$ok_b" -eq 6 ] || { echo "FAIL: key B was limited by key A" >&2; failures=1; }
# The refusal's envelope: spend the bucket until one comes.
for _ in $(seq 100); do
	body=$(curl -s -H "X-Api-Key: $A" "$URL")
	grep -q RATE_LIMITED <<<"$body" && break
done
code=$(jq -r '.error.code + " " + (.error.retryAfterSeconds | tostring)' <<<"$body")
[ "$code" = "RATE_LIMITED 1" ] || { echo "FAIL: envelope: $body" >&2; failures=1; }
[ "$failures" -eq 0 ] && echo "ratelimit: holds"
exit "$failures"
