#!/usr/bin/env bash
# Issue 17's holes in the record's promise, reproduced as a vendor and a
# customer meet them, through nginx and through Apache, on a simulated
# clock (libfaketime) so that months pass in seconds:
#
#  - a checkpoint chain must cover every delta: November locked on
#    Nov 10 (seqs 1-2), seqs 3-4 recorded later in November, December
#    locked on Jan 1.  December must carry 3-4 in (firstSequence 3), the
#    chain's end must equal derive, and tally-verify must pass the chain
#    and refuse a receipt with a delta left out, naming its sequence;
#  - a re-locked month's predecessor stays downloadable (?checkpointId=);
#  - nothing public confirms a guessed customer and amount: the statement
#    carries a fresh salt, so its hash (GET /verify) matches the signed
#    bytes only with the salt only a receipt holder has.
#
#   tests/e2e/chain.sh        prints each check, exits 1 on a failure
set -euo pipefail

REPO=$(cd "$(dirname "$0")/../.." && pwd)
BIN=$REPO/${B:-build}
DIR=$(mktemp -d /tmp/tally-chain.XXXXXX)
# shellcheck source=../../tools/stack.sh
source "$REPO/tools/stack.sh"
trap 'stack_stop; [ -n "${KEEP:-}" ] || rm -rf "$DIR"' EXIT

stack_fake_clock "2026-11-05 12:00:00" || exit 1

stack_conf
stack_ctl init >/dev/null
stack_ctl tenant add shop >/dev/null
KEY=$(stack_key --tenant shop --env live)
CUST_NGINX=$(stack_key --tenant shop --env live --customer early_nginx)
CUST_APACHE=$(stack_key --tenant shop --env live --customer early_apache)
stack_start_tallyd
NGINX_PORT=$(stack_free_port) NGINX_TLS=$(stack_free_port)
stack_start_nginx "$NGINX_PORT" "$NGINX_TLS"
APACHE_PORT=$(stack_free_port) APACHE_TLS=$(stack_free_port)
stack_start_apache "$APACHE_PORT" "$APACHE_TLS"
export CURL_CA_BUNDLE=$DIR/tls/cert.pem

passed=0 failed=0
expect() {	# expect LABEL WANT GOT
	if [ "$2" = "$3" ]; then
		echo "   ok   $1 = $3"; passed=$((passed + 1))
	else
		echo "   FAIL $1: want $2, got $3"; failed=$((failed + 1))
	fi
}
jqr() { jq -r "$1" <<<"$2"; }
at() { echo "@$1" > "$CLOCK"; }
post() {	# post URL PATH BODY
	curl -s -H "X-Api-Key: $KEY" -H 'Content-Type: application/json' \
		-d "$3" "$1/api/v1$2"
}
get() {		# get URL KEY PATH
	curl -s -H "X-Api-Key: $2" "$1/api/v1$3"
}
emit() {	# emit URL CUSTOMER AMOUNT
	local r
	r=$(post "$1" /balance/delta "{\"customerId\":\"$2\",\"delta\":$3,\"reason\":\"usage\"}")
	[ "$(jqr .success "$r")" = true ] || expect "emit $2 $3" 201 "$r"
}
verify() { "$BIN/tally-verify" "$@" > "$DIR/verify.out" 2>&1; echo $?; }

# The customer's timeline through one front end; the clock is shared, so
# both run it side by side, step by step.
FRONTS=("nginx https://127.0.0.1:$NGINX_TLS early_nginx $CUST_NGINX"
	"apache https://127.0.0.1:$APACHE_TLS early_apache $CUST_APACHE")
each() {	# each FN: FN NAME URL CUSTOMER CUSTOMER_KEY, per front end
	local f
	for f in "${FRONTS[@]}"; do
		# shellcheck disable=SC2086
		"$1" $f
	done
}

