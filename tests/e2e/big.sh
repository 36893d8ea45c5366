#!/usr/bin/env bash
# Issue 18.3 through nginx and through Apache: checkpoint-all of a tenant
# of 1,205 customers (more than the 1,000 checkpoints one answer lists)
# and customer search.
#
#  - nginx: checkpoint-all answers count 1205, the first 1,000 checkpoints
#    by customerId and next = the 1,000th customerId; "after": next
#    answers the other 205, next null;
#  - Apache: the same call again finds every checkpoint unchanged (the
#    same ids: idempotent), and pages the same way;
#  - search through the trigram index: "zzzz" finds nobody, "Ig-0120"
#    (another case, mid-id) exactly big-01200..big-01204, as the walk
#    did; "0" (too short for a trigram, a walk) every customer, paged.
#
#   tests/e2e/big.sh        prints each check, exits 1 on a failure
set -euo pipefail

REPO=$(cd "$(dirname "$0")/../.." && pwd)
BIN=$REPO/${B:-build}
DIR=$(mktemp -d /tmp/tally-big.XXXXXX)
# shellcheck source=../../tools/stack.sh
source "$REPO/tools/stack.sh"
trap 'stack_stop; [ -n "${KEEP:-}" ] || rm -rf "$DIR"' EXIT

N=1205
stack_conf
stack_ctl init >/dev/null
stack_ctl tenant add big >/dev/null
KEY=$(stack_key --tenant big --env live)
stack_start_tallyd
NGINX_PORT=$(stack_free_port) NGINX_TLS=$(stack_free_port)
stack_start_nginx "$NGINX_PORT" "$NGINX_TLS"
APACHE_PORT=$(stack_free_port) APACHE_TLS=$(stack_free_port)
stack_start_apache "$APACHE_PORT" "$APACHE_TLS"
NGINX=http://127.0.0.1:$NGINX_PORT
APACHE=http://127.0.0.1:$APACHE_PORT

passed=0 failed=0
expect() {	# expect LABEL WANT GOT
	if [ "$2" = "$3" ]; then
		echo "   ok   $1 = $3"; passed=$((passed + 1))
	else
		echo "   FAIL $1: want $2, got $(head -c 300 <<<"$3")"
		failed=$((failed + 1))
	fi
}
post() {	# post URL PATH BODY
	curl -s -H "X-Api-Key: $KEY" -H 'Content-Type: application/json' \
		-d "$3" "$1/api/v1$2"
}
get() { curl -s -H "X-Api-Key: $KEY" "$1/api/v1$2"; }

# N customers big-00000.., one delta each, 100 to a batch.
for ((i = 0; i < N; i += 100)); do
	items=$(seq "$i" $((i + 99 < N - 1 ? i + 99 : N - 1)) |
		awk '{ printf "%s{\"customerId\":\"big-%05d\",\"delta\":1,\"reason\":\"r\"}",
		    (NR > 1 ? "," : ""), $1 }')
	r=$(post "$NGINX" /balance/delta/batch "{\"deltas\":[$items]}")
	[ "$(jq -r .data.totalFailed <<<"$r")" = 0 ] ||
		expect "batch from $i" "no failure" "$r"
done

PERIOD=$(date -u +%Y-%m)
lock() {	# lock NAME URL: both pages; ids in DIR/NAME.ids
	local r
	r=$(post "$2" /balance/checkpoint "{\"period\":\"$PERIOD\"}")
	expect "$1: count" $N "$(jq -r .data.count <<<"$r")"
	expect "$1: listed" 1000 "$(jq -r '.data.checkpoints | length' <<<"$r")"
	expect "$1: next" big-00999 "$(jq -r .data.next <<<"$r")"
	expect "$1: by customerId" "big-00000 big-00999" \
		"$(jq -r '.data.checkpoints | "\(.[0].customerId) \(.[999].customerId)"' <<<"$r")"
	jq -r '.data.checkpoints[].checkpointId' <<<"$r" > "$DIR/$1.ids"
	r=$(post "$2" /balance/checkpoint "{\"period\":\"$PERIOD\",\"after\":\"big-00999\"}")
	expect "$1: after next, count" 205 "$(jq -r .data.count <<<"$r")"
	expect "$1: after next, first and last" "big-01000 big-01204" \
		"$(jq -r '.data.checkpoints | "\(.[0].customerId) \(.[-1].customerId)"' <<<"$r")"
	expect "$1: last page's next" null "$(jq -r .data.next <<<"$r")"
	jq -r '.data.checkpoints[].checkpointId' <<<"$r" >> "$DIR/$1.ids"
	r=$(post "$2" /balance/checkpoint "{\"customerId\":\"big-00001\",\"after\":\"big-00000\"}")
	expect "$1: after with customerId" INVALID_SCOPE_COMBINATION \
		"$(jq -r .error.code <<<"$r")"
}

# A signed head must cover the deltas before a checkpoint can (tallyd
# waits up to 2 s for one; a fresh stack may need longer).
for _ in $(seq 50); do
	s=$(get "$NGINX" "/balance/derive/big-01204" | jq -r .data.pendingCount)
	[ "$s" = 0 ] && break
	sleep 0.2
done

echo "== checkpoint-all of $N customers, paged"
lock nginx "$NGINX"
lock apache "$APACHE"
expect "every customer's checkpoint once" $N "$(sort -u "$DIR/nginx.ids" | wc -l)"
expect "again through Apache: the same checkpoints" \
	"$(md5sum < "$DIR/nginx.ids")" "$(md5sum < "$DIR/apache.ids")"

echo "== customer search through the index"
for front in "nginx $NGINX" "apache $APACHE"; do
	set -- $front
	r=$(get "$2" "/balance/customers?search=zzzz")
	expect "$1: zzzz" "0 0" "$(jq -r '"\(.data.pagination.total) \(.data.customers | length)"' <<<"$r")"
	r=$(get "$2" "/balance/customers?search=Ig-0120")
	expect "$1: Ig-0120" "5 big-01200 big-01204" \
		"$(jq -r '"\(.data.pagination.total) \(.data.customers[0].customerId) \(.data.customers[-1].customerId)"' <<<"$r")"
	r=$(get "$2" "/balance/customers?search=0&limit=100&page=13")
	expect "$1: 0 (a walk), page 13" "1205 5" \
		"$(jq -r '"\(.data.pagination.total) \(.data.customers | length)"' <<<"$r")"
done

echo "big: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
