/*
 * mkreceipt: writes signed receipt bundles (docs/receipt.md) for
 * tests/verify/run.sh, the way the server will: a log of leaves of
 * several tenants and customers interleaved, signed tree heads, period
 * statements signed with a fresh log key, inclusion proofs.
 *
 *   mkreceipt -d DIR [-a ecdsa-p256|rsa-3072] [-n N] [-s 1|2]
 *
 * -s is the statement version (docs/receipt.md): 2, the default, covers
 * runs of sequence numbers; 1 makes the month receipts of old servers.
 *
 * DIR must exist and hold no signing.pem.  Written there:
 *   signing.pem     the private key (0600), key.pem its public half
 *   keys.json       GET /api/v1/keys as the server answers it
 *   jan.json        customer_acme, 2026-01, N deltas, the first checkpoint
 *   feb.json        customer_acme, 2026-02, chained to jan
 *   feb2.json       2026-02 checkpointed again after new deltas (chained
 *                   to feb: same startingBalance)
 *   mar.json        2026-03, no deltas at all, chained to feb2
 *   globex.json     customer_globex, 2026-01 (another customer)
 *   badchain.json   2026-02 chained to jan by id, but starting at jan's
 *                   endingBalance + 1: signed and consistent in itself,
 *                   only the chain check can tell
 *   late.json       (-s 2) 2026-03 chained to feb, not feb2: it carries
 *                   in the deltas of February recorded after feb
 *   gap.json        (-s 2) the same, but starting after feb2's run: signed
 *                   and consistent in itself, only the chain check can
 *                   tell the deltas left out
 *   nofirst.json    (-s 2) customer_acme's 2026-01 from seq 2, as if it
 *                   were the first checkpoint: sequence 1 in none
 *   head.note       the newest signed tree head, as the note
 *   head.json       GET /api/v1/log/checkpoint's answer for it
 */
#include <err.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <json-c/json.h>

#include "../../common/decimal.h"
#include "../../common/hex.h"
#include "../../common/jcs.h"
#include "../../common/sbuf.h"
#include "../../common/timefmt.h"
#include "../../core/emit.h"
#include "../../core/view.h"
#include "../../crypto/base64.h"
#include "../../crypto/hash.h"
#include "../../crypto/merkle.h"
#include "../../crypto/note.h"
#include "../../crypto/random.h"
#include "../../crypto/sigkey.h"
#include "../../store/store.h"

#define MK_ORIGIN	"tally.test/log"	/* log origin and key name */
#define MK_TENANT	"saas"
#define MK_ACME		"customer_acme"
#define MK_GLOBEX	"customer_globex"
#define MK_JSON_FLAGS	(JSON_C_TO_STRING_PRETTY | \
			    JSON_C_TO_STRING_NOSLASHESCAPE)
#define MK_DAY_MS	(24LL * 3600 * 1000)

/* Who a leaf of the log is for. */
enum mk_who { MK_WHO_ACME, MK_WHO_GLOBEX, MK_WHO_OTHER };

struct mk_leaf {
	struct store_delta	d;
	merkle_hash		leaf_hash;
	struct json_object	*leaf;		/* leafData parsed */
};

struct mk {
	const char		*dir;
	struct sigkey		*key;
	char			 key_id[9];
	struct mk_leaf		*log;
	size_t			 size, cap;
	uint64_t		 seq[3];	/* per customer, the last */
	unsigned		 n;		/* leaves appended */
	int			 version;	/* of the statements */
	char			 note[NOTE_MAX];	/* newest head */
	uint64_t		 note_size;
	merkle_hash		 note_root;
};

/* One checkpoint as made: what the next one chains to. */
struct mk_checkpoint {
	char		id[40];
	decimal_t	starting, ending;
	uint64_t	first, last;	/* its run of seqs */
};

static const char *const mk_amounts[] = {
	"1000", "-72.5", "0.1", "2.8425", "-33.333333333", "12",
	"0.000000001", "-0.5", "250.75", "-3"
};
static const char *const mk_reasons[] = {
	"credit_purchase", "usage flush \"api\" calls", "Zo\xc3\xab's refund",
	"tab\there", "back\\slash", "line\nbreak", "storage"
};

