/*
 * The committed test vectors of tests/vectors/ (SPEC 4.5), read from the
 * directory named by $TALLY_VECTORS and recomputed here from their
 * inputs with Tally's own code: each leaf from its delta's fields, the
 * hashes from the leaf, every root and proof from the leaf hashes, each
 * key ID from its public key, both signed heads, and the checkpoint in
 * each statement version (1, as old receipts hold it, and 2, as servers
 * write it now): its statement rebuilt with checkpoint_statement from
 * the leaves, its signatures, and the receipt bundle.  Nothing here
 * trusts a value it
 * can recompute, and signatures are verified, never compared (a new
 * signature of the same bytes is new bytes).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <json-c/json.h>

#include "../common/decimal.h"
#include "../common/hex.h"
#include "../common/jcs.h"
#include "../common/jsonin.h"
#include "../common/sbuf.h"
#include "../common/timefmt.h"
#include "../core/checkpoint.h"
#include "../core/emit.h"
#include "../core/tlog.h"
#include "../core/view.h"
#include "../crypto/base64.h"
#include "../crypto/hash.h"
#include "../crypto/merkle.h"
#include "../crypto/note.h"
#include "../crypto/sigkey.h"
#include "../store/store.h"
#include "check.h"

#define VEC_NAME	"tally.example/vectors"
#define VEC_FILE_MAX	(1 << 20)
#define VEC_LEAVES_MAX	64

/*
 * The checkpoint of the statement vectors, as tests/vectors/README.md
 * states its fixed choices: customer_acme's February 2026 in tenant
 * demo, env live, its first (no predecessor, starting at 0), at the
 * full tree.  Its exact sum of the vector deltas, worked by hand.
 */
#define VEC_CHK_TENANT		"demo"
#define VEC_CHK_CUSTOMER	"customer_acme"
#define VEC_CHK_PERIOD		"2026-02"
#define VEC_CHK_ID		"chk_00000000000000000000000000000001"
#define VEC_CHK_CREATED		"2026-03-01T00:00:00.000Z"
#define VEC_CHK_NET		"844.266666667"
#define VEC_CHK_SALT		"tally test vector statement salt"
#define VEC_CHK_NCOV		5	/* leaves 0, 1, 3, 5, 6: seqs 1..5 */

/*
 * The checkpoint's files per statement version: its statement, the
 * statement's signature by keys.json's keys[i], and the receipt bundle
 * with keys[0].  Each test of the checkpoint runs once per row.
 */
static const struct vec_version {
	int		 version;
	const char	*statement;
	const char	*sig[2];
	const char	*receipt;
} vec_versions[] = {
	{ 1, "statement.json", { "statement-ecdsa.sig", "statement-rsa.sig" },
	  "receipt-ecdsa.json" },
	{ 2, "statement-v2.json",
	  { "statement-v2-ecdsa.sig", "statement-v2-rsa.sig" },
	  "receipt-v2-ecdsa.json" },
};
#define VEC_NVERSIONS	(sizeof(vec_versions) / sizeof(vec_versions[0]))

/* The whole of file name in the vectors directory, NUL-terminated. */
static char *
vec_read(const char *name, size_t *lenp)
{
	const char	*dir = getenv("TALLY_VECTORS");
	char		 path[1024], *buf;
	FILE		*f;
	size_t		 len;

	ck_assert_msg(dir != NULL && *dir != '\0', "TALLY_VECTORS is unset: "
	    "set it to the tests/vectors directory (make unit does)");
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	ck_assert_msg((f = fopen(path, "r")) != NULL, "cannot open %s", path);
	ck_assert_ptr_nonnull(buf = malloc(VEC_FILE_MAX + 1));
	len = fread(buf, 1, VEC_FILE_MAX + 1, f);
	ck_assert_msg(!ferror(f) && len <= VEC_FILE_MAX, "%s: unreadable "
	    "or too long", path);
	fclose(f);
	buf[len] = '\0';
	if (lenp != NULL)
		*lenp = len;
	return buf;
}

static struct json_object *
vec_parse(const char *text, size_t len, const char *where)
{
	struct json_object	*obj;
	char			 err[160];

	ck_assert_msg(jsonin_parse(text, len, &obj, err, sizeof(err)) == 0,
	    "%s: %s", where, err);
	return obj;
}

static struct json_object *
vec_parse_file(const char *name)
{
	struct json_object	*obj;
	char			*text;
	size_t			 len;

	text = vec_read(name, &len);
	obj = vec_parse(text, len, name);
	free(text);
	return obj;
}

/* Member name of obj, of type type (null only when nullable). */
static struct json_object *
vec_member(struct json_object *obj, const char *name, json_type type,
    int nullable, const char *where)
{
	struct json_object	*v = NULL;

	ck_assert_msg(json_object_object_get_ex(obj, name, &v),
	    "%s: no \"%s\"", where, name);
	if (v == NULL) {
		ck_assert_msg(nullable, "%s: \"%s\" is null", where, name);
		return NULL;
	}
	ck_assert_msg(json_object_is_type(v, type), "%s: \"%s\" is a %s",
	    where, name, json_type_to_name(json_object_get_type(v)));
	return v;
}

