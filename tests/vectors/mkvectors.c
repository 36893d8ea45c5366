/*
 * mkvectors: writes Tally's test vectors (SPEC 4.5) into a directory.
 *
 *   mkvectors DIR
 *
 * Inputs: the fixed deltas in the table below, the fixed checkpoint
 * below it, and the two committed private keys DIR/ecdsa-p256.pem and
 * DIR/rsa-3072.pem (public test keys, never for production).  Outputs,
 * in DIR: leaves.jsonl, tree.json, keys.json, head-ecdsa.note and
 * head-rsa.note; and the checkpoint once per statement version (see
 * vec_statements): version 1's statement.json, statement-ecdsa.sig,
 * statement-rsa.sig and receipt-ecdsa.json, version 2's the same with
 * "-v2" after "statement" and "receipt".  Everything is a function
 * of the inputs except the signatures: ECDSA and RSA-PSS signing are
 * randomized, so a new signature of the same bytes is new bytes.  A
 * head or statement signature already in DIR that verifies over exactly
 * the bytes this run would sign is kept, so that rerunning with
 * unchanged inputs changes no file; delete it to sign anew.
 * tests/check_vectors.c and recompute.sh verify signatures; they never
 * compare signature bytes.  README.md in DIR says what each file holds
 * and how to recompute it.
 */
#include <err.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <json-c/json.h>

#include "../../common/decimal.h"
#include "../../common/hex.h"
#include "../../common/jcs.h"
#include "../../common/jsonin.h"
#include "../../common/sbuf.h"
#include "../../common/timefmt.h"
#include "../../core/checkpoint.h"
#include "../../core/emit.h"
#include "../../core/tlog.h"
#include "../../core/view.h"
#include "../../crypto/base64.h"
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

/*
 * The checkpoint of the statement vectors: customer_acme's deltas of
 * February 2026, its first checkpoint (no predecessor, starting at 0),
 * bound to the head of the full tree.  The id and the time are fixed
 * rather than random and now.  A receipt's recordId is only the API's
 * handle (nothing signs it): here "rec_" and the logIndex in hex.
 */
#define VEC_CHK_CUSTOMER	"customer_acme"
#define VEC_CHK_PERIOD		"2026-02"
#define VEC_CHK_ID		"chk_00000000000000000000000000000001"
#define VEC_CHK_CREATED		"2026-03-01T00:00:00.000Z"
#define VEC_RECORD_ID		"rec_%032zx"	/* %zx: logIndex */
/* Version 2's salt is fixed too, like the leaves': SHA-256 of this. */
#define VEC_CHK_SALT		"tally test vector statement salt"

static const struct vec_key {
	const char	*pem;		/* private key, in DIR */
	const char	*note;		/* the head it signs, in DIR */
} vec_keys[] = {
	{ "ecdsa-p256.pem", "head-ecdsa.note" },
	{ "rsa-3072.pem", "head-rsa.note" },
};
#define VEC_NKEYS	(sizeof(vec_keys) / sizeof(vec_keys[0]))

/*
 * The checkpoint once per statement version, in files of its own:
 * version 2 is what servers write now; version 1 is kept so that old
 * statements and receipts are still pinned down.  Per key (in vec_keys'
 * order) the statement's signature and, where not NULL, its receipt.
 */
static const struct vec_statement {
	int		 version;
	const char	*statement;
	const char	*sig[VEC_NKEYS];
	const char	*receipt[VEC_NKEYS];
} vec_statements[] = {
	{ 1, "statement.json",
	  { "statement-ecdsa.sig", "statement-rsa.sig" },
	  { "receipt-ecdsa.json", NULL } },
	{ 2, "statement-v2.json",
	  { "statement-v2-ecdsa.sig", "statement-v2-rsa.sig" },
	  { "receipt-v2-ecdsa.json", NULL } },
};
#define VEC_NSTATEMENTS	(sizeof(vec_statements) / sizeof(vec_statements[0]))

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

/*
 * The text of file name in DIR, NUL-terminated, into buf; its length,
 * or -1 if there is no such file or it does not fit.
 */
