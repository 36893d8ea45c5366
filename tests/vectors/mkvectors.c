/*
 * mkvectors: writes Tally's test vectors (SPEC 4.5) into a directory.
 *
 *   mkvectors DIR
 *
 * Inputs: the fixed deltas in the table below and the two committed
 * private keys DIR/ecdsa-p256.pem and DIR/rsa-3072.pem (public test
 * keys, never for production).  Outputs, in DIR: leaves.jsonl,
 * tree.json, keys.json, head-ecdsa.note and head-rsa.note.  Everything
 * is a function of the inputs except the two signatures: ECDSA and
 * RSA-PSS signing are randomized, so each run signs the same heads with
 * new bytes.  tests/check_vectors.c and recompute.sh verify them; they
 * never compare signature bytes.  README.md in DIR says what each file
 * holds and how to recompute it.
 */
#include <err.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <json-c/json.h>

#include "../../common/hex.h"
#include "../../common/jcs.h"
#include "../../common/jsonin.h"
#include "../../common/sbuf.h"
#include "../../common/timefmt.h"
#include "../../core/emit.h"
#include "../../core/tlog.h"
#include "../../crypto/hash.h"
#include "../../crypto/merkle.h"
#include "../../crypto/note.h"
#include "../../crypto/sigkey.h"
#include "../../store/store.h"

#define VEC_NAME	"tally.example/vectors"	/* origin and key name */
#define VEC_TENANT	"demo"
#define VEC_SALT	"tally test vector salt %zu"	/* %zu: logIndex */
#define VEC_JSON_FLAGS	(JSON_C_TO_STRING_PRETTY | \
			    JSON_C_TO_STRING_NOSLASHESCAPE)

/*
 * The SaaS metering example of README.md: credits bought, usage flushed
 * daily, for two customers of tenant "demo" (env live).  Between them
 * they cover a referenceId and metadata, neither, either one alone,
 * negative and fractional amounts (down to the ninth decimal), an
 * integer, a quote and non-ASCII text inside metadata.
 */
static const struct vec_delta {
	const char	*customer;
	uint64_t	 seq;
	const char	*delta;		/* exact, shortest decimal text */
	const char	*reason;
	const char	*reference;	/* NULL: null */
	const char	*metadata;	/* any JSON object text, or NULL */
	const char	*created;	/* RFC 3339, UTC, milliseconds */
} vec_deltas[] = {
	{ "customer_acme", 1, "1000", "credit_purchase",
	  "invoice:INV-2026-0001",
	  "{\"plan\":\"growth\",\"invoice\":\"INV-2026-0001\"}",
	  "2026-02-01T00:00:00.000Z" },
	{ "customer_acme", 2, "-50", "daily_usage_flush:2026-02-01",
	  "usage:customer_acme:2026-02-01",
	  "{\"plan\":\"growth\",\"resource\":\"compute-minutes\"}",
	  "2026-02-02T00:00:00.000Z" },
	{ "customer_globex", 1, "250", "credit_purchase", NULL, NULL,
	  "2026-02-02T00:00:00.250Z" },
	{ "customer_acme", 3, "-72.5", "daily_usage_flush:2026-02-02",
	  "usage:customer_acme:2026-02-02",
	  "{\"units\":145,\"resource\":\"compute-minutes\",\"plan\":\"growth\"}",
	  "2026-02-03T00:00:00.000Z" },
	{ "customer_globex", 2, "-12", "daily_usage_flush:2026-02-02", NULL,
	  NULL, "2026-02-03T00:00:00.125Z" },
	{ "customer_acme", 4, "0.1", "rounding_adjustment", NULL,
	  "{\"comment\":\"credit \\\"0.1\\\" per SUP-42\","
	  "\"approvedBy\":\"Zo\xc3\xab\"}",
	  "2026-02-03T09:30:15.500Z" },
	{ "customer_acme", 5, "-33.333333333",
	  "daily_usage_flush:2026-02-03", "usage:customer_acme:2026-02-03",
	  NULL, "2026-02-04T00:00:00.000Z" },
};
#define VEC_N	(sizeof(vec_deltas) / sizeof(vec_deltas[0]))