static void
mk_write(const struct mk *mk, const char *name, const char *text)
{
	char	path[1024];
	FILE	*f;

	snprintf(path, sizeof(path), "%s/%s", mk->dir, name);
	if ((f = fopen(path, "w")) == NULL)
		err(1, "%s", path);
	if (fputs(text, f) == EOF || fclose(f) == EOF)
		err(1, "%s", path);
}

static void
mk_write_json(const struct mk *mk, const char *name, struct json_object *o)
{
	struct sbuf	out;

	memset(&out, 0, sizeof(out));
	sbuf_adds(&out, json_object_to_json_string_ext(o, MK_JSON_FLAGS));
	sbuf_addc(&out, '\n');
	if (out.oom)
		errx(1, "out of memory");
	mk_write(mk, name, out.buf);
	sbuf_free(&out);
}

static struct json_object *
mk_envelope(struct json_object *data)
{
	struct json_object	*o = json_object_new_object();

	json_object_object_add(o, "success", json_object_new_boolean(1));
	json_object_object_add(o, "data", data);
	return o;
}

static void
mk_random_id(const char *prefix, char *out, size_t outlen)
{
	char	hex[25];

	if (random_hex(hex, 12) < 0)
		errx(1, "random");
	snprintf(out, outlen, "%s%s", prefix, hex);
}

/* Canonical metadata for some leaves, none for others. */
static char *
mk_metadata(unsigned n)
{
	struct json_object	*o;
	struct sbuf		 out;
	char			 inv[32];

	if (n % 3 != 1)
		return NULL;
	o = json_object_new_object();
	snprintf(inv, sizeof(inv), "INV-2026-%04u", n);
	json_object_object_add(o, "plan", json_object_new_string("growth"));
	json_object_object_add(o, "invoice", json_object_new_string(inv));
	json_object_object_add(o, "qty", json_object_new_int((int)n));
	memset(&out, 0, sizeof(out));
	if (jcs_serialize(o, &out) < 0)
		errx(1, "jcs");
	json_object_put(o);
	return sbuf_take(&out, NULL);
}

static void
mk_append(struct mk *mk, enum mk_who who, int64_t ms)
{
	struct mk_leaf		*l;
	struct store_delta	*d;
	struct sbuf		 data;
	decimal_t		 v;
	unsigned		 n = mk->n++;

	if (mk->size == mk->cap) {
		mk->cap = mk->cap ? 2 * mk->cap : 64;
		if ((mk->log = reallocarray(mk->log, mk->cap,
		    sizeof(*mk->log))) == NULL)
			err(1, NULL);
	}
	l = &mk->log[mk->size];
	memset(l, 0, sizeof(*l));
	d = &l->d;
	d->log_index = mk->size;
	mk_random_id("rec_", d->record_id, sizeof(d->record_id));
	/* Another tenant's customer may well have the same id. */
	snprintf(d->tenant, sizeof(d->tenant), "%s", who == MK_WHO_OTHER ?
	    "othervendor" : MK_TENANT);
	d->env = n % 5 == 4 && who == MK_WHO_OTHER ? STORE_ENV_TEST :
	    STORE_ENV_LIVE;
	snprintf(d->customer_id, sizeof(d->customer_id), "%s",
	    who == MK_WHO_GLOBEX ? MK_GLOBEX : MK_ACME);
	d->seq = ++mk->seq[who];
	snprintf(d->delta, sizeof(d->delta), "%s",
	    mk_amounts[n % (sizeof(mk_amounts) / sizeof(mk_amounts[0]))]);
	if (decimal_parse(d->delta, strlen(d->delta), &v) != DECIMAL_OK)
		errx(1, "amount %s", d->delta);
	snprintf(d->reason, sizeof(d->reason), "%s",
	    mk_reasons[n % (sizeof(mk_reasons) / sizeof(mk_reasons[0]))]);
	if ((d->has_reference = n % 2 == 0))
		snprintf(d->reference_id, sizeof(d->reference_id),
		    "usage-%u", n);
	d->metadata = mk_metadata(n);
	d->created_ms = ms;
	if (random_bytes(d->salt, sizeof(d->salt)) < 0)
		errx(1, "random");
	memset(&data, 0, sizeof(data));
	if (emit_leaf(d, &data) < 0 ||
	    hash_sha256(data.buf, data.len, d->content_hash) < 0 ||
	    merkle_leaf_hash(data.buf, data.len, l->leaf_hash) < 0 ||
	    (l->leaf = json_tokener_parse(data.buf)) == NULL)
		errx(1, "leaf %zu", mk->size);
	memcpy(d->leaf_hash, l->leaf_hash, sizeof(l->leaf_hash));
	sbuf_free(&data);
	mk->size++;
}