static long
vec_read_old(const char *name, char *buf, size_t size)
{
	char	 path[1024];
	FILE	*f;
	size_t	 len;

	snprintf(path, sizeof(path), "%s/%s", vec_dir, name);
	if ((f = fopen(path, "r")) == NULL)
		return -1;
	len = fread(buf, 1, size, f);
	if (ferror(f) || len == size) {
		fclose(f);
		return -1;
	}
	fclose(f);
	buf[len] = '\0';
	return (long)len;
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
	json_object_object_add(o, "contentHash", view_hash(content));
	json_object_object_add(o, "leafHash", view_hash(leaf_hash));
	sbuf_free(&leaf);
	sbuf_free(&canon);
	return o;
}

/* Writes leaves.jsonl; its lines, as objects, into lines (the caller's). */
static void
vec_leaves(merkle_hash *leaves, struct json_object **lines)
{
	struct sbuf		 out = { 0 };
	size_t			 i;

	for (i = 0; i < VEC_N; i++) {
		lines[i] = vec_leaf(i, leaves[i]);
		sbuf_adds(&out, json_object_to_json_string_ext(lines[i],
		    JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
		sbuf_addc(&out, '\n');
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
		json_object_array_add(hashes, view_hash(leaves[n]));
	for (n = 0; n <= VEC_N; n++) {
		if (merkle_root(merkle_array_node, &arr, n, root) != 0)
			errx(1, "root of %" PRIu64 " failed", n);
		o = json_object_new_object();
		json_object_object_add(o, "treeSize", json_object_new_uint64(n));
		json_object_object_add(o, "rootHash", view_hash(root));
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
			    view_hashes(proof, len));
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
			    view_hashes(proof, len));
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

/* Loads the private key of each row of vec_keys into keys. */
static void
vec_load_keys(struct sigkey **keys)
{
	char	path[1024], err[512];
	size_t	i;

	for (i = 0; i < VEC_NKEYS; i++) {
		snprintf(path, sizeof(path), "%s/%s", vec_dir, vec_keys[i].pem);
		if (sigkey_load_private(path, &keys[i], err, sizeof(err)) < 0)
			errx(1, "%s", err);
	}
}

/*
 * Whether the note in file name is a head that key signed and that
 * differs from fresh (the same head, just signed) only in its
 * signature: one signature line, by the key's name.  If so it is kept
 * and copied into fresh, so that a run with unchanged inputs leaves the
 * files as they were.
 */
static int
vec_keep_note(const char *name, const struct sigkey *key, char *fresh)
{
	struct note_head	 got;
	char			 old[NOTE_MAX];
	const char		*sig;
	size_t			 pre;
	long			 len;

	if ((len = vec_read_old(name, old, sizeof(old))) < 0 ||
	    note_open(old, (size_t)len, key, VEC_NAME, &got) != NOTE_OK)
		return 0;
	/* The body, the blank line, and "— name " of the signature line. */
	if ((sig = strstr(fresh, "\n\n")) == NULL)
		return 0;
	pre = (size_t)(sig - fresh) + 2 + strlen("\xe2\x80\x94 " VEC_NAME " ");
	if (strncmp(old, fresh, pre) != 0 || strchr(old + pre, '\n') !=
	    old + len - 1)
		return 0;
	memcpy(fresh, old, (size_t)len + 1);
	return 1;
}

/*
 * Signs the full tree's head with each key, into notes (and their
 * files), unless the head already there is that one; writes keys.json.
 */
static void
vec_heads(const merkle_hash full_root, struct sigkey **keys,
    char notes[][NOTE_MAX])
{
	struct note_head	 cp;
	struct json_object	*arr, *o, *top;
	char			 pem[SIGKEY_PEM_MAX], id[STORE_KEYID_MAX + 1];
	size_t			 i;

	memset(&cp, 0, sizeof(cp));
	snprintf(cp.origin, sizeof(cp.origin), "%s", VEC_NAME);
	cp.size = VEC_N;
	memcpy(cp.root, full_root, MERKLE_HASH_LEN);
	arr = json_object_new_array();
	for (i = 0; i < VEC_NKEYS; i++) {
		if (sigkey_public_pem(keys[i], pem, sizeof(pem)) < 0 ||
		    tlog_key_id(keys[i], VEC_NAME, id) < 0)
			errx(1, "%s: cannot encode the public key",
			    vec_keys[i].pem);
		if (note_sign(&cp, keys[i], VEC_NAME, notes[i], NOTE_MAX) !=
		    NOTE_OK)
			errx(1, "%s: cannot sign", vec_keys[i].pem);
		if (vec_keep_note(vec_keys[i].note, keys[i], notes[i]))
			printf("mkvectors: kept %s/%s\n", vec_dir,
			    vec_keys[i].note);
		else
			vec_write(vec_keys[i].note, notes[i]);
		o = json_object_new_object();
		json_object_object_add(o, "keyId", json_object_new_string(id));
		json_object_object_add(o, "alg", json_object_new_string(
		    sigkey_alg_name(sigkey_alg(keys[i]))));
		json_object_object_add(o, "name",
		    json_object_new_string(VEC_NAME));
		json_object_object_add(o, "pem", json_object_new_string(pem));
		json_object_object_add(o, "privateKey",
		    json_object_new_string(vec_keys[i].pem));
		json_object_object_add(o, "note",
		    json_object_new_string(vec_keys[i].note));
		json_object_array_add(arr, o);
	}
	top = json_object_new_object();
	json_object_object_add(top, "keys", arr);
	vec_write_json("keys.json", top);
}

/* A string member of a leaves.jsonl line (vec_leaf made it one). */
static const char *
vec_line_string(struct json_object *line, const char *name)
{
	struct json_object	*v;

	if (!json_object_object_get_ex(line, name, &v) ||
	    !json_object_is_type(v, json_type_string))
		errx(1, "a leaf line without \"%s\"", name);
	return json_object_get_string(v);
}

/*
 * Whether c covers row v, as the server decides it (core/checkpoint.c):
 * a delta of c's customer recorded before the month's end, and in
 * version 1 not before its start.  Version 2 covers the run of seqs
 * from c->first_seq, which is 1 here (the customer's first checkpoint),
 * so it would carry in a delta of an earlier month.
 */
static int
vec_covers(const struct store_checkpoint *c, const struct vec_delta *v)
{
	int64_t	at;

	if (strcmp(v->customer, c->customer_id) != 0)
		return 0;
	at = vec_time(v->created);
	if (at >= timefmt_month_start(c->month + 1))
		return 0;
	return c->version >= 2 || at >= timefmt_month_start(c->month);
}

/*
 * The checkpoint of VEC_CHK_CUSTOMER's VEC_CHK_PERIOD at the full tree
 * in statement version version, as the server makes it: the deltas it
 * covers below treeSize in log order (version 2: seqs 1..last without a
 * gap, and the fixed salt), their exact sum, the Merkle root of their
 * leaf hashes, and the statement by checkpoint_statement itself.  Their
 * log indexes go into covered, their number into *ncov.  The caller
 * frees the checkpoint.
 */
static struct store_checkpoint *
vec_checkpoint(int version, const merkle_hash *leaves,
    const merkle_hash full_root, size_t *covered, size_t *ncov)
{
	struct store_checkpoint	*c;
	struct merkle_array	 mine;
	merkle_hash		 hashes[VEC_N];
	const char		*amount;
	decimal_t		 v;
	size_t			 i, n = 0;

	if ((c = calloc(1, sizeof(*c))) == NULL)
		err(1, NULL);
	c->version = version;
	c->first_seq = 1;
	if (hash_sha256(VEC_CHK_SALT, strlen(VEC_CHK_SALT), c->salt) < 0)
		errx(1, "SHA-256 failed");
	snprintf(c->id, sizeof(c->id), "%s", VEC_CHK_ID);
	snprintf(c->tenant, sizeof(c->tenant), "%s", VEC_TENANT);
	c->env = STORE_ENV_LIVE;
	snprintf(c->customer_id, sizeof(c->customer_id), "%s",
	    VEC_CHK_CUSTOMER);
	if (timefmt_parse_period(VEC_CHK_PERIOD, &c->month) < 0)
		errx(1, "%s: not a period", VEC_CHK_PERIOD);
	/* Every vector delta is of tenant demo, env live. */
	for (i = 0; i < VEC_N; i++) {
		if (!vec_covers(c, &vec_deltas[i]))
			continue;
		amount = vec_deltas[i].delta;
		if (decimal_parse(amount, strlen(amount), &v) != DECIMAL_OK)
			errx(1, "row %zu: delta %s is not exact", i, amount);
		if (version >= 2 && vec_deltas[i].seq != c->first_seq + n)
			errx(1, "row %zu: seq %" PRIu64 " leaves a gap", i,
			    vec_deltas[i].seq);
		c->net += v;
		c->last_seq = c->through_seq = vec_deltas[i].seq;
		memcpy(hashes[n], leaves[i], MERKLE_HASH_LEN);
		covered[n++] = i;
	}
	mine.leaves = hashes;
	mine.size = n;
	if (merkle_root(merkle_array_node, &mine, n, c->proof_root) != 0)
		errx(1, "proofRoot failed");
	c->count = n;
	c->starting = 0;
	c->previous[0] = '\0';
	c->tree_size = VEC_N;
	memcpy(c->root_hash, full_root, MERKLE_HASH_LEN);
	c->created_ms = vec_time(VEC_CHK_CREATED);
	if (checkpoint_statement(c) < 0)
		errx(1, "cannot make the statement");
	*ncov = n;
	return c;
}

/*
 * One entry of a receipt's deltas: the leaf at index, proved in the
 * tree, marked carriedIn where recorded before start_ms (the period's
 * startDate), as fcgi/api_checkpoint.c marks it.
 */
static struct json_object *
vec_receipt_delta(struct json_object *line, const merkle_hash *leaves,
    size_t index, int64_t start_ms)
{
	struct merkle_array	 arr = { leaves, VEC_N };
	struct json_object	*o, *leaf;
	merkle_hash		 proof[MERKLE_PROOF_MAX], content;
	const char		*data;
	char			 id[STORE_ID_MAX + 1], jerr[160];
	size_t			 len;

	if (merkle_inclusion_proof(merkle_array_node, &arr, index, VEC_N,
	    proof, &len) != 0)
		errx(1, "inclusion proof of %zu failed", index);
	data = vec_line_string(line, "leafData");
	if (jsonin_parse(data, strlen(data), &leaf, jerr, sizeof(jerr)) < 0)
		errx(1, "leaf %zu: %s", index, jerr);
	if (hash_sha256(data, strlen(data), content) < 0)
		errx(1, "SHA-256 failed");
	snprintf(id, sizeof(id), VEC_RECORD_ID, index);
	o = json_object_new_object();
	json_object_object_add(o, "recordId", json_object_new_string(id));
	json_object_object_add(o, "logIndex", json_object_new_uint64(index));
	json_object_object_add(o, "leafHash", view_hash(leaves[index]));
	json_object_object_add(o, "contentHash", view_hash(content));
	json_object_object_add(o, "leaf", leaf);
	json_object_object_add(o, "inclusionProof",
	    view_hashes(proof, len));
	if (vec_time(vec_line_string(line, "createdAt")) < start_ms)
		json_object_object_add(o, "carriedIn",
		    json_object_new_boolean(1));
	return o;
}

/*
 * The receipt bundle of c, signed with c's key, into file name, as GET
 * /api/v1/balance/receipt answers it (docs/receipt.md): the envelope
 * and its data, of the statement's version, with c's checkpoint as
 * view_checkpoint gives it.
 */
static void
vec_receipt(struct store_checkpoint *c, const char *name, const char *note,
    struct json_object **lines, const merkle_hash *leaves,
    const size_t *covered, size_t ncov)
{
	struct json_object	*data, *deltas, *top;
	size_t			 k;

	deltas = json_object_new_array();
	for (k = 0; k < ncov; k++)
		json_object_array_add(deltas, vec_receipt_delta(
		    lines[covered[k]], leaves, covered[k],
		    timefmt_month_start(c->month)));
	data = json_object_new_object();
	json_object_object_add(data, "version",
	    json_object_new_int(c->version));
	json_object_object_add(data, "checkpointId",
	    json_object_new_string(c->id));
	json_object_object_add(data, "statement",
	    view_base64(c->statement, strlen(c->statement)));
	json_object_object_add(data, "signature",
	    view_base64(c->sig, c->sig_len));
	json_object_object_add(data, "keyId",
	    json_object_new_string(c->key_id));
	json_object_object_add(data, "alg", json_object_new_string(c->alg));
	json_object_object_add(data, "checkpoint", view_checkpoint(c));
	json_object_object_add(data, "treeHead", json_object_new_string(note));
	json_object_object_add(data, "deltas", deltas);
	top = json_object_new_object();
	json_object_object_add(top, "success", json_object_new_boolean(1));
	json_object_object_add(top, "data", data);
	vec_write_json(name, top);
}

/*
 * Whether file name holds (base64, one line) a signature of c's
 * statement by key; if so it is kept, into c->sig.
 */
static int
vec_keep_sig(const char *name, const struct sigkey *key,
    struct store_checkpoint *c)
{
	char	old[BASE64_LEN(STORE_SIG_MAX) + 1];
	uint8_t	sig[STORE_SIG_MAX];
	size_t	siglen;
	long	len;

	if ((len = vec_read_old(name, old, sizeof(old))) < 1 ||
	    old[len - 1] != '\n' ||
	    base64_decode(old, (size_t)len - 1, sig, sizeof(sig),
	    &siglen) < 0 ||
	    sigkey_verify(key, c->statement, strlen(c->statement), sig,
	    siglen) != 0)
		return 0;
	memcpy(c->sig, sig, siglen);
	c->sig_len = siglen;
	return 1;
}

/*
 * Writes s's statement, its signature by each key (base64, one line;
 * one still valid is kept) and, for the keys that have one, the receipt
 * bundle.
 */
static void
vec_statement(const struct vec_statement *s, struct json_object **lines,
    const merkle_hash *leaves, const merkle_hash full_root,
    struct sigkey **keys, char notes[][NOTE_MAX])
{
	struct store_checkpoint	*c;
	struct sbuf		 out = { 0 };
	char			 b64[BASE64_LEN(STORE_SIG_MAX)];
	size_t			 covered[VEC_N], ncov, i;

	c = vec_checkpoint(s->version, leaves, full_root, covered, &ncov);
	vec_write(s->statement, c->statement);
	for (i = 0; i < VEC_NKEYS; i++) {
		if (vec_keep_sig(s->sig[i], keys[i], c))
			printf("mkvectors: kept %s/%s\n", vec_dir, s->sig[i]);
		else {
			if (sigkey_sign(keys[i], c->statement,
			    strlen(c->statement), c->sig, &c->sig_len) < 0)
				errx(1, "%s: cannot sign the statement",
				    vec_keys[i].pem);
			base64_encode(c->sig, c->sig_len, b64);
			sbuf_adds(&out, b64);
			sbuf_addc(&out, '\n');
			if (out.oom)
				errx(1, "out of memory");
			vec_write(s->sig[i], out.buf);
			sbuf_free(&out);
		}
		if (s->receipt[i] == NULL)
			continue;
		if (tlog_key_id(keys[i], VEC_NAME, c->key_id) < 0)
			errx(1, "%s: no key ID", vec_keys[i].pem);
		snprintf(c->alg, sizeof(c->alg), "%s",
		    sigkey_alg_name(sigkey_alg(keys[i])));
		vec_receipt(c, s->receipt[i], notes[i], lines, leaves, covered,
		    ncov);
	}
	free(c);
}

int
main(int argc, char *argv[])
{
	merkle_hash		 leaves[VEC_N], root;
	struct json_object	*lines[VEC_N];
	struct sigkey		*keys[VEC_NKEYS];
	static char		 notes[VEC_NKEYS][NOTE_MAX];
	size_t			 i;

	if (argc != 2) {
		fprintf(stderr, "usage: mkvectors DIR\n");
		return 2;
	}
	vec_dir = argv[1];
	vec_load_keys(keys);
	vec_leaves(leaves, lines);
	vec_tree(leaves, root);
	vec_heads(root, keys, notes);
	for (i = 0; i < VEC_NSTATEMENTS; i++)
		vec_statement(&vec_statements[i], lines, leaves, root, keys,
		    notes);
	for (i = 0; i < VEC_N; i++)
		json_object_put(lines[i]);
	for (i = 0; i < VEC_NKEYS; i++)
		sigkey_free(keys[i]);
	return 0;
}