static const char *
vec_string(struct json_object *obj, const char *name, const char *where)
{
	return json_object_get_string(vec_member(obj, name, json_type_string,
	    0, where));
}

static uint64_t
vec_u64(struct json_object *obj, const char *name, const char *where)
{
	struct json_object	*v;

	v = vec_member(obj, name, json_type_int, 0, where);
	ck_assert_msg(json_object_get_int64(v) >= 0, "%s: \"%s\" < 0", where,
	    name);
	return json_object_get_uint64(v);
}

/* A hash as Tally writes them: "0x" and 64 lowercase hex digits. */
static void
vec_hash_text(const char *text, merkle_hash out, const char *where)
{
	char	back[2 * MERKLE_HASH_LEN + 1];

	ck_assert_msg(strncmp(text, "0x", 2) == 0 &&
	    hex_decode(text + 2, out, MERKLE_HASH_LEN) == 0, "%s: \"%s\" is "
	    "not a 0x-hex hash", where, text);
	hex_encode(out, MERKLE_HASH_LEN, back);
	ck_assert_msg(strcmp(back, text + 2) == 0, "%s: \"%s\" is not "
	    "lowercase", where, text);
}

static void
vec_hash(struct json_object *obj, const char *name, merkle_hash out,
    const char *where)
{
	vec_hash_text(vec_string(obj, name, where), out, where);
}

static void
vec_hash_eq(const merkle_hash got, const merkle_hash want, const char *what,
    const char *where)
{
	char	g[2 * MERKLE_HASH_LEN + 1], w[2 * MERKLE_HASH_LEN + 1];

	hex_encode(got, MERKLE_HASH_LEN, g);
	hex_encode(want, MERKLE_HASH_LEN, w);
	ck_assert_msg(memcmp(got, want, MERKLE_HASH_LEN) == 0,
	    "%s: %s is 0x%s, recomputed 0x%s", where, what, g, w);
}

/*
 * "2026-02-01T00:00:00.000Z" to ms since the epoch.  Written apart from
 * timefmt (which only formats); the round trip through timefmt_rfc3339
 * then proves the leaf can only have been made from this one time.
 */
static int64_t
vec_time(const char *text, const char *where)
{
	struct tm	tm;
	int		ms = 0, n = 0;
	char		back[TIMEFMT_LEN];
	int64_t		t;

	memset(&tm, 0, sizeof(tm));
	ck_assert_msg(sscanf(text, "%4d-%2d-%2dT%2d:%2d:%2d.%3dZ%n",
	    &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &tm.tm_hour, &tm.tm_min,
	    &tm.tm_sec, &ms, &n) == 7 && text[n] == '\0', "%s: createdAt "
	    "\"%s\" is not RFC 3339 with milliseconds", where, text);
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	t = (int64_t)timegm(&tm) * 1000 + ms;
	timefmt_rfc3339(t, back);
	ck_assert_msg(strcmp(back, text) == 0, "%s: createdAt \"%s\" is not "
	    "canonical (%s)", where, text, back);
	return t;
}

/* Copies a string member into a fixed field that must hold it. */
static void
vec_field(char *out, size_t outlen, struct json_object *obj,
    const char *name, const char *where)
{
	const char	*s = vec_string(obj, name, where);

	ck_assert_msg(strlen(s) < outlen, "%s: \"%s\" too long", where, name);
	memcpy(out, s, strlen(s) + 1);
}

/*
 * Checks one line of leaves.jsonl: leafData is emit_leaf of its fields,
 * and both hashes recompute.  Returns the leaf hash in leaf.
 */