static const struct vec_key {
	const char	*pem;		/* private key, in DIR */
	const char	*note;		/* the head it signs, in DIR */
} vec_keys[] = {
	{ "ecdsa-p256.pem", "head-ecdsa.note" },
	{ "rsa-3072.pem", "head-rsa.note" },
};

static const char	*vec_dir;

static void
vec_write(const char *name, const char *text)
{
	char	 path[1024], tmp[1100];
	FILE	*f;

	snprintf(path, sizeof(path), "%s/%s", vec_dir, name);
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	if ((f = fopen(tmp, "w")) == NULL)
		err(1, "%s", tmp);
	if (fputs(text, f) == EOF || fclose(f) == EOF)
		err(1, "%s", tmp);
	if (rename(tmp, path) < 0)
		err(1, "rename %s", path);
	printf("mkvectors: wrote %s\n", path);
}

/* Writes obj (and puts it) as pretty JSON and a newline. */
static void
vec_write_json(const char *name, struct json_object *obj)
{
	struct sbuf	out = { 0 };

	sbuf_adds(&out, json_object_to_json_string_ext(obj, VEC_JSON_FLAGS));
	sbuf_addc(&out, '\n');
	if (out.oom)
		errx(1, "out of memory");
	vec_write(name, out.buf);
	sbuf_free(&out);
	json_object_put(obj);
}

/* "2026-02-01T00:00:00.000Z" to ms since the epoch; exactly that form. */
static int64_t
vec_time(const char *text)
{
	struct tm	tm;
	int		ms, n = 0;
	char		back[TIMEFMT_LEN];
	int64_t		t;

	memset(&tm, 0, sizeof(tm));
	if (sscanf(text, "%4d-%2d-%2dT%2d:%2d:%2d.%3dZ%n", &tm.tm_year,
	    &tm.tm_mon, &tm.tm_mday, &tm.tm_hour, &tm.tm_min, &tm.tm_sec,
	    &ms, &n) != 7 || text[n] != '\0')
		errx(1, "%s: not RFC 3339 with milliseconds", text);
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	t = (int64_t)timegm(&tm) * 1000 + ms;
	timefmt_rfc3339(t, back);
	if (strcmp(back, text) != 0)
		errx(1, "%s: not a canonical time", text);
	return t;
}

/*
 * Builds the delta of row i and its leaf; fills leaf hashes.  Returns
 * the leaves.jsonl line (the caller's).
 */