/*
 * acme + others leaves spread evenly over [from, to): acme's spread
 * evenly among them, first and last included, so that a month's phase
 * puts acme's deltas on the month's first and last millisecond.
 */
static void
mk_phase(struct mk *mk, int64_t from, int64_t to, unsigned acme,
    unsigned others)
{
	unsigned	total = acme + others, i, a = 0, at;
	enum mk_who	who;
	int64_t		ms;

	for (i = 0; i < total; i++) {
		ms = total == 1 ? from : from + (to - 1 - from) *
		    (int64_t)i / (int64_t)(total - 1);
		at = acme < 2 ? 0 : a * (total - 1) / (acme - 1);
		if (a < acme && i == at) {
			who = MK_WHO_ACME;
			a++;
		} else
			who = i % 4 == 0 ? MK_WHO_GLOBEX : MK_WHO_OTHER;
		mk_append(mk, who, ms);
	}
}

static void
mk_sign_head(struct mk *mk)
{
	struct note_head	cp;
	struct merkle_array	a = {
		(const merkle_hash *)NULL, mk->size
	};
	merkle_hash		*leaves;
	size_t			 i;

	if ((leaves = calloc(mk->size, sizeof(*leaves))) == NULL)
		err(1, NULL);
	for (i = 0; i < mk->size; i++)
		memcpy(leaves[i], mk->log[i].leaf_hash, MERKLE_HASH_LEN);
	a.leaves = (const merkle_hash *)leaves;
	memset(&cp, 0, sizeof(cp));
	snprintf(cp.origin, sizeof(cp.origin), "%s", MK_ORIGIN);
	cp.size = mk->size;
	if (merkle_root(merkle_array_node, &a, a.size, cp.root) != 0 ||
	    note_sign(&cp, mk->key, MK_ORIGIN, mk->note,
	    sizeof(mk->note)) != NOTE_OK)
		errx(1, "cannot sign a head");
	mk->note_size = cp.size;
	memcpy(mk->note_root, cp.root, MERKLE_HASH_LEN);
	free(leaves);
}

static struct json_object *
mk_hash_json(const merkle_hash h)
{
	return view_hash(h);
}

/* One receipt entry of the leaf at index i, proved in a tree of size. */
static struct json_object *
mk_delta_json(const struct mk *mk, const struct merkle_array *a, size_t i)
{
	const struct mk_leaf	*l = &mk->log[i];
	struct json_object	*o = json_object_new_object();
	merkle_hash		 proof[MERKLE_PROOF_MAX];
	size_t			 len;

	if (merkle_inclusion_proof(merkle_array_node, (void *)a, i, a->size,
	    proof, &len) != 0)
		errx(1, "proof of %zu", i);
	json_object_object_add(o, "recordId",
	    json_object_new_string(l->d.record_id));
	json_object_object_add(o, "logIndex", json_object_new_uint64(i));
	json_object_object_add(o, "leafHash", mk_hash_json(l->leaf_hash));
	json_object_object_add(o, "contentHash",
	    mk_hash_json(l->d.content_hash));
	json_object_object_add(o, "leaf", json_object_get(l->leaf));
	json_object_object_add(o, "inclusionProof",
	    view_hashes((const uint8_t (*)[STORE_HASH_LEN])proof, len));
	return o;
}