static void
vec_leaf_check(struct json_object *o, uint64_t index, merkle_hash leaf)
{
	struct store_delta	 d;
	struct json_object	*meta;
	struct sbuf		 built = { 0 }, canon = { 0 };
	const char		*env, *data;
	char			 where[64], fmt[DECIMAL_MAX];
	merkle_hash		 want, got;
	decimal_t		 amount;

	snprintf(where, sizeof(where), "leaves.jsonl line %llu",
	    (unsigned long long)index + 1);
	memset(&d, 0, sizeof(d));
	ck_assert_msg(vec_u64(o, "logIndex", where) == index,
	    "%s: logIndex is not %llu", where, (unsigned long long)index);
	vec_field(d.tenant, sizeof(d.tenant), o, "tenant", where);
	env = vec_string(o, "env", where);
	ck_assert_msg(strcmp(env, "live") == 0 || strcmp(env, "test") == 0,
	    "%s: env \"%s\"", where, env);
	d.env = strcmp(env, "live") == 0 ? STORE_ENV_LIVE : STORE_ENV_TEST;
	vec_field(d.customer_id, sizeof(d.customer_id), o, "customerId",
	    where);
	d.seq = vec_u64(o, "sequenceNumber", where);
	vec_field(d.delta, sizeof(d.delta), o, "delta", where);
	/* The leaf holds the amount in its one shortest exact form. */
	ck_assert_msg(decimal_parse(d.delta, strlen(d.delta), &amount) ==
	    DECIMAL_OK, "%s: delta \"%s\" is not exact", where, d.delta);
	decimal_format(amount, fmt);
	ck_assert_msg(strcmp(fmt, d.delta) == 0, "%s: delta \"%s\" is not "
	    "canonical (%s)", where, d.delta, fmt);
	vec_field(d.reason, sizeof(d.reason), o, "reason", where);
	if (vec_member(o, "referenceId", json_type_string, 1, where) != NULL) {
		d.has_reference = 1;
		vec_field(d.reference_id, sizeof(d.reference_id), o,
		    "referenceId", where);
	}
	if ((meta = vec_member(o, "metadata", json_type_object, 1,
	    where)) != NULL) {
		ck_assert_int_eq(jcs_serialize(meta, &canon), 0);
		d.metadata = canon.buf;
	}
	d.created_ms = vec_time(vec_string(o, "createdAt", where), where);
	ck_assert_msg(hex_decode(vec_string(o, "salt", where), d.salt,
	    sizeof(d.salt)) == 0, "%s: salt is not 64 hex digits", where);

	ck_assert_int_eq(emit_leaf(&d, &built), 0);
	data = vec_string(o, "leafData", where);
	ck_assert_msg(strcmp(built.buf, data) == 0, "%s: leafData\n  %s\n"
	    "is not the leaf of its fields\n  %s", where, data, built.buf);

	ck_assert_int_eq(hash_sha256(data, strlen(data), got), 0);
	vec_hash(o, "contentHash", want, where);
	vec_hash_eq(want, got, "contentHash", where);
	ck_assert_int_eq(merkle_leaf_hash(data, strlen(data), got), 0);
	vec_hash(o, "leafHash", want, where);
	vec_hash_eq(want, got, "leafHash", where);
	memcpy(leaf, got, MERKLE_HASH_LEN);
	sbuf_free(&built);
	sbuf_free(&canon);
}

/*
 * Checks every leaf; the leaf hashes, as recomputed, into leaves and,
 * unless lines is NULL, the lines as objects into lines (the caller's,
 * to put).
 */
static size_t
vec_leaves_lines(merkle_hash leaves[VEC_LEAVES_MAX],
    struct json_object **lines)
{
	struct json_object	*o;
	char			*text, *p, *nl, where[64];
	size_t			 n = 0;

	text = vec_read("leaves.jsonl", NULL);
	for (p = text; *p != '\0'; p = nl + 1) {
		ck_assert_msg((nl = strchr(p, '\n')) != NULL,
		    "leaves.jsonl: last line has no newline");
		ck_assert_msg(n < VEC_LEAVES_MAX, "leaves.jsonl: over %d "
		    "leaves", VEC_LEAVES_MAX);
		snprintf(where, sizeof(where), "leaves.jsonl line %zu", n + 1);
		o = vec_parse(p, (size_t)(nl - p), where);
		vec_leaf_check(o, n, leaves[n]);
		if (lines != NULL)
			lines[n] = o;
		else
			json_object_put(o);
		n++;
	}
	free(text);
	ck_assert_msg(n > 0, "leaves.jsonl has no leaves");
	return n;
}

static size_t
vec_leaves(merkle_hash leaves[VEC_LEAVES_MAX])
{
	return vec_leaves_lines(leaves, NULL);
}

START_TEST(vectors_leaves)
{
	merkle_hash	leaves[VEC_LEAVES_MAX];

	vec_leaves(leaves);
}
END_TEST

/* A proof array of hashes into proof; its length. */
static size_t
vec_proof(struct json_object *o, const char *name, merkle_hash *proof,
    const char *where)
{
	struct json_object	*a;
	size_t			 i, len;

	a = vec_member(o, name, json_type_array, 0, where);
	len = json_object_array_length(a);
	ck_assert_msg(len <= MERKLE_PROOF_MAX, "%s: proof too long", where);
	for (i = 0; i < len; i++) {
		struct json_object *h = json_object_array_get_idx(a, i);

		ck_assert_msg(json_object_is_type(h, json_type_string),
		    "%s: proof[%zu] is not a string", where, i);
		vec_hash_text(json_object_get_string(h), proof[i], where);
	}
	return len;
}

static void
vec_proof_eq(const merkle_hash *got, size_t gotlen, const merkle_hash *want,
    size_t wantlen, const char *where)
{
	size_t	i;

	ck_assert_msg(gotlen == wantlen, "%s: proof has %zu hashes, "
	    "recomputed %zu", where, gotlen, wantlen);
	for (i = 0; i < gotlen; i++)
		vec_hash_eq(got[i], want[i], "a proof hash", where);
}

