#!/usr/bin/env bash
# The live browser suite's stack: a tallyd of its own on a simulated
# clock behind nginx and Apache, brought up by tools/stack.sh exactly as
# tests/e2e/shared.sh does, with a customer's record worth looking at:
#
#   customer_acme    October and November recorded and locked (two
#                    checkpoints, one chain), December under way; October
#                    holds 987654321.123456789; a two_tier link
#   customer_globex  a gated link
#   customer_initech an open link
#
# then test_live.py, which gets everything it needs through the
# environment (LIVE_*), in Debian's python3 (python3-selenium).
set -euo pipefail

REPO=$(cd "$(dirname "$0")/../.." && pwd)
BIN=$REPO/${B:-build}
DIR=$(mktemp -d /tmp/tally-browser-live.XXXXXX)
# shellcheck source=../../tools/stack.sh
source "$REPO/tools/stack.sh"

passed=0
failed=0
trap 'stack_finish browser-live' EXIT

vapi() {	# vapi METHOD PATH [BODY]: as the vendor, through nginx
	curl -sf -X "$1" -H "X-Api-Key: $KEY" -H 'Content-Type: application/json' \
		${3:+--data-binary "$3"} "$NGINX/api/v1$2"
}
emit() {	# emit CUSTOMER AMOUNT REASON [REFERENCE]
	local body
	# The amount as written: jq would put it through a double.
	body=$(jq -cn --arg c "$1" --arg r "$3" --arg ref "${4:-}" \
		'{customerId: $c, delta: 0, reason: $r} +
		(if $ref == "" then {} else {referenceId: $ref} end)')
	body=${body/\"delta\":0/\"delta\":$2}
	vapi POST /balance/delta "$body" | jq -e .data.recordId >/dev/null
}
at() { echo "@$1" > "$CLOCK"; }
# Until a signed tree head covers every delta of the customer.
settle() {
	for _ in $(seq 100); do
		[ "$(vapi GET "/balance/derive/$1" | jq .data.pendingCount)" = 0 ] && return 0
		sleep 0.1
	done
	stack_log "no signed head covers $1's deltas"
	return 1
}
lock() {	# lock CUSTOMER PERIOD
	vapi POST /balance/checkpoint "{\"customerId\":\"$1\",\"period\":\"$2\"}" |
		jq -e .data.checkpointId >/dev/null
}
share() {	# share CUSTOMER POLICY: "handle code" of a new link
	local out
	out=$(stack_ctl share create --tenant acme --customer "$1" --policy "$2" 2>/dev/null)
	printf '%s %s\n' "$(sed -n 's|^link .*/c/||p' <<<"$out")" "$(sed -n 's/^code //p' <<<"$out")"
}

record() {
	at "2026-10-10 09:30:00"
	emit customer_acme 987654321.123456789 'Compute, October' inv-2026-10-a
	emit customer_acme 0.1 'Storage, October' inv-2026-10-b
	emit customer_acme -2.25 'Credit: service note 14' credit-14
	settle customer_acme
	at "2026-11-09 10:00:00"
	lock customer_acme 2026-10
	emit customer_acme 1250.5 'Compute, November' inv-2026-11-a
	emit customer_acme 12.000000001 'Storage, November' inv-2026-11-b
	settle customer_acme
	at "2026-12-02 08:00:00"
	lock customer_acme 2026-11
	emit customer_acme 310.25 'Compute, December' inv-2026-12-a
	emit customer_acme 0.75 'Storage, December' inv-2026-12-b
	emit customer_acme 42 'API calls, December' inv-2026-12-c
	emit customer_globex 5 'Compute, December'
	emit customer_initech 7.5 'Compute, December'
	settle customer_acme && settle customer_globex && settle customer_initech
	at "2026-12-05 12:00:00"
}

stack_fake_clock "2026-10-10 09:00:00"
stack_conf
stack_ctl init >/dev/null
stack_ctl tenant add acme >/dev/null
KEY=$(stack_key --tenant acme)
stack_start_fronts

if ! record; then
	failed=1
	echo "browser: 0 passed, 1 failed (live: the record could not be made)"
	exit 1
fi
read -r HANDLE CODE <<<"$(share customer_acme two_tier)"
read -r GATED_HANDLE GATED_CODE <<<"$(share customer_globex gated)"
read -r OPEN_HANDLE _ <<<"$(share customer_initech open)"
stack_secret "$CODE" "$GATED_CODE"

export LIVE_FRONTS="nginx=$NGINX apache=$APACHE"
export LIVE_HANDLE=$HANDLE LIVE_CODE=$CODE LIVE_CUSTOMER=customer_acme
export LIVE_GATED_HANDLE=$GATED_HANDLE LIVE_GATED_CODE=$GATED_CODE
export LIVE_OPEN_HANDLE=$OPEN_HANDLE
# The vendor's key: derive's figures, and a delta recorded while the page is open.
export LIVE_VENDOR_KEY=$KEY
# The simulated clock, "@YYYY-MM-DD HH:MM:SS", and where it stands now:
# a minute on, a rate-limited link takes a code again.
export LIVE_CLOCK=$CLOCK LIVE_NOW="2026-12-05 12:00:00"
/usr/bin/python3 "$REPO/tests/browser/test_live.py" || failed=1
[ "$failed" -eq 0 ]