static struct json_object *
vec_leaf(size_t i, merkle_hash leaf_hash)
{
	const struct vec_delta	*v = &vec_deltas[i];
	struct store_delta	 d;
	struct json_object	*o, *meta = NULL;
	struct sbuf		 leaf = { 0 }, canon = { 0 };
	char			 salt_text[64], salt_hex[2 * HASH_LEN + 1];
	char			 jerr[160];
	merkle_hash		 content;

	memset(&d, 0, sizeof(d));
	d.log_index = i;
	snprintf(d.tenant, sizeof(d.tenant), "%s", VEC_TENANT);
	d.env = STORE_ENV_LIVE;
	snprintf(d.customer_id, sizeof(d.customer_id), "%s", v->customer);
	d.seq = v->seq;
	snprintf(d.delta, sizeof(d.delta), "%s", v->delta);
	snprintf(d.reason, sizeof(d.reason), "%s", v->reason);
	if (v->reference != NULL) {
		d.has_reference = 1;
		snprintf(d.reference_id, sizeof(d.reference_id), "%s",
		    v->reference);
	}
	if (v->metadata != NULL) {
		if (jsonin_parse(v->metadata, strlen(v->metadata), &meta,
		    jerr, sizeof(jerr)) < 0)
			errx(1, "row %zu metadata: %s", i, jerr);
		if (jcs_serialize(meta, &canon) < 0 || canon.oom)
			errx(1, "row %zu metadata: cannot canonicalize", i);
		d.metadata = canon.buf;
	}
	d.created_ms = vec_time(v->created);
	snprintf(salt_text, sizeof(salt_text), VEC_SALT, i);
	if (hash_sha256(salt_text, strlen(salt_text), d.salt) < 0)
		errx(1, "SHA-256 failed");
	if (emit_leaf(&d, &leaf) < 0)
		errx(1, "out of memory");
	if (hash_sha256(leaf.buf, leaf.len, content) < 0 ||
	    merkle_leaf_hash(leaf.buf, leaf.len, leaf_hash) < 0)
		errx(1, "SHA-256 failed");
	hex_encode(d.salt, HASH_LEN, salt_hex);

	o = json_object_new_object();
	json_object_object_add(o, "logIndex", json_object_new_uint64(i));
	json_object_object_add(o, "tenant", json_object_new_string(d.tenant));
	json_object_object_add(o, "env", json_object_new_string("live"));
	json_object_object_add(o, "customerId",
	    json_object_new_string(d.customer_id));
	json_object_object_add(o, "sequenceNumber",
	    json_object_new_uint64(d.seq));
	json_object_object_add(o, "delta", json_object_new_string(d.delta));
	json_object_object_add(o, "reason", json_object_new_string(d.reason));
	json_object_object_add(o, "referenceId", d.has_reference ?
	    json_object_new_string(d.reference_id) : NULL);
	/* The object as given; leafData holds its canonical form. */
	json_object_object_add(o, "metadata", meta);
	json_object_object_add(o, "createdAt",
	    json_object_new_string(v->created));
	json_object_object_add(o, "salt", json_object_new_string(salt_hex));
	json_object_object_add(o, "leafData",
	    json_object_new_string_len(leaf.buf, (int)leaf.len));
	json_object_object_add(o, "contentHash", emit_hash_json(content));
	json_object_object_add(o, "leafHash", emit_hash_json(leaf_hash));
	sbuf_free(&leaf);
	sbuf_free(&canon);
	return o;
}

