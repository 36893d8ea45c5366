#!/usr/bin/env bash
# The README's worked example, run for real: SaaS metering for
# customer_acme.  A vendor flushes one day of API usage per day, from
# 2026-01-27 to 2026-03-03, then derives the whole balance, one month and
# a custom window through nginx, and compares its own figure.  tallyd
# runs on a simulated clock (libfaketime) so 36 days pass in seconds;
# nothing else is simulated.  Every figure is checked against a sum the
# script computes itself, in integers.
#
#   tests/e2e/acme.sh          prints the example, exits 1 on a mismatch
set -euo pipefail

REPO=$(cd "$(dirname "$0")/../.." && pwd)
BIN=$REPO/${B:-build}
DIR=$(mktemp -d /tmp/tally-acme.XXXXXX)
# shellcheck source=../../tools/stack.sh
source "$REPO/tools/stack.sh"
trap 'stack_stop; [ -n "${KEEP:-}" ] || rm -rf "$DIR"' EXIT

stack_fake_clock "2026-01-27 12:00:00" || exit 1

stack_conf
stack_ctl init >/dev/null
stack_ctl tenant add saas >/dev/null
KEY=$(stack_key --tenant saas --env live)
stack_ctl cadence set --tenant saas --customer customer_daily 24h >/dev/null
CUSTOMER_KEY=$(stack_key --tenant saas --env live --customer customer_acme)
stack_start_tallyd
PORT=$(stack_free_port) TLS_PORT=$(stack_free_port)
stack_start_nginx "$PORT" "$TLS_PORT"
# Everything over HTTPS, trusting the stack's own certificate.
export CURL_CA_BUNDLE=$DIR/tls/cert.pem
URL=https://127.0.0.1:$TLS_PORT/api/v1

failures=0
say() { printf '%s\n' "$*"; }
# expect LABEL WANT GOT
expect() {
	if [ "$2" = "$3" ]; then
		say "   ok   $1 = $3"
	else
		say "   FAIL $1: want $2, got $3"
		failures=$((failures + 1))
	fi
}
# field JSON NAME: a top-level number or string of .data, as sent
field() { grep -o "\"$2\":[^,}]*" <<<"$1" | head -1 | cut -d: -f2- | tr -d '"'; }
# An amount held as an integer count of 1/10000 units, as Tally writes it.
fmt() {
	local v=$1 sign="" frac
	if [ "$v" -lt 0 ]; then sign=-; v=$((-v)); fi
	frac=$(printf '%04d' $((v % 10000)) | sed 's/0*$//')
	say "$sign$((v / 10000))${frac:+.$frac}"
}

say "== customer_acme: one delta per day, 2026-01-27 .. 2026-03-03"
say "   (usage: 1000 + 137*i API calls on day i, at 0.0025 per call)"
total=0 jan=0 feb=0 window=0
day=$(date -u -d 2026-01-27 +%s)
for i in $(seq 0 35); do
	date=$(date -u -d "@$((day + i * 86400))" +%F)
	# A second later each day, so a 24h cadence always has its 24 hours.
	echo "@$date 12:00:$(printf %02d "$i")" > "$CLOCK"
	calls=$((1000 + 137 * i))
	amount=$((calls * 25))		# in 1/10000 units
	body="{\"customerId\":\"customer_acme\",\"delta\":$(fmt $amount),\"reason\":\"API calls $date: $calls\",\"referenceId\":\"usage-$date\"}"
	status=$(curl -s -o /dev/null -w '%{http_code}' -H "X-Api-Key: $KEY" \
		-H 'Content-Type: application/json' -d "$body" "$URL/balance/delta")
	[ "$status" = 201 ] || { say "   FAIL emit $date: HTTP $status"; failures=$((failures + 1)); }
	total=$((total + amount))
	case $date in
	2026-01-*) jan=$((jan + amount)) ;;
	2026-02-*) feb=$((feb + amount)) ;;
	esac
	[[ $date > 2026-02-09 && $date < 2026-02-17 ]] && window=$((window + amount))
	# customer_daily, on a 24h cadence, flushes daily too: but not 02-14.
	if [ "$date" != 2026-02-14 ]; then
		curl -s -o /dev/null -H "X-Api-Key: $KEY" -H 'Content-Type: application/json' \
			-d "{\"customerId\":\"customer_daily\",\"delta\":1,\"reason\":\"day $date\"}" \
			"$URL/balance/delta"
	fi
