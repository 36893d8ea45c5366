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
#   - statement.json (version 1) and statement-v2.json (version 2, with
#     firstSequence, lastSequence and the fixed salt): the JCS bytes of
#     the checkpoint statement rebuilt from the leaves and the
#     checkpoint's fixed choices (sums exact, in integer nano-units;
#     proofRoot the RFC 9162 root of the covered leaf hashes), byte for
#     byte; each one's statement*-ecdsa.sig and statement*-rsa.sig
#     verify with openssl dgst
#   - receipt-ecdsa.json and receipt-v2-ecdsa.json: the bundle's version
#     is its statement's, its statement, signature, key, tree head and
#     deltas are the vectors', carriedIn only on a delta recorded before
#     startDate, each inclusion proof verifies; and when $TALLY_VERIFY
#     names the tally-verify binary, it accepts the receipt
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

for tool in jq openssl od base64 cmp; do
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
KALG=() KID=() KSIGOPT=()	# per key, for the statement below
for ((k = 0; k < nkeys; k++)); do
	alg=$(key alg) id=$(key keyId) note=$dir/$(key note)
	w="key $id ($alg)"
	pub=$tmp/$k.pem
	KALG[k]=$alg KID[k]=$id
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
	KSIGOPT[k]=${sigopt[*]-}

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

# --- The checkpoint statements (SPEC 4.4, docs/receipt.md) ---------------
# The checkpoint's own choices, as mkvectors.c makes them: whose and which
# month, a fixed id and time, the customer's first checkpoint (no
# predecessor, starting at 0, version 2: from sequence 1), bound to the
# head of the full tree.  Version 2's salt is fixed too, like the leaves'.
chk_id=chk_00000000000000000000000000000001
chk_tenant=demo chk_env=live chk_customer=customer_acme chk_period=2026-02
chk_created=2026-03-01T00:00:00.000Z
chk_starting=0
chk_salt=$(printf 'tally test vector statement salt' | sha)