static void
vec_leaves(merkle_hash *leaves)
{
	struct sbuf		 out = { 0 };
	struct json_object	*o;
	size_t			 i;

	for (i = 0; i < VEC_N; i++) {
		o = vec_leaf(i, leaves[i]);
		sbuf_adds(&out, json_object_to_json_string_ext(o,
		    JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
		sbuf_addc(&out, '\n');
		json_object_put(o);
	}
	if (out.oom)
		errx(1, "out of memory");
	vec_write("leaves.jsonl", out.buf);
	sbuf_free(&out);
}

/* Every root, inclusion proof and consistency proof of the tree. */
static void
vec_tree(const merkle_hash *leaves, merkle_hash full_root)
{
	struct merkle_array	 arr = { leaves, VEC_N };
	struct json_object	*t, *roots, *incl, *cons, *o, *hashes;
	merkle_hash		 root, proof[MERKLE_PROOF_MAX];
	size_t			 len;
	uint64_t		 n, m;

	t = json_object_new_object();
	roots = json_object_new_array();
	incl = json_object_new_array();
	cons = json_object_new_array();
	hashes = json_object_new_array();
	for (n = 0; n < VEC_N; n++)
		json_object_array_add(hashes, emit_hash_json(leaves[n]));
	for (n = 0; n <= VEC_N; n++) {
		if (merkle_root(merkle_array_node, &arr, n, root) != 0)
			errx(1, "root of %" PRIu64 " failed", n);
		o = json_object_new_object();
		json_object_object_add(o, "treeSize", json_object_new_uint64(n));
		json_object_object_add(o, "rootHash", emit_hash_json(root));
		json_object_array_add(roots, o);
		if (n == VEC_N)
			memcpy(full_root, root, MERKLE_HASH_LEN);
	}
	for (n = 1; n <= VEC_N; n++)
		for (m = 0; m < n; m++) {
			if (merkle_inclusion_proof(merkle_array_node, &arr, m,
			    n, proof, &len) != 0)
				errx(1, "inclusion proof failed");
			o = json_object_new_object();
			json_object_object_add(o, "logIndex",
			    json_object_new_uint64(m));
			json_object_object_add(o, "treeSize",
			    json_object_new_uint64(n));
			json_object_object_add(o, "inclusionProof",
			    emit_hashes_json(proof, len));
			json_object_array_add(incl, o);
		}
	for (n = 1; n <= VEC_N; n++)
		for (m = 1; m <= n; m++) {
			if (merkle_consistency_proof(merkle_array_node, &arr,
			    m, n, proof, &len) != 0)
				errx(1, "consistency proof failed");
			o = json_object_new_object();
			json_object_object_add(o, "from",
			    json_object_new_uint64(m));
			json_object_object_add(o, "to",
			    json_object_new_uint64(n));
			json_object_object_add(o, "consistencyProof",
			    emit_hashes_json(proof, len));
			json_object_array_add(cons, o);
		}
	json_object_object_add(t, "hash", json_object_new_string("SHA-256"));
	json_object_object_add(t, "treeSize", json_object_new_uint64(VEC_N));
	json_object_object_add(t, "leafHashes", hashes);
	json_object_object_add(t, "roots", roots);
	json_object_object_add(t, "inclusion", incl);
	json_object_object_add(t, "consistency", cons);
	vec_write_json("tree.json", t);
}

/* Signs the full tree's head with each key; writes keys.json. */
static void
vec_heads(const merkle_hash full_root)
{
	struct note_checkpoint	 cp;
	struct sigkey		*key;
	struct json_object	*keys, *o, *top;
	char			 path[1024], err[512], note[NOTE_MAX];
	char			 pem[SIGKEY_PEM_MAX], id[STORE_KEYID_MAX + 1];
	size_t			 i;

	memset(&cp, 0, sizeof(cp));
	snprintf(cp.origin, sizeof(cp.origin), "%s", VEC_NAME);
	cp.size = VEC_N;
	memcpy(cp.root, full_root, MERKLE_HASH_LEN);
	keys = json_object_new_array();
	for (i = 0; i < sizeof(vec_keys) / sizeof(vec_keys[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", vec_dir, vec_keys[i].pem);
		if (sigkey_load_private(path, &key, err, sizeof(err)) < 0)
			errx(1, "%s", err);
		if (sigkey_public_pem(key, pem, sizeof(pem)) < 0 ||
		    tlog_key_id(key, VEC_NAME, id) < 0)
			errx(1, "%s: cannot encode the public key", path);
		if (note_sign(&cp, key, VEC_NAME, note, sizeof(note)) !=
		    NOTE_OK)
			errx(1, "%s: cannot sign", path);
		vec_write(vec_keys[i].note, note);
		o = json_object_new_object();
		json_object_object_add(o, "keyId", json_object_new_string(id));
		json_object_object_add(o, "alg",
		    json_object_new_string(sigkey_alg_name(sigkey_alg(key))));
		json_object_object_add(o, "name",
		    json_object_new_string(VEC_NAME));
		json_object_object_add(o, "pem", json_object_new_string(pem));
		json_object_object_add(o, "privateKey",
		    json_object_new_string(vec_keys[i].pem));
		json_object_object_add(o, "note",
		    json_object_new_string(vec_keys[i].note));
		json_object_array_add(keys, o);
		sigkey_free(key);
	}
	top = json_object_new_object();
	json_object_object_add(top, "keys", keys);
	vec_write_json("keys.json", top);
}

int
main(int argc, char *argv[])
{
	merkle_hash	leaves[VEC_N], root;

	if (argc != 2) {
		fprintf(stderr, "usage: mkvectors DIR\n");
		return 2;
	}
	vec_dir = argv[1];
	vec_leaves(leaves);
	vec_tree(leaves, root);
	vec_heads(root);
	return 0;
}