/* What a checkpoint is made of before it is signed. */
struct mk_period {
	const char	*customer, *period;
	const struct mk_checkpoint *previous;	/* NULL: the first */
	int		 same_month;		/* previous is of this month */
	decimal_t	 bias;			/* added to startingBalance */
	uint64_t	 start;			/* version 2: the run's first
						   seq, if not the chain's */
	int64_t		 created_ms;
};

/* Version 2: the run of seqs and a fresh salt. */
static void
mk_statement_run(struct json_object *o, const struct mk_checkpoint *c)
{
	uint8_t	salt[32];
	char	hex[2 * sizeof(salt) + 1];

	if (random_bytes(salt, sizeof(salt)) < 0)
		errx(1, "random");
	hex_encode(salt, sizeof(salt), hex);
	json_object_object_add(o, "firstSequence",
	    json_object_new_uint64(c->first));
	json_object_object_add(o, "lastSequence",
	    json_object_new_uint64(c->last));
	json_object_object_add(o, "salt", json_object_new_string(hex));
}

static struct json_object *
mk_statement(const struct mk *mk, const struct mk_period *p,
    const struct mk_checkpoint *c, int month, decimal_t starting,
    decimal_t net, uint64_t count, const merkle_hash proof_root)
{
	struct json_object	*o = json_object_new_object();
	const char		*id = c->id;
	char			 when[TIMEFMT_LEN], text[DECIMAL_MAX];

	json_object_object_add(o, "version",
	    json_object_new_int(mk->version));
	if (mk->version >= 2)
		mk_statement_run(o, c);
	json_object_object_add(o, "checkpointId", json_object_new_string(id));
	json_object_object_add(o, "tenant", json_object_new_string(MK_TENANT));
	json_object_object_add(o, "env", json_object_new_string("live"));
	json_object_object_add(o, "customerId",
	    json_object_new_string(p->customer));
	json_object_object_add(o, "period", json_object_new_string(p->period));
	timefmt_rfc3339(timefmt_month_start(month), when);
	json_object_object_add(o, "startDate", json_object_new_string(when));
	timefmt_rfc3339(timefmt_month_start(month + 1), when);
	json_object_object_add(o, "endDate", json_object_new_string(when));
	decimal_format(starting, text);
	json_object_object_add(o, "startingBalance",
	    json_object_new_string(text));
	decimal_format(net, text);
	json_object_object_add(o, "netChange", json_object_new_string(text));
	decimal_format(starting + net, text);
	json_object_object_add(o, "endingBalance",
	    json_object_new_string(text));
	json_object_object_add(o, "deltasCount",
	    json_object_new_uint64(count));
	json_object_object_add(o, "proofRoot", mk_hash_json(proof_root));
	json_object_object_add(o, "previousCheckpointId", p->previous ?
	    json_object_new_string(p->previous->id) : NULL);
	json_object_object_add(o, "treeSize",
	    json_object_new_uint64(mk->note_size));
	json_object_object_add(o, "rootHash", mk_hash_json(mk->note_root));
	timefmt_rfc3339(p->created_ms, when);
	json_object_object_add(o, "createdAt", json_object_new_string(when));
	return o;
}

