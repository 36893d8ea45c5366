#!/usr/bin/env bash
# Keys across rotations (SPEC 4.5, issue 17 part 4), end to end: a tallyd
# of its own behind nginx and Apache.  A customer saves GET /keys once,
# while the log has its genesis key; the vendor rotates twice; receipts
# signed after that, fetched through either web server, verify against
# the saved file by following the endorsements the bundle carries.
#
#   1. GET /keys: the genesis key, its rotation members
#   2. two rotations: each key endorsed by the one it replaces, in
#      GET /keys, in signing-key list, checked with the openssl CLI
#   3. a receipt after the rotations: bundle keys = GET /keys, verifies
#      against the saved keys file through nginx and Apache, chain printed
#   4. a bundle whose endorsement was altered (one byte) is refused, named
#   5. rotate refuses when the old private key is gone, naming --no-endorse
#   6. rotate --no-endorse: refused with the --no-endorse message, passes
#      with the new key given (--key); old receipts still verify against
#      the newest keys file
set -euo pipefail

REPO=$(cd "$(dirname "$0")/../.." && pwd)
BIN=$REPO/${B:-build}
DIR=$(mktemp -d /tmp/tally-rotation.XXXXXX)
# shellcheck source=../../tools/stack.sh
source "$REPO/tools/stack.sh"

passed=0
failed=0
trap 'stack_finish rotation' EXIT