/*
 * tree.json against the leaves: the leaf hashes, the root of every size
 * 0..N, the inclusion proof of every (index, size) in order of size then
 * index, the consistency proof of every 1 <= from <= to <= N in order of
 * to then from; each equal to merkle.c's and each verifying.
 */
START_TEST(vectors_tree)
{
	merkle_hash		 leaves[VEC_LEAVES_MAX];
	merkle_hash		 roots[VEC_LEAVES_MAX + 1], h;
	merkle_hash		 got[MERKLE_PROOF_MAX], want[MERKLE_PROOF_MAX];
	struct merkle_array	 arr;
	struct json_object	*t, *a, *o;
	size_t			 n, i, k, glen, wlen;
	uint64_t		 m, s;
	char			 where[96];

	n = vec_leaves(leaves);
	arr.leaves = leaves;
	arr.size = n;
	t = vec_parse_file("tree.json");
	ck_assert_str_eq(vec_string(t, "hash", "tree.json"), "SHA-256");
	ck_assert_uint_eq(vec_u64(t, "treeSize", "tree.json"), n);

	a = vec_member(t, "leafHashes", json_type_array, 0, "tree.json");
	ck_assert_uint_eq(json_object_array_length(a), n);
	for (i = 0; i < n; i++) {
		snprintf(where, sizeof(where), "tree.json leafHashes[%zu]", i);
		o = json_object_array_get_idx(a, i);
		ck_assert_msg(json_object_is_type(o, json_type_string), "%s",
		    where);
		vec_hash_text(json_object_get_string(o), h, where);
		vec_hash_eq(h, leaves[i], "the leaf hash", where);
	}

	a = vec_member(t, "roots", json_type_array, 0, "tree.json");
	ck_assert_uint_eq(json_object_array_length(a), n + 1);
	for (i = 0; i <= n; i++) {
		snprintf(where, sizeof(where), "tree.json roots[%zu]", i);
		o = json_object_array_get_idx(a, i);
		ck_assert_uint_eq(vec_u64(o, "treeSize", where), i);
		ck_assert_int_eq(merkle_root(merkle_array_node, &arr, i,
		    roots[i]), 0);
		vec_hash(o, "rootHash", h, where);
		vec_hash_eq(h, roots[i], "rootHash", where);
	}
	/* The empty tree's root is SHA-256 of nothing. */
	ck_assert_int_eq(hash_sha256("", 0, h), 0);
	vec_hash_eq(roots[0], h, "the empty root", "tree.json");

	a = vec_member(t, "inclusion", json_type_array, 0, "tree.json");
	ck_assert_uint_eq(json_object_array_length(a), n * (n + 1) / 2);
	k = 0;
	for (s = 1; s <= n; s++)
		for (m = 0; m < s; m++, k++) {
			snprintf(where, sizeof(where), "tree.json inclusion"
			    "[%zu] (index %llu, size %llu)", k,
			    (unsigned long long)m, (unsigned long long)s);
			o = json_object_array_get_idx(a, k);
			ck_assert_uint_eq(vec_u64(o, "logIndex", where), m);
			ck_assert_uint_eq(vec_u64(o, "treeSize", where), s);
			glen = vec_proof(o, "inclusionProof", got, where);
			ck_assert_int_eq(merkle_inclusion_proof(
			    merkle_array_node, &arr, m, s, want, &wlen), 0);
			vec_proof_eq(got, glen, want, wlen, where);
			ck_assert_msg(merkle_verify_inclusion(leaves[m], m, s,
			    got, glen, roots[s]) == 0, "%s: does not verify",
			    where);
			/* A proof of another leaf does not verify. */
			ck_assert_msg(merkle_verify_inclusion(leaves[(m + 1) %
			    s], m, s, got, glen, roots[s]) != 0 || s == 1,
			    "%s: verifies another leaf", where);
		}

	a = vec_member(t, "consistency", json_type_array, 0, "tree.json");
	ck_assert_uint_eq(json_object_array_length(a), n * (n + 1) / 2);
	k = 0;
	for (s = 1; s <= n; s++)
		for (m = 1; m <= s; m++, k++) {
			snprintf(where, sizeof(where), "tree.json consistency"
			    "[%zu] (from %llu, to %llu)", k,
			    (unsigned long long)m, (unsigned long long)s);
			o = json_object_array_get_idx(a, k);
			ck_assert_uint_eq(vec_u64(o, "from", where), m);
			ck_assert_uint_eq(vec_u64(o, "to", where), s);
			glen = vec_proof(o, "consistencyProof", got, where);
			ck_assert_int_eq(merkle_consistency_proof(
			    merkle_array_node, &arr, m, s, want, &wlen), 0);
			vec_proof_eq(got, glen, want, wlen, where);
			ck_assert_msg(merkle_verify_consistency(m, s, got,
			    glen, roots[m], roots[s]) == 0, "%s: does not "
			    "verify", where);
			if (m < s)
				ck_assert_msg(merkle_verify_consistency(m, s,
				    got, glen, roots[m - 1], roots[s]) != 0,
				    "%s: verifies another old root", where);
		}
	json_object_put(t);
}
END_TEST