/* The API's checkpoint object (SPEC 3.6): amounts as JSON numbers. */
static struct json_object *
mk_checkpoint_json(struct json_object *st, const char *key_id,
    const char *alg, const char *sig, const char *stmt)
{
	static const char *const copy[] = {
		"checkpointId", "customerId", "period", "startDate", "endDate",
		"deltasCount", "proofRoot", "previousCheckpointId",
		"treeSize", "rootHash", "createdAt", "firstSequence",
		"lastSequence"
	};
	static const char *const amounts[] = {
		"startingBalance", "netChange", "endingBalance"
	};
	struct json_object	*o = json_object_new_object(), *v;
	size_t			 i;

	json_object_object_add(o, "status", json_object_new_string(
	    "VERIFIED"));
	for (i = 0; i < sizeof(copy) / sizeof(copy[0]); i++)
		if (json_object_object_get_ex(st, copy[i], &v))
			json_object_object_add(o, copy[i], json_object_get(v));
	for (i = 0; i < sizeof(amounts) / sizeof(amounts[0]); i++) {
		json_object_object_get_ex(st, amounts[i], &v);
		json_object_object_add(o, amounts[i],
		    view_amount(json_object_get_string(v)));
	}
	json_object_object_get_ex(st, "proofRoot", &v);
	json_object_object_add(o, "merkleRoot", json_object_get(v));
	json_object_object_add(o, "itemsRoot", json_object_get(v));
	json_object_object_add(o, "keyId", json_object_new_string(key_id));
	json_object_object_add(o, "alg", json_object_new_string(alg));
	json_object_object_add(o, "signature", json_object_new_string(sig));
	json_object_object_add(o, "statement", json_object_new_string(stmt));
	return o;
}

/*
 * Makes, signs and writes the checkpoint of p at the newest head: the
 * customer's deltas of the month below it, their proofs, the statement.
 */
static void
mk_receipt(struct mk *mk, const struct mk_period *p, const char *file,
    struct mk_checkpoint *out)
{
	struct merkle_array	 a;
	struct json_object	*deltas = json_object_new_array(), *st, *data;
	struct sbuf		 bytes;
	merkle_hash		*all, *mine, proof_root;
	uint8_t			 sig[SIGKEY_SIG_MAX];
	char			*sig64, *stmt64;
	const char		*alg = sigkey_alg_name(sigkey_alg(mk->key));
	decimal_t		 net = 0, v, starting = 0;
	size_t			 i, n = 0, siglen;
	int			 month;

	if (timefmt_parse_period(p->period, &month) < 0)
		errx(1, "period %s", p->period);
	/* Version 2 (SPEC 3.6): from after the predecessor's run. */
	out->first = p->start != 0 ? p->start : p->previous == NULL ? 1 :
	    p->same_month ? p->previous->first : p->previous->last + 1;
	if ((all = calloc(mk->note_size, sizeof(*all))) == NULL ||
	    (mine = calloc(mk->note_size, sizeof(*mine))) == NULL)
		err(1, NULL);
	for (i = 0; i < mk->note_size; i++)
		memcpy(all[i], mk->log[i].leaf_hash, MERKLE_HASH_LEN);
	a.leaves = (const merkle_hash *)all;
	a.size = mk->note_size;
	for (i = 0; i < mk->note_size; i++) {
		const struct store_delta *d = &mk->log[i].d;

		if (strcmp(d->tenant, MK_TENANT) != 0 ||
		    d->env != STORE_ENV_LIVE ||
		    strcmp(d->customer_id, p->customer) != 0)
			continue;
		if (mk->version < 2 ? timefmt_month(d->created_ms) != month :
		    d->seq < out->first ||
		    d->created_ms >= timefmt_month_start(month + 1))
			continue;
		memcpy(mine[n++], mk->log[i].leaf_hash, MERKLE_HASH_LEN);
		decimal_parse(d->delta, strlen(d->delta), &v);
		net += v;
		json_object_array_add(deltas, mk_delta_json(mk, &a, i));
	}
	a.leaves = (const merkle_hash *)mine;
	a.size = n;
	if (merkle_root(merkle_array_node, &a, n, proof_root) != 0)
		errx(1, "proofRoot");
	if (p->previous != NULL)
		starting = p->same_month ? p->previous->starting :
		    p->previous->ending;
	starting += p->bias;
	out->last = out->first + n - 1;
	mk_random_id("chk_", out->id, sizeof(out->id));
	st = mk_statement(mk, p, out, month, starting, net, n, proof_root);
	memset(&bytes, 0, sizeof(bytes));
	if (jcs_serialize(st, &bytes) < 0 ||
	    sigkey_sign(mk->key, bytes.buf, bytes.len, sig, &siglen) < 0)
		errx(1, "cannot sign the statement");
	if ((sig64 = malloc(BASE64_LEN(siglen))) == NULL ||
	    (stmt64 = malloc(BASE64_LEN(bytes.len))) == NULL)
		err(1, NULL);
	base64_encode(sig, siglen, sig64);
	base64_encode((const uint8_t *)bytes.buf, bytes.len, stmt64);