done
say "   36 deltas emitted, the last: $body"

# Only verified deltas count: wait until a signed tree head covers all.
for _ in $(seq 100); do
	r=$(curl -s -H "X-Api-Key: $KEY" "$URL/balance/derive/customer_acme")
	[ "$(field "$r" pendingCount)" = 0 ] && break
	sleep 0.1
done

say "== derive, no scope: every verified delta"
say "   GET /api/v1/balance/derive/customer_acme"
expect computedBalance "$(fmt $total)" "$(field "$r" computedBalance)"
expect deltasCount 36 "$(field "$r" deltasCount)"
expect pendingCount 0 "$(field "$r" pendingCount)"

say "== derive one month"
say "   GET /api/v1/balance/derive/customer_acme?period=2026-02"
r=$(curl -s -H "X-Api-Key: $KEY" "$URL/balance/derive/customer_acme?period=2026-02")
expect computedBalance "$(fmt $feb)" "$(field "$r" computedBalance)"
expect deltasCount 28 "$(field "$r" deltasCount)"
r=$(curl -s -H "X-Api-Key: $KEY" "$URL/balance/derive/customer_acme?period=2026-01&startingBalance=100")
say "   GET /api/v1/balance/derive/customer_acme?period=2026-01&startingBalance=100"
expect netChange "$(fmt $jan)" "$(field "$r" netChange)"
expect computedBalance "$(fmt $((jan + 1000000)))" "$(field "$r" computedBalance)"

say "== derive a custom window: 2026-02-10 (inclusive) to 2026-02-17 (exclusive)"
say "   GET /api/v1/balance/derive/customer_acme?timePreset=custom&startDate=2026-02-10&endDate=2026-02-17"
r=$(curl -s -H "X-Api-Key: $KEY" "$URL/balance/derive/customer_acme?timePreset=custom&startDate=2026-02-10&endDate=2026-02-17")
expect computedBalance "$(fmt $window)" "$(field "$r" computedBalance)"
expect deltasCount 7 "$(field "$r" deltasCount)"

say "== compare: the vendor's invoice figure for February, and the customer's own"
body="{\"customerId\":\"customer_acme\",\"period\":\"2026-02\",\"yourBalance\":$(fmt $feb),\"theirBalance\":$(fmt $((feb - 25)))}"
say "   POST /api/v1/balance/compare $body"
r=$(curl -s -H "X-Api-Key: $KEY" -H 'Content-Type: application/json' -d "$body" "$URL/balance/compare")
expect matchesYours true "$(field "$r" matchesYours)"
expect matchesTheirs false "$(field "$r" matchesTheirs)"
expect theirDifference -0.0025 "$(field "$r" theirDifference)"

say "== the customer reads the same record with its own read-only key"
r=$(curl -s -H "X-Api-Key: $CUSTOMER_KEY" "$URL/balance/derive/customer_acme?period=2026-02")
expect "customer's computedBalance" "$(fmt $feb)" "$(field "$r" computedBalance)"
status=$(curl -s -o /dev/null -w '%{http_code}' -H "X-Api-Key: $CUSTOMER_KEY" \
	-H 'Content-Type: application/json' -d "$body" "$URL/balance/delta")
expect "customer key emitting (refused)" 403 "$status"

# post PATH BODY: a vendor POST, the body of the answer
post() {
	curl -s -H "X-Api-Key: $KEY" -H 'Content-Type: application/json' \
		-d "$2" "$URL$1"
}
jqr() { jq -r "$1" <<<"$2"; }

say "== the daily flush: customer_daily on a 24h cadence skipped one day"
say "   GET /api/v1/balance/gaps/customer_daily?window=day&startDate=2026-02-01&endDate=2026-03-01"
r=$(curl -s -H "X-Api-Key: $KEY" "$URL/balance/gaps/customer_daily?window=day&startDate=2026-02-01&endDate=2026-03-01")
expect "missing windows" '[{"start":"2026-02-14T00:00:00.000Z","end":"2026-02-15T00:00:00.000Z"}]' \
	"$(jq -c .data.missingWindows <<<"$r")"