/*
 * The public key of keys.json entry i, checked: its algorithm, its name,
 * and its key ID recomputed under that name.  The caller frees it.
 */
static struct sigkey *
vec_key(struct json_object *keys, size_t i, const char **note)
{
	struct json_object	*o;
	struct sigkey		*key;
	const char		*pem;
	char			 where[48], id[STORE_KEYID_MAX + 1];

	snprintf(where, sizeof(where), "keys.json keys[%zu]", i);
	o = json_object_array_get_idx(keys, i);
	pem = vec_string(o, "pem", where);
	ck_assert_msg(sigkey_from_public_pem(pem, strlen(pem), &key) == 0,
	    "%s: not an ecdsa-p256 or rsa-3072 public key", where);
	ck_assert_str_eq(vec_string(o, "alg", where),
	    sigkey_alg_name(sigkey_alg(key)));
	ck_assert_str_eq(vec_string(o, "name", where), VEC_NAME);
	ck_assert_int_eq(tlog_key_id(key, VEC_NAME, id), 0);
	ck_assert_msg(strcmp(vec_string(o, "keyId", where), id) == 0,
	    "%s: keyId %s, recomputed %s", where,
	    vec_string(o, "keyId", where), id);
	if (note != NULL)
		*note = vec_string(o, "note", where);
	return key;
}

static struct json_object *
vec_keys(struct json_object **top)
{
	struct json_object	*keys;

	*top = vec_parse_file("keys.json");
	keys = vec_member(*top, "keys", json_type_array, 0, "keys.json");
	ck_assert_uint_eq(json_object_array_length(keys), 2);
	return keys;
}

START_TEST(vectors_keys)
{
	struct json_object	*top, *keys;
	struct sigkey		*k0, *k1;

	keys = vec_keys(&top);
	k0 = vec_key(keys, 0, NULL);
	k1 = vec_key(keys, 1, NULL);
	ck_assert_int_eq(sigkey_alg(k0), SIGKEY_ECDSA_P256);
	ck_assert_int_eq(sigkey_alg(k1), SIGKEY_RSA_3072);
	sigkey_free(k0);
	sigkey_free(k1);
	json_object_put(top);
}
END_TEST

/*
 * Each key's signed head opens with that key and carries the full tree;
 * one changed byte, or the other key, and it does not.
 */
START_TEST(vectors_notes)
{
	merkle_hash		 leaves[VEC_LEAVES_MAX], root;
	struct merkle_array	 arr;
	struct note_head	 cp;
	struct json_object	*top, *keys;
	struct sigkey		*key[2];
	const char		*file[2];
	char			*note, *nl;
	size_t			 n, i, len;

	n = vec_leaves(leaves);
	arr.leaves = leaves;
	arr.size = n;
	ck_assert_int_eq(merkle_root(merkle_array_node, &arr, n, root), 0);
	keys = vec_keys(&top);
	for (i = 0; i < 2; i++)
		key[i] = vec_key(keys, i, &file[i]);
	for (i = 0; i < 2; i++) {
		note = vec_read(file[i], &len);
		memset(&cp, 0, sizeof(cp));
		ck_assert_msg(note_open(note, len, key[i], VEC_NAME, &cp) ==
		    NOTE_OK, "%s: does not verify", file[i]);
		ck_assert_str_eq(cp.origin, VEC_NAME);
		ck_assert_uint_eq(cp.size, n);
		vec_hash_eq(cp.root, root, "the root", file[i]);
		ck_assert_int_eq(note_open(note, len, key[1 - i], VEC_NAME,
		    &cp), NOTE_NO_SIGNATURE);
		/* The root line's first character, changed. */
		ck_assert_ptr_nonnull(nl = strchr(note, '\n'));
		ck_assert_ptr_nonnull(nl = strchr(nl + 1, '\n'));
		nl[1] = nl[1] == 'A' ? 'B' : 'A';
		ck_assert_int_eq(note_open(note, len, key[i], VEC_NAME, &cp),
		    NOTE_BAD_SIGNATURE);
		free(note);
	}
	for (i = 0; i < 2; i++)
		sigkey_free(key[i]);
	json_object_put(top);
}
END_TEST

/*
 * Whether c covers the leaf of line, as core/checkpoint.c decides it:
 * one of c's tenant, env and customer recorded before the month's end,
 * and in version 1 not before its start.  Version 2 covers the run of
 * seqs from c->first_seq (1: the customer's first checkpoint), so it
 * would carry in a delta of an earlier month.
 */