	data = json_object_new_object();
	json_object_object_add(data, "version",
	    json_object_new_int(mk->version));
	json_object_object_add(data, "checkpointId",
	    json_object_new_string(out->id));
	json_object_object_add(data, "statement",
	    json_object_new_string(stmt64));
	json_object_object_add(data, "signature",
	    json_object_new_string(sig64));
	json_object_object_add(data, "keyId", json_object_new_string(
	    mk->key_id));
	json_object_object_add(data, "alg", json_object_new_string(alg));
	json_object_object_add(data, "checkpoint", mk_checkpoint_json(st,
	    mk->key_id, alg, sig64, stmt64));
	json_object_object_add(data, "treeHead",
	    json_object_new_string(mk->note));
	json_object_object_add(data, "deltas", deltas);
	data = mk_envelope(data);
	mk_write_json(mk, file, data);

	out->starting = starting;
	out->ending = starting + net;
	json_object_put(data);
	json_object_put(st);
	sbuf_free(&bytes);
	free(sig64);
	free(stmt64);
	free(all);
	free(mine);
}

static void
mk_keys(struct mk *mk, enum sigkey_alg alg)
{
	struct json_object	*k, *keys, *data;
	char			 path[1024], pem[SIGKEY_PEM_MAX];
	uint32_t		 id;

	snprintf(path, sizeof(path), "%s/signing.pem", mk->dir);
	if (sigkey_generate(alg, path, &mk->key) < 0)
		errx(1, "cannot generate a key at %s", path);
	if (sigkey_public_pem(mk->key, pem, sizeof(pem)) < 0 ||
	    sigkey_note_id(mk->key, MK_ORIGIN, &id) < 0)
		errx(1, "public key");
	snprintf(mk->key_id, sizeof(mk->key_id), "%08x", id);
	mk_write(mk, "key.pem", pem);
	k = json_object_new_object();
	json_object_object_add(k, "keyId", json_object_new_string(mk->key_id));
	json_object_object_add(k, "name", json_object_new_string(MK_ORIGIN));
	json_object_object_add(k, "alg",
	    json_object_new_string(sigkey_alg_name(alg)));
	json_object_object_add(k, "pem", json_object_new_string(pem));
	json_object_object_add(k, "validFrom",
	    json_object_new_string("2026-01-01T00:00:00.000Z"));
	json_object_object_add(k, "validTo", NULL);
	keys = json_object_new_array();
	json_object_array_add(keys, k);
	data = json_object_new_object();
	json_object_object_add(data, "keys", keys);
	data = mk_envelope(data);
	mk_write_json(mk, "keys.json", data);
	json_object_put(data);
}

/* GET /api/v1/log/checkpoint's answer for the newest head. */
static void
mk_head_files(struct mk *mk, int64_t signed_ms)
{
	struct json_object	*data = json_object_new_object();
	char			 when[TIMEFMT_LEN];

	mk_write(mk, "head.note", mk->note);
	timefmt_rfc3339(signed_ms, when);
	json_object_object_add(data, "treeSize",
	    json_object_new_uint64(mk->note_size));
	json_object_object_add(data, "rootHash", mk_hash_json(mk->note_root));
	json_object_object_add(data, "signedAt", json_object_new_string(when));
	json_object_object_add(data, "keyId", json_object_new_string(
	    mk->key_id));
	json_object_object_add(data, "checkpoint",
	    json_object_new_string(mk->note));
	data = mk_envelope(data);
	mk_write_json(mk, "head.json", data);
	json_object_put(data);
}

static void
usage(void)
{
	fprintf(stderr, "usage: mkreceipt -d DIR [-a ecdsa-p256|rsa-3072] "
	    "[-n N] [-s 1|2]\n");
	exit(2);
}

