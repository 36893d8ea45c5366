#!/usr/bin/env bash
# recompute.sh [-q] [DIR]: recomputes Tally's test vectors in DIR (by
# default the directory of this script) with bash, openssl, coreutils and
# jq only, none of Tally's code, the way a third party would:
#
#   - each leaf: leafData is the JCS of its fields, the salt is the fixed
#     one, contentHash = SHA-256(leafData), leafHash = SHA-256(0x00 || leafData)
#   - tree.json: its leaf hashes, the root of every size (RFC 9162 2.1.1),
#     and every inclusion and consistency proof verified against those
#     roots (RFC 9162 2.1.3.2 and 2.1.4.2)
#   - keys.json: each key ID recomputed, each public key the committed
#     private key's
#   - head-*.note: origin, size and root are the full tree's, the key ID
#     is the key's, and the signature verifies with openssl dgst
#
# It prints one line per check (-q: only the failures) and a summary
# line, and exits 0 only if every check holds.
set -u -f -o pipefail

quiet=0
if [ "${1-}" = -q ]; then
	quiet=1
	shift
fi
dir=${1:-$(dirname "$0")}
name=tally.example/vectors	# every head's origin and every key's name
pass=0
fail=0

ok() { pass=$((pass + 1)); [ $quiet = 1 ] || printf 'ok   %s\n' "$*"; }
bad() { fail=$((fail + 1)); printf 'FAIL %s\n' "$*"; }
# same WHAT GOT WANT
same() { if [ "$2" = "$3" ]; then ok "$1"; else bad "$1: is $2, should be $3"; fi; }

for tool in jq openssl od base64; do
	command -v $tool >/dev/null || { echo "recompute.sh: needs $tool" >&2; exit 2; }
done
tmp=$(mktemp -d) || exit 2
trap 'rm -rf "$tmp"' EXIT