static int
vec_covers(const struct store_checkpoint *c, struct json_object *line,
    const char *where)
{
	int64_t	at;

	if (strcmp(vec_string(line, "tenant", where), c->tenant) != 0 ||
	    strcmp(vec_string(line, "env", where), "live") != 0 ||
	    strcmp(vec_string(line, "customerId", where), c->customer_id) !=
	    0)
		return 0;
	at = vec_time(vec_string(line, "createdAt", where), where);
	if (at >= timefmt_month_start(c->month + 1))
		return 0;
	return c->version >= 2 || at >= timefmt_month_start(c->month);
}

/*
 * The checkpoint the statement vectors of version version are of, made
 * from the checked leaves the way core/checkpoint.c makes one: the
 * deltas it covers below treeSize (here the full tree) in log order
 * (version 2: seqs 1..lastSequence without a gap), their exact sum, the
 * RFC 9162 root of their leaf hashes, the fixed salt, and the statement
 * by checkpoint_statement.  Fills leaves, lines (to put) and covered
 * (their log indexes, *ncov of them); the caller frees the checkpoint.
 */
static struct store_checkpoint *
vec_checkpoint(int version, merkle_hash leaves[VEC_LEAVES_MAX],
    struct json_object *lines[VEC_LEAVES_MAX], size_t *np,
    size_t covered[VEC_LEAVES_MAX], size_t *ncov)
{
	struct store_checkpoint	*c;
	struct merkle_array	 arr, mine;
	merkle_hash		 hashes[VEC_LEAVES_MAX];
	const char		*amount;
	char			 where[64], net[DECIMAL_MAX];
	decimal_t		 v;
	size_t			 n, i, k = 0;

	n = vec_leaves_lines(leaves, lines);
	ck_assert_ptr_nonnull(c = calloc(1, sizeof(*c)));
	c->version = version;
	c->first_seq = 1;
	ck_assert_int_eq(hash_sha256(VEC_CHK_SALT, strlen(VEC_CHK_SALT),
	    c->salt), 0);
	snprintf(c->id, sizeof(c->id), "%s", VEC_CHK_ID);
	snprintf(c->tenant, sizeof(c->tenant), "%s", VEC_CHK_TENANT);
	c->env = STORE_ENV_LIVE;
	snprintf(c->customer_id, sizeof(c->customer_id), "%s",
	    VEC_CHK_CUSTOMER);
	ck_assert_int_eq(timefmt_parse_period(VEC_CHK_PERIOD, &c->month), 0);
	for (i = 0; i < n; i++) {
		snprintf(where, sizeof(where), "leaves.jsonl line %zu", i + 1);
		if (!vec_covers(c, lines[i], where))
			continue;
		amount = vec_string(lines[i], "delta", where);
		ck_assert_int_eq(decimal_parse(amount, strlen(amount), &v),
		    DECIMAL_OK);
		c->net += v;
		c->last_seq = c->through_seq = vec_u64(lines[i],
		    "sequenceNumber", where);
		ck_assert_msg(version < 2 || c->last_seq == c->first_seq + k,
		    "%s: sequence %llu leaves a gap in the run from %llu",
		    where, (unsigned long long)c->last_seq,
		    (unsigned long long)c->first_seq);
		memcpy(hashes[k], leaves[i], MERKLE_HASH_LEN);
		covered[k++] = i;
	}
	decimal_format(c->net, net);
	ck_assert_msg(strcmp(net, VEC_CHK_NET) == 0, "the covered deltas "
	    "sum to %s, not %s", net, VEC_CHK_NET);
	c->count = k;
	c->starting = 0;
	c->previous[0] = '\0';
	mine.leaves = hashes;
	mine.size = k;
	ck_assert_int_eq(merkle_root(merkle_array_node, &mine, k,
	    c->proof_root), 0);
	arr.leaves = leaves;
	arr.size = n;
	c->tree_size = n;
	ck_assert_int_eq(merkle_root(merkle_array_node, &arr, n,
	    c->root_hash), 0);
	c->created_ms = vec_time(VEC_CHK_CREATED, "the checkpoint");
	ck_assert_int_eq(checkpoint_statement(c), 0);
	*np = n;
	*ncov = k;
	return c;
}

static void
vec_put_lines(struct json_object **lines, size_t n)
{
	size_t	i;

	for (i = 0; i < n; i++)
		json_object_put(lines[i]);
}

/*
 * Each version's statement file is, byte for byte, what the server
 * writes for it (_i: the row of vec_versions).
 */
START_TEST(vectors_statement)
{
	const struct vec_version *vv = &vec_versions[_i];
	merkle_hash		 leaves[VEC_LEAVES_MAX];
	struct json_object	*lines[VEC_LEAVES_MAX];
	struct store_checkpoint	*c;
	size_t			 n, covered[VEC_LEAVES_MAX], ncov, len;
	char			*text;

	c = vec_checkpoint(vv->version, leaves, lines, &n, covered, &ncov);
	ck_assert_uint_eq(ncov, VEC_CHK_NCOV);
	text = vec_read(vv->statement, &len);
	ck_assert_msg(len == strlen(c->statement) &&
	    memcmp(text, c->statement, len) == 0, "%s\n  %s\n"
	    "is not checkpoint_statement's\n  %s", vv->statement, text,
	    c->statement);
	free(text);
	free(c);
	vec_put_lines(lines, n);
}
END_TEST