int
main(int argc, char *argv[])
{
	struct mk		 mk;
	struct mk_checkpoint	 jan, feb, feb2, mar, globex, bad, late, gap;
	struct mk_period	 p;
	enum sigkey_alg		 alg = SIGKEY_ECDSA_P256;
	int64_t			 m1, m2, m3;
	size_t			 i;
	unsigned		 n = 8;
	int			 c;

	memset(&mk, 0, sizeof(mk));
	mk.version = 2;
	while ((c = getopt(argc, argv, "a:d:n:s:")) != -1)
		switch (c) {
		case 's':
			mk.version = atoi(optarg);
			if (mk.version != 1 && mk.version != 2)
				usage();
			break;
		case 'a':
			if (sigkey_alg_parse(optarg, &alg) < 0)
				usage();
			break;
		case 'd':
			mk.dir = optarg;
			break;
		case 'n':
			n = (unsigned)strtoul(optarg, NULL, 10);
			if (n < 2 || n > 100000)
				usage();
			break;
		default:
			usage();
		}
	if (mk.dir == NULL || optind != argc)
		usage();
	mk_keys(&mk, alg);
	m1 = timefmt_month_start(2026 * 12 + 0);
	m2 = timefmt_month_start(2026 * 12 + 1);
	m3 = timefmt_month_start(2026 * 12 + 2);

	/* January, edge to edge, then early February before its head. */
	mk_phase(&mk, m1, m2, n, 2 * n + 1);
	mk_phase(&mk, m2 + 1000, m2 + 9 * MK_DAY_MS, 2, 3);
	mk_sign_head(&mk);
	memset(&p, 0, sizeof(p));
	p.customer = MK_ACME;
	p.period = "2026-01";
	p.created_ms = m2 + 9 * MK_DAY_MS + 500;
	mk_receipt(&mk, &p, "jan.json", &jan);
	p.customer = MK_GLOBEX;
	mk_receipt(&mk, &p, "globex.json", &globex);

	/* More of February; its first checkpoint, and a broken twin. */
	mk_phase(&mk, m2 + 10 * MK_DAY_MS, m2 + 19 * MK_DAY_MS, n / 2 + 1, n);
	mk_sign_head(&mk);
	p.customer = MK_ACME;
	p.period = "2026-02";
	p.previous = &jan;
	p.created_ms = m2 + 19 * MK_DAY_MS + 500;
	mk_receipt(&mk, &p, "feb.json", &feb);
	p.bias = DECIMAL_SCALE;
	mk_receipt(&mk, &p, "badchain.json", &bad);
	p.bias = 0;

	/* February again after new deltas: the same month, re-locked. */
	mk_phase(&mk, m2 + 20 * MK_DAY_MS, m3, 2, 4);
	mk_sign_head(&mk);
	p.previous = &feb;
	p.same_month = 1;
	p.created_ms = m3 + 1000;
	mk_receipt(&mk, &p, "feb2.json", &feb2);

	/* March: others only, so acme's checkpoint covers nothing. */
	mk_phase(&mk, m3 + 2000, m3 + 5 * MK_DAY_MS, 0, 5);
	mk_sign_head(&mk);
	p.period = "2026-03";
	p.previous = &feb2;
	p.same_month = 0;
	p.created_ms = m3 + 5 * MK_DAY_MS + 500;
	mk_receipt(&mk, &p, "mar.json", &mar);
	if (mk.version >= 2) {
		/* March after feb alone: February's later deltas carried in. */
		p.previous = &feb;
		mk_receipt(&mk, &p, "late.json", &late);
		p.start = feb2.last + 1;
		mk_receipt(&mk, &p, "gap.json", &gap);
		p.period = "2026-01";
		p.previous = NULL;
		p.start = 2;
		mk_receipt(&mk, &p, "nofirst.json", &late);
	}
	mk_head_files(&mk, p.created_ms - 200);

	sigkey_free(mk.key);
	for (i = 0; i < mk.size; i++) {
		free(mk.log[i].d.metadata);
		json_object_put(mk.log[i].leaf);
	}
	free(mk.log);
	return 0;
}
