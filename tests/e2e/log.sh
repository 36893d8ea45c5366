# The verifiable log from outside (SPEC 4.3), sourced by run.sh: signed
# tree heads checked with the openssl command line and the published
# keys, signing-key rotation, a refused world-readable key, and
# `tallyctl verify` finding a flipped byte.  Uses run.sh's check, stack
# functions, DIR and BIN.

# log_json URL PATH FILTER: a field of a public log endpoint's data.
log_json() { curl -sf "$1$2" | jq -er ".data$3"; }

# log_wait_size URL N: waits (up to 10 s) for a signed head of size >= N.
log_wait_size() {
	for _ in $(seq 200); do
		[ "$(log_json "$1" /api/v1/log/checkpoint .treeSize)" -ge "$2" ] &&
			return 0
		sleep 0.05
	done
	return 1
}

# note_verify NOTE_FILE PEM_FILE ALG: checks the note's one signature with
# openssl alone: the signed text is the first three lines; the signature
# line is "— name base64(4-byte key id || signature)".
note_verify() {
	local t opts=()
	t=$(mktemp -d "$DIR/note.XXXXXX")
	head -n 3 "$1" > "$t/body"
	sed -n '5p' "$1" | cut -d' ' -f3 | base64 -d > "$t/sig.raw" || return 1
	tail -c +5 "$t/sig.raw" > "$t/sig"
	[ "$3" = rsa-3072 ] && opts=(-sigopt rsa_padding_mode:pss -sigopt rsa_pss_saltlen:32)
	openssl dgst -sha256 "${opts[@]}" -verify "$2" -signature "$t/sig" \
		"$t/body" >/dev/null
}

# note_key_id NOTE_FILE: the key ID in its signature line, as hex.
note_key_id() {
	sed -n '5p' "$1" | cut -d' ' -f3 | base64 -d | head -c 4 | od -An -tx1 |
		tr -d ' \n'
}

# key_pem URL KEYID OUT: the public key of KEYID from GET /keys.
key_pem() {
	curl -sf "$1/api/v1/keys" |
		jq -er --arg k "$2" '.data.keys[] | select(.keyId == $k) | .pem' > "$3"
}

# head_verifies URL NOTE_FILE: the note verifies with its key from /keys.
head_verifies() {
	local id alg
	id=$(note_key_id "$2")
	alg=$(curl -sf "$1/api/v1/keys" |
		jq -er --arg k "$id" '.data.keys[] | select(.keyId == $k) | .alg') || return 1
	key_pem "$1" "$id" "$DIR/key-$id.pem" &&
		note_verify "$2" "$DIR/key-$id.pem" "$alg"
}

# tampered_head_fails URL NOTE_FILE: a different size must not verify.
tampered_head_fails() {
	sed '2s/$/0/' "$2" > "$2.tampered"
	! head_verifies "$1" "$2.tampered"
}

emit_one() {	# emit_one URL KEY CUSTOMER
	curl -sf -H "X-Api-Key: $2" -H 'Content-Type: application/json' \
		-d "{\"customerId\":\"$3\",\"delta\":1,\"reason\":\"log\"}" \
		"$1/api/v1/balance/delta" >/dev/null
}

log_checks() {	# log_checks URL
	local url=$1 old_id new_id size
	echo "== signed tree heads verify with openssl and the published key"
	log_json "$url" /api/v1/log/checkpoint .checkpoint > "$DIR/head-1.note"
	stack_check "head verifies with openssl" head_verifies "$url" "$DIR/head-1.note"
	stack_check "a tampered head does not verify" tampered_head_fails "$url" \
		"$DIR/head-1.note"
	old_id=$(note_key_id "$DIR/head-1.note")
	stack_check "the note's key id is the head's keyId" test "$old_id" = \
		"$(log_json "$url" /api/v1/log/checkpoint .keyId)"

	echo "== signing-key rotate: new heads use the new key, old ones still verify"
	stack_check "rotate to an RSA-PSS 3072 key" stack_ctl signing-key rotate --alg rsa-3072
	size=$(log_json "$url" /api/v1/log/checkpoint .treeSize)
	emit_one "$url" "$TALLY_KEY_LIVE" "rotation_customer"
	stack_check "a head after the rotation" log_wait_size "$url" $((size + 1))
	log_json "$url" /api/v1/log/checkpoint .checkpoint > "$DIR/head-2.note"
	new_id=$(note_key_id "$DIR/head-2.note")
	stack_check "the new head is signed by another key" test "$new_id" != "$old_id"
	stack_check "the new head verifies (RSA-PSS)" head_verifies "$url" "$DIR/head-2.note"
	stack_check "the old head still verifies" head_verifies "$url" "$DIR/head-1.note"
	stack_check "the old key is retired in /keys" bash -c 'curl -sf "$1/api/v1/keys" |
		jq -e --arg k "$2" ".data.keys[] | select(.keyId == \$k) | .validTo != null" >/dev/null' \
		_ "$url" "$old_id"
	stack_check "signing-key list shows both" test "$(stack_ctl signing-key list | wc -l)" -ge 2
	stack_check "tallyctl verify holds after rotation" stack_ctl verify

	echo "== a private key file others can read is refused"
	stack_kill "$TALLYD_PID"
	local keyfile
	keyfile=$DIR/db/keys/$new_id.pem
	stack_check "key file is 0600" test "$(stat -c %a "$keyfile")" = 600
	chmod 640 "$keyfile"
	stack_check "tallyd refuses a 0640 key" bash -c '! "$1/tallyd" -c "$2/tally.conf" \
		2> "$2/refused.log"' _ "$BIN" "$DIR"
	stack_check "and says why" grep -q "chmod 600" "$DIR/refused.log"
	chmod 600 "$keyfile"

	echo "== tallyctl verify finds a flipped byte and names the leaf"
	stack_check "verify holds before" stack_ctl verify
	stack_check "flip a byte of leaf 3" "$BIN/tests/flipleaf" "$DIR/db" 3
	stack_check "verify fails" bash -c '! "$1" -c "$2/tally.conf" verify > "$2/verify.out"' \
		_ "$BIN/tallyctl" "$DIR"
	stack_check "and names leaf 3" grep -q "^FAIL leaf 3: " "$DIR/verify.out"
	stack_check "and nothing else" test "$(grep -c '^FAIL' "$DIR/verify.out")" = \
		"$(grep -c '^FAIL leaf 3:' "$DIR/verify.out")"
	stack_start_tallyd
}