/* The signature in file name (base64 and a newline) into sig. */
static size_t
vec_sig(const char *name, uint8_t sig[SIGKEY_SIG_MAX])
{
	char	*text;
	size_t	 len, siglen;

	text = vec_read(name, &len);
	ck_assert_msg(len > 0 && text[len - 1] == '\n', "%s: not one line",
	    name);
	ck_assert_msg(base64_decode(text, len - 1, sig, SIGKEY_SIG_MAX,
	    &siglen) == 0, "%s: not base64 of a signature", name);
	free(text);
	return siglen;
}

/*
 * Each statement signature of a version verifies with its key from
 * keys.json over that version's statement; not with the other key, not
 * over a changed byte.
 */
START_TEST(vectors_statement_sigs)
{
	const struct vec_version *vv = &vec_versions[_i];
	struct json_object	*top, *keys;
	struct sigkey		*key[2];
	uint8_t			 sig[SIGKEY_SIG_MAX];
	char			*st;
	size_t			 i, len, siglen;

	keys = vec_keys(&top);
	for (i = 0; i < 2; i++)
		key[i] = vec_key(keys, i, NULL);
	st = vec_read(vv->statement, &len);
	for (i = 0; i < 2; i++) {
		siglen = vec_sig(vv->sig[i], sig);
		ck_assert_msg(sigkey_verify(key[i], st, len, sig, siglen) ==
		    0, "%s: does not verify over %s with %s", vv->sig[i],
		    vv->statement, sigkey_alg_name(sigkey_alg(key[i])));
		ck_assert_msg(sigkey_verify(key[1 - i], st, len, sig,
		    siglen) != 0, "%s: verifies with the other key",
		    vv->sig[i]);
		st[len - 1] ^= 1;
		ck_assert_msg(sigkey_verify(key[i], st, len, sig, siglen) !=
		    0, "%s: verifies over a changed statement", vv->sig[i]);
		st[len - 1] ^= 1;
	}
	free(st);
	for (i = 0; i < 2; i++)
		sigkey_free(key[i]);
	json_object_put(top);
}
END_TEST

/*
 * Entry o of a receipt's deltas is the leaf at index m of the n leaves,
 * as the server writes it: its leaf, hashes and inclusion proof in the
 * full tree, and carriedIn (true) exactly when it was recorded before
 * c's startDate.
 */
static void
vec_receipt_delta(struct json_object *o, struct json_object *line,
    const merkle_hash *leaves, size_t n, uint64_t m,
    const struct store_checkpoint *c, const char *where)
{
	struct merkle_array	 arr = { leaves, n };
	merkle_hash		 h;
	merkle_hash		 got[MERKLE_PROOF_MAX], want[MERKLE_PROOF_MAX];
	struct sbuf		 leaf = { 0 };
	struct json_object	*carried;
	const char		*data;
	size_t			 glen, wlen;
	int			 before;

	ck_assert_msg(*vec_string(o, "recordId", where) != '\0',
	    "%s: empty recordId", where);
	ck_assert_uint_eq(vec_u64(o, "logIndex", where), m);
	vec_hash(o, "leafHash", h, where);
	vec_hash_eq(h, leaves[m], "leafHash", where);
	ck_assert_int_eq(jcs_serialize(vec_member(o, "leaf",
	    json_type_object, 0, where), &leaf), 0);
	data = vec_string(line, "leafData", where);
	ck_assert_msg(strcmp(leaf.buf, data) == 0, "%s: leaf is not the "
	    "vector's leafData", where);
	sbuf_free(&leaf);
	ck_assert_int_eq(hash_sha256(data, strlen(data), want[0]), 0);
	vec_hash(o, "contentHash", h, where);
	vec_hash_eq(h, want[0], "contentHash", where);
	glen = vec_proof(o, "inclusionProof", got, where);
	ck_assert_int_eq(merkle_inclusion_proof(merkle_array_node, &arr, m, n,
	    want, &wlen), 0);
	vec_proof_eq(got, glen, want, wlen, where);
	ck_assert_msg(merkle_verify_inclusion(leaves[m], m, n, got, glen,
	    c->root_hash) == 0, "%s: does not verify", where);
	before = vec_time(vec_string(line, "createdAt", where), where) <
	    timefmt_month_start(c->month);
	if (json_object_object_get_ex(o, "carriedIn", NULL)) {
		carried = vec_member(o, "carriedIn", json_type_boolean, 0,
		    where);
		ck_assert_msg(before && json_object_get_boolean(carried),
		    "%s: carriedIn on a delta of the period", where);
	} else
		ck_assert_msg(!before, "%s: recorded before startDate, and "
		    "no carriedIn", where);
}