step_nov_early() { emit "$2" "$3" 10; emit "$2" "$3" 2.5; }
step_nov_lock() {
	local r
	r=$(post "$2" /balance/checkpoint "{\"customerId\":\"$3\",\"period\":\"2026-11\"}")
	echo "$r" > "$DIR/$1-nov.cp"
	expect "$1: November (Nov 10) covers" "1..2" \
		"$(jqr '"\(.data.firstSequence)..\(.data.lastSequence)"' "$r")"
}
step_nov_late() { emit "$2" "$3" 1.25; emit "$2" "$3" 0.000000001; }
step_dec() { emit "$2" "$3" -3; }
step_dec_lock() {
	local r nov d
	nov=$(cat "$DIR/$1-nov.cp")
	r=$(post "$2" /balance/checkpoint "{\"customerId\":\"$3\",\"period\":\"2026-12\"}")
	echo "$r" > "$DIR/$1-dec.cp"
	expect "$1: December carries November's late deltas in" "3..5 3" \
		"$(jqr '"\(.data.firstSequence)..\(.data.lastSequence) \(.data.deltasCount)"' "$r")"
	expect "$1: December starts at November's end" \
		"$(jqr .data.endingBalanceExact "$nov")" "$(jqr .data.startingBalanceExact "$r")"
	d=$(get "$2" "$4" "/balance/derive/$3")
	expect "$1: the chain ends where derive does" \
		"$(jqr .data.computedBalance "$d")" "$(jqr .data.endingBalance "$r")"
	expect "$1: exact twin of endingBalance" 10.750000001 \
		"$(jqr .data.endingBalanceExact "$r")"
}
step_receipts() {	# the customer, with its own read-only key
	local nov dec
	nov=$(jqr .data.checkpointId "$(cat "$DIR/$1-nov.cp")")
	dec=$(jqr .data.checkpointId "$(cat "$DIR/$1-dec.cp")")
	curl -s "$2/api/v1/keys" > "$DIR/$1-keys.json"
	get "$2" "$4" "/balance/receipt/$3?checkpointId=$nov" > "$DIR/$1-nov.json"
	get "$2" "$4" "/balance/receipt/$3?period=2026-12" > "$DIR/$1-dec.json"
	expect "$1: receipt by checkpointId" "$nov" \
		"$(jq -r .data.checkpointId "$DIR/$1-nov.json")"
	expect "$1: the chain verifies" 0 "$(verify "$DIR/$1-dec.json" \
		--keys "$DIR/$1-keys.json" --previous "$DIR/$1-nov.json" --list)"
	expect "$1: tally-verify names the carried-in deltas" 2 \
		"$(grep -c 'carried in (recorded before the period)' "$DIR/verify.out")"
	grep -q '^ok   chain: .*sequences join without a gap' "$DIR/verify.out" ||
		expect "$1: chain line" "sequences join" "$(grep chain: "$DIR/verify.out")"
	jq 'del(.data.deltas[1])' "$DIR/$1-dec.json" > "$DIR/$1-cut.json"
	expect "$1: a receipt missing a delta" 1 "$(verify "$DIR/$1-cut.json" \
		--keys "$DIR/$1-keys.json")"
	expect "$1: ... named by its sequence" "FAIL deltas: sequence 4 missing" \
		"$(grep -m1 '^FAIL deltas' "$DIR/verify.out")"
	jq '.data.deltas[0].leaf.delta = "11"' "$DIR/$1-nov.json" > "$DIR/$1-nov-bad.json"
	expect "$1: a predecessor with a changed amount" 1 "$(verify \
		"$DIR/$1-dec.json" --keys "$DIR/$1-keys.json" --previous "$DIR/$1-nov-bad.json")"
	grep -q '^FAIL chain: --previous' "$DIR/verify.out" ||
		expect "$1: FAIL chain: --previous" yes no
	r=$(get "$2" "$4" "/balance/receipt/$3?checkpointId=$nov&period=2026-11")
	expect "$1: checkpointId with period" INVALID_SCOPE_COMBINATION "$(jqr .error.code "$r")"
	r=$(get "$2" "$4" "/balance/receipt/$3?checkpointId=chk_00000000000000000000000000000000")
	expect "$1: an unknown checkpointId" CHECKPOINT_NOT_FOUND "$(jqr .error.code "$r")"
}
step_relock() {		# November after new deltas, then the one it replaced
	local r first
	first=$(jqr .data.checkpointId "$(cat "$DIR/$1-jan.cp")")
	r=$(post "$2" /balance/checkpoint "{\"customerId\":\"$3\",\"period\":\"2027-01\"}")
	expect "$1: January re-locked names the one it replaces" "$first" \
		"$(jqr .data.previousCheckpointId "$r")"
	expect "$1: ... and starts where it started" \
		"$(jqr .data.firstSequence "$(cat "$DIR/$1-jan.cp")")" "$(jqr .data.firstSequence "$r")"
	get "$2" "$4" "/balance/receipt/$3?checkpointId=$first" > "$DIR/$1-jan1.json"
	get "$2" "$4" "/balance/receipt/$3?period=2027-01" > "$DIR/$1-jan2.json"
	expect "$1: the replaced one still verifies" 0 "$(verify "$DIR/$1-jan1.json" \
		--keys "$DIR/$1-keys.json" --previous "$DIR/$1-dec.json")"
	expect "$1: the re-lock chains to it" 0 "$(verify "$DIR/$1-jan2.json" \
		--keys "$DIR/$1-keys.json" --previous "$DIR/$1-jan1.json")"
}
step_jan() {
	local r
	emit "$2" "$3" 7
	r=$(post "$2" /balance/checkpoint "{\"customerId\":\"$3\",\"period\":\"2027-01\"}")
	echo "$r" > "$DIR/$1-jan.cp"
	emit "$2" "$3" 8
}
step_public() {		# an outsider with the proof root, and a guesser
	local dec r st hash guess
	dec=$(cat "$DIR/$1-dec.cp")
	r=$(curl -s "$2/api/v1/verify/$(jqr .data.proofRoot "$dec")")
	expect "$1: public verify" true "$(jqr .data.verified "$r")"
	jqr .data.statement "$dec" | base64 -d > "$DIR/$1-st.json"
	st=$(cat "$DIR/$1-st.json")
	expect "$1: the statement carries a 32-byte salt" 64 \
		"$(jqr '.salt | length' "$st")"
	# jq -cjS writes these statements' JCS form: the guess is fair.
	[ "$(jq -cjS . <<<"$st")" = "$st" ] &&
		expect "$1: jq -cjS reproduces the signed bytes" yes yes ||
		expect "$1: jq -cjS reproduces the signed bytes" yes no
	hash=0x$(sha256sum < "$DIR/$1-st.json" | cut -c1-64)
	expect "$1: the holder of the receipt confirms statementHash" "$hash" \
		"$(jqr .data.statementHash "$r")"
	# The guesser knows everything but the salt: tenant, customer, amounts.
	guess=0x$(jq -cjS 'del(.salt)' <<<"$st" | sha256sum | cut -c1-64)
	[ "$guess" != "$(jqr .data.statementHash "$r")" ] &&
		expect "$1: a guess without the salt confirms nothing" no no ||
		expect "$1: a guess without the salt confirms nothing" no yes
}

echo "== November: two deltas, locked on Nov 10; two more later in November"
each step_nov_early
at "2026-11-10 09:00:00"; each step_nov_lock
at "2026-11-20 09:00:00"; each step_nov_late
echo "== December: one delta; December locked on Jan 1"
at "2026-12-05 09:00:00"; each step_dec
at "2027-01-01 00:00:05"; each step_dec_lock
echo "== the customer downloads both receipts and checks the chain"
each step_receipts
echo "== statements are salted: nothing public confirms a guess"
each step_public
echo "== a re-locked month: the checkpoint it replaced stays downloadable"
at "2027-01-10 09:00:00"; each step_jan
at "2027-01-11 09:00:00"; each step_relock

echo "chain: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