expect complete false "$(jqr .data.complete "$r")"
r=$(post /balance/delta '{"customerId":"customer_daily","delta":1,"reason":"twice today"}')
expect "a second delta the same day" "CADENCE_LIMIT customer_daily" \
	"$(jq -r '.error.code + " " + .error.customerId' <<<"$r")"
wait_s=$(jqr .error.retryAfterSeconds "$r")
[ "$wait_s" -gt 86000 ] && [ "$wait_s" -le 86400 ] ||
	expect "retryAfterSeconds within a day" "86000..86400" "$wait_s"

say "== lock January and February (the clock now reads 2026-03-03)"
say "   POST /api/v1/balance/checkpoint {\"customerId\":\"customer_acme\",\"period\":\"2026-01\"}"
jan_cp=$(post /balance/checkpoint '{"customerId":"customer_acme","period":"2026-01"}')
JAN=$(jqr .data.checkpointId "$jan_cp")
expect "January endingBalance" "$(fmt $jan)" "$(field "$jan_cp" endingBalance)"
expect "January deltasCount" 5 "$(field "$jan_cp" deltasCount)"
expect "January previousCheckpointId" null "$(jqr .data.previousCheckpointId "$jan_cp")"
r=$(post /balance/checkpoint '{"customerId":"customer_acme","period":"2026-01"}')
expect "January again, nothing new: same checkpointId" "$JAN" "$(jqr .data.checkpointId "$r")"
feb_cp=$(post /balance/checkpoint '{"customerId":"customer_acme","period":"2026-02"}')
FEB=$(jqr .data.checkpointId "$feb_cp")
expect "February previousCheckpointId" "$JAN" "$(jqr .data.previousCheckpointId "$feb_cp")"
expect "February startingBalance (January's end)" "$(fmt $jan)" "$(field "$feb_cp" startingBalance)"
expect "February endingBalance" "$(fmt $((jan + feb)))" "$(field "$feb_cp" endingBalance)"
r=$(post /balance/checkpoint '{"customerId":"customer_acme","period":"2026-01"}')
expect "January after February is locked" VALIDATION_ERROR "$(jqr .error.code "$r")"
r=$(post /balance/checkpoint '{"customerId":"customer_acme","period":"2026-04"}')
expect "a future period" VALIDATION_ERROR "$(jqr .error.code "$r")"

say "== March is open: a new delta makes a new checkpoint naming the old"
mar_cp=$(post /balance/checkpoint '{"customerId":"customer_acme"}')
MAR=$(jqr .data.checkpointId "$mar_cp")
expect "March (default period) deltasCount" 3 "$(field "$mar_cp" deltasCount)"
post /balance/delta '{"customerId":"customer_acme","delta":1.5,"reason":"late usage"}' >/dev/null
mar2_cp=$(post /balance/checkpoint '{"customerId":"customer_acme","period":"2026-03"}')
expect "March again: previousCheckpointId" "$MAR" "$(jqr .data.previousCheckpointId "$mar2_cp")"
expect "March again: deltasCount" 4 "$(field "$mar2_cp" deltasCount)"
expect "March again: same startingBalance" "$(field "$mar_cp" startingBalance)" "$(field "$mar2_cp" startingBalance)"

say "== derive from a checkpoint: February's end plus everything after"
r=$(curl -s -H "X-Api-Key: $KEY" "$URL/balance/derive/customer_acme?startingCheckpoint=$FEB")
expect computedBalance "$(fmt $((total + 15000)))" "$(field "$r" computedBalance)"
expect deltasCount 4 "$(field "$r" deltasCount)"

say "== the public verify endpoint: no key, no customer data"
root=$(jqr .data.proofRoot "$feb_cp")
r=$(curl -s "$URL/verify/$root?source=invoice")
expect verified true "$(jqr .data.verified "$r")"
expect checkpointId "$FEB" "$(jqr .data.checkpointId "$r")"
leak=no
for secret in customer_acme "$(fmt $feb)" "$(fmt $jan)" "API calls" saas; do
	grep -qF "$secret" <<<"$r" && leak=$secret