# nano TEXT: an exact amount in its shortest form ("-33.333333333", "0.1",
# "1000"; |TEXT| <= 10^9) as an integer of nano-units (10^-9).  Integer
# arithmetic only: no float ever holds an amount.  Fails on any other
# spelling (trailing zeros, "+", exponent, "-0", a tenth decimal).
nano() {
	local sign int frac
	[[ $1 =~ ^(-?)(0|[1-9][0-9]{0,9})(\.[0-9]{0,8}[1-9])?$ ]] &&
	    [ "$1" != -0 ] || return 1
	sign=${BASH_REMATCH[1]} int=${BASH_REMATCH[2]}
	frac=${BASH_REMATCH[3]#.}000000000
	((10#$int <= 1000000000)) || return 1
	printf '%s%d' "$sign" $((10#$int * 1000000000 + 10#${frac:0:9}))
}
# dec NANO: nano-units back to the shortest exact decimal ("844.266666667").
dec() {
	local v=$1 sign='' f
	((v < 0)) && sign=- v=$((-v))
	printf -v f '%09d' $((v % 1000000000))
	while [[ $f == *0 ]]; do f=${f%0}; done
	printf '%s%d%s' "$sign" $((v / 1000000000)) "${f:+.$f}"
}

# The month's bounds: start inclusive, end exclusive, RFC 3339 with ms.
y=$((10#${chk_period%-*})) m=$((10#${chk_period#*-}))
chk_start=$(printf '%04d-%02d-01T00:00:00.000Z' $y $m)
if ((m == 12)); then y=$((y + 1)) m=1; else m=$((m + 1)); fi
chk_end=$(printf '%04d-%02d-01T00:00:00.000Z' $y $m)
starting=$(nano "$chk_starting")

mapfile -t C < <(jq -r '[.tenant, .env, .customerId, .sequenceNumber,
    .delta, .createdAt] | @tsv' "$leaves" 2>/dev/null)
# cover VERSION: the customer's deltas the checkpoint covers below
# treeSize (all N here), in log order: into cov their log indexes, CL
# their leaf hashes, CI whether each is carried in (recorded before
# startDate), net their exact sum, first..last their sequence numbers.
# Version 1 covers the month's deltas; version 2 the run of sequence
# numbers from 1 (a first checkpoint) through the last recorded before
# endDate, without a gap, which would carry in a delta of an earlier
# month.  Times are all in the one canonical form: they compare as text.
cover() {
	local i t e c seq amount at v
	cov=() CL=() CI=() net=0 first=1 last=0
	for ((i = 0; i < N; i++)); do
		IFS=$'\t' read -r t e c seq amount at <<<"${C[i]-}"
		if [ "$t $e $c" != "$chk_tenant $chk_env $chk_customer" ] ||
		    [[ ! $at < $chk_end ]] ||
		    { (($1 < 2)) && [[ $at < $chk_start ]]; }; then
			continue
		fi
		if v=$(nano "$amount"); then
			net=$((net + v))
		else
			bad "leaf $i: delta \"$amount\" is not exact and" \
			    "shortest"
		fi
		(($1 < 2)) || [ "$seq" = $((last + 1)) ] ||
		    bad "leaf $i: sequence $seq leaves a gap after $last"
		last=$seq
		cov+=("$i") CL+=("${L[i]}")
		if [[ $at < $chk_start ]]; then CI+=(true); else CI+=(false); fi
	done
}

# proof_root: the RFC 9162 root over the covered leaf hashes CL, with the
# tree's own mth (over L, so L is the covered hashes for the while).
proof_root() {
	local all=("${L[@]}")
	L=("${CL[@]}")
	mth 0 ${#CL[@]}
	L=("${all[@]}")
}

# stv MEMBER: that member of the statement $st, as text.
stv() { jq -r --arg m "$1" '.[$m] | tostring' "$st" 2>/dev/null; }

# check_statement VERSION: checks $st, the statement of that version,
# member by member and then byte for byte against the one rebuilt with
# jq, after cover VERSION.
check_statement() {
	local w args
	w=$(basename "$st")
	proof_root
	jq -e 'type == "object"' "$st" >/dev/null 2>&1 ||
	    bad "$w: not a JSON object"
	same "$w: version" "$(stv version)" "$1"
	same "$w: deltasCount (leaves ${cov[*]})" "$(stv deltasCount)" \
	    ${#cov[@]}
	same "$w: netChange, the exact sum" "$(stv netChange)" "$(dec $net)"
	same "$w: endingBalance" "$(stv endingBalance)" \
	    "$(dec $((starting + net)))"
	same "$w: proofRoot" "$(stv proofRoot)" "0x$H"
	same "$w: treeSize and rootHash, the full tree's" \
	    "$(stv treeSize) $(stv rootHash)" "$N 0x${R[N]}"
	same "$w: startDate and endDate of $chk_period" \
	    "$(stv startDate) $(stv endDate)" "$chk_start $chk_end"
	args=(--argjson version "$1" --arg checkpointId "$chk_id"
	    --arg tenant "$chk_tenant" --arg env "$chk_env"
	    --arg customerId "$chk_customer" --arg period "$chk_period"
	    --arg startDate "$chk_start" --arg endDate "$chk_end"
	    --arg startingBalance "$(dec "$starting")"
	    --argjson deltasCount ${#cov[@]} --arg netChange "$(dec $net)"
	    --arg endingBalance "$(dec $((starting + net)))"
	    --arg proofRoot "0x$H" --argjson previousCheckpointId null
	    --argjson treeSize "$N" --arg rootHash "0x${R[N]}"
	    --arg createdAt "$chk_created")
	if (($1 >= 2)); then
		same "$w: firstSequence and lastSequence" \
		    "$(stv firstSequence) $(stv lastSequence)" "$first $last"
		same "$w: salt, SHA-256 of the fixed text" "$(stv salt)" \
		    "$chk_salt"
		args+=(--argjson firstSequence "$first"
		    --argjson lastSequence "$last" --arg salt "$chk_salt")
	fi
	# The JCS bytes: jq -S sorts the members and -c writes them
	# compactly; for these members (ASCII strings, small integers, null)
	# that is exactly RFC 8785.  -j: no newline after it, none in the
	# file either.
	jq -ncjS "${args[@]}" '$ARGS.named' >"$tmp/statement"
	if cmp -s "$tmp/statement" "$st"; then
		ok "$w: the JCS statement, byte for byte"
	else
		bad "$w: differs from the statement rebuilt" \
		    "($(cmp "$tmp/statement" "$st" 2>&1 | head -n 1))"
	fi
}

# sig_file K: key K's signature of $st ("statement-v2.json" and ECDSA:
# "statement-v2-ecdsa.sig").
sig_file() {
	case ${KALG[$1]} in
	ecdsa-p256) printf '%s-ecdsa.sig' "${st%.json}" ;;
	rsa-3072) printf '%s-rsa.sig' "${st%.json}" ;;
	*) printf unknown-alg ;;
	esac
}

# check_sigs: each key's signature over exactly the bytes of $st; none
# over others.
check_sigs() {
	local k f w
	{ cat "$st"; printf x; } >"$tmp/changed" 2>/dev/null
	for ((k = 0; k < nkeys; k++)); do
		f=$(sig_file $k)
		w="$(basename "$f") (key ${KID[k]})"
		base64 -d <"$f" >"$tmp/sig" 2>/dev/null
		# shellcheck disable=SC2086 # the options are words
		if openssl dgst -sha256 ${KSIGOPT[k]} -verify "$tmp/$k.pem" \
		    -signature "$tmp/sig" "$st" >/dev/null 2>&1; then
			ok "$w: verifies over $(basename "$st")"
		else
			bad "$w: does not verify over $(basename "$st")"
		fi
		# shellcheck disable=SC2086
		if openssl dgst -sha256 ${KSIGOPT[k]} -verify "$tmp/$k.pem" \
		    -signature "$tmp/sig" "$tmp/changed" >/dev/null 2>&1; then
			bad "$w: verifies over other bytes too"
		else
			ok "$w: refuses a changed statement"
		fi
	done
}

# --- The receipt bundles --------------------------------------------------
# The ECDSA key's bundle of each version holds exactly the files above:
# the statement (base64), its signature, the key, the head, and the
# covered deltas with their leaves and inclusion proofs in the full tree.
for ((ke = 0; ke < nkeys; ke++)); do
	[ "${KALG[ke]}" = ecdsa-p256 ] && break
done
# rv FILTER: jq -r of the receipt's data.
rv() { jq -r ".data | $1" "$receipt" 2>/dev/null; }

# check_receipt VERSION: checks $receipt, the bundle of $st, after
# cover VERSION.
check_receipt() {
	local w j i index leaf content proof chkm RL RD
	w=$(basename "$receipt")
	same "$w: success envelope" \
	    "$(jq -r .success "$receipt" 2>/dev/null)" true
	same "$w: version, checkpointId, keyId, alg" \
	    "$(rv '"\(.version) \(.checkpointId) \(.keyId) \(.alg)"')" \
	    "$1 $chk_id ${KID[ke]-} ecdsa-p256"
	rv .statement | base64 -d >"$tmp/rstatement" 2>/dev/null
	if cmp -s "$tmp/rstatement" "$st"; then
		ok "$w: statement is base64 of $(basename "$st")"
	else
		bad "$w: statement is not base64 of $(basename "$st")"
	fi
	same "$w: signature is $(basename "$(sig_file $ke)")" \
	    "$(rv .signature)" "$(cat "$(sig_file $ke)")"
	jq -j .data.treeHead "$receipt" >"$tmp/rhead" 2>/dev/null
	if cmp -s "$tmp/rhead" "$dir/head-ecdsa.note"; then
		ok "$w: treeHead is head-ecdsa.note"
	else
		bad "$w: treeHead is not head-ecdsa.note"
	fi
	# The checkpoint's members that are not amounts, against the
	# statement's (jq would read its JSON-number amounts as floats;
	# tally-verify checks those exactly).
	chkm='.checkpointId, .customerId, .period, .startDate, .endDate,
	    .deltasCount, .proofRoot, .previousCheckpointId, .treeSize,
	    .rootHash, .createdAt'
	(($1 < 2)) || chkm+=', .firstSequence, .lastSequence'
	chkm="[$chkm] | map(tostring) | join(\" \")"
	same "$w: checkpoint agrees with the statement" \
	    "$(rv ".checkpoint | $chkm")" "$(jq -r "$chkm" "$st" 2>/dev/null)"
	same "$w: deltas are the covered leaves" \
	    "$(rv '[.deltas[].logIndex] | map(tostring) | join(" ")')" \
	    "${cov[*]}"
	# carriedIn: true where a delta was recorded before startDate, and
	# absent elsewhere.
	same "$w: carriedIn exactly on deltas before $chk_start" \
	    "$(rv '[.deltas[] | if has("carriedIn") then (if .carriedIn ==
	    true then "true" else "BAD" end) else "false" end] | join(" ")')" \
	    "${CI[*]}"
	mapfile -t RL < <(jq -cS '.data.deltas[].leaf' "$receipt" 2>/dev/null)
	mapfile -t RD < <(rv "$jqh"'.deltas[] | "\(.logIndex) " +
	    "\(.leafHash | unhash) \(.contentHash | unhash) " +
	    (.inclusionProof | map(unhash) | join(" "))')
	for ((j = 0; j < ${#cov[@]}; j++)); do
		i=${cov[j]}
		read -r index leaf content proof <<<"${RD[j]-}"
		same "$w: deltas[$j] (leaf $i): leaf is the vector's leafData" \
		    "${RL[j]-}" "${D[i]}"
		same "$w: deltas[$j] (leaf $i): leafHash and contentHash" \
		    "$leaf $content" "${L[i]} $(printf '%s' "${D[i]}" | sha)"
		# shellcheck disable=SC2086
		if [ "$index" = "$i" ] &&
		    inclusion "$i" "$N" "${L[i]}" "${R[N]}" $proof; then
			ok "$w: deltas[$j] (leaf $i): inclusion proof verifies"
		else
			bad "$w: deltas[$j] (leaf $i): inclusion proof does" \
			    "not verify"
		fi
	done
	check_tally_verify
}

# tally-verify, when given, must accept $receipt with keys.json (the
# shape of GET /api/v1/keys; the members it does not know it ignores).
check_tally_verify() {
	local w out
	w=$(basename "$receipt")
	if [ -z "${TALLY_VERIFY:-}" ]; then
		[ $quiet = 1 ] ||
		    echo "skip $w: tally-verify (set TALLY_VERIFY to run it)"
	elif [ ! -x "$TALLY_VERIFY" ]; then
		bad "TALLY_VERIFY=$TALLY_VERIFY is not an executable"
	elif out=$("$TALLY_VERIFY" "$receipt" --keys "$dir/keys.json" \
	    2>&1); then
		ok "$w: $TALLY_VERIFY accepts it"
	else
		bad "$w: $TALLY_VERIFY refuses it:"
		printf '%s\n' "$out" | grep -v '^ok ' | sed 's/^/     /'
	fi
}

# Each statement version's files: version 1's as old receipts hold them,
# version 2's as servers write them now.
while read -r version st receipt; do
	st=$dir/$st receipt=$dir/$receipt
	cover "$version"
	check_statement "$version"
	check_sigs
	check_receipt "$version"
done <<'VERSIONS'
1 statement.json receipt-ecdsa.json
2 statement-v2.json receipt-v2-ecdsa.json
VERSIONS

if ((fail == 0)); then
	echo "recompute.sh: all $pass checks of $N leaves, tree, keys, heads," \
	    "statement and receipt hold"
	exit 0
fi
echo "recompute.sh: $fail of $((pass + fail)) checks FAILED"
exit 1