api() {		# api URL METHOD PATH [BODY]: the JSON answer
	curl -s -X "$2" -H "X-Api-Key: $KEY" -H 'Content-Type: application/json' \
		${4:+--data-binary "$4"} "$1$3"
}
emit() {	# emit CUSTOMER AMOUNT
	api "$NGINX" POST /api/v1/balance/delta \
		"{\"customerId\":\"$1\",\"delta\":$2,\"reason\":\"rotation test\"}" |
		jq -e .data.recordId >/dev/null
}
checkpoint() {	# checkpoint CUSTOMER: locks this month
	api "$NGINX" POST /api/v1/balance/checkpoint \
		"{\"customerId\":\"$1\",\"period\":\"$PERIOD\"}" |
		jq -e .data.checkpointId >/dev/null
}
receipt() {	# receipt URL CUSTOMER OUT: the bundle, through that server
	api "$1" GET "/api/v1/balance/receipt/$2?period=$PERIOD" > "$3" &&
		jq -e .success "$3" >/dev/null
}
keys_now() {	# keys_now OUT: GET /keys, as a customer saves it
	curl -sf "$NGINX/api/v1/keys" > "$1"
}
# verify OUT STATUS ARGS...: tally-verify ARGS exits STATUS, output in OUT.
verify() {
	local out=$1 want=$2 rc=0
	shift 2
	"$BIN/tally-verify" "$@" > "$out" 2>&1 || rc=$?
	[ "$rc" -eq "$want" ] || { sed 's/^/    | /' "$out" >&2; return 1; }
}
says() {	# says FILE TEXT: a line of FILE holds TEXT (fixed string)
	grep -qF -- "$2" "$1" || { echo "    no line with: $2" >&2; return 1; }
}
jqok() { jq -e "$@" >/dev/null; }
quiet() { "$@" >/dev/null; }
key_of() {	# key_of KEYSFILE N: the keyId of key N
	jq -r ".data.keys[$2].keyId" "$1"
}
# The endorsement of key N of a keys file, checked with openssl alone, as
# docs/receipt.md shows: the statement rebuilt with jq, the signature
# checked with the endorser's PEM.
openssl_endorsement() {
	local f=$1 n=$2 by
	by=$(jq -r ".data.keys[$n].endorsedBy" "$f")
	jq -cjS ".data.keys[$n] | {type: \"tally-key-endorsement/v1\",
		keyId, name, alg, validFrom, endorsedBy, publicKey: (.pem |
		split(\"\n\") | map(select(startswith(\"-----\") | not)) |
		join(\"\"))}" "$f" > "$DIR/endorsement.json"
	jq -r ".data.keys[$n].endorsement" "$f" | base64 -d > "$DIR/endorsement.sig"
	jq -r --arg by "$by" '.data.keys[] | select(.keyId == $by) | .pem' "$f" \
		> "$DIR/endorser.pem"
	openssl dgst -sha256 -verify "$DIR/endorser.pem" \
		-signature "$DIR/endorsement.sig" "$DIR/endorsement.json" >/dev/null
}

stack_conf
stack_ctl init >/dev/null
stack_ctl tenant add rot >/dev/null
KEY=$(stack_key --tenant rot)
stack_start_fronts
PERIOD=$(date -u +%Y-%m)

echo "== 1. the customer saves GET /keys while the genesis key signs"
stack_check "GET /keys" keys_now "$DIR/saved-keys.json"
K1=$(key_of "$DIR/saved-keys.json" 0)
stack_check "one key, the genesis key, no endorsement" jqok '.data.keys | length == 1 and
	.[0].rotation == "genesis" and .[0].endorsedBy == null and
	.[0].endorsement == null and .[0].validTo == null' "$DIR/saved-keys.json"
stack_check "an emit" emit c1 10
stack_check "a checkpoint" checkpoint c1
stack_check "its receipt (nginx)" receipt "$NGINX" c1 "$DIR/old.json"
stack_check "the receipt verifies against the saved keys" \
	verify "$DIR/old.out" 0 "$DIR/old.json" --keys "$DIR/saved-keys.json"
stack_check "and says the genesis key is trusted" says "$DIR/old.out" \
	"key  $K1 trusted: the genesis (oldest) key of keys file"

echo "== 2. two rotations, each endorsed by the key it replaces"
stack_check "rotate" bash -c '"$1" -c "$2" signing-key rotate > "$3"' _ \
	"$BIN/tallyctl" "$DIR/tally.conf" "$DIR/rotate1.out"
stack_check "rotate says who endorsed" says "$DIR/rotate1.out" "endorsed by $K1"
stack_check "rotate again, to RSA-PSS 3072" quiet stack_ctl signing-key rotate --alg rsa-3072
stack_check "GET /keys after" keys_now "$DIR/keys-2.json"
# GET /keys lists keys by keyId: each is found by its validFrom.
K2=$(jq -r '.data.keys | sort_by(.validFrom) | .[1].keyId' "$DIR/keys-2.json")
K3=$(jq -r '.data.keys | sort_by(.validFrom) | .[2].keyId' "$DIR/keys-2.json")
jq '.data.keys |= sort_by(.validFrom)' "$DIR/keys-2.json" > "$DIR/keys-2s.json"
stack_check "three keys, the old members unchanged" jqok '.data.keys | length == 3 and
	all(.[]; has("keyId") and has("name") and has("alg") and has("pem") and
	has("validFrom") and has("validTo"))' "$DIR/keys-2.json"
stack_check "key 2 endorsed by key 1, key 3 by key 2" jqok --arg k1 "$K1" --arg k2 "$K2" \
	'.data.keys | .[1].rotation == "endorsed" and .[1].endorsedBy == $k1 and
	.[2].rotation == "endorsed" and .[2].endorsedBy == $k2 and
	(.[1].endorsement | length > 0) and .[2].alg == "rsa-3072"' "$DIR/keys-2s.json"
stack_check "openssl checks key 2's endorsement (by key 1)" openssl_endorsement "$DIR/keys-2s.json" 1
stack_check "openssl checks key 3's endorsement (by key 2)" openssl_endorsement "$DIR/keys-2s.json" 2
stack_ctl signing-key list > "$DIR/list.out"
stack_check "signing-key list shows the endorsements" \
	bash -c 'grep -q "^$1 .*genesis" "$3" && grep -q "^$2 .*endorsed-by-$1 " "$3"' _ \
	"$K1" "$K2" "$DIR/list.out"

echo "== 3. a receipt after the rotations, through nginx and Apache"
stack_check "an emit" emit c1 5
stack_check "a checkpoint" checkpoint c1
stack_check "its receipt (nginx)" receipt "$NGINX" c1 "$DIR/new-nginx.json"
stack_check "its receipt (Apache)" receipt "$APACHE" c1 "$DIR/new-apache.json"
stack_check "signed by the third key" test "$(jq -r .data.keyId "$DIR/new-nginx.json")" = "$K3"
stack_check "the bundle's keys are GET /keys' keys" bash -c 'test "$(jq -cS .data.keys "$1")" = \
	"$(jq -cS .data.keys "$2")"' _ "$DIR/new-nginx.json" "$DIR/keys-2.json"
for front in nginx apache; do
	stack_check "tally-verify new ($front) --keys saved-keys.json" \
		verify "$DIR/new-$front.out" 0 "$DIR/new-$front.json" --keys "$DIR/saved-keys.json"
	stack_check "it prints the chain: $K2 endorsed by $K1 ($front)" says "$DIR/new-$front.out" \
		"key  $K2 endorsed by $K1 (trusted, the genesis (oldest) key of keys file)"
	stack_check "it prints the chain: $K3 endorsed by $K2 ($front)" says "$DIR/new-$front.out" \
		"key  $K3 endorsed by $K2 (trusted, endorsed by $K1)"
done
# Before this change: "no such key"; the saved file alone knows only K1.
jq 'del(.data.keys)' "$DIR/new-nginx.json" > "$DIR/nokeys.json"
stack_check "the receipt without its keys is refused" verify "$DIR/nokeys.out" 1 \
	"$DIR/nokeys.json" --keys "$DIR/saved-keys.json"

echo "== 4. an endorsement altered by one byte is refused, and named"
# The 11th base64 character stands for bits inside the signature: A<->B
# changes one byte and keeps the encoding canonical.
jq --arg k "$K2" '(.data.keys[] | select(.keyId == $k) | .endorsement) |=
	(.[0:10] + (if .[10:11] == "A" then "B" else "A" end) + .[11:])' \
	"$DIR/new-nginx.json" > "$DIR/altered.json"
stack_check "the altered bundle differs in one character" test \
	"$(cmp -l <(jq -c . "$DIR/new-nginx.json") <(jq -c . "$DIR/altered.json") | wc -l)" = 1
stack_check "tally-verify refuses it" verify "$DIR/altered.out" 1 "$DIR/altered.json" \
	--keys "$DIR/saved-keys.json"
stack_check "naming the altered key" says "$DIR/altered.out" \
	"key $K2 is not endorsed by a key you trust: its endorsement by $K1 does not verify"
stack_check "and the key that signed" says "$DIR/altered.out" \
	"FAIL signature: keyId: key $K3 is not endorsed by a key you trust"

echo "== 5. rotate refuses when the old private key cannot endorse"
mv "$DIR/db/keys/$K3.pem" "$DIR/k3.pem.away"
stack_check "rotate without the old private key fails" bash -c \
	'! "$1" -c "$2" signing-key rotate 2> "$3"' _ "$BIN/tallyctl" "$DIR/tally.conf" \
	"$DIR/refused.err"
stack_check "and names --no-endorse" says "$DIR/refused.err" "--no-endorse"
stack_check "nothing changed: key 3 still signs" bash -c \
	'"$1" -c "$2" signing-key list | grep -q "^$3 .*(signing)"' _ "$BIN/tallyctl" \
	"$DIR/tally.conf" "$K3"
mv "$DIR/k3.pem.away" "$DIR/db/keys/$K3.pem"

echo "== 6. rotate --no-endorse: the customer must confirm the key"
stack_check "rotate --no-endorse" bash -c '"$1" -c "$2" signing-key rotate --no-endorse > "$3"' _ \
	"$BIN/tallyctl" "$DIR/tally.conf" "$DIR/rotate4.out"
stack_check "it says so" says "$DIR/rotate4.out" "NOT endorsed (--no-endorse)"
stack_check "GET /keys after" keys_now "$DIR/newest-keys.json"
K4=$(jq -r '.data.keys | sort_by(.validFrom) | .[3].keyId' "$DIR/newest-keys.json")
stack_check "GET /keys marks it unendorsed" jqok --arg k "$K4" --arg k3 "$K3" \
	'.data.keys[] | select(.keyId == $k) | .rotation == "unendorsed" and
	.endorsedBy == null and .endorsement == null and .replaces == $k3' \
	"$DIR/newest-keys.json"
stack_check "signing-key list marks it" bash -c \
	'"$1" -c "$2" signing-key list | grep -q "^$3 .*UNENDORSED"' _ "$BIN/tallyctl" \
	"$DIR/tally.conf" "$K4"
stack_check "an emit" emit c2 7
stack_check "a checkpoint" checkpoint c2
stack_check "its receipt (Apache)" receipt "$APACHE" c2 "$DIR/unendorsed.json"
stack_check "signed by the unendorsed key" test "$(jq -r .data.keyId "$DIR/unendorsed.json")" = "$K4"
msg="key $K4 was rotated without endorsement (--no-endorse): confirm its id $K4 with your vendor, then pass it with --key"
stack_check "refused against the saved keys" verify "$DIR/unendorsed.out" 1 \
	"$DIR/unendorsed.json" --keys "$DIR/saved-keys.json"
stack_check "  with the --no-endorse message" says "$DIR/unendorsed.out" "$msg"
stack_check "refused against the newest keys file too" verify "$DIR/unendorsed2.out" 1 \
	"$DIR/unendorsed.json" --keys "$DIR/newest-keys.json"
stack_check "  with the --no-endorse message" says "$DIR/unendorsed2.out" "$msg"
jq -r --arg k "$K4" '.data.keys[] | select(.keyId == $k) | .pem' "$DIR/newest-keys.json" \
	> "$DIR/k4.pem"
stack_check "passes with the new key given (--key)" verify "$DIR/given.out" 0 \
	"$DIR/unendorsed.json" --key "$DIR/k4.pem"
stack_check "  and says it was given" says "$DIR/given.out" "key  $K4 trusted: given with --key"
stack_check "passes with the saved keys file and the new key together" \
	verify "$DIR/both.out" 0 "$DIR/unendorsed.json" \
	--keys "$DIR/saved-keys.json" --key "$DIR/k4.pem"
stack_check "  and the saved file still vouches for the old receipts" \
	verify "$DIR/both-old.out" 0 "$DIR/old.json" \
	--keys "$DIR/saved-keys.json" --key "$DIR/k4.pem"
stack_check "old receipt (genesis key) against the newest keys file" \
	verify "$DIR/old2.out" 0 "$DIR/old.json" --keys "$DIR/newest-keys.json"
stack_check "receipt of key 3 against the newest keys file" \
	verify "$DIR/new2.out" 0 "$DIR/new-apache.json" --keys "$DIR/newest-keys.json"
stack_check "tallyctl verify holds after four keys" quiet stack_ctl verify

echo "rotation: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