# Bytes on stdin as lowercase hex; hex as bytes; SHA-256 of stdin as hex.
hex() { od -An -v -tx1 | tr -d ' \n'; }
bin() {
	local h=$1 s='' i
	for ((i = 0; i < ${#h}; i += 2)); do s+="\\x${h:i:2}"; done
	# shellcheck disable=SC2059 # the format is the \xHH escapes
	printf "$s"
}
sha() { openssl dgst -sha256 -binary | hex; }
# A hash as the vectors write it, "0x" and 64 hex digits, without "0x".
unhash() { [[ $1 =~ ^0x[0-9a-f]{64}$ ]] && printf '%s' "${1#0x}" || printf 'BAD(%s)' "$1"; }

# RFC 9162 2.1: leaf = SHA-256(0x00 || data), node = SHA-256(0x01 || l || r).
# node L R sets H.  The function is pure and every proof below meets the
# same few subtrees again, so results are remembered (one openssl run
# costs more than all the rest of the arithmetic).
declare -A memo
node() {
	H=${memo["$1$2"]-}
	[ -n "$H" ] && return
	H=$({ printf '\x01'; bin "$1"; bin "$2"; } | sha)
	memo["$1$2"]=$H
}
# mth START N sets H to MTH of the N leaf hashes L[START..START+N)
# (RFC 9162 2.1.1): split at k, the largest power of two below N.
mth() {
	local s=$1 n=$2 k=1 left
	if ((n == 0)); then H=$(printf '' | sha); return; fi
	if ((n == 1)); then H=${L[s]}; return; fi
	while ((k < n - k)); do k=$((k * 2)); done
	mth "$s" $k
	left=$H
	mth $((s + k)) $((n - k))
	node "$left" "$H"
}
# Every argument a bare 64-digit hex hash.
hashes() { local h; for h; do [[ $h =~ ^[0-9a-f]{64}$ ]] || return 1; done; }

# inclusion INDEX SIZE LEAF ROOT PROOF...: RFC 9162 2.1.3.2.
inclusion() {
	local fn=$1 sn=$(($2 - 1)) r=$3 root=$4 p
	(($1 < $2)) || return 1
	shift 4
	hashes "$r" "$root" "$@" || return 1
	for p; do
		((sn == 0)) && return 1
		if ((fn & 1 || fn == sn)); then
			node "$p" "$r"
			r=$H
			while ((!(fn & 1) && fn != 0)); do
				fn=$((fn >> 1)) sn=$((sn >> 1))
			done
		else
			node "$r" "$p"
			r=$H
		fi
		fn=$((fn >> 1)) sn=$((sn >> 1))
	done
	((sn == 0)) && [ "$r" = "$root" ]
}

# consistency FROM TO FROMROOT TOROOT PROOF...: RFC 9162 2.1.4.2.
consistency() {
	local m=$1 n=$2 r1=$3 r2=$4 fn sn fr sr c
	shift 4
	hashes "$r1" "$r2" "$@" || return 1
	if ((m == n)); then (($# == 0)) && [ "$r1" = "$r2" ]; return; fi
	(($# > 0 && m >= 1 && m < n)) || return 1
	# A complete first tree is its own first proof node.
	((m & (m - 1))) || set -- "$r1" "$@"
	fn=$((m - 1)) sn=$((n - 1))
	while ((fn & 1)); do fn=$((fn >> 1)) sn=$((sn >> 1)); done
	fr=$1 sr=$1
	shift
	for c; do
		((sn == 0)) && return 1
		if ((fn & 1 || fn == sn)); then
			node "$c" "$fr"
			fr=$H
			node "$c" "$sr"
			sr=$H
			while ((!(fn & 1) && fn != 0)); do
				fn=$((fn >> 1)) sn=$((sn >> 1))
			done
		else
			node "$sr" "$c"
			sr=$H
		fi
		fn=$((fn >> 1)) sn=$((sn >> 1))
	done
	[ "$fr" = "$r1" ] && [ "$sr" = "$r2" ] && ((sn == 0))
}

# --- Leaves ---------------------------------------------------------------
# One jq run per question over the whole file, a line per leaf: leafData
# (JCS has no raw newline), the JCS of the ten fields, and the rest.
# jq -cS sorts keys and writes compactly: for these vectors (printable
# text, small integers) that is exactly RFC 8785, though jq is no JCS
# implementation in general (its numbers and escapes differ at the edges).
leaves=$dir/leaves.jsonl
jq -ne '[inputs | type == "object"] | all' "$leaves" >/dev/null 2>&1 ||
    bad "leaves.jsonl: not one JSON object per line"
mapfile -t D < <(jq -r .leafData "$leaves" 2>/dev/null)
mapfile -t J < <(jq -cS '{tenant, env, customerId, sequenceNumber, delta,
    reason, referenceId, metadata, createdAt, salt}' "$leaves" 2>/dev/null)
mapfile -t F < <(jq -r '"\(.logIndex) \(.salt) \(.contentHash) \(.leafHash)"' \
    "$leaves" 2>/dev/null)
N=${#D[@]}
same "leaves.jsonl: as many field sets as leaves" "${#J[@]} ${#F[@]}" "$N $N"
L=()
for ((i = 0; i < N; i++)); do
	w="leaf $i"
	read -r index salt content leaf <<<"${F[i]-}"
	same "$w: logIndex" "$index" "$i"
	# The salts are fixed: SHA-256 of "tally test vector salt <logIndex>".
	same "$w: salt" "$salt" "$(printf 'tally test vector salt %d' $i | sha)"
	same "$w: leafData is the JCS of its fields" "${D[i]}" "${J[i]-}"
	same "$w: contentHash = SHA-256(leafData)" "$(unhash "$content")" \
	    "$(printf '%s' "${D[i]}" | sha)"
	L[i]=$({ printf '\x00'; printf '%s' "${D[i]}"; } | sha)
	same "$w: leafHash = SHA-256(0x00 || leafData)" "$(unhash "$leaf")" \
	    "${L[i]}"
done

# --- The tree -------------------------------------------------------------
tree=$dir/tree.json
# jq: a hash written "0x" and 64 hex digits, as bare hex (else "BAD").
jqh='def unhash: if type == "string" and test("^0x[0-9a-f]{64}$")
    then .[2:] else "BAD" end; '
jq -e . "$tree" >/dev/null 2>&1 || bad "tree.json: not JSON"
same "tree.json: treeSize is the number of leaves" \
    "$(jq -r .treeSize "$tree")" "$N"
same "tree.json: leafHashes" \
    "$(jq -r "$jqh"'.leafHashes | map(unhash) | join(" ")' "$tree")" \
    "${L[*]}"
mapfile -t T < <(jq -r "$jqh"'.roots[] | "\(.treeSize) \(.rootHash | unhash)"' \
    "$tree")
same "tree.json: number of roots" "${#T[@]}" $((N + 1))
R=()
for ((n = 0; n <= N; n++)); do
	mth 0 $n
	R[n]=$H
	same "root of size $n" "${T[n]-}" "$n ${R[n]}"
done
same "tree.json: number of inclusion proofs" \
    "$(jq '.inclusion | length' "$tree")" $((N * (N + 1) / 2))
same "tree.json: number of consistency proofs" \
    "$(jq '.consistency | length' "$tree")" $((N * (N + 1) / 2))

while read -r m n proof; do
	w="inclusion proof of leaf $m in size $n"
	# shellcheck disable=SC2086 # the proof hashes are words
	if [[ $m =~ ^[0-9]+$ && $n =~ ^[0-9]+$ ]] && ((n <= N)) &&
	    inclusion "$m" "$n" "${L[m]-}" "${R[n]}" $proof; then
		ok "$w"
	else
		bad "$w: does not verify"
	fi
done < <(jq -r "$jqh"'.inclusion[] | "\(.logIndex) \(.treeSize) " +
    (.inclusionProof | map(unhash) | join(" "))' "$tree")

while read -r m n proof; do
	w="consistency proof from size $m to $n"
	# shellcheck disable=SC2086
	if [[ $m =~ ^[0-9]+$ && $n =~ ^[0-9]+$ ]] && ((m <= N && n <= N)) &&
	    consistency "$m" "$n" "${R[m]}" "${R[n]}" $proof; then
		ok "$w"
	else
		bad "$w: does not verify"
	fi
done < <(jq -r "$jqh"'.consistency[] | "\(.from) \(.to) " +
    (.consistencyProof | map(unhash) | join(" "))' "$tree")

# --- Keys and signed heads ------------------------------------------------
nkeys=$(jq '.keys | arrays | length' "$dir/keys.json")
[[ $nkeys =~ ^[0-9]+$ ]] || nkeys=0
same "keys.json: two keys" "$nkeys" 2
# key FIELD: that field of keys.json entry $k.
key() { jq -r --argjson k "$k" ".keys[\$k].$1" "$dir/keys.json"; }
for ((k = 0; k < nkeys; k++)); do
	alg=$(key alg) id=$(key keyId) note=$dir/$(key note)
	w="key $id ($alg)"
	pub=$tmp/$k.pem
	key pem >"$pub"
	same "$w: name" "$(key name)" "$name"
	# Compared as SHA-256 of the DER public keys, to keep lines short.
	same "$w: is the public half of $(key privateKey)" \
	    "$(openssl pkey -pubin -in "$pub" -outform DER | sha)" \
	    "$(openssl pkey -in "$dir/$(key privateKey)" -pubout -outform DER | sha)"
	# C2SP key IDs: ECDSA (type 0x02) SHA-256(DER SPKI)[0:4]; RSA-PSS
	# (type 0xff) SHA-256(name || 0x0A || 0xff || "rsa-pss-sha256" || DER SPKI)[0:4].
	case $alg in
	ecdsa-p256)
		want=$(openssl pkey -pubin -in "$pub" -outform DER | sha)
		sigopt=() ;;
	rsa-3072)
		want=$({ printf '%s\n' "$name"; printf '\xffrsa-pss-sha256'
		    openssl pkey -pubin -in "$pub" -outform DER; } | sha)
		sigopt=(-sigopt rsa_padding_mode:pss -sigopt rsa_pss_saltlen:32) ;;
	*)
		want=unknown-alg sigopt=() ;;
	esac
	same "$w: keyId" "$id" "${want:0:8}"

	# The note: origin, size, base64 root, a blank line, then
	# "— <name> <base64(key ID || signature)>".
	w=$(basename "$note")
	same "$w: origin" "$(sed -n 1p "$note")" "$name"
	same "$w: tree size" "$(sed -n 2p "$note")" "$N"
	same "$w: root hash" "$(sed -n 3p "$note" | base64 -d 2>/dev/null | hex)" \
	    "${R[N]}"
	same "$w: blank line" "$(sed -n 4p "$note")" ""
	same "$w: signer" "$(sed -n 5p "$note" | cut -d' ' -f1,2)" "— $name"
	sed -n 5p "$note" | cut -d' ' -f3 | base64 -d >"$tmp/blob" 2>/dev/null
	same "$w: key ID" "$(head -c 4 "$tmp/blob" | hex)" "$id"
	tail -c +5 "$tmp/blob" >"$tmp/sig"
	head -n 3 "$note" >"$tmp/body"
	if openssl dgst -sha256 "${sigopt[@]}" -verify "$pub" \
	    -signature "$tmp/sig" "$tmp/body" >/dev/null 2>&1; then
		ok "$w: signature over the first three lines verifies"
	else
		bad "$w: signature does not verify"
	fi
done

if ((fail == 0)); then
	echo "recompute.sh: all $pass checks of $N leaves, tree, keys and heads hold"
	exit 0
fi
echo "recompute.sh: $fail of $((pass + fail)) checks FAILED"
exit 1
