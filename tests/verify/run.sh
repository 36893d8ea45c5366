#!/usr/bin/env bash
# tally-verify against receipts that mkreceipt signs (ECDSA P-256 and
# RSA-PSS 3072): every good receipt and chain verifies, the openssl
# command line agrees on the statement signature (docs/receipt.md), and
# every tampered copy fails with exit 1 and a FAIL line of the check that
# should catch it.  Tampering changes one character into another of its
# kind (hex digit, digit, letter), so every copy is still well-formed.
#
#   B=build tests/verify/run.sh        (needs $B/tally-verify and
#                                       $B/tests/mkreceipt)
#   B=build tests/verify/run.sh RECEIPT --keys KEYS.json
#                                      (the tamper loop on one receipt)
# KEEP=1 keeps the work directory; VERBOSE=1 prints every case.
set -uo pipefail

REPO=$(cd "$(dirname "$0")/../.." && pwd)
BIN=${B:-build}
[[ $BIN = /* ]] || BIN=$REPO/$BIN
V=$BIN/tally-verify
MK=$BIN/tests/mkreceipt
DIR=$(mktemp -d /tmp/tally-verify.XXXXXX)

passed=0
failed=0
tampers=0
declare -A tampered	# tampers per check expected to catch them
finish() {
	if [ "$failed" -eq 0 ] && [ -z "${KEEP:-}" ]; then
		rm -rf "$DIR"
	else
		echo "verify: work kept in $DIR" >&2
	fi
}
trap finish EXIT

for f in "$V" "$MK"; do
	[ -x "$f" ] || { echo "verify: $f missing: make $f" >&2; exit 2; }
done
command -v jq >/dev/null || { echo "verify: jq missing" >&2; exit 2; }

pass() {
	passed=$((passed + 1))
	[ -z "${VERBOSE:-}" ] || echo "ok   $1"
}
fail() {	# fail NAME WHY [OUTPUT]
	failed=$((failed + 1))
	echo "FAILED: $1: $2" >&2
	[ -z "${3:-}" ] || sed 's/^/    | /' <<<"$3" >&2
}

# expect NAME STATUS PATTERN ARGS...: tally-verify ARGS exits STATUS and
# its output matches the extended regex PATTERN ('' for none).
expect() {
	local name=$1 want=$2 pattern=$3 out rc
	shift 3
	out=$("$V" "$@" 2>&1)
	rc=$?
	if [ "$rc" -ne "$want" ]; then
		fail "$name" "exit $rc, want $want" "$out"
	elif [ -n "$pattern" ] && ! grep -Eq -- "$pattern" <<<"$out"; then
		fail "$name" "no line matches /$pattern/" "$out"
	else
		pass "$name"
	fi
}

# The mutator, in jq.  nextc keeps a character's kind: a digit stays a
# digit, a-f stays a hex letter, g-z and A-Z stay letters.  mutate($k)
# changes the first letter or digit at or after position $k (wrapping).
JQLIB='
def nextc:
  if . >= 48 and . <= 57 then 48 + ((. - 47) % 10)
  elif . >= 97 and . <= 102 then 97 + ((. - 96) % 6)
  elif . >= 103 and . <= 122 then 103 + ((. - 102) % 20)
  elif . >= 65 and . <= 90 then 65 + ((. - 64) % 26)
  else . end;
def alnum: (. >= 48 and . <= 57) or (. >= 65 and . <= 90) or
  (. >= 97 and . <= 122);
def mutate($k): explode as $c | ($c | length) as $n |
  ([range(0; $n) | ($k + .) % $n | select($c[.] | alnum)] | first) as $i |
  $c | .[$i] |= nextc | implode;
def mutnum($k): tostring | mutate($k) | tonumber;
def after($m; $k): split($m) as $p | $p[0] + $m + ($p[1:] | join($m) |
  mutate($k));
def statement(f): .data.statement |= (@base64d | f | @base64);
# In the statement bytes: a string member (past "0x" for a hash), a number.
def sstr($m; $k): statement(after("\"" + $m + "\":\""; $k));
def shash($m; $k): statement(after("\"" + $m + "\":\"0x"; $k));
def snum($m): statement(after("\"" + $m + "\":"; 0));
'

# tamper FILE CHECKS FILTER KEYARGS...: the copy FILTER makes of FILE
# must differ from it, and fail with a FAIL line of one of CHECKS (a
# regex alternation).  $DIR/orig.json holds FILE compacted (tamper_all).
# Two copies are checked at once, each in the background into a file of
# its own (tamper_one), which tamper_all reads when they are all done:
# one at a time left a core idle, for a minute of make test, and for
# three under the sanitizers.
TAMPER_JOBS=2
tamper_running=0
tamper() {
	local file=$1 checks=$2 filter=$3
	shift 3
	tampers=$((tampers + 1))
	tampered[$checks]=$((${tampered[$checks]:-0} + 1))
	if [ "$tamper_running" -ge "$TAMPER_JOBS" ]; then
		wait -n
	else
		tamper_running=$((tamper_running + 1))
	fi
	tamper_one "$DIR/tamper.$tampers" "$file" "$checks" "$filter" "$@" &
}

# tamper_one OUT FILE CHECKS FILTER KEYARGS...: one tampered copy,
# checked; OUT.result gets "pass", or "fail WHY" and OUT.output the
# output that shows why.
tamper_one() {
	local out=$1 file=$2 checks=$3 filter=$4 got rc
	shift 4
	if ! jq -c "$JQLIB $filter" "$file" >"$out.json" 2>"$out.output"; then
		echo "fail jq failed" > "$out.result"
	elif cmp -s "$DIR/orig.json" "$out.json"; then
		echo "fail the mutation changed nothing" > "$out.result"
	else
		got=$("$V" "$out.json" "$@" 2>&1)
		rc=$?
		printf '%s\n' "$got" > "$out.output"
		if [ "$rc" -ne 1 ]; then
			echo "fail exit $rc, want 1" > "$out.result"
		elif ! [[ $'\n'$got =~ $'\n'FAIL\ ($checks): ]]; then
			echo "fail no FAIL line of $checks" > "$out.result"
		else
			echo pass > "$out.result"
		fi
	fi
	printf '%s\n' "$filter" > "$out.filter"
}

# Waits for the copies tamper started since FIRST, and counts them.
tamper_collect() {
	local first=$1 i out result filter
	wait
	tamper_running=0
	for ((i = first; i <= tampers; i++)); do
		out=$DIR/tamper.$i
		read -r result < "$out.result" || result="fail no result"
		read -r filter < "$out.filter" || filter=?
		if [ "$result" = pass ]; then
			pass "tamper $filter"
		else
			fail "tamper $filter" "${result#fail }" \
			    "$(cat "$out.output" 2>/dev/null)"
		fi
	done
	rm -f "$DIR"/tamper.*
}

# The tamper loop over one receipt: every kind of member, at positions
# spread over each value.
tamper_all() {
	local f=$1 n i j k len np first=$((tampers + 1))
	shift
	jq -c . "$f" >"$DIR/orig.json"
	n=$(jq '.data.deltas | length' "$f")
	for ((i = 0; i < n; i++)); do
		local d=".data.deltas[$i]"
		len=$(jq -r "$d.leaf.delta | length" "$f")
		tamper "$f" deltas "$d.leaf.delta |= mutate(0)" "$@"
		tamper "$f" deltas "$d.leaf.delta |= mutate($((len - 1)))" "$@"
		for k in 0 17 40 63; do
			tamper "$f" deltas "$d.leaf.salt |= mutate($k)" "$@"
		done
		tamper "$f" deltas "$d.leaf.reason |= mutate(0)" "$@"
		tamper "$f" deltas "$d.leaf.reason |= mutate(3)" "$@"
		tamper "$f" deltas "$d.leaf.sequenceNumber |= mutnum(0)" "$@"
		tamper "$f" deltas "$d.leaf.createdAt |= mutate($((i % 23)))" \
		    "$@"
		tamper "$f" deltas "$d.leaf.customerId |= mutate($((i % 9)))" \
		    "$@"
		tamper "$f" deltas "$d.leaf.tenant |= mutate(0)" "$@"
		tamper "$f" deltas "$d.leaf.env |= mutate(0)" "$@"
		if jq -e "$d.leaf.referenceId" "$f" >/dev/null; then
			tamper "$f" deltas \
			    "$d.leaf.referenceId |= mutate($((i + 6)))" "$@"
		fi
		if jq -e "$d.leaf.metadata" "$f" >/dev/null; then
			tamper "$f" deltas "$d.leaf.metadata.qty |= mutnum(0)" \
			    "$@"
			tamper "$f" deltas \
			    "$d.leaf.metadata.invoice |= mutate(9)" "$@"
		fi
		tamper "$f" 'inclusion|deltas' "$d.logIndex |= mutnum(0)" "$@"
		for k in 2 30 65; do
			tamper "$f" deltas "$d.leafHash |= mutate($k)" "$@"
		done
		for k in 2 40; do
			tamper "$f" deltas "$d.contentHash |= mutate($k)" "$@"
		done
		np=$(jq -r "$d.inclusionProof | length" "$f")
		for ((j = 0; j < np; j++)); do
			k=$((2 + (i * 7 + j * 11) % 64))
			tamper "$f" inclusion \
			    "$d.inclusionProof[$j] |= mutate($k)" "$@"
		done
	done
	local c=.data.checkpoint
	for k in 2 20 50 65; do
		tamper "$f" statement "$c.proofRoot |= mutate($k)" "$@"
		tamper "$f" signature "shash(\"proofRoot\"; $((k - 2)))" "$@"
		tamper "$f" statement "$c.rootHash |= mutate($k)" "$@"
		tamper "$f" signature "shash(\"rootHash\"; $((k - 2)))" "$@"
	done
	tamper "$f" statement "$c.merkleRoot |= mutate(9)" "$@"
	tamper "$f" statement "$c.itemsRoot |= mutate(33)" "$@"
	for m in startingBalance netChange endingBalance; do
		len=$(jq -r "$c.$m | tostring | length" "$f")
		for ((k = 0; k < len; k += 3)); do
			tamper "$f" statement "$c.$m |= mutnum($k)" "$@"
			tamper "$f" signature "sstr(\"$m\"; $k)" "$@"
		done
	done
	for m in deltasCount treeSize version; do
		tamper "$f" signature "snum(\"$m\")" "$@"
	done
	tamper "$f" statement "$c.deltasCount |= mutnum(0)" "$@"
	tamper "$f" statement "$c.treeSize |= mutnum(0)" "$@"
	tamper "$f" statement '.data.version |= mutnum(0)' "$@"
	tamper "$f" statement "$c.createdAt |= mutate(12)" "$@"
	tamper "$f" statement "$c.period |= mutate(6)" "$@"
	tamper "$f" statement "$c.startDate |= mutate(9)" "$@"
	tamper "$f" statement "$c.endDate |= mutate(14)" "$@"
	tamper "$f" statement "$c.customerId |= mutate(4)" "$@"
	tamper "$f" statement "$c.checkpointId |= mutate(8)" "$@"
	tamper "$f" statement ".data.checkpointId |= mutate(9)" "$@"
	if jq -e "$c.previousCheckpointId" "$f" >/dev/null; then
		tamper "$f" statement "$c.previousCheckpointId |= mutate(7)" \
		    "$@"
		tamper "$f" signature 'sstr("previousCheckpointId"; 7)' "$@"
	fi
	tamper "$f" signature 'sstr("createdAt"; 12)' "$@"
	tamper "$f" signature 'sstr("period"; 6)' "$@"
	tamper "$f" signature 'sstr("startDate"; 6)' "$@"
	tamper "$f" signature 'sstr("endDate"; 3)' "$@"
	tamper "$f" signature 'sstr("checkpointId"; 10)' "$@"
	tamper "$f" signature 'sstr("customerId"; 2)' "$@"
	tamper "$f" signature 'sstr("tenant"; 1)' "$@"
	tamper "$f" signature 'sstr("env"; 0)' "$@"
	len=$(jq -r '.data.signature | length' "$f")
	for ((k = 0; k < len; k += len / 9)); do
		tamper "$f" signature ".data.signature |= mutate($k)" "$@"
	done
	for k in 0 3 7; do
		tamper "$f" signature ".data.keyId |= mutate($k)" "$@"
	done
	tamper "$f" signature '.data.alg |= mutate(0)' "$@"
	len=$(jq -r '.data.treeHead | length' "$f")
	for ((k = 0; k < len; k += len / 24)); do
		tamper "$f" treeHead ".data.treeHead |= mutate($k)" "$@"
	done
	tamper_collect "$first"
}

# run.sh RECEIPT ARGS...: the tamper loop alone, over a receipt a real
# server served, checked with ARGS (tests/e2e/acme.sh does this).
if [ $# -gt 0 ]; then
	echo "== tamper loop over $1"
	tamper_all "$@"
	echo "verify: $passed passed, $failed failed ($tampers tampered copies)"
	[ "$failed" -eq 0 ]
	exit
fi

echo "== receipts (ECDSA P-256 and RSA-PSS 3072)"
for alg in ecdsa-p256 rsa-3072; do
	mkdir -p "$DIR/$alg"
	"$MK" -d "$DIR/$alg" -a "$alg" -n 8 ||
	    { fail mkreceipt "$alg"; exit 1; }
done
mkdir -p "$DIR/other" "$DIR/v1"
"$MK" -d "$DIR/other" -n 3 || { fail mkreceipt other; exit 1; }
# Receipts of statement version 1, as servers before it made them.
"$MK" -d "$DIR/v1" -n 8 -s 1 || { fail mkreceipt v1; exit 1; }
E=$DIR/ecdsa-p256
R=$DIR/rsa-3072
OK='^verified: [0-9]+ checks, all hold'

echo "== receipts of statement version 1 still verify"
V1=$DIR/v1
for r in jan feb feb2 mar; do
	expect "v1 $r" 0 "$OK" "$V1/$r.json" --key "$V1/key.pem"
done
expect "v1 feb chains to jan" 0 '^ok   chain: predecessor' \
    "$V1/feb.json" --key "$V1/key.pem" --previous "$V1/jan.json"
expect "v1 feb2 chains to feb" 0 '^ok   chain: predecessor' \
    "$V1/feb2.json" --keys "$V1/keys.json" --previous "$V1/feb.json"
jq '.data.version = 2' "$V1/jan.json" >"$DIR/v1b2.json"
expect "v1 statement in a format 2 bundle" 1 '^FAIL statement: version' \
    "$DIR/v1b2.json" --key "$V1/key.pem"
jq '.data.version = 1' "$DIR/ecdsa-p256/jan.json" >"$DIR/v2b1.json"
expect "v2 statement in a format 1 bundle" 1 '^FAIL statement: version' \
    "$DIR/v2b1.json" --key "$DIR/ecdsa-p256/key.pem"
tamper_all "$V1/feb.json" --key "$V1/key.pem" --previous "$V1/jan.json"

for d in "$E" "$R"; do
	a=$(basename "$d")
	for r in jan feb feb2 mar globex badchain; do
		expect "$a $r --key" 0 "$OK" "$d/$r.json" --key "$d/key.pem"
		expect "$a $r --keys" 0 "$OK" "$d/$r.json" --keys "$d/keys.json"
	done
	expect "$a feb chains to jan" 0 '^ok   chain: predecessor' \
	    "$d/feb.json" --key "$d/key.pem" --previous "$d/jan.json"
	expect "$a feb2 chains to feb (same month)" 0 '^ok   chain:' \
	    "$d/feb2.json" --keys "$d/keys.json" --previous "$d/feb.json"
	expect "$a mar (no deltas) chains to feb2" 0 '^ok   chain:' \
	    "$d/mar.json" --key "$d/key.pem" --previous "$d/feb2.json"
	expect "$a jan is a first checkpoint" 0 '^ok   chain: first' \
	    "$d/jan.json" --key "$d/key.pem"
	jq .data "$d/jan.json" >"$DIR/data.json"
	expect "$a data alone" 0 "$OK" "$DIR/data.json" --key "$d/key.pem"
	jq . "$d/feb.json" >"$DIR/reformatted.json"
	expect "$a reformatted by jq" 0 "$OK" "$DIR/reformatted.json" \
	    --key "$d/key.pem" --previous "$d/jan.json"

	# The openssl command line of docs/receipt.md, independently.
	for r in jan feb mar; do
		jq -r .data.statement "$d/$r.json" | base64 -d >"$DIR/st.json"
		jq -r .data.signature "$d/$r.json" | base64 -d >"$DIR/st.sig"
		opts=()
		[ "$a" = rsa-3072 ] && opts=(-sigopt rsa_padding_mode:pss \
		    -sigopt rsa_pss_saltlen:32)
		if out=$(openssl dgst -sha256 "${opts[@]}" -verify \
		    "$d/key.pem" -signature "$DIR/st.sig" "$DIR/st.json" \
		    2>&1) && [ "$out" = "Verified OK" ]; then
			pass "$a $r: openssl dgst verifies the statement"
		else
			fail "$a $r: openssl dgst" "does not verify" "$out"
		fi
	done

	echo "== $a: wrong keys, broken chains, missing deltas"
	expect "$a other key" 1 '^FAIL signature:' \
	    "$d/jan.json" --key "$DIR/other/key.pem"
	expect "$a other keys file" 1 '^FAIL signature:' \
	    "$d/jan.json" --keys "$DIR/other/keys.json"
	expect "$a other key: tree head" 1 '^FAIL treeHead:' \
	    "$d/jan.json" --key "$DIR/other/key.pem"
	expect "$a previous of another customer" 1 '^FAIL chain:' \
	    "$d/feb.json" --key "$d/key.pem" --previous "$d/globex.json"
	expect "$a broken chain (startingBalance)" 1 \
	    '^FAIL chain: startingBalance' \
	    "$d/badchain.json" --key "$d/key.pem" --previous "$d/jan.json"
	expect "$a previous not the predecessor" 1 \
	    '^FAIL chain: previousCheckpointId' \
	    "$d/feb2.json" --key "$d/key.pem" --previous "$d/jan.json"
	expect "$a previous of a later period" 1 '^FAIL chain:' \
	    "$d/jan.json" --key "$d/key.pem" --previous "$d/feb.json"
	expect "$a previous of another log" 1 '^FAIL chain: --previous' \
	    "$d/feb.json" --key "$d/key.pem" --previous "$DIR/other/jan.json"
	expect "$a previous not a receipt" 1 '^FAIL chain: --previous' \
	    "$d/feb.json" --key "$d/key.pem" --previous "$d/key.pem"
	for i in 0 3 7; do
		jq "del(.data.deltas[$i])" "$d/jan.json" >"$DIR/del.json"
		expect "$a delta $i removed: count" 1 '^FAIL deltasCount:' \
		    "$DIR/del.json" --key "$d/key.pem"
		expect "$a delta $i removed: proofRoot" 1 '^FAIL proofRoot:' \
		    "$DIR/del.json" --key "$d/key.pem"
		expect "$a delta $i removed: netChange" 1 '^FAIL netChange:' \
		    "$DIR/del.json" --key "$d/key.pem"
	done
	jq '.data.deltas |= [.[1], .[0]] + .[2:]' "$d/jan.json" \
	    >"$DIR/swap.json"
	expect "$a deltas reordered" 1 '^FAIL deltas: deltas\[1\].*increase' \
	    "$DIR/swap.json" --key "$d/key.pem"
	expect "$a deltas reordered: proofRoot" 1 '^FAIL proofRoot:' \
	    "$DIR/swap.json" --key "$d/key.pem"
	jq '.data.deltas |= [.[0]] + .' "$d/jan.json" >"$DIR/dup.json"
	expect "$a delta repeated" 1 '^FAIL deltas: deltas\[1\]' \
	    "$DIR/dup.json" --key "$d/key.pem"
	jq --slurpfile g "$d/globex.json" \
	    '.data.deltas += [$g[0].data.deltas[0]]' "$d/jan.json" \
	    >"$DIR/add.json"
	expect "$a another customer's delta added" 1 \
	    '^FAIL deltas: deltas\[8\].*customerId' \
	    "$DIR/add.json" --key "$d/key.pem"
	jq --slurpfile f "$d/feb.json" \
	    '.data.treeHead = $f[0].data.treeHead' "$d/jan.json" \
	    >"$DIR/head.json"
	expect "$a a newer tree head" 1 '^FAIL treeHead: size' \
	    "$DIR/head.json" --key "$d/key.pem"

	echo "== $a: runs of sequence numbers (statement version 2)"
	expect "$a late deltas carried in" 0 \
	    '^ok   deltas: .*2 carried in' \
	    "$d/late.json" --key "$d/key.pem" --previous "$d/feb.json"
	expect "$a late: runs join" 0 'sequences join without a gap' \
	    "$d/late.json" --key "$d/key.pem" --previous "$d/feb.json"
	expect "$a --list marks the carried in" 0 \
	    'carried in \(recorded before the period\)' \
	    "$d/late.json" --key "$d/key.pem" --list
	expect "$a a chain with a gap" 1 \
	    '^FAIL chain: firstSequence [0-9]+, but the predecessor ends at [0-9]+: sequences [0-9]+\.\.[0-9]+ in no checkpoint' \
	    "$d/gap.json" --key "$d/key.pem" --previous "$d/feb.json"
	expect "$a a gap is whole in itself" 0 "$OK" \
	    "$d/gap.json" --key "$d/key.pem"
	expect "$a a first checkpoint starts at 1" 1 \
	    '^FAIL chain: firstSequence 2, but a first checkpoint' \
	    "$d/nofirst.json" --key "$d/key.pem"
	for i in 0 3 7; do
		jq "del(.data.deltas[$i])" "$d/jan.json" >"$DIR/del.json"
		expect "$a delta $i removed: named" 1 \
		    "^FAIL deltas: sequence $((i + 1)) missing" \
		    "$DIR/del.json" --key "$d/key.pem"
	done
	jq '.data.deltas[0].leaf.delta = "999"' "$d/feb.json" >"$DIR/pv.json"
	expect "$a previous with a changed amount" 1 \
	    '^FAIL chain: --previous .* of its checks fail' \
	    "$d/late.json" --key "$d/key.pem" --previous "$DIR/pv.json"
	jq '.data.checkpoint.previousCheckpointId |= .' "$d/feb.json" \
	    >"$DIR/pv.json"
	expect "$a previous reformatted still chains" 0 "$OK" \
	    "$d/late.json" --key "$d/key.pem" --previous "$DIR/pv.json"

	echo "== $a: standalone tree heads (--head)"
	expect "$a head note --key" 0 '^ok   treeHead:' \
	    --head "$d/head.note" --key "$d/key.pem"
	expect "$a head json --keys" 0 '^ok   response:' \
	    --head "$d/head.json" --keys "$d/keys.json"
	jq .data "$d/head.json" >"$DIR/hd.json"
	expect "$a head json data alone" 0 '^ok   response:' \
	    --head "$DIR/hd.json" --key "$d/key.pem"
	expect "$a head, other key" 1 '^FAIL treeHead:' \
	    --head "$d/head.note" --key "$DIR/other/key.pem"
	jq '.data.treeSize += 1' "$d/head.json" >"$DIR/hd.json"
	expect "$a head json, treeSize off" 1 '^FAIL response: treeSize' \
	    --head "$DIR/hd.json" --key "$d/key.pem"
	jq '.data.keyId |= (split("") | reverse | join(""))' "$d/head.json" \
	    >"$DIR/hd.json"
	expect "$a head json, keyId off" 1 '^FAIL response: keyId' \
	    --head "$DIR/hd.json" --key "$d/key.pem"
	sed '2s/^/1/' "$d/head.note" >"$DIR/hd.note"
	expect "$a head note, size changed" 1 '^FAIL treeHead:' \
	    --head "$DIR/hd.note" --key "$d/key.pem"
done
for h in ecdsa rsa; do
	expect "vectors head-$h" 0 \
	    '^ok   treeHead: tally.example/vectors size 7' \
	    --head "$REPO/tests/vectors/head-$h.note" \
	    --keys "$REPO/tests/vectors/keys.json"
done

echo "== hostile input: exit 1, never a crash"
hostile() {	# hostile NAME CHECK: $DIR/h.json against E's key
	expect "hostile: $1" 1 "^FAIL $2:" "$DIR/h.json" --key "$E/key.pem"
}
printf '' >"$DIR/h.json"; hostile "empty file" receipt
printf 'not json' >"$DIR/h.json"; hostile "not JSON" receipt
head -c 5000 "$E/jan.json" >"$DIR/h.json"; hostile "truncated" receipt
printf '%.0s[' $(seq 1 100000) >"$DIR/h.json"; hostile "deep nesting" receipt
printf '{"success":false,"error":{"code":"NOT_FOUND","message":"x"}}' \
    >"$DIR/h.json"; hostile "error envelope" receipt
printf '[]' >"$DIR/h.json"; hostile "an array" receipt
printf '{}' >"$DIR/h.json"; hostile "an empty object" statement
head -c 20000 /dev/urandom >"$DIR/h.json"; hostile "random bytes" receipt
hj() {	# hj NAME CHECK FILTER: jan.json changed by FILTER
	jq "$2" "$E/jan.json" >"$DIR/h.json"
	hostile "$1" "$3"
}
hj "deltas a number" '.data.deltas = 5' deltas
hj "deltas objects empty" '.data.deltas |= map({})' deltas
hj "leaf a string" '.data.deltas[0].leaf = "x"' deltas
hj "leaf with an extra member" '.data.deltas[0].leaf.x = 1' deltas
hj "leaf delta a number" '.data.deltas[0].leaf.delta = 1000' deltas
hj "leaf delta not shortest" '.data.deltas[0].leaf.delta += ".0"' deltas
hj "leaf sequenceNumber a string" \
    '.data.deltas[0].leaf.sequenceNumber |= tostring' deltas
hj "leaf sequenceNumber huge" \
    '.data.deltas[0].leaf.sequenceNumber = 1e300' deltas
hj "leaf salt uppercase" '.data.deltas[0].leaf.salt |= ascii_upcase' deltas
hj "leafHash uppercase" '.data.deltas[0].leafHash |= ascii_upcase' deltas
hj "logIndex negative" '.data.deltas[0].logIndex = -1' deltas
hj "logIndex huge" '.data.deltas[0].logIndex = 18446744073709551615' deltas
hj "logIndex beyond treeSize" '.data.deltas[7].logIndex = 30' deltas
hj "proof a number" '.data.deltas[0].inclusionProof = 1' inclusion
hj "proof of numbers" '.data.deltas[0].inclusionProof = [1, 2]' inclusion
hj "proof too long" '.data.deltas[0].inclusionProof = [range(0; 70)
    | "0x" + ("00" * 32)]' inclusion
hj "statement a number" '.data.statement = 7' statement
hj "statement not base64" '.data.statement = "%%%"' statement
hj "statement base64 of garbage" '.data.statement = "AAAA"' statement
hj "statement member missing" \
    '.data.statement |= (@base64d | fromjson | del(.netChange) | tojson
    | @base64)' statement
hj "statement not canonical" \
    '.data.statement |= (@base64d | fromjson | tojson | . + " " | @base64)' \
    statement
hj "signature empty" '.data.signature = ""' signature
hj "signature too long" '.data.signature = ("QUFB" * 400)' signature
hj "keyId a number" '.data.keyId = 1' signature
hj "checkpoint missing" 'del(.data.checkpoint)' statement
hj "checkpoint amount a word" '.data.checkpoint.netChange = "lots"' statement
hj "treeHead null" '.data.treeHead = null' treeHead
hj "treeHead garbage" '.data.treeHead = "x\n\n— y z\n"' treeHead
hj "NUL in a recordId" '.data.deltas[0].recordId = "rec_\u0000x"' deltas
hj "escape in a leaf" '.data.deltas[0].leaf.reason = "\u001b[31m"' deltas
hj "metadata a number" '.data.deltas[0].leaf.metadata = 5' deltas
hj "metadata with 1e999" '.data.deltas[0].leaf.metadata = {"a": 1e999}' \
    deltas
# jq cannot write a repeated key: the JSON reader must refuse one.
sed -E '0,/"version": ?2,/s//"version":2,"version":2,/' "$E/jan.json" \
    >"$DIR/h.json"
hostile "repeated key" receipt

echo "== bad usage and unreadable files: exit 2"
expect "usage: nothing" 2 '^usage:'
expect "usage: no key" 2 '' "$E/jan.json"
expect "a key and a keys file together" 0 "$OK" "$E/jan.json" \
    --key "$E/key.pem" --keys "$E/keys.json"
expect "a key of another log beside the keys file" 0 "$OK" "$E/jan.json" \
    --key "$DIR/other/key.pem" --keys "$E/keys.json"
expect "usage: --head and --previous" 2 '' --head "$E/head.note" \
    --key "$E/key.pem" --previous "$E/jan.json"
expect "usage: unknown option" 2 '' "$E/jan.json" --key "$E/key.pem" -x
expect "unreadable receipt" 2 '' "$DIR/none.json" --key "$E/key.pem"
expect "unreadable key" 2 '' "$E/jan.json" --key "$DIR/none.pem"
expect "key not a key" 2 '' "$E/jan.json" --key "$E/jan.json"
expect "keys file not keys" 2 '' "$E/jan.json" --keys "$E/jan.json"
jq '.data.keys[0].keyId = "00000000"' "$E/keys.json" >"$DIR/k.json"
expect "keys file, keyId not its pem's" 2 '' "$E/jan.json" \
    --keys "$DIR/k.json"
expect "unreadable previous" 2 '' "$E/feb.json" --key "$E/key.pem" \
    --previous "$DIR/none.json"

echo "== tamper loop: one character changed, the right check fails"
start=$SECONDS
before=$tampers
tamper_all "$E/jan.json" --key "$E/key.pem"
tamper_all "$R/feb.json" --keys "$R/keys.json" --previous "$R/jan.json"
tamper_all "$E/mar.json" --key "$E/key.pem" --previous "$E/feb2.json"
echo "   $((tampers - before)) tampered receipts in $((SECONDS - start)) s:" \
    "$(for c in "${!tampered[@]}"; do printf '%s %s, ' "$c" \
    "${tampered[$c]}"; done | sed 's/, $//')"

echo "verify: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
