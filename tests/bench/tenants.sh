#!/usr/bin/env bash
# make bench, big tenants (issue 18.3): checkpoint-all and customer search
# on a tenant of BENCH_TENANT customers (one delta each), and the same on
# 10,000 in the same run for the ratios.  tests/bench/tenants.c builds
# each tenant through the ledger's batch path and measures in process on
# libtally (no HTTP: nginx's 60 s FastCGI timeout is not what is
# measured here).  Reports, never asserts a timing.  Writes
# bench/tenants.json.
#
#   BENCH_TENANT=1000000   customers of the big tenant
#   KEEP=1                 keep the data directories
set -euo pipefail

REPO=$(cd "$(dirname "$0")/../.." && pwd)
BIN=$REPO/${B:-build}
OUT=$REPO/bench
BIG=${BENCH_TENANT:-1000000}
SMALL=10000

[ -x "$BIN/tests/bench/tenants" ] ||
	{ echo "tenants: $BIN/tests/bench/tenants missing (make bench builds it)" >&2; exit 1; }
BASE=$(mktemp -d /tmp/tally-tenants.XXXXXX)
trap '[ -n "${KEEP:-}" ] || rm -rf "$BASE"' EXIT
mkdir -p "$OUT"

# run N: "name value" lines of tenants.c into BASE/N.txt
run() {
	echo "tenants: building and measuring a tenant of $1 customers..." >&2
	"$BIN/tests/bench/tenants" "$BASE/d$1" "$1" > "$BASE/$1.txt"
	[ -n "${KEEP:-}" ] || rm -rf "$BASE/d$1"
}
run "$SMALL"
run "$BIG"

# get N NAME
get() { awk -v k="$2" '$1 == k { print $2 }' "$BASE/$1.txt"; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", (b > 0 ? a / b : 0) }'; }

{
	printf '{"customers": %s, "small": %s' "$BIG" "$SMALL"
	for n in "$SMALL" "$BIG"; do
		printf ', "%s": {' "$n"
		awk 'NR > 1 { printf ", " } { printf "\"%s\": %s", $1, $2 }' \
			"$BASE/$n.txt"
		printf '}'
	done
	printf '}\n'
} > "$OUT/tenants.json"

x=$((BIG / SMALL))
printf 'big tenants, in process (tests/bench/tenants.c), %s vs %s customers (%s× as many):\n' \
	"$BIG" "$SMALL" "$x"
printf '  load through the ledger, batches of 1,000: %s s (%s s)\n' \
	"$(get "$BIG" load_s)" "$(get "$SMALL" load_s)"
printf '  checkpoint-all at %s customers: %s s (%s s at %s: %s×); again, nothing new: %s s\n' \
	"$BIG" "$(get "$BIG" checkpoint_all_s)" "$(get "$SMALL" checkpoint_all_s)" \
	"$SMALL" "$(ratio "$(get "$BIG" checkpoint_all_s)" "$(get "$SMALL" checkpoint_all_s)")" \
	"$(get "$BIG" checkpoint_again_s)"
for kind in nomatch one; do
	what=$([ $kind = nomatch ] && echo 'search "zzzz" (no match)' ||
		echo "search one customer's 7 digits")
	printf '  %s at %s customers: p99 %s ms, p50 %s ms (p99 %s ms at %s: %s×)\n' \
		"$what" "$BIG" "$(get "$BIG" search_${kind}_p99_ms)" \
		"$(get "$BIG" search_${kind}_p50_ms)" \
		"$(get "$SMALL" search_${kind}_p99_ms)" "$SMALL" \
		"$(ratio "$(get "$BIG" search_${kind}_p99_ms)" "$(get "$SMALL" search_${kind}_p99_ms)")"
done
printf '  what a search cost before the index (a walk of the tenant): %s ms (%s ms)\n' \
	"$(get "$BIG" walk_ms)" "$(get "$SMALL" walk_ms)"
echo "tenants: written to bench/tenants.json"
