#!/usr/bin/env bash
# The Shared Record (SPEC 8, docs/shared.md), end to end: a tallyd of its
# own on a simulated clock, behind nginx and Apache.  A customer's
# October is recorded and locked, November is under way; then:
#
#   1. tallyctl share create prints the link (on public_url) and a code
#   2. through each front: the summary with the link alone; the rest
#      refused without the code; everything with it; figures equal to
#      derive's to the last digit; proofs that check against the signed
#      head (leaf recomputed, inclusion proof folded, by python3 here);
#      the CSV; the receipt bundle that tally-verify accepts; compare
#   3. wrong codes: 401 five times, then 429 with Retry-After, even for
#      the right code; logged without the code; a minute later one try
#   4. the vendor API: show, create again, rotate-code, policies
#   5. revoke: the link answers exactly as an unknown one
set -euo pipefail

REPO=$(cd "$(dirname "$0")/../.." && pwd)
BIN=$REPO/${B:-build}
DIR=$(mktemp -d /tmp/tally-shared.XXXXXX)
# shellcheck source=../../tools/stack.sh
source "$REPO/tools/stack.sh"

passed=0
failed=0
trap 'stack_finish shared' EXIT

vapi() {	# vapi URL METHOD PATH [BODY]: as the vendor
	curl -s -X "$2" -H "X-Api-Key: $KEY" -H 'Content-Type: application/json' \
		${4:+--data-binary "$4"} "$1/api/v1$3"
}
shared() {	# shared URL PATH [CODE]: the customer, with the link alone or a code
	curl -s ${3:+-H "X-Access-Code: $3"} "$1/api/v1/shared/$HANDLE$2"
}
status() {	# status URL PATH [CODE]: the HTTP status of shared
	curl -s -o /dev/null -w '%{http_code}' ${3:+-H "X-Access-Code: $3"} \
		"$1/api/v1/shared/$HANDLE$2"
}
emit() {	# emit CUSTOMER AMOUNT REASON [REFERENCE]
	local body
	# The amount as written: jq would put it through a double.
	body=$(jq -cn --arg c "$1" --arg r "$3" --arg ref "${4:-}" \
		'{customerId: $c, delta: 0, reason: $r} +
		(if $ref == "" then {} else {referenceId: $ref} end)')
	body=${body/\"delta\":0/\"delta\":$2}
	vapi "$NGINX" POST /balance/delta "$body" | jq -e .data.recordId >/dev/null
}
jqok() { jq -e "$@" >/dev/null; }
# exact NAME FILE: a number member as written (jq reads it as a double).
exact() { grep -o "\"$1\":-\?[0-9.eE+-]*" "$2" | head -1 | cut -d: -f2; }
expect() {	# expect WHAT WANT GOT
	[ "$2" = "$3" ] || { echo "    $1: expected [$2], got [$3]" >&2; return 1; }
}
at() { echo "@$1" > "$CLOCK"; }
# Until a signed head covers every delta recorded (a head every 250 ms).
settle() {
	local i
	for i in $(seq 100); do
		[ "$(vapi "$NGINX" GET "/balance/derive/c1" | jq .data.pendingCount)" = 0 ] &&
			return 0
		sleep 0.1
	done
	return 1
}

stack_fake_clock "2026-10-10 12:00:00" || exit 1
stack_conf
stack_ctl init >/dev/null
stack_ctl tenant add acme >/dev/null
KEY=$(stack_key --tenant acme)
CUSTKEY=$(stack_key --tenant acme --customer c1)
stack_start_fronts
PUBLIC_URL=$(sed -n 's/^public_url = //p' "$DIR/tally.conf")

echo "== October recorded and locked, November under way"
october() {
	emit c1 987654321.123456789 'the big one' ref-1 &&
		emit c1 0.1 '=HYPERLINK("http://evil")' '@ref2' &&
		emit c1 -2.25 'a credit, with "quotes", and a comma' ref-3
}
stack_check "October's deltas" october
stack_check "October verified" settle
at "2026-11-10 12:00:00"
stack_check "October locked" bash -c 'curl -s -X POST -H "X-Api-Key: $1" \
	-H "Content-Type: application/json" --data-binary "{\"customerId\":\"c1\",\"period\":\"2026-10\"}" \
	"$2/api/v1/balance/checkpoint" | jq -e .data.checkpointId >/dev/null' _ "$KEY" "$NGINX"
november() { emit c1 1.5 'November, first' && emit c1 2.000000001 'November, second' &&
	emit c3 1 'open' && emit c5 1 'no share'; }
stack_check "November's deltas" november
stack_check "November verified" settle

echo "== 1. tallyctl share create"
stack_ctl share create --tenant acme --customer c1 > "$DIR/create.out" 2> "$DIR/create.err"
LINK=$(sed -n 's/^link //p' "$DIR/create.out")
CODE=$(sed -n 's/^code //p' "$DIR/create.out")
HANDLE=${LINK##*/c/}
stack_check "the link is {public_url}/c/{handle}" expect link "$PUBLIC_URL/c/$HANDLE" "$LINK"
stack_check "the handle: s and 26 base32 digits" grep -qE '^s[a-z2-7]{26}$' <<<"$HANDLE"
stack_check "the code: 6 of the alphabet" grep -qE '^[A-HJKMNP-Z2-9]{6}$' <<<"$CODE"
stack_check "policy two_tier by default" grep -qx 'policy two_tier' "$DIR/create.out"
stack_ctl share create --tenant acme --customer c1 > "$DIR/again.out" 2>/dev/null
stack_check "create again: the same link, no code" bash -c \
	'grep -qxF "link $1" "$2" && ! grep -q "^code " "$2"' _ "$LINK" "$DIR/again.out"
stack_check "show: the same link" bash -c '"$1" -c "$2" share show --tenant acme \
	--customer c1 | grep -qxF "link $3"' _ "$BIN/tallyctl" "$DIR/tally.conf" "$LINK"
stack_check "no code kept in the store's files" bash -c '! grep -rqa "$1" "$2/db"' _ "$CODE" "$DIR"

# The leaf recomputed from its fields and salt, and its inclusion proof
# folded up to the root of the signed head the answer carries (RFC 9162).
proofs_hold() {
	python3 - "$1" <<'PY'
import base64, hashlib, json, sys
data = json.load(open(sys.argv[1]))["data"]
root = base64.b64decode(data["treeHead"].split("\n")[2])
size = int(data["treeHead"].split("\n")[1])
for d in data["deltas"]:
    leaf = json.dumps(d["leaf"], sort_keys=True, separators=(",", ":"),
                      ensure_ascii=False).encode()
    content = hashlib.sha256(leaf).digest()
    h = hashlib.sha256(b"\0" + leaf).digest()
    assert "0x" + content.hex() == d["contentHash"], d["recordId"]
    assert "0x" + h.hex() == d["leafHash"], d["recordId"]
    i, n = d["logIndex"], size - 1
    for p in d["inclusionProof"]:
        p = bytes.fromhex(p[2:])
        if i % 2 == 1 or i == n:
            h = hashlib.sha256(b"\1" + p + h).digest()
            while i % 2 == 0 and i != 0:
                i >>= 1; n >>= 1
        else:
            h = hashlib.sha256(b"\1" + h + p).digest()
        i >>= 1; n >>= 1
    assert h == root, "proof of %s" % d["recordId"]
PY
}

front() {	# front NAME URL: the customer's view through one web server
	local name=$1 url=$2 f=$DIR/$1
	echo "== 2. the customer's record through $name"
	shared "$url" "" > "$f-summary.json"
	stack_check "$name: the summary with the link alone" jqok '.success and
		.data.access == "summary" and .data.policy == "two_tier" and
		.data.customerId == "c1" and .data.period == "2026-11" and
		.data.recordCount == 2 and .data.verifiedCount == 2 and
		.data.periodTotalExact == "3.500000001" and .data.verifiedThrough != null' \
		"$f-summary.json"
	vapi "$url" GET "/balance/derive/c1?period=2026-11" > "$f-derive.json"
	stack_check "$name: the total is derive's, to the last digit" expect total \
		"$(exact netChange "$f-derive.json")" "$(jq -r .data.periodTotalExact "$f-summary.json")"
	for p in /periods /periods/2026-10/deltas "/export.csv?period=2026-10"; do
		shared "$url" "$p" > "$f-refused.json"
		stack_check "$name: $p without the code: 401 ACCESS_CODE_REQUIRED" jqok \
			'.error.code == "ACCESS_CODE_REQUIRED"' "$f-refused.json"
	done
	stack_check "$name: 401 as a status" expect status 401 "$(status "$url" /periods)"
	shared "$url" "" "$CODE" > "$f-full.json"
	stack_check "$name: the summary with the code: full access" jqok \
		'.data.access == "full"' "$f-full.json"

	shared "$url" /periods "$CODE" > "$f-periods.json"
	stack_check "$name: periods, newest first: November open, October locked" jqok \
		'.data.periods | length == 2 and
		.[0].period == "2026-11" and .[0].state == "open" and .[0].checkpoint == null and
		.[0].recordCount == 2 and .[0].netExact == "3.500000001" and
		.[1].period == "2026-10" and .[1].state == "locked" and .[1].recordCount == 3 and
		.[1].netExact == "987654318.973456789" and
		.[1].checkpoint.endingBalanceExact == "987654318.973456789"' "$f-periods.json"
	vapi "$url" GET "/balance/derive/c1?period=2026-10" > "$f-derive10.json"
	stack_check "$name: October's net is derive's, to the last digit" expect net \
		"$(exact netChange "$f-derive10.json")" \
		"$(jq -r '.data.periods[1].netExact' "$f-periods.json")"

	shared "$url" /periods/2026-10/deltas "$CODE" > "$f-deltas.json"
	stack_check "$name: October's deltas, in log order, verified, exact strings" jqok \
		'.data.period == "2026-10" and .data.pagination.total == 3 and
		([.data.deltas[].state] == ["verified", "verified", "verified"]) and
		([.data.deltas[].leaf.delta] == ["987654321.123456789", "0.1", "-2.25"]) and
		(.data.deltas[0].leaf | has("salt") and .customerId == "c1" and
		.sequenceNumber == 1) and (.data.keys | length == 1) and
		(.data.treeHead | length > 0)' "$f-deltas.json"
	stack_check "$name: every leaf and inclusion proof checks against the head" \
		proofs_hold "$f-deltas.json"
	shared "$url" "/periods/2026-10/deltas?limit=1&offset=2" "$CODE" > "$f-page.json"
	stack_check "$name: paged" jqok '.data.pagination == {limit: 1, offset: 2, total: 3} and
		(.data.deltas | length == 1) and .data.deltas[0].leaf.delta == "-2.25"' "$f-page.json"
	stack_check "$name: a bad period is a 400" expect status 400 \
		"$(status "$url" /periods/2026-13/deltas "$CODE")"

	curl -s -D "$f-csv.head" -o "$f.csv" -H "X-Access-Code: $CODE" \
		"$url/api/v1/shared/$HANDLE/export.csv?period=2026-10"
	stack_check "$name: CSV: text/csv" grep -qi '^content-type: text/csv; charset=utf-8' "$f-csv.head"
	stack_check "$name: CSV: an attachment named for customer and period" grep -qi \
		'^content-disposition: attachment; filename="c1-2026-10.csv"' "$f-csv.head"
	stack_check "$name: CSV: the header line" expect header \
		"sequenceNumber,createdAt,delta,reason,referenceId,recordId,state" \
		"$(head -1 "$f.csv" | tr -d '\r')"
	stack_check "$name: CSV: exact amounts" grep -q '^1,2026-10-10T12:00:[0-9.]*Z,987654321.123456789,the big one,ref-1,rec_[^,]*,verified' "$f.csv"
	stack_check "$name: CSV: a formula is defused, quoted (RFC 4180)" grep -qF \
		",\"'=HYPERLINK(\"\"http://evil\"\")\",'@ref2," "$f.csv"
	stack_check "$name: CSV: a negative amount stays a number" grep -qF \
		',-2.25,"a credit, with ""quotes"", and a comma",ref-3,' "$f.csv"
	stack_check "$name: CSV: CRLF line ends, 4 lines" expect lines 4 "$(grep -c $'\r$' "$f.csv")"

	CHK=$(jq -r '.data.periods[1].checkpoint.checkpointId' "$f-periods.json")
	shared "$url" "/receipt/$CHK" "$CODE" > "$f-receipt.json"
	curl -s "$url/api/v1/keys" > "$f-keys.json"
	stack_check "$name: the receipt bundle, as GET /balance/receipt gives it" bash -c \
		'test "$(jq -cS .data "$1")" = "$(curl -s -H "X-Api-Key: $2" \
		"$3/api/v1/balance/receipt/c1?checkpointId=$4" | jq -cS .data)"' _ \
		"$f-receipt.json" "$CUSTKEY" "$url" "$CHK"
	stack_check "$name: tally-verify accepts it" bash -c '"$1" "$2" --keys "$3" > "$4" 2>&1' _ \
		"$BIN/tally-verify" "$f-receipt.json" "$f-keys.json" "$f-verify.out"
	stack_check "$name: a receipt without the code: 401" expect status 401 \
		"$(status "$url" "/receipt/$CHK")"
	stack_check "$name: an unknown checkpoint: 404" expect status 404 \
		"$(status "$url" "/receipt/chk_nope" "$CODE")"

	curl -s -H "X-Access-Code: $CODE" -H 'Content-Type: application/json' \
		--data-binary '{"period":"2026-10","yourTotal":987654318.973456789}' \
		"$url/api/v1/shared/$HANDLE/compare" > "$f-cmp.json"
	stack_check "$name: compare: the same figure, exactly" jqok '.data == {period: "2026-10",
		yourTotal: "987654318.973456789", recordedTotal: "987654318.973456789",
		difference: "0", recordCount: 3, verifiedCount: 3, matches: true}' "$f-cmp.json"
	curl -s -H "X-Access-Code: $CODE" -H 'Content-Type: application/json' \
		--data-binary '{"yourTotal":"3.5"}' \
		"$url/api/v1/shared/$HANDLE/compare" > "$f-cmp2.json"
	stack_check "$name: compare: a difference, stated" jqok '.data.period == "2026-11" and
		.data.difference == "-0.000000001" and .data.matches == false' "$f-cmp2.json"
	stack_check "$name: the code, typed loosely" expect status 200 \
		"$(status "$url" /periods "$(echo "${CODE:0:3}-${CODE:3}" | tr A-Z a-z)")"
}
front nginx "$NGINX"
front apache "$APACHE"

echo "== 3. wrong codes: counted per link, then one try a minute"
WRONG=$( [ "$CODE" = AAAAAA ] && echo BBBBBB || echo AAAAAA )
for i in 1 2 3 4 5; do
	stack_check "wrong code $i: 401 ACCESS_CODE_INVALID" jqok \
		'.error.code == "ACCESS_CODE_INVALID"' <(shared "$APACHE" /periods "$WRONG")
done
curl -s -D "$DIR/limited.head" -o "$DIR/limited.json" -H "X-Access-Code: $WRONG" \
	"$NGINX/api/v1/shared/$HANDLE/periods"
stack_check "the sixth: 429 with Retry-After" bash -c 'grep -q "^HTTP/1.1 429" "$1" &&
	grep -qi "^retry-after: [0-9]" "$1"' _ "$DIR/limited.head"
stack_check "... and retryAfterSeconds" jqok '.error.code == "RATE_LIMITED" and
	.error.retryAfterSeconds > 0 and .error.retryAfterSeconds <= 60' "$DIR/limited.json"
stack_check "the right code is limited too, meanwhile" expect status 429 \
	"$(status "$NGINX" /periods "$CODE")"
stack_check "the link alone still shows the summary" expect status 200 "$(status "$NGINX" "")"
stack_check "the log names the link's prefix and the client" grep -q \
	"wrong access code for link ${HANDLE:0:6} from 127.0.0.1" "$DIR/tallyd.log"
stack_check "the log never holds a code tried" bash -c '! grep -q "$1" "$2" &&
	! grep -q "$3" "$2"' _ "$WRONG" "$DIR/tallyd.log" "$CODE"
at "2026-11-10 12:05:00"
stack_check "a minute later, the right code: 200" expect status 200 \
	"$(status "$NGINX" /periods "$CODE")"
stack_check "and the count starts over" expect status 401 \
	"$(status "$NGINX" /periods "$WRONG")"

echo "== 4. the vendor API"
vapi "$NGINX" GET /balance/share/c1 > "$DIR/v-get.json"
stack_check "GET: the link, no code" jqok --arg h "$HANDLE" --arg u "$LINK" \
	'.data.handle == $h and .data.url == $u and (.data | has("accessCode") | not)' \
	"$DIR/v-get.json"
vapi "$NGINX" POST /balance/share/c1 > "$DIR/v-again.json"
stack_check "POST on a live share: 200, the same, no code" jqok --arg h "$HANDLE" \
	'.data.handle == $h and (.data | has("accessCode") | not)' "$DIR/v-again.json"
vapi "$NGINX" POST /balance/share/c1/rotate-code > "$DIR/v-rot.json"
NEWCODE=$(jq -r .data.accessCode "$DIR/v-rot.json")
stack_check "rotate-code: a new code" grep -qE '^[A-HJKMNP-Z2-9]{6}$' <<<"$NEWCODE"
stack_check "the old code is refused" expect status 401 "$(status "$NGINX" /periods "$CODE")"
stack_check "the new one opens" expect status 200 "$(status "$NGINX" /periods "$NEWCODE")"
vapi "$NGINX" POST /balance/share/c2 '{"policy":"gated"}' > "$DIR/v-c2.json"
stack_check "a gated share: 201 with its code" jqok '.data.policy == "gated" and
	(.data.accessCode | length == 6)' "$DIR/v-c2.json"
stack_check "gated: even the summary needs the code" bash -c 'curl -s \
	"$1/api/v1/shared/$2" | jq -e ".error.code == \"ACCESS_CODE_REQUIRED\"" >/dev/null' _ \
	"$NGINX" "$(jq -r .data.handle "$DIR/v-c2.json")"
vapi "$NGINX" POST /balance/share/c3 '{"policy":"open"}' > "$DIR/v-c3.json"
stack_check "open: periods with the link alone" bash -c 'curl -s \
	"$1/api/v1/shared/$2/periods" | jq -e ".success" >/dev/null' _ \
	"$NGINX" "$(jq -r .data.handle "$DIR/v-c3.json")"
stack_check "another customer's link reads no receipt of c1: 404" bash -c 'curl -s \
	"$1/api/v1/shared/$2/receipt/$3" | jq -e ".error.code == \"CHECKPOINT_NOT_FOUND\"" \
	>/dev/null' _ "$NGINX" "$(jq -r .data.handle "$DIR/v-c3.json")" "$CHK"
stack_check "a bad policy: 400" jqok '.error.field == "policy"' \
	<(vapi "$NGINX" POST /balance/share/c4 '{"policy":"public"}')
stack_check "a customer key may not make shares: 403" bash -c 'test "$(curl -s -o /dev/null \
	-w "%{http_code}" -X POST -H "X-Api-Key: $1" "$2/api/v1/balance/share/c1")" = 403' _ \
	"$CUSTKEY" "$NGINX"

echo "== 4b. invoice-proof prints the link"
vapi "$NGINX" GET "/balance/invoice-proof/c1?period=2026-10" > "$DIR/invoice.json"
stack_check "invoice-proof: link, host, hint" jqok --arg u "$LINK" \
	--arg h "${PUBLIC_URL#*://}" '.data.customerLinkUrl == $u and
	.data.customerLinkHost == ($h | split("/")[0]) and
	.data.accessHint == "access code printed on your invoice"' "$DIR/invoice.json"
vapi "$NGINX" POST /balance/checkpoint '{"customerId":"c3","period":"2026-11"}' >/dev/null
stack_check "an open share: its link, no hint" jqok '.data.accessHint == null and
	(.data.customerLinkUrl | test("/c/s[a-z2-7]{26}$"))' \
	<(vapi "$NGINX" GET "/balance/invoice-proof/c3?period=2026-11")
vapi "$NGINX" POST /balance/checkpoint '{"customerId":"c5","period":"2026-11"}' >/dev/null
stack_check "no share: no link, the API's hint" jqok '.data.customerLinkUrl == null and
	.data.customerLinkHost == null and (.data.accessHint | test("tally-verify"))' \
	<(vapi "$NGINX" GET "/balance/invoice-proof/c5?period=2026-11")

echo "== 5. revoke: the link is dead, and says no more than an unknown one"
shared "$NGINX" "" > "$DIR/live.json"
stack_ctl share revoke --tenant acme --customer c1 > "$DIR/revoke.out"
stack_check "revoke says so" grep -q "revoked" "$DIR/revoke.out"
shared "$NGINX" "" > "$DIR/revoked.json"
curl -s "$NGINX/api/v1/shared/saaaaaaaaaaaaaaaaaaaaaaaaaa" > "$DIR/unknown.json"
curl -s "$NGINX/api/v1/shared/not-a-handle" > "$DIR/malformed.json"
stack_check "revoked: 404 NOT_FOUND" jqok '.error.code == "NOT_FOUND"' "$DIR/revoked.json"
stack_check "the same error as an unknown handle" bash -c 'test "$(jq -c .error "$1")" = \
	"$(jq -c .error "$2")"' _ "$DIR/revoked.json" "$DIR/unknown.json"
stack_check "and as a malformed one" bash -c 'test "$(jq -c .error "$1")" = \
	"$(jq -c .error "$2")"' _ "$DIR/revoked.json" "$DIR/malformed.json"
stack_check "with the code too: 404" expect status 404 "$(status "$APACHE" /periods "$NEWCODE")"
stack_check "GET share after revoke: 404" jqok '.error.code == "NOT_FOUND"' \
	<(vapi "$NGINX" GET /balance/share/c1)
stack_ctl share create --tenant acme --customer c1 > "$DIR/create2.out" 2>/dev/null
stack_check "a new share after revoke: a new link and code" bash -c \
	'! grep -qF "$1" "$2" && grep -q "^code " "$2"' _ "$HANDLE" "$DIR/create2.out"
stack_check "tallyctl verify" bash -c '"$1" -c "$2" verify > /dev/null' _ "$BIN/tallyctl" "$DIR/tally.conf"

echo "== 6. the page and its assets, served by each web server itself"
# head URL: the status line's code, then the headers, lowercased.
head() { curl -s -o /dev/null -D - "$1" | tr -d '\r' | tr 'A-Z' 'a-z'; }
served() {	# served URL TYPE CACHE
	local h
	h=$(head "$1")
	grep -q '^http/1.1 200' <<<"$h" && grep -qF "content-type: $2" <<<"$h" &&
		grep -qF "cache-control: $3" <<<"$h" &&
		grep -qF "content-security-policy: default-src 'none'; script-src 'self'" <<<"$h" &&
		grep -qF 'x-content-type-options: nosniff' <<<"$h" &&
		grep -qF 'referrer-policy: no-referrer' <<<"$h"
}
for front in "nginx $NGINX" "apache $APACHE"; do
	set -- $front
	stack_check "$1: /c/{handle} is the page, never cached, strict CSP" \
		served "$2/c/$HANDLE" "text/html" no-store
	stack_check "$1: the page is web/index.html" bash -c \
		'curl -s "$1" | cmp -s - "$2"' _ "$2/c/$HANDLE" "$REPO/web/index.html"
	stack_check "$1: a module as text/javascript" \
		served "$2/shared-assets/js/page.js" "text/javascript" no-cache
	stack_check "$1: the stylesheet as text/css" \
		served "$2/shared-assets/css/tally.css" "text/css" no-cache
	stack_check "$1: nothing else of web/ (README.md): 404" expect status 404 \
		"$(curl -s -o /dev/null -w '%{http_code}' "$2/shared-assets/README.md")"
	stack_check "$1: no way up out of web/: 404" expect status 404 \
		"$(curl -s -o /dev/null -w '%{http_code}' --path-as-is \
		"$2/shared-assets/js/../../tally.conf")"
	stack_check "$1: /c/ with more than a handle: 404" expect status 404 \
		"$(curl -s -o /dev/null -w '%{http_code}' "$2/c/$HANDLE/x")"
done

stack_secret "$CODE" "$NEWCODE"
echo "shared: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
