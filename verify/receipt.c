/*
 * A receipt bundle (docs/receipt.md) from untrusted bytes into plain
 * data.  Parsing never stops at a bad member: each is recorded as a
 * problem of the check it belongs to and left out (its RD_ bit unset,
 * or the statement not usable), so the user sees every problem at once
 * and the checks only ever read values that parsed.
 */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "../common/grow.h"
#include "../common/jcs.h"
#include "../common/jsonin.h"
#include "../common/timefmt.h"
#include "../crypto/hash.h"
#include "verify.h"

#define WHY_MAX		160
#define SALT_HEX	64
#define LEAF_TEXT_MAX	4096	/* reason, referenceId: bytes, generous */

static void
receipt_problem(struct receipt *r, enum check c, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
receipt_problem(struct receipt *r, enum check c, const char *fmt, ...)
{
	struct receipt_problem	*p;
	va_list			 ap;

	/* Past the cap, or out of memory: counted, not kept. */
	if (r->nproblems >= RECEIPT_PROBLEMS_MAX) {
		r->dropped[c]++;
		return;
	}
	if (grow(&r->problems, &r->problems_cap, r->nproblems + 1,
	    sizeof(*r->problems)) < 0) {
		r->dropped[c]++;
		return;
	}
	p = &r->problems[r->nproblems++];
	p->check = c;
	va_start(ap, fmt);
	vsnprintf(p->text, sizeof(p->text), fmt, ap);
	va_end(ap);
}

void
receipt_where(const struct receipt *r, size_t i, char out[VERIFY_WHERE_MAX])
{
	char	id[VERIFY_WHERE_MAX - 32];
	const char *rid = i < r->ndeltas ? r->deltas[i].record_id : NULL;

	if (rid == NULL) {
		snprintf(out, VERIFY_WHERE_MAX, "deltas[%zu]", i);
		return;
	}
	report_text(rid, strlen(rid), id, sizeof(id));
	snprintf(out, VERIFY_WHERE_MAX, "deltas[%zu] (%s)", i, id);
}

/* ^[A-Za-z0-9_.:-]{1,128}$ (SPEC 3.1) */
static int
receipt_customer_ok(const char *s)
{
	size_t	len = strlen(s);

	return len >= 1 && len <= VERIFY_ID_MAX && strspn(s,
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	    "0123456789_.:-") == len;
}

/*
 * The statement's members.  Each reader records a problem and clears
 * usable when its member is missing or of the wrong type.
 */
static struct json_object *
st_get(struct receipt *r, const char *name)
{
	struct json_object	*v;
	char			 why[WHY_MAX];

	if (field_member(r->st.obj, name, &v, why, sizeof(why)) < 0) {
		receipt_problem(r, CHECK_STATEMENT, "statement: %s: %s", name,
		    why);
		r->st.usable = 0;
		return NULL;
	}
	return v;
}

static void
st_bad(struct receipt *r, const char *name, const char *why)
{
	receipt_problem(r, CHECK_STATEMENT, "statement: %s: %s", name, why);
	r->st.usable = 0;
}

static void
st_string(struct receipt *r, const char *name, int flags, const char **out)
{
	struct json_object	*v;
	char			 why[WHY_MAX];

	if ((v = st_get(r, name)) != NULL && field_string(v, VERIFY_ID_MAX,
	    flags, out, why, sizeof(why)) < 0)
		st_bad(r, name, why);
}

static int
st_uint(struct receipt *r, const char *name, uint64_t *out)
{
	struct json_object	*v;
	char			 why[WHY_MAX];

	if ((v = st_get(r, name)) == NULL)
		return -1;
	if (field_uint(v, UINT64_MAX, out, why, sizeof(why)) < 0) {
		st_bad(r, name, why);
		return -1;
	}
	return 0;
}

static void
st_amount(struct receipt *r, const char *name, decimal_t *out)
{
	struct json_object	*v;
	char			 why[WHY_MAX];

	if ((v = st_get(r, name)) != NULL &&
	    field_amount(v, out, why, sizeof(why)) < 0)
		st_bad(r, name, why);
}

static void
st_time(struct receipt *r, const char *name, int64_t *out)
{
	struct json_object	*v;
	char			 why[WHY_MAX];

	if ((v = st_get(r, name)) != NULL &&
	    field_time(v, out, why, sizeof(why)) < 0)
		st_bad(r, name, why);
}

static void
st_hash(struct receipt *r, const char *name, merkle_hash out)
{
	struct json_object	*v;
	char			 why[WHY_MAX];

	if ((v = st_get(r, name)) != NULL &&
	    field_hash(v, out, why, sizeof(why)) < 0)
		st_bad(r, name, why);
}

/* The members of each statement version: from which version on. */
static const struct {
	const char	*name;
	uint64_t	 since;
} st_names[] = {
	{ "version", 1 }, { "checkpointId", 1 }, { "tenant", 1 },
	{ "env", 1 }, { "customerId", 1 }, { "period", 1 },
	{ "startDate", 1 }, { "endDate", 1 }, { "startingBalance", 1 },
	{ "netChange", 1 }, { "endingBalance", 1 }, { "deltasCount", 1 },
	{ "proofRoot", 1 }, { "previousCheckpointId", 1 }, { "treeSize", 1 },
	{ "rootHash", 1 }, { "createdAt", 1 }, { "firstSequence", 2 },
	{ "lastSequence", 2 }, { "salt", 2 }
};
#define ST_NAMES	(sizeof(st_names) / sizeof(st_names[0]))

/* The format fixes the member set: a member it does not name is signed
 * text no verifier would look at. */
static void
st_unknown(struct receipt *r)
{
	char	name[64];
	size_t	i;

	json_object_object_foreach(r->st.obj, key, val) {
		(void)val;
		for (i = 0; i < ST_NAMES; i++)
			if (strcmp(key, st_names[i].name) == 0 &&
			    st_names[i].since <= r->st.version)
				break;
		if (i < ST_NAMES)
			continue;
		report_text(key, strlen(key), name, sizeof(name));
		receipt_problem(r, CHECK_STATEMENT, "statement: unknown member "
		    "%s", name);
	}
}

/* Members whose value is constrained beyond its type. */
static void
st_values(struct receipt *r)
{
	struct statement	*st = &r->st;
	char			 want[TIMEFMT_LEN];

	if (st->version == 2 && st->usable && st->first_seq == 0)
		st_bad(r, "firstSequence", "sequence numbers start at 1");
	if (st->version == 2 && st->usable && st->last_seq + 1 - st->first_seq !=
	    st->deltas_count)
		receipt_problem(r, CHECK_STATEMENT, "statement: deltasCount: "
		    "%llu, but firstSequence..lastSequence (%llu..%llu) holds "
		    "%llu", (unsigned long long)st->deltas_count,
		    (unsigned long long)st->first_seq,
		    (unsigned long long)st->last_seq,
		    (unsigned long long)(st->last_seq + 1 - st->first_seq));
	if (st->env != NULL && strcmp(st->env, "live") != 0 &&
	    strcmp(st->env, "test") != 0)
		st_bad(r, "env", "neither live nor test");
	if (st->customer_id != NULL && !receipt_customer_ok(st->customer_id))
		st_bad(r, "customerId", "not a customer id");
	if (st->period != NULL && timefmt_parse_period(st->period,
	    &st->month) < 0) {
		st_bad(r, "period", "not YYYY-MM");
		return;
	}
	if (st->period == NULL || !st->usable)
		return;
	/* The month's bounds, exactly: the period decides them. */
	if (st->start_ms != timefmt_month_start(st->month)) {
		timefmt_rfc3339(timefmt_month_start(st->month), want);
		receipt_problem(r, CHECK_STATEMENT, "statement: startDate: not "
		    "the start of %s (%s)", st->period, want);
	}
	if (st->end_ms != timefmt_month_start(st->month + 1)) {
		timefmt_rfc3339(timefmt_month_start(st->month + 1), want);
		receipt_problem(r, CHECK_STATEMENT, "statement: endDate: not "
		    "the end of %s (%s)", st->period, want);
	}
}

/* Version 2: the run of seqs, and a salt of 64 lowercase hex digits. */
static void
st_run(struct receipt *r)
{
	struct statement	*st = &r->st;
	const char		*salt = NULL;

	(void)st_uint(r, "firstSequence", &st->first_seq);
	(void)st_uint(r, "lastSequence", &st->last_seq);
	st_string(r, "salt", 0, &salt);
	if (salt != NULL && (strlen(salt) != SALT_HEX ||
	    strspn(salt, "0123456789abcdef") != SALT_HEX))
		st_bad(r, "salt", "not 64 lowercase hex digits");
	if (st->usable && st->last_seq + 1 < st->first_seq)
		st_bad(r, "lastSequence", "before firstSequence - 1");
}

static void
st_members(struct receipt *r)
{
	struct statement	*st = &r->st;

	st->usable = 1;
	if (st_uint(r, "version", &st->version) == 0 && st->version != 1 &&
	    st->version != 2)
		st_bad(r, "version", "neither 1 nor 2: a format this verifier "
		    "does not know");
	if (st->version == 2)
		st_run(r);
	st_string(r, "checkpointId", FIELD_NONEMPTY, &st->checkpoint_id);
	st_string(r, "tenant", FIELD_NONEMPTY, &st->tenant);
	st_string(r, "env", 0, &st->env);
	st_string(r, "customerId", 0, &st->customer_id);
	st_string(r, "period", 0, &st->period);
	st_time(r, "startDate", &st->start_ms);
	st_time(r, "endDate", &st->end_ms);
	st_amount(r, "startingBalance", &st->starting);
	st_amount(r, "netChange", &st->net);
	st_amount(r, "endingBalance", &st->ending);
	(void)st_uint(r, "deltasCount", &st->deltas_count);
	st_hash(r, "proofRoot", st->proof_root);
	st_string(r, "previousCheckpointId", FIELD_NULLABLE | FIELD_NONEMPTY,
	    &st->previous_id);
	(void)st_uint(r, "treeSize", &st->tree_size);
	st_hash(r, "rootHash", st->root_hash);
	st_time(r, "createdAt", &st->created_ms);
	st_values(r);
	st_unknown(r);
}

/* Signed bytes that are their own JCS form: one reading for everyone. */
static void
st_canonical(struct receipt *r)
{
	struct sbuf	out;

	memset(&out, 0, sizeof(out));
	if (jcs_serialize(r->st.obj, &out) == 0 && out.len == r->st.len &&
	    memcmp(out.buf, r->st.bytes, out.len) == 0)
		r->st.canonical = 1;
	else
		receipt_problem(r, CHECK_STATEMENT, "statement: the bytes are "
		    "not the JCS (RFC 8785) form of the object they hold");
	sbuf_free(&out);
}

static void
receipt_statement(struct receipt *r, struct json_object *data)
{
	struct json_object	*v;
	char			 why[WHY_MAX], err[128];

	if (field_member(data, "statement", &v, why, sizeof(why)) < 0 ||
	    field_base64(v, VERIFY_STATEMENT_MAX, &r->st.bytes, &r->st.len,
	    why, sizeof(why)) < 0) {
		receipt_problem(r, CHECK_STATEMENT, "statement: %s", why);
		return;
	}
	if (jsonin_parse((const char *)r->st.bytes, r->st.len, &r->st.obj,
	    err, sizeof(err)) < 0) {
		receipt_problem(r, CHECK_STATEMENT, "statement: %s", err);
		return;
	}
	if (!json_object_is_type(r->st.obj, json_type_object)) {
		receipt_problem(r, CHECK_STATEMENT, "statement: not a JSON "
		    "object");
		return;
	}
	st_members(r);
	st_canonical(r);
	/* A bundle's format is its statement's version: one reading. */
	if (r->st.version != 0 && r->version != r->st.version)
		receipt_problem(r, CHECK_STATEMENT, "version: %llu, but the "
		    "statement is of version %llu",
		    (unsigned long long)r->version,
		    (unsigned long long)r->st.version);
}

/* The bundle's own members, beside the statement and the deltas. */
static void
receipt_head(struct receipt *r, struct json_object *data)
{
	struct json_object	*v;
	enum sigkey_alg		 alg;
	uint8_t			*sig = NULL;
	char			 why[WHY_MAX];

	if (field_member(data, "version", &v, why, sizeof(why)) < 0 ||
	    field_uint(v, UINT64_MAX, &r->version, why, sizeof(why)) < 0)
		receipt_problem(r, CHECK_STATEMENT, "version: %s", why);
	else if (r->version != 1 && r->version != 2)
		receipt_problem(r, CHECK_STATEMENT, "version: neither 1 nor 2: "
		    "a format this verifier does not know");
	if (field_member(data, "checkpointId", &v, why, sizeof(why)) < 0 ||
	    field_string(v, VERIFY_ID_MAX, FIELD_NONEMPTY, &r->checkpoint_id,
	    why, sizeof(why)) < 0)
		receipt_problem(r, CHECK_STATEMENT, "checkpointId: %s", why);
	if (field_member(data, "checkpoint", &r->checkpoint, why,
	    sizeof(why)) < 0)
		receipt_problem(r, CHECK_STATEMENT, "checkpoint: %s", why);
	else if (!json_object_is_type(r->checkpoint, json_type_object)) {
		receipt_problem(r, CHECK_STATEMENT, "checkpoint: not an "
		    "object");
		r->checkpoint = NULL;
	}

	if (field_member(data, "signature", &v, why, sizeof(why)) < 0 ||
	    field_base64(v, SIGKEY_SIG_MAX, &sig, &r->siglen, why,
	    sizeof(why)) < 0 || r->siglen == 0)
		receipt_problem(r, CHECK_SIGNATURE, "signature: %s",
		    sig != NULL ? "empty" : why);
	else {
		memcpy(r->sig, sig, r->siglen);
		r->have_sig = 1;
	}
	free(sig);
	if (field_member(data, "keyId", &v, why, sizeof(why)) < 0 ||
	    field_string(v, 8, 0, &r->key_id, why, sizeof(why)) < 0)
		receipt_problem(r, CHECK_SIGNATURE, "keyId: %s", why);
	else if (strlen(r->key_id) != 8 ||
	    strspn(r->key_id, "0123456789abcdef") != 8) {
		receipt_problem(r, CHECK_SIGNATURE, "keyId: not 8 lowercase "
		    "hex digits");
		r->key_id = NULL;
	}
	if (field_member(data, "alg", &v, why, sizeof(why)) < 0 ||
	    field_string(v, VERIFY_ID_MAX, 0, &r->alg, why, sizeof(why)) < 0)
		receipt_problem(r, CHECK_SIGNATURE, "alg: %s", why);
	else if (sigkey_alg_parse(r->alg, &alg) < 0) {
		receipt_problem(r, CHECK_SIGNATURE, "alg: neither ecdsa-p256 "
		    "nor rsa-3072");
		r->alg = NULL;
	}

	if (field_member(data, "treeHead", &v, why, sizeof(why)) < 0 ||
	    field_string(v, NOTE_MAX - 1, FIELD_NONEMPTY, &r->tree_head, why,
	    sizeof(why)) < 0)
		receipt_problem(r, CHECK_TREEHEAD, "treeHead: %s", why);
	else
		r->tree_head_len = strlen(r->tree_head);
}

/* The leaf's canonical bytes and their two hashes (SPEC 4.2). */
static int
leaf_hashes(struct json_object *leaf, struct rdelta *d)
{
	struct sbuf	data;
	int		rc = -1;

	memset(&data, 0, sizeof(data));
	if (jcs_serialize(leaf, &data) < 0 || data.len == 0)
		goto out;
	if (hash_sha256(data.buf, data.len, d->content_re) < 0 ||
	    merkle_leaf_hash(data.buf, data.len, d->leaf_re) < 0)
		goto out;
	rc = 0;
out:
	sbuf_free(&data);
	return rc;
}

static const char *const leaf_names[] = {
	"tenant", "env", "customerId", "sequenceNumber", "delta", "reason",
	"referenceId", "metadata", "createdAt", "salt"
};

/* Reads one leaf member; NULL (problem recorded) if it is missing. */
static struct json_object *
leaf_get(struct receipt *r, const char *where, struct json_object *leaf,
    const char *name)
{
	struct json_object	*v;
	char			 why[WHY_MAX];

	if (field_member(leaf, name, &v, why, sizeof(why)) < 0) {
		receipt_problem(r, CHECK_DELTAS, "%s: leaf.%s: %s", where,
		    name, why);
		return NULL;
	}
	return v;
}

static int
leaf_string(struct receipt *r, const char *where, struct json_object *leaf,
    const char *name, size_t max, int flags, const char **out)
{
	struct json_object	*v;
	char			 why[WHY_MAX];

	*out = NULL;
	if ((v = leaf_get(r, where, leaf, name)) == NULL)
		return -1;
	if (field_string(v, max, flags, out, why, sizeof(why)) < 0) {
		receipt_problem(r, CHECK_DELTAS, "%s: leaf.%s: %s", where,
		    name, why);
		return -1;
	}
	return 0;
}

/* The leaf's members with their types; what parses gets its RD_ bit. */
static void
leaf_members(struct receipt *r, const char *where, struct json_object *leaf,
    struct rdelta *d)
{
	struct json_object	*v;
	const char		*s;
	char			 why[WHY_MAX], name[64];
	const size_t		 n = sizeof(leaf_names) / sizeof(leaf_names[0]);
	size_t			 i;
	int			 t, e, c;

	t = leaf_string(r, where, leaf, "tenant", VERIFY_ID_MAX, 0,
	    &d->tenant);
	e = leaf_string(r, where, leaf, "env", VERIFY_ID_MAX, 0, &d->env);
	c = leaf_string(r, where, leaf, "customerId", VERIFY_ID_MAX, 0,
	    &d->customer_id);
	if (t == 0 && e == 0 && c == 0)
		d->have |= RD_OWNER;
	if ((v = leaf_get(r, where, leaf, "sequenceNumber")) != NULL) {
		if (field_uint(v, UINT64_MAX, &d->seq, why, sizeof(why)) == 0)
			d->have |= RD_SEQ;
		else
			receipt_problem(r, CHECK_DELTAS, "%s: "
			    "leaf.sequenceNumber: %s", where, why);
	}
	if ((v = leaf_get(r, where, leaf, "delta")) != NULL) {
		if (field_amount(v, &d->amount, why, sizeof(why)) == 0)
			d->have |= RD_AMOUNT;
		else
			receipt_problem(r, CHECK_DELTAS, "%s: leaf.delta: %s",
			    where, why);
	}
	(void)leaf_string(r, where, leaf, "reason", LEAF_TEXT_MAX, 0,
	    &d->reason);
	(void)leaf_string(r, where, leaf, "referenceId", LEAF_TEXT_MAX,
	    FIELD_NULLABLE, &d->reference_id);
	if ((v = leaf_get(r, where, leaf, "metadata")) != NULL &&
	    !json_object_is_type(v, json_type_null) &&
	    !json_object_is_type(v, json_type_object))
		receipt_problem(r, CHECK_DELTAS, "%s: leaf.metadata: must be "
		    "an object or null", where);
	if ((v = leaf_get(r, where, leaf, "createdAt")) != NULL) {
		if (field_time(v, &d->created_ms, why, sizeof(why)) == 0)
			d->have |= RD_CREATED;
		else
			receipt_problem(r, CHECK_DELTAS, "%s: leaf.createdAt: "
			    "%s", where, why);
	}
	if (leaf_string(r, where, leaf, "salt", SALT_HEX, 0, &s) == 0 &&
	    (strlen(s) != SALT_HEX || strspn(s, "0123456789abcdef") !=
	    SALT_HEX))
		receipt_problem(r, CHECK_DELTAS, "%s: leaf.salt: not 64 "
		    "lowercase hex digits", where);
	json_object_object_foreach(leaf, key, val) {
		(void)val;
		for (i = 0; i < n && strcmp(key, leaf_names[i]) != 0; i++)
			continue;
		if (i < n)
			continue;
		report_text(key, strlen(key), name, sizeof(name));
		receipt_problem(r, CHECK_DELTAS, "%s: leaf: unknown member %s",
		    where, name);
	}
}

static void
delta_leaf(struct receipt *r, const char *where, struct json_object *leaf,
    struct rdelta *d)
{
	if (!json_object_is_type(leaf, json_type_object)) {
		receipt_problem(r, CHECK_DELTAS, "%s: leaf: not an object",
		    where);
		return;
	}
	if (leaf_hashes(leaf, d) == 0)
		d->have |= RD_HASHED;
	else
		receipt_problem(r, CHECK_DELTAS, "%s: leaf: has no canonical "
		    "form (a number JSON cannot carry)", where);
	leaf_members(r, where, leaf, d);
}

static void
delta_proof(struct receipt *r, const char *where, struct json_object *a,
    struct rdelta *d)
{
	char	why[WHY_MAX];
	size_t	i, n;

	if (!json_object_is_type(a, json_type_array)) {
		receipt_problem(r, CHECK_INCLUSION, "%s: inclusionProof: not "
		    "an array", where);
		return;
	}
	if ((n = json_object_array_length(a)) > MERKLE_PROOF_MAX) {
		receipt_problem(r, CHECK_INCLUSION, "%s: inclusionProof: more "
		    "than %d hashes", where, MERKLE_PROOF_MAX);
		return;
	}
	if ((d->proof = calloc(n ? n : 1, sizeof(*d->proof))) == NULL) {
		receipt_problem(r, CHECK_INCLUSION, "%s: out of memory", where);
		return;
	}
	for (i = 0; i < n; i++)
		if (field_hash(json_object_array_get_idx(a, i), d->proof[i],
		    why, sizeof(why)) < 0) {
			receipt_problem(r, CHECK_INCLUSION, "%s: "
			    "inclusionProof[%zu]: %s", where, i, why);
			return;
		}
	d->proof_len = n;
	d->have |= RD_PROOF;
}

/* A hash member of a delta entry: its RD_ bit, or a problem. */
static void
delta_hash(struct receipt *r, const char *where, struct json_object *o,
    const char *name, merkle_hash out, struct rdelta *d, unsigned bit)
{
	struct json_object	*v;
	char			 why[WHY_MAX];

	if (field_member(o, name, &v, why, sizeof(why)) == 0 &&
	    field_hash(v, out, why, sizeof(why)) == 0)
		d->have |= bit;
	else
		receipt_problem(r, CHECK_DELTAS, "%s: %s: %s", where, name,
		    why);
}

static void
receipt_delta(struct receipt *r, size_t i, struct json_object *o)
{
	struct rdelta		*d = &r->deltas[i];
	struct json_object	*v;
	char			 where[VERIFY_WHERE_MAX], why[WHY_MAX];

	receipt_where(r, i, where);
	if (!json_object_is_type(o, json_type_object)) {
		receipt_problem(r, CHECK_DELTAS, "%s: not an object", where);
		return;
	}
	if (field_member(o, "recordId", &v, why, sizeof(why)) < 0 ||
	    field_string(v, VERIFY_ID_MAX, FIELD_NONEMPTY, &d->record_id, why,
	    sizeof(why)) < 0)
		receipt_problem(r, CHECK_DELTAS, "%s: recordId: %s", where,
		    why);
	receipt_where(r, i, where);
	if (field_member(o, "logIndex", &v, why, sizeof(why)) == 0 &&
	    field_uint(v, UINT64_MAX, &d->log_index, why, sizeof(why)) == 0)
		d->have |= RD_INDEX;
	else
		receipt_problem(r, CHECK_DELTAS, "%s: logIndex: %s", where,
		    why);
	delta_hash(r, where, o, "leafHash", d->leaf_hash, d, RD_LEAFHASH);
	delta_hash(r, where, o, "contentHash", d->content_hash, d,
	    RD_CONTENTHASH);
	if (field_member(o, "leaf", &v, why, sizeof(why)) < 0)
		receipt_problem(r, CHECK_DELTAS, "%s: leaf: %s", where, why);
	else
		delta_leaf(r, where, v, d);
	if (field_member(o, "inclusionProof", &v, why, sizeof(why)) < 0)
		receipt_problem(r, CHECK_INCLUSION, "%s: inclusionProof: %s",
		    where, why);
	else
		delta_proof(r, where, v, d);
}

static int
receipt_deltas(struct receipt *r, struct json_object *data)
{
	struct json_object	*a;
	char			 why[WHY_MAX];
	size_t			 i, n;

	if (field_member(data, "deltas", &a, why, sizeof(why)) < 0) {
		receipt_problem(r, CHECK_DELTAS, "deltas: %s", why);
		return 0;
	}
	if (!json_object_is_type(a, json_type_array)) {
		receipt_problem(r, CHECK_DELTAS, "deltas: not an array");
		return 0;
	}
	if ((n = json_object_array_length(a)) > VERIFY_DELTAS_MAX) {
		receipt_problem(r, CHECK_DELTAS, "deltas: more than %d",
		    VERIFY_DELTAS_MAX);
		return 0;
	}
	if ((r->deltas = calloc(n ? n : 1, sizeof(*r->deltas))) == NULL)
		return -1;
	r->ndeltas = n;
	r->have_deltas = 1;
	for (i = 0; i < n; i++)
		receipt_delta(r, i, json_object_array_get_idx(a, i));
	return 0;
}

int
receipt_parse(const char *bytes, size_t len, struct receipt **out,
    char *err, size_t errlen)
{
	struct receipt		*r;
	struct json_object	*data;

	*out = NULL;
	if ((r = calloc(1, sizeof(*r))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	if (len > VERIFY_RECEIPT_MAX) {
		snprintf(err, errlen, "larger than %u bytes",
		    VERIFY_RECEIPT_MAX);
		goto err;
	}
	if (jsonin_parse(bytes, len, &r->root, err, errlen) < 0)
		goto err;
	if ((data = field_envelope(r->root, err, errlen)) == NULL)
		goto err;
	r->data = data;
	receipt_head(r, data);
	receipt_statement(r, data);
	if (receipt_deltas(r, data) < 0) {
		snprintf(err, errlen, "out of memory");
		goto err;
	}
	*out = r;
	return 0;
err:
	receipt_free(r);
	return -1;
}

void
receipt_free(struct receipt *r)
{
	size_t	i;

	if (r == NULL)
		return;
	for (i = 0; i < r->ndeltas; i++)
		free(r->deltas[i].proof);
	free(r->deltas);
	free(r->problems);
	free(r->st.bytes);
	json_object_put(r->st.obj);
	json_object_put(r->root);
	free(r);
}