done
expect "customer data in the public answer" no "$leak"
r=$(curl -s "$URL/verify/$FEB")
expect "by checkpointId: proofRoot" "$root" "$(jqr .data.proofRoot "$r")"
statement_hash=$(jqr .data.statement "$feb_cp" | base64 -d | sha256sum | cut -c1-64)
expect "statementHash = SHA-256 of the signed statement" "0x$statement_hash" "$(jqr .data.statementHash "$r")"
r=$(curl -s -w ' %{http_code}' "$URL/verify/0x$(openssl rand -hex 32)")
expect "a random root" "false 404" "$(jqr .error.verified "${r% *}") ${r##* }"

say "== the customer fetches its receipts over HTTPS and checks them offline"
say "   (docs/verify.md, step by step)"
curl -s "$URL/keys" > "$DIR/keys.json"
for p in 2026-01 2026-02; do
	curl -s -H "X-Api-Key: $CUSTOMER_KEY" \
		"$URL/balance/receipt/customer_acme?period=$p" > "$DIR/$p.json"
done
verify() { "$BIN/tally-verify" "$@" > "$DIR/verify.out" 2>&1; echo $?; }
expect "tally-verify 2026-01.json --keys keys.json" 0 "$(verify "$DIR/2026-01.json" --keys "$DIR/keys.json")"
expect "tally-verify 2026-02.json --previous 2026-01.json" 0 \
	"$(verify "$DIR/2026-02.json" --keys "$DIR/keys.json" --previous "$DIR/2026-01.json")"
sed 's/^/      /' "$DIR/verify.out"
jq -r --arg k "$(jq -r .data.keyId "$DIR/2026-02.json")" \
	'.data.keys[] | select(.keyId == $k) | .pem' "$DIR/keys.json" > "$DIR/key.pem"
jq -r .data.statement "$DIR/2026-02.json" | base64 -d > "$DIR/statement.json"
jq -r .data.signature "$DIR/2026-02.json" | base64 -d > "$DIR/statement.sig"
expect "openssl dgst -verify on the statement" "Verified OK" \
	"$(openssl dgst -sha256 -verify "$DIR/key.pem" -signature "$DIR/statement.sig" "$DIR/statement.json")"
openssl ecparam -name prime256v1 -genkey -noout 2>/dev/null |
	openssl ec -pubout > "$DIR/other.pem" 2>/dev/null
expect "the receipt under another key" 1 "$(verify "$DIR/2026-02.json" --key "$DIR/other.pem")"
grep -q '^FAIL.*signature' "$DIR/verify.out" || expect "a FAIL line naming the signature" yes no
expect "the months out of order (--previous 2026-02 for 2026-01)" 1 \
	"$(verify "$DIR/2026-01.json" --keys "$DIR/keys.json" --previous "$DIR/2026-02.json")"
post /balance/delta '{"customerId":"customer_beta","delta":4,"reason":"usage"}' >/dev/null
post /balance/checkpoint '{"customerId":"customer_beta"}' >/dev/null
curl -s -H "X-Api-Key: $KEY" "$URL/balance/receipt/customer_beta" > "$DIR/beta.json"
expect "customer_beta's own receipt" 0 "$(verify "$DIR/beta.json" --keys "$DIR/keys.json")"
expect "another customer's receipt as --previous" 1 \
	"$(verify "$DIR/2026-02.json" --keys "$DIR/keys.json" --previous "$DIR/beta.json")"

say "== every single-character change to the served January receipt is caught"
if B="$BIN" "$REPO/tests/verify/run.sh" "$DIR/2026-01.json" \
	--keys "$DIR/keys.json" > "$DIR/tamper.out" 2>&1; then
	say "   ok   $(tail -1 "$DIR/tamper.out")"
else
	say "   FAIL tamper loop:"; grep -i fail "$DIR/tamper.out" | head -5
	failures=$((failures + 1))
fi

[ "$failures" -eq 0 ] && say "acme: worked example holds" && exit 0
say "acme: $failures mismatches (state in $DIR with KEEP=1)"
exit 1