/*
 * Each version's receipt is the bundle the server answers for the
 * checkpoint (docs/receipt.md, fcgi/api_checkpoint.c): of the
 * statement's version, the statement and signature of that version's
 * files, keys[0]'s key ID, view_checkpoint of the checkpoint, the ECDSA
 * head, and each covered delta (vec_receipt_delta).
 */
START_TEST(vectors_receipt)
{
	const struct vec_version *vv = &vec_versions[_i];
	const char		*name = vv->receipt;
	merkle_hash		 leaves[VEC_LEAVES_MAX];
	struct json_object	*lines[VEC_LEAVES_MAX], *top, *data, *o, *a;
	struct json_object	*ktop, *keys, *cj;
	struct store_checkpoint	*c;
	uint8_t			 sig[SIGKEY_SIG_MAX];
	uint8_t			 st[STORE_STATEMENT_MAX];
	const char		*text;
	char			*note, where[96];
	size_t			 n, covered[VEC_LEAVES_MAX], ncov, k, len;

	c = vec_checkpoint(vv->version, leaves, lines, &n, covered, &ncov);
	top = vec_parse_file(name);
	ck_assert_msg(json_object_object_get_ex(top, "success", &o) &&
	    json_object_get_boolean(o), "%s: not a success", name);
	data = vec_member(top, "data", json_type_object, 0, name);
	/* The bundle's format is its statement's version. */
	ck_assert_uint_eq(vec_u64(data, "version", name), vv->version);
	ck_assert_str_eq(vec_string(data, "checkpointId", name), c->id);

	text = vec_string(data, "statement", name);
	ck_assert_msg(base64_decode(text, strlen(text), st, sizeof(st) - 1,
	    &len) == 0, "%s: statement is not base64", name);
	st[len] = '\0';
	ck_assert_msg(strcmp((char *)st, c->statement) == 0, "%s: statement "
	    "is not %s's", name, vv->statement);

	/* Signed with keys[0], as its sig[0] is. */
	c->sig_len = vec_sig(vv->sig[0], c->sig);
	text = vec_string(data, "signature", name);
	ck_assert_msg(base64_decode(text, strlen(text), sig, sizeof(sig),
	    &len) == 0 && len == c->sig_len && memcmp(sig, c->sig, len) == 0,
	    "%s: signature is not %s's", name, vv->sig[0]);
	keys = vec_keys(&ktop);
	o = json_object_array_get_idx(keys, 0);
	snprintf(c->key_id, sizeof(c->key_id), "%s",
	    vec_string(o, "keyId", "keys.json"));
	snprintf(c->alg, sizeof(c->alg), "%s",
	    vec_string(o, "alg", "keys.json"));
	ck_assert_str_eq(vec_string(data, "keyId", name), c->key_id);
	ck_assert_str_eq(vec_string(data, "alg", name), c->alg);
	note = vec_read(vec_string(o, "note", "keys.json"), NULL);
	ck_assert_msg(strcmp(vec_string(data, "treeHead", name), note) == 0,
	    "%s: treeHead is not %s", name,
	    vec_string(o, "note", "keys.json"));
	free(note);

	/* The checkpoint, compared as text: its amounts are JSON numbers. */
	o = vec_member(data, "checkpoint", json_type_object, 0, name);
	cj = view_checkpoint(c);
	ck_assert_str_eq(json_object_to_json_string_ext(o,
	    JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE),
	    json_object_to_json_string_ext(cj, JSON_C_TO_STRING_PLAIN |
	    JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(cj);

	a = vec_member(data, "deltas", json_type_array, 0, name);
	ck_assert_uint_eq(json_object_array_length(a), ncov);
	for (k = 0; k < ncov; k++) {
		snprintf(where, sizeof(where), "%s deltas[%zu] (leaf %zu)",
		    name, k, covered[k]);
		vec_receipt_delta(json_object_array_get_idx(a, k),
		    lines[covered[k]], leaves, n, covered[k], c, where);
	}
	json_object_put(ktop);
	json_object_put(top);
	free(c);
	vec_put_lines(lines, n);
}
END_TEST

Suite *
vectors_suite(void)
{
	Suite	*s = suite_create("vectors");
	TCase	*tc = tcase_create("vectors");

	tcase_add_test(tc, vectors_leaves);
	tcase_add_test(tc, vectors_tree);
	tcase_add_test(tc, vectors_keys);
	tcase_add_test(tc, vectors_notes);
	/* The checkpoint's tests, once per statement version. */
	tcase_add_loop_test(tc, vectors_statement, 0, VEC_NVERSIONS);
	tcase_add_loop_test(tc, vectors_statement_sigs, 0, VEC_NVERSIONS);
	tcase_add_loop_test(tc, vectors_receipt, 0, VEC_NVERSIONS);
	suite_add_tcase(s, tc);
	return s;
}
