#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/decimal.h"
#include "../common/grow.h"
#include "../common/sbuf.h"
#include "../common/timefmt.h"
#include "../crypto/hash.h"
#include "../crypto/note.h"
#include "apikey.h"
#include "audit_internal.h"
#include "emit.h"
#include "ledger.h"
#include "tlog.h"

#define AUDIT_TRIES	20		/* reads of totals that keep changing */
#define AUDIT_HOLE	(STORE_USER + 1)	/* the log has a gap: stop */
#define AUDIT_AGAIN	(STORE_USER + 3)	/* totals changed while read */

/* Deltas of one tenant, env and month: counted from the log, and stored. */
struct audit_usage {
	char			 tenant[STORE_TENANT_MAX + 1];
	enum store_env		 env;
	int			 month;
	uint64_t		 count;
	uint64_t		 stored;
	int			 corrupt;	/* stored does not decode */
};

/* One of a customer's seqs as read; judged once the read is over. */
enum audit_step_state {
	AUDIT_STEP_NOPOS,		/* no position record */
	AUDIT_STEP_NODELTA,		/* it names no delta of this seq */
	AUDIT_STEP_NOAMOUNT,		/* the delta's amount does not parse */
	AUDIT_STEP_OK
};

struct audit_step {
	enum audit_step_state	 state;
	uint64_t		 seq;
	uint64_t		 log_index;
	int64_t			 created_ms;	/* the delta's */
	decimal_t		 amount;
	decimal_t		 stored_sum;	/* the position's prefix sum */
};

struct audit_month {
	int			 month;
	struct store_month	 m;
};

struct audit_months {
	struct audit_month	*v;
	size_t			 n, cap;
};

/* The customer being checked: what its deltas give, and what is stored. */
struct audit_cust {
	char			 tenant[STORE_TENANT_MAX + 1];
	enum store_env		 env;
	char			 id[STORE_CUSTOMER_MAX + 1];
	char			 name[AUDIT_NAME];	/* tenant/env/id */
	uint64_t		 next;		/* the next seq to read */
	uint64_t		 last;		/* seqs to here must have a
						   position; after, may */
	int			 closed;	/* the positions' end found */
	/* Recomputed from the deltas walked so far. */
	decimal_t		 sum;
	int			 sum_known;
	int			 count_known;	/* every seq had a position */
	int			 months_known;
	int64_t			 first_ms, last_ms;
	int			 first_known, last_known;
	struct audit_months	 months;
	/* As stored, read together by audit_cust_stored. */
	struct store_customer	 rec;
	struct audit_months	 stored;
	int			 stored_corrupt;
};

struct audit_listed {
	char			 id[STORE_CUSTOMER_MAX + 1];
	uint64_t		 last_seq;
};

struct audit {
	struct store		*st;
	store_txn_fn		 fn;		/* what audit_read_with runs */
	void			*fnarg;		/* and with what */
	audit_report_fn		 report;
	void			*arg;
	struct audit_result	*res;
	int			 in_read;
	struct sbuf		 pending;	/* problems the read found */
	struct audit_key	*keys;
	size_t			 nkeys, capkeys;
	/* What the audit covers: the log and its tree as they were. */
	uint64_t		 log_size, tree_size;
	/* The tree rebuilt from recomputed leaf hashes. */
	struct merkle_edge	 edge, saved;
	uint64_t		 chunk_end;
	struct store_txn	*txn;
	struct sbuf		 leaf;
	/*
	 * Usage counted from the log, sorted by tenant, env and month, and
	 * a read's worth of deltas to count once the read is over.
	 */
	struct audit_usage	*usage;
	size_t			 nusage, capusage;
	struct audit_usage	*batch;		/* AUDIT_CHUNK */
	size_t			 nbatch;
	uint64_t		 counted;	/* deltas counted into usage */
	uint64_t		 count_end;
	int			 count_more;
	/* Tenants named in the store or in the log. */
	char			(*tenants)[STORE_TENANT_MAX + 1];
	size_t			 ntenants, captenants;
	/* A read's worth of customers, listed from after from. */
	struct audit_listed	*listed;	/* AUDIT_CUSTOMERS */
	size_t			 nlisted;
	int			 list_more;
	char			 from[STORE_CUSTOMER_MAX + 1];
	int			 skip_from;
	struct audit_step	*steps;		/* AUDIT_CHUNK */
	size_t			 nsteps;
	int			 steps_closed;
	struct audit_cust	 cust;
};

/* line: the finding's kind as one digit, then its text. */
static void
audit_tell(struct audit *a, const char *line)
{
	enum audit_finding	kind = (enum audit_finding)(line[0] - '0');

	if (kind == AUDIT_WARNING)
		a->res->warnings++;
	else
		a->res->problems++;
	if (a->report != NULL)
		a->report(a->arg, kind, line + 1);
}

static void
audit_vfind(struct audit *, enum audit_finding, const char *, va_list)
    __attribute__((format(printf, 3, 0)));

static void
audit_vfind(struct audit *a, enum audit_finding kind, const char *fmt,
    va_list ap)
{
	char	line[AUDIT_LINE + 1];

	line[0] = (char)('0' + kind);
	vsnprintf(line + 1, sizeof(line) - 1, fmt, ap);
	/* A read may be retried: what it found is told when it is over. */
	if (a->in_read)
		sbuf_add(&a->pending, line, strlen(line) + 1);
	else
		audit_tell(a, line);
}

void
audit_problem(struct audit *a, const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	audit_vfind(a, AUDIT_PROBLEM, fmt, ap);
	va_end(ap);
}

static void audit_warning(struct audit *, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));

static void
audit_warning(struct audit *a, const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	audit_vfind(a, AUDIT_WARNING, fmt, ap);
	va_end(ap);
}

static int
audit_attempt(struct store_txn *t, void *arg)
{
	struct audit	*a = arg;

	a->pending.len = 0;	/* a retried read finds them again */
	a->txn = t;
	return a->fn(t, a->fnarg);
}

int
audit_read_with(struct audit *a, store_txn_fn fn, void *arg)
{
	size_t	off;
	int	rc;

	a->fn = fn;
	a->fnarg = arg;
	a->in_read = 1;
	rc = store_read(a->st, audit_attempt, a);
	a->in_read = 0;
	a->txn = NULL;
	if (a->pending.oom)
		return STORE_NOMEM;
	for (off = 0; off < a->pending.len;
	    off += strlen(a->pending.buf + off) + 1)
		audit_tell(a, a->pending.buf + off);
	a->pending.len = 0;
	return rc;
}

/* Runs fn(txn, a) in a read, then tells what its last attempt found. */
static int
audit_read(struct audit *a, store_txn_fn fn)
{
	return audit_read_with(a, fn, a);
}

void
audit_name(char out[AUDIT_NAME], const char *tenant, enum store_env env,
    const char *id)
{
	snprintf(out, AUDIT_NAME, "%s/%s/%s", tenant, apikey_env_name(env),
	    id);
}

static int
audit_add_key(const struct store_signkey *rec, void *arg)
{
	struct audit		*a = arg;
	struct audit_key	*k;

	if (grow(&a->keys, &a->capkeys, a->nkeys + 1, sizeof(*a->keys)) < 0)
		return STORE_NOMEM;
	k = &a->keys[a->nkeys++];
	k->rec = *rec;
	k->key = NULL;
	if (sigkey_from_public_pem(rec->pem, strlen(rec->pem), &k->key) < 0)
		audit_problem(a, "key %s: its public key does not parse",
		    rec->key_id);
	a->res->keys++;
	return STORE_OK;
}

static void
audit_free_keys(struct audit *a)
{
	size_t	i;

	for (i = 0; i < a->nkeys; i++)
		sigkey_free(a->keys[i].key);
	free(a->keys);
	a->keys = NULL;
	a->nkeys = a->capkeys = 0;
}

static int
audit_begin(struct store_txn *t, void *arg)
{
	struct audit		*a = arg;
	struct store_sth	 h;
	int			 rc;

	audit_free_keys(a);
	a->res->keys = 0;
	if ((rc = store_log_size(t, &a->log_size)) != STORE_OK)
		return rc;
	rc = store_sth_latest(t, &h);
	if (rc != STORE_OK && rc != STORE_NOTFOUND)
		return rc;
	a->tree_size = rc == STORE_OK ? h.size : 0;
	return store_signkey_each(t, audit_add_key, a);
}

const struct audit_key *
audit_find_key(const struct audit *a, const char *key_id)
{
	size_t	i;

	for (i = 0; i < a->nkeys; i++)
		if (strcmp(a->keys[i].rec.key_id, key_id) == 0)
			return &a->keys[i];
	return NULL;
}

/* A head against the rebuilt tree of its size, and its signature. */
static void
audit_head(struct audit *a, const struct store_sth *h)
{
	const struct audit_key	*k;
	struct note_head	 cp;
	merkle_hash		 root;
	int			 rc;

	a->res->heads++;
	if (merkle_edge_root(&a->edge, root) != 0 ||
	    !hash_equal(root, h->root, sizeof(root)))
		audit_problem(a, "tree head %llu: its root is not the root of "
		    "the log's first %llu leaves", (unsigned long long)h->size,
		    (unsigned long long)h->size);
	if ((k = audit_find_key(a, h->key_id)) == NULL || k->key == NULL) {
		audit_problem(a, "tree head %llu: signed by unknown key %s",
		    (unsigned long long)h->size, h->key_id);
		return;
	}
	rc = note_open(h->note, strlen(h->note), k->key, k->rec.name, &cp);
	if (rc != NOTE_OK)
		audit_problem(a, "tree head %llu: signature by key %s: %s",
		    (unsigned long long)h->size, h->key_id, note_strerror(rc));
	else if (cp.size != h->size || !hash_equal(cp.root, h->root,
	    sizeof(cp.root)))
		audit_problem(a, "tree head %llu: the signed note is not this "
		    "head", (unsigned long long)h->size);
}

/* Each node the rebuilt tree completes, against the stored one. */
static int
audit_node(void *arg, unsigned level, uint64_t index, const merkle_hash hash)
{
	struct audit	*a = arg;
	merkle_hash	 stored;
	int		 rc;

	if (((index + 1) << level) > a->tree_size)
		return 0;	/* not integrated when the audit began */
	a->res->nodes++;
	if (level == 0)
		return 0;	/* the leaf itself: audit_leaf_hashes did it */
	rc = store_node_get(a->txn, level, index, stored);
	if (rc == STORE_NOTFOUND)
		audit_problem(a, "tree node (level %u, index %llu) is missing",
		    level, (unsigned long long)index);
	else if (rc != STORE_OK)
		return rc;
	else if (!hash_equal(stored, hash, sizeof(stored)))
		audit_problem(a, "tree node (level %u, index %llu) does not "
		    "match the leaves below it", level,
		    (unsigned long long)index);
	return 0;
}

static int
audit_leaf_hashes(struct audit *a, const struct store_delta *d,
    merkle_hash leaf)
{
	uint8_t			 content[HASH_LEN];
	merkle_hash		 stored;
	unsigned long long	 i = d->log_index;
	uint64_t		 found;
	int			 rc;

	a->leaf.len = 0;
	if (emit_leaf(d, &a->leaf) < 0 || a->leaf.oom)
		return STORE_NOMEM;
	if (a->leaf.len != d->leaf_len ||
	    memcmp(a->leaf.buf, d->leaf_data, d->leaf_len) != 0)
		audit_problem(a, "leaf %llu: its leaf data does not match the "
		    "delta's fields", i);
	if (hash_sha256(d->leaf_data, d->leaf_len, content) < 0 ||
	    merkle_leaf_hash(d->leaf_data, d->leaf_len, leaf) < 0)
		return STORE_NOMEM;
	if (!hash_equal(content, d->content_hash, sizeof(content)))
		audit_problem(a, "leaf %llu: contentHash does not match its "
		    "leaf data", i);
	if (!hash_equal(leaf, d->leaf_hash, MERKLE_HASH_LEN))
		audit_problem(a, "leaf %llu: leafHash does not match its leaf "
		    "data", i);
	if (d->log_index >= a->tree_size)
		return STORE_OK;
	rc = store_leaf_find(a->txn, leaf, &found);
	if (rc == STORE_NOTFOUND || (rc == STORE_OK && found != i))
		audit_problem(a, "leaf %llu: its hash does not lead to it", i);
	else if (rc != STORE_OK)
		return rc;
	/*
	 * The tree goes on from the leaf hash it committed to, so that one
	 * altered leaf is reported once, here, and not again in every node
	 * and head above it; those are checked against what they signed.
	 */
	rc = store_node_get(a->txn, 0, d->log_index, stored);
	if (rc == STORE_NOTFOUND)
		audit_problem(a, "leaf %llu: missing from the tree", i);
	else if (rc != STORE_OK)
		return rc;
	else if (!hash_equal(stored, leaf, MERKLE_HASH_LEN)) {
		audit_problem(a, "leaf %llu: the tree holds another leaf hash",
		    i);
		memcpy(leaf, stored, MERKLE_HASH_LEN);
	}
	return STORE_OK;
}

/* Where a delta is counted in its tenant's usage. */
static void
audit_usage_key(struct audit_usage *u, const struct store_delta *d)
{
	memset(u, 0, sizeof(*u));
	snprintf(u->tenant, sizeof(u->tenant), "%s", d->tenant);
	u->env = d->env;
	u->month = timefmt_month(d->created_ms);
}

/*
 * The delta's place among its customer's totals.  The walk over each
 * customer's seqs (audit_customer) checks every position it reaches;
 * this finds what that walk cannot: a delta whose customer has no
 * totals, or whose seq no position holds past the customer's last, or
 * whose seq another delta has too.
 */
static int
audit_leaf_totals(struct audit *a, const struct store_delta *d)
{
	struct store_customer	c;
	struct store_custpos	p;
	struct store_delta	other;
	char			name[AUDIT_NAME];
	unsigned long long	i = d->log_index, seq = d->seq;
	int			rc;

	audit_name(name, d->tenant, d->env, d->customer_id);
	rc = store_customer_get(a->txn, d->tenant, d->env, d->customer_id,
	    &c);
	if (rc == STORE_NOTFOUND || rc == STORE_CORRUPT) {
		audit_problem(a, "leaf %llu: customer %s: %s", i, name,
		    rc == STORE_NOTFOUND ? "no totals record" :
		    "its totals record does not decode");
		return STORE_OK;
	} else if (rc != STORE_OK)
		return rc;
	if (seq == 0) {
		audit_problem(a, "leaf %llu: customer %s: seq 0", i, name);
		return STORE_OK;
	}
	rc = store_custpos_get(a->txn, d->tenant, d->env, d->customer_id, seq,
	    &p);
	if (rc == STORE_NOTFOUND && seq > c.last_seq)
		audit_problem(a, "leaf %llu: customer %s seq %llu: no position "
		    "record, and its last seq is %llu", i, name, seq,
		    (unsigned long long)c.last_seq);
	if (rc == STORE_NOTFOUND || rc == STORE_CORRUPT ||
	    (rc == STORE_OK && p.log_index == d->log_index))
		return STORE_OK;
	else if (rc != STORE_OK)
		return rc;
	/* The position names another delta: is it of this seq too? */
	rc = store_delta_get(a->txn, p.log_index, &other);
	if (rc == STORE_NOTFOUND || rc == STORE_CORRUPT)
		return STORE_OK;
	else if (rc != STORE_OK)
		return rc;
	if (strcmp(other.tenant, d->tenant) == 0 && other.env == d->env &&
	    strcmp(other.customer_id, d->customer_id) == 0 &&
	    other.seq == d->seq)
		audit_problem(a, "leaf %llu: customer %s seq %llu: leaf %llu "
		    "has this seq too", i, name, seq,
		    (unsigned long long)p.log_index);
	store_delta_free(&other);
	return STORE_OK;
}

/*
 * The delta's referenceId, which names one delta of its customer forever
 * (SPEC 3.1): the ledger binds it to the first delta recorded with it.
 * Bound to another delta, this one is a duplicate recorded before every
 * request's referenceId was checked.  It is on the signed log for good,
 * so it is a warning, naming both, never a repair.  One lookup a delta
 * keeps the audit linear in the log and its memory flat.
 */
static int
audit_leaf_reference(struct audit *a, const struct store_delta *d)
{
	char	owner[STORE_ID_MAX + 1], name[AUDIT_NAME];
	int	rc;

	if (!d->has_reference)
		return STORE_OK;
	rc = ledger_reference_owner(a->txn, d->tenant, d->env, d->customer_id,
	    d->reference_id, owner);
	if (rc == STORE_NOTFOUND)
		return STORE_OK;	/* not recorded through the ledger */
	audit_name(name, d->tenant, d->env, d->customer_id);
	if (rc == STORE_CORRUPT)
		audit_problem(a, "leaf %llu: customer %s: the binding of its "
		    "referenceId does not decode",
		    (unsigned long long)d->log_index, name);
	else if (rc != STORE_OK)
		return rc;
	else if (strcmp(owner, d->record_id) != 0)
		audit_warning(a, "leaf %llu: customer %s: referenceId \"%s\" "
		    "is on %s and on %s, recorded after it: two deltas for "
		    "one referenceId", (unsigned long long)d->log_index, name,
		    d->reference_id, owner, d->record_id);
	return STORE_OK;
}

static int
audit_delta(const struct store_delta *d, void *arg)
{
	struct audit		*a = arg;
	struct store_sth	 h;
	merkle_hash		 leaf;
	int			 rc;

	if (a->edge.size == a->chunk_end)
		return AUDIT_DONE;
	if (d->log_index != a->edge.size) {
		audit_problem(a, "leaf %llu: missing from the log",
		    (unsigned long long)a->edge.size);
		return AUDIT_HOLE;
	}
	a->res->leaves++;
	if ((rc = audit_leaf_hashes(a, d, leaf)) != STORE_OK ||
	    (rc = audit_leaf_totals(a, d)) != STORE_OK ||
	    (rc = audit_leaf_reference(a, d)) != STORE_OK)
		return rc;
	audit_usage_key(&a->batch[a->nbatch++], d);
	if ((rc = merkle_edge_append(&a->edge, leaf, audit_node, a)) != 0)
		return rc < 0 ? STORE_NOMEM : rc;
	rc = store_sth_get(a->txn, a->edge.size, &h);
	if (rc == STORE_OK)
		audit_head(a, &h);
	return rc == STORE_NOTFOUND ? STORE_OK : rc;
}

static int
audit_chunk(struct store_txn *t, void *arg)
{
	struct audit		*a = arg;
	struct audit_result	 before = *a->res;
	int			 rc;

	a->txn = t;
	a->edge = a->saved;
	a->nbatch = 0;
	rc = store_delta_each(t, a->edge.size, audit_delta, a);
	if (rc == STORE_OK || rc == AUDIT_DONE) {
		if (a->edge.size != a->chunk_end) {
			audit_problem(a, "leaf %llu: missing from the log",
			    (unsigned long long)a->edge.size);
			return AUDIT_HOLE;
		}
		a->saved = a->edge;
		return STORE_OK;
	}
	if (rc == STORE_CONFLICT)
		*a->res = before;	/* it will be read again */
	return rc;
}

/* The empty tree's head, if one was signed, and heads past the log. */
static int
audit_ends(struct store_txn *t, void *arg)
{
	struct audit		*a = arg;
	struct store_sth	 h;
	uint64_t		 size;
	int			 rc;

	a->edge.size = 0;
	if ((rc = store_sth_get(t, 0, &h)) == STORE_OK)
		audit_head(a, &h);
	else if (rc != STORE_NOTFOUND)
		return rc;
	if ((rc = store_log_size(t, &size)) != STORE_OK)
		return rc;
	rc = store_sth_latest(t, &h);
	if (rc == STORE_OK && h.size > size)
		audit_problem(a, "tree head %llu: covers leaves the log does "
		    "not have (%llu)", (unsigned long long)h.size,
		    (unsigned long long)size);
	return rc == STORE_NOTFOUND ? STORE_OK : rc;
}

/*
 * Usage: each tenant's deltas per month, counted from the log as it is
 * walked and compared with the counters the ledger keeps for quotas.
 */

static int
audit_usage_cmp(const struct audit_usage *x, const struct audit_usage *y)
{
	int	c;

	if ((c = strcmp(x->tenant, y->tenant)) != 0)
		return c;
	if (x->env != y->env)
		return x->env < y->env ? -1 : 1;
	return x->month < y->month ? -1 : x->month > y->month;
}

/* The counter of key's tenant, env and month, added (at 0) if new. */
static struct audit_usage *
audit_usage_find(struct audit *a, const struct audit_usage *key)
{
	size_t			 lo = 0, hi = a->nusage, mid;
	int			 c;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if ((c = audit_usage_cmp(&a->usage[mid], key)) == 0)
			return &a->usage[mid];
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (grow(&a->usage, &a->capusage, a->nusage + 1,
	    sizeof(*a->usage)) < 0)
		return NULL;
	memmove(&a->usage[lo + 1], &a->usage[lo],
	    (a->nusage - lo) * sizeof(*a->usage));
	a->nusage++;
	a->usage[lo] = *key;
	a->usage[lo].count = 0;
	return &a->usage[lo];
}

/* Counts the deltas of a finished read. */
static int
audit_usage_fold(struct audit *a)
{
	struct audit_usage	*u;
	size_t			 i;

	for (i = 0; i < a->nbatch; i++) {
		if ((u = audit_usage_find(a, &a->batch[i])) == NULL)
			return STORE_NOMEM;
		u->count++;
	}
	a->counted += a->nbatch;
	a->nbatch = 0;
	return STORE_OK;
}

static int
audit_count_delta(const struct store_delta *d, void *arg)
{
	struct audit	*a = arg;

	if (a->counted + a->nbatch == a->count_end)
		return AUDIT_DONE;
	if (d->log_index != a->counted + a->nbatch)
		return AUDIT_HOLE;
	audit_usage_key(&a->batch[a->nbatch++], d);
	return STORE_OK;
}

/*
 * Counts the deltas recorded since the log walk, which the counters
 * count too: a read's worth at a time.
 */
static int
audit_count_read(struct store_txn *t, void *arg)
{
	struct audit	*a = arg;
	uint64_t	 size;
	int		 rc;

	a->nbatch = 0;
	if ((rc = store_log_size(t, &size)) != STORE_OK)
		return rc;
	a->count_more = 0;
	if (a->counted >= size)
		return STORE_OK;
	a->count_more = size - a->counted > AUDIT_CHUNK;
	a->count_end = a->count_more ? a->counted + AUDIT_CHUNK : size;
	rc = store_delta_each(t, a->counted, audit_count_delta, a);
	if (rc != STORE_OK && rc != AUDIT_DONE && rc != AUDIT_HOLE)
		return rc;
	if (a->counted + a->nbatch != a->count_end) {
		audit_problem(a, "leaf %llu: missing from the log",
		    (unsigned long long)(a->counted + a->nbatch));
		return AUDIT_HOLE;
	}
	return STORE_OK;
}

/*
 * Every counter, in a read that starts and ends with the log at the
 * size counted: no delta was recorded, so none was counted, in between.
 */
static int
audit_usage_read(struct store_txn *t, void *arg)
{
	struct audit		*a = arg;
	struct audit_usage	*u;
	uint64_t		 size;
	size_t			 i;
	int			 rc;

	if ((rc = store_log_size(t, &size)) != STORE_OK)
		return rc;
	if (size != a->counted)
		return AUDIT_AGAIN;
	for (i = 0; i < a->nusage; i++) {
		u = &a->usage[i];
		rc = store_usage_get(t, u->tenant, u->env, u->month,
		    &u->stored);
		u->corrupt = rc == STORE_CORRUPT;
		if (rc != STORE_OK && rc != STORE_CORRUPT)
			return rc;
	}
	if ((rc = store_log_size(t, &size)) != STORE_OK)
		return rc;
	return size == a->counted ? STORE_OK : AUDIT_AGAIN;
}

static void
audit_usage_compare(struct audit *a)
{
	const struct audit_usage	*u;
	char				 period[TIMEFMT_PERIOD_LEN];
	size_t				 i;

	for (i = 0; i < a->nusage; i++) {
		u = &a->usage[i];
		a->res->usage++;
		timefmt_period(u->month, period);
		if (u->corrupt)
			audit_problem(a, "usage %s/%s %s: the record does "
			    "not decode", u->tenant, apikey_env_name(u->env),
			    period);
		else if (u->stored != u->count)
			audit_problem(a, "usage %s/%s %s: stored %llu, "
			    "expected %llu", u->tenant,
			    apikey_env_name(u->env), period,
			    (unsigned long long)u->stored,
			    (unsigned long long)u->count);
	}
}

/*
 * The counters of every month with a delta, and of this month for every
 * tenant (a quota reads that one, delta or not).  A counter of another
 * month with no delta is not found: nothing lists the counters.
 */
static int
audit_usage(struct audit *a)
{
	struct audit_usage	 key;
	size_t			 i;
	int			 env, rc, tries = 0;

	memset(&key, 0, sizeof(key));
	key.month = timefmt_month(timefmt_now_ms());
	for (i = 0; i < a->ntenants; i++)
		for (env = STORE_ENV_TEST; env <= STORE_ENV_LIVE; env++) {
			snprintf(key.tenant, sizeof(key.tenant), "%s",
			    a->tenants[i]);
			key.env = (enum store_env)env;
			if (audit_usage_find(a, &key) == NULL)
				return STORE_NOMEM;
		}
	for (;;) {
		do {
			rc = audit_read(a, audit_count_read);
			if (rc == AUDIT_HOLE)
				return STORE_OK;	/* told */
			if (rc != STORE_OK ||
			    (rc = audit_usage_fold(a)) != STORE_OK)
				return rc;
		} while (a->count_more);
		if ((rc = audit_read(a, audit_usage_read)) != AUDIT_AGAIN)
			break;
		if (++tries == AUDIT_TRIES) {
			a->res->busy++;
			return STORE_OK;
		}
	}
	if (rc == STORE_OK)
		audit_usage_compare(a);
	return rc;
}

/* Tenants: those the store names, and any the log names besides. */

static int
audit_tenant_add(struct audit *a, const char *name)
{
	if (grow(&a->tenants, &a->captenants, a->ntenants + 1,
	    sizeof(*a->tenants)) < 0)
		return STORE_NOMEM;
	snprintf(a->tenants[a->ntenants++], sizeof(*a->tenants), "%s", name);
	return STORE_OK;
}

static int
audit_tenant_each(const struct store_tenant *tn, void *arg)
{
	return audit_tenant_add(arg, tn->name);
}

static int
audit_tenants_read(struct store_txn *t, void *arg)
{
	struct audit	*a = arg;

	a->ntenants = 0;
	return store_tenant_each(t, audit_tenant_each, a);
}

static int
audit_tenants(struct audit *a)
{
	const char	*prev = NULL, *name;
	size_t		 i, j, known;
	int		 rc;

	if ((rc = audit_read(a, audit_tenants_read)) != STORE_OK)
		return rc;
	known = a->ntenants;
	/* usage is sorted by tenant: each tenant once. */
	for (i = 0; i < a->nusage; i++) {
		name = a->usage[i].tenant;
		if (prev != NULL && strcmp(prev, name) == 0)
			continue;
		prev = name;
		for (j = 0; j < known; j++)
			if (strcmp(a->tenants[j], name) == 0)
				break;
		if (j < known)
			continue;
		audit_problem(a, "tenant %s: deltas in the log, but no tenant "
		    "record", name);
		if ((rc = audit_tenant_add(a, name)) != STORE_OK)
			return rc;
	}
	return STORE_OK;
}

/*
 * Customers: each one's seqs walked in order, from its position records
 * to the deltas they name, recomputing its prefix sums, months and
 * totals, then compared with the stored ones read together.
 */

/*
 * Reads seq s->seq: its position and the delta it names.  Past the
 * customer's last seq a position need not be; when it is not, the walk
 * is over.
 */
static int
audit_cust_step(struct audit *a, struct store_txn *t, struct audit_step *s)
{
	struct audit_cust	*c = &a->cust;
	struct store_custpos	 p;
	struct store_delta	 d;
	char			 other[AUDIT_NAME];
	char			 t1[TIMEFMT_LEN], t2[TIMEFMT_LEN];
	unsigned long long	 seq = s->seq, i;
	int			 rc;

	s->state = AUDIT_STEP_NOPOS;
	rc = store_custpos_get(t, c->tenant, c->env, c->id, seq, &p);
	if (rc == STORE_NOTFOUND && seq > c->last) {
		a->steps_closed = 1;
		return STORE_OK;
	}
	if (rc == STORE_NOTFOUND || rc == STORE_CORRUPT) {
		audit_problem(a, "customer %s seq %llu: %s", c->name, seq,
		    rc == STORE_NOTFOUND ? "no position record" :
		    "its position record does not decode");
		return STORE_OK;
	} else if (rc != STORE_OK)
		return rc;
	s->state = AUDIT_STEP_NODELTA;
	s->log_index = p.log_index;
	s->stored_sum = p.sum;
	i = p.log_index;
	rc = store_delta_get(t, p.log_index, &d);
	if (rc == STORE_NOTFOUND || rc == STORE_CORRUPT) {
		audit_problem(a, "customer %s seq %llu: its position names "
		    "leaf %llu, %s", c->name, seq, i, rc == STORE_NOTFOUND ?
		    "which the log does not have" :
		    "whose record does not decode");
		return STORE_OK;
	} else if (rc != STORE_OK)
		return rc;
	if (strcmp(d.tenant, c->tenant) != 0 || d.env != c->env ||
	    strcmp(d.customer_id, c->id) != 0 || d.seq != seq) {
		audit_name(other, d.tenant, d.env, d.customer_id);
		audit_problem(a, "customer %s seq %llu: its position names "
		    "leaf %llu, which is customer %s seq %llu", c->name, seq,
		    i, other, (unsigned long long)d.seq);
		goto out;
	}
	s->created_ms = d.created_ms;
	if (p.created_ms != d.created_ms) {
		timefmt_rfc3339(p.created_ms, t1);
		timefmt_rfc3339(d.created_ms, t2);
		audit_problem(a, "customer %s seq %llu (leaf %llu): time: "
		    "stored %s, expected %s", c->name, seq, i, t1, t2);
	}
	s->state = AUDIT_STEP_NOAMOUNT;
	if (decimal_parse(d.delta, strlen(d.delta), &s->amount) !=
	    DECIMAL_OK) {
		audit_problem(a, "customer %s seq %llu (leaf %llu): delta "
		    "\"%s\" is not an exact amount", c->name, seq, i, d.delta);
		goto out;
	}
	s->state = AUDIT_STEP_OK;
out:
	store_delta_free(&d);
	return STORE_OK;
}

static int
audit_cust_read(struct store_txn *t, void *arg)
{
	struct audit		*a = arg;
	struct audit_step	*s;
	uint64_t		 seq = a->cust.next;
	int			 rc;

	a->nsteps = 0;
	a->steps_closed = 0;
	while (a->nsteps < AUDIT_CHUNK && !a->steps_closed) {
		s = &a->steps[a->nsteps];
		memset(s, 0, sizeof(*s));
		s->seq = seq++;
		if ((rc = audit_cust_step(a, t, s)) != STORE_OK)
			return rc;
		if (!a->steps_closed)
			a->nsteps++;
	}
	return STORE_OK;
}

static int
audit_month_add(struct audit_months *ms, int month,
    const struct audit_step *s)
{
	struct audit_month	*v;
	size_t			 i;

	/* Seq order is time order: nearly always the newest month. */
	for (i = ms->n; i > 0; i--)
		if (ms->v[i - 1].month == month)
			break;
	if (i == 0) {
		if (grow(&ms->v, &ms->cap, ms->n + 1, sizeof(*ms->v)) < 0)
			return STORE_NOMEM;
		v = &ms->v[ms->n++];
		memset(v, 0, sizeof(*v));
		v->month = month;
		v->m.first_seq = s->seq;
		i = ms->n;
	}
	v = &ms->v[i - 1];
	v->m.last_seq = s->seq;
	v->m.count++;
	v->m.sum += s->amount;
	return STORE_OK;
}

/* A seq's delta against the one before it, and its time in the totals. */
static void
audit_cust_time(struct audit *a, const struct audit_step *s)
{
	struct audit_cust	*c = &a->cust;
	char			 t1[TIMEFMT_LEN], t2[TIMEFMT_LEN];

	if (c->last_known && s->created_ms < c->last_ms) {
		timefmt_rfc3339(s->created_ms, t1);
		timefmt_rfc3339(c->last_ms, t2);
		audit_problem(a, "customer %s seq %llu (leaf %llu): recorded "
		    "at %s, before seq %llu at %s", c->name,
		    (unsigned long long)s->seq,
		    (unsigned long long)s->log_index, t1,
		    (unsigned long long)s->seq - 1, t2);
	}
	if (s->seq == 1) {
		c->first_ms = s->created_ms;
		c->first_known = 1;
	}
	c->last_ms = s->created_ms;
	c->last_known = 1;
}

/*
 * The prefix sum through s, from the one before it.  After a seq whose
 * amount is unknown the sums go on from the stored one, so that each
 * wrong sum is told once, where it is, and not in every sum after it.
 */
static void
audit_cust_sum(struct audit *a, const struct audit_step *s)
{
	struct audit_cust	*c = &a->cust;
	char			 v1[DECIMAL_MAX], v2[DECIMAL_MAX];

	if (s->state != AUDIT_STEP_OK || !c->sum_known) {
		c->sum = s->stored_sum;
		c->sum_known = 1;
		return;
	}
	c->sum += s->amount;
	if (s->stored_sum != c->sum) {
		decimal_format(s->stored_sum, v1);
		decimal_format(c->sum, v2);
		audit_problem(a, "customer %s seq %llu (leaf %llu): prefix "
		    "sum: stored %s, expected %s", c->name,
		    (unsigned long long)s->seq,
		    (unsigned long long)s->log_index, v1, v2);
	}
}

/* Takes in the seqs a read found; out of the read, so never twice. */
static int
audit_cust_judge(struct audit *a)
{
	struct audit_cust	*c = &a->cust;
	const struct audit_step	*s;
	size_t			 i;

	for (i = 0; i < a->nsteps; i++) {
		s = &a->steps[i];
		a->res->positions++;
		c->next = s->seq + 1;
		if (s->state == AUDIT_STEP_NOPOS) {
			/*
			 * Told already, and whether a delta lacks it or the
			 * totals count one too many, what depends on it
			 * cannot be said.
			 */
			c->sum_known = c->count_known = c->months_known = 0;
			c->last_known = 0;
			continue;
		}
		if (s->state == AUDIT_STEP_NODELTA) {
			c->months_known = c->last_known = 0;
			audit_cust_sum(a, s);
			continue;
		}
		audit_cust_time(a, s);
		audit_cust_sum(a, s);
		if (s->state != AUDIT_STEP_OK)
			c->months_known = 0;
		else if (audit_month_add(&c->months,
		    timefmt_month(s->created_ms), s) != STORE_OK)
			return STORE_NOMEM;
	}
	if (a->steps_closed)
		c->closed = 1;
	return STORE_OK;
}

static int
audit_cust_month(int month, const struct store_month *m, void *arg)
{
	struct audit_months	*ms = arg;

	if (grow(&ms->v, &ms->cap, ms->n + 1, sizeof(*ms->v)) < 0)
		return STORE_NOMEM;
	ms->v[ms->n].month = month;
	ms->v[ms->n++].m = *m;
	return STORE_OK;
}

/*
 * The stored totals and months, read between two reads of the totals
 * that agree: an append in between would have changed them, so what is
 * read is what they were.  AUDIT_AGAIN if the customer has grown.
 */
static int
audit_cust_stored(struct store_txn *t, void *arg)
{
	struct audit		*a = arg;
	struct audit_cust	*c = &a->cust;
	struct store_customer	 again;
	int			 rc;

	c->stored.n = 0;
	c->stored_corrupt = 0;
	if ((rc = store_customer_get(t, c->tenant, c->env, c->id, &c->rec)) !=
	    STORE_OK)
		return rc;
	if (c->rec.last_seq >= c->next) {
		c->last = c->rec.last_seq;
		c->closed = 0;
		return AUDIT_AGAIN;
	}
	rc = store_month_each(t, c->tenant, c->env, c->id, audit_cust_month,
	    &c->stored);
	if (rc == STORE_CORRUPT)
		c->stored_corrupt = 1;
	else if (rc != STORE_OK)
		return rc;
	if ((rc = store_customer_get(t, c->tenant, c->env, c->id, &again)) !=
	    STORE_OK)
		return rc;
	return again.last_seq == c->rec.last_seq ? STORE_OK : AUDIT_AGAIN;
}

static int
audit_month_cmp(const void *x, const void *y)
{
	const struct audit_month	*mx = x, *my = y;

	return mx->month < my->month ? -1 : mx->month > my->month;
}

static void
audit_month_one(struct audit *a, const struct audit_month *want,
    const struct audit_month *got)
{
	const struct audit_cust	*c = &a->cust;
	const struct store_month *w, *g;
	char			 period[TIMEFMT_PERIOD_LEN];
	char			 v1[DECIMAL_MAX], v2[DECIMAL_MAX];

	a->res->months++;
	timefmt_period(want != NULL ? want->month : got->month, period);
	if (want == NULL) {
		audit_problem(a, "customer %s month %s: a month record, but no "
		    "delta that month", c->name, period);
		return;
	}
	w = &want->m;
	decimal_format(w->sum, v2);
	if (got == NULL) {
		audit_problem(a, "customer %s month %s: no month record; "
		    "expected seqs %llu..%llu, count %llu, sum %s", c->name,
		    period, (unsigned long long)w->first_seq,
		    (unsigned long long)w->last_seq,
		    (unsigned long long)w->count, v2);
		return;
	}
	g = &got->m;
	if (g->first_seq == w->first_seq && g->last_seq == w->last_seq &&
	    g->count == w->count && g->sum == w->sum)
		return;
	decimal_format(g->sum, v1);
	audit_problem(a, "customer %s month %s: stored seqs %llu..%llu, count "
	    "%llu, sum %s; expected seqs %llu..%llu, count %llu, sum %s",
	    c->name, period, (unsigned long long)g->first_seq,
	    (unsigned long long)g->last_seq, (unsigned long long)g->count, v1,
	    (unsigned long long)w->first_seq, (unsigned long long)w->last_seq,
	    (unsigned long long)w->count, v2);
}

static void
audit_cust_months(struct audit *a)
{
	struct audit_cust	*c = &a->cust;
	struct audit_months	*w = &c->months, *g = &c->stored;
	size_t			 i = 0, j = 0;

	if (c->stored_corrupt) {
		audit_problem(a, "customer %s: a month record does not decode",
		    c->name);
		return;
	}
	if (!c->months_known)
		return;		/* what hid a month was told */
	if (w->n > 1)
		qsort(w->v, w->n, sizeof(*w->v), audit_month_cmp);
	if (g->n > 1)
		qsort(g->v, g->n, sizeof(*g->v), audit_month_cmp);
	while (i < w->n || j < g->n) {
		if (j == g->n || (i < w->n && w->v[i].month < g->v[j].month))
			audit_month_one(a, &w->v[i++], NULL);
		else if (i == w->n || g->v[j].month < w->v[i].month)
			audit_month_one(a, NULL, &g->v[j++]);
		else {
			audit_month_one(a, &w->v[i], &g->v[j]);
			i++;
			j++;
		}
	}
}

static void
audit_cust_compare(struct audit *a)
{
	struct audit_cust		*c = &a->cust;
	const struct store_customer	*r = &c->rec;
	unsigned long long		 n = c->next - 1;
	char				 v1[DECIMAL_MAX], v2[DECIMAL_MAX];
	char				 t1[TIMEFMT_LEN], t2[TIMEFMT_LEN];

	a->res->customers++;
	if (n == 0)
		audit_problem(a, "customer %s: a totals record, but no deltas",
		    c->name);
	else if (r->last_seq != n)
		audit_problem(a, "customer %s: last seq: stored %llu, "
		    "expected %llu", c->name,
		    (unsigned long long)r->last_seq, n);
	if (n != 0 && c->count_known && r->count != n)
		audit_problem(a, "customer %s: count: stored %llu, expected "
		    "%llu", c->name, (unsigned long long)r->count, n);
	if (n != 0 && c->sum_known && r->sum != c->sum) {
		decimal_format(r->sum, v1);
		decimal_format(c->sum, v2);
		audit_problem(a, "customer %s: sum: stored %s, expected %s",
		    c->name, v1, v2);
	}
	if (n != 0 && c->first_known && r->first_ms != c->first_ms) {
		timefmt_rfc3339(r->first_ms, t1);
		timefmt_rfc3339(c->first_ms, t2);
		audit_problem(a, "customer %s: first delta time: stored %s, "
		    "expected %s", c->name, t1, t2);
	}
	if (n != 0 && c->last_known && r->last_ms != c->last_ms) {
		timefmt_rfc3339(r->last_ms, t1);
		timefmt_rfc3339(c->last_ms, t2);
		audit_problem(a, "customer %s: last delta time: stored %s, "
		    "expected %s", c->name, t1, t2);
	}
	audit_cust_months(a);
}

/*
 * One customer, through its last seq (last_seq as listed, and any the
 * totals gain while it is walked), in reads of AUDIT_CHUNK seqs.
 */
static int
audit_customer(struct audit *a, const char *tenant, enum store_env env,
    const struct audit_listed *l)
{
	struct audit_cust	*c = &a->cust;
	int			 rc, tries = 0;

	snprintf(c->tenant, sizeof(c->tenant), "%s", tenant);
	c->env = env;
	snprintf(c->id, sizeof(c->id), "%s", l->id);
	audit_name(c->name, tenant, env, l->id);
	c->next = 1;
	c->last = l->last_seq;
	c->closed = 0;
	c->sum = 0;
	/* Nothing is before seq 1. */
	c->sum_known = c->count_known = c->months_known = 1;
	c->first_known = c->last_known = 0;
	c->months.n = 0;
	for (;;) {
		while (!c->closed) {
			if ((rc = audit_read(a, audit_cust_read)) != STORE_OK ||
			    (rc = audit_cust_judge(a)) != STORE_OK)
				return rc;
		}
		if ((rc = audit_read(a, audit_cust_stored)) != AUDIT_AGAIN)
			break;
		if (++tries == AUDIT_TRIES) {
			a->res->busy++;
			return STORE_OK;
		}
	}
	if (rc == STORE_OK)
		audit_cust_compare(a);
	return rc;
}

static int
audit_listed_add(const char *id, const struct store_customer *c, void *arg)
{
	struct audit		*a = arg;
	struct audit_listed	*l;

	if (a->skip_from && strcmp(id, a->from) == 0)
		return STORE_OK;
	if (a->nlisted == AUDIT_CUSTOMERS) {
		a->list_more = 1;
		return AUDIT_DONE;
	}
	l = &a->listed[a->nlisted++];
	snprintf(l->id, sizeof(l->id), "%s", id);
	l->last_seq = c->last_seq;
	return STORE_OK;
}

static int
audit_list_read(struct store_txn *t, void *arg)
{
	struct audit	*a = arg;
	int		 rc;

	a->nlisted = 0;
	a->list_more = 0;
	rc = store_customer_each_from(t, a->cust.tenant, a->cust.env, a->from,
	    audit_listed_add, a);
	return rc == AUDIT_DONE ? STORE_OK : rc;
}

/* A tenant's customers in one env, AUDIT_CUSTOMERS to a read. */
static int
audit_customers(struct audit *a, const char *tenant, enum store_env env)
{
	size_t	i;
	int	rc;

	a->from[0] = '\0';
	a->skip_from = 0;
	do {
		snprintf(a->cust.tenant, sizeof(a->cust.tenant), "%s", tenant);
		a->cust.env = env;
		if ((rc = audit_read(a, audit_list_read)) != STORE_OK)
			return rc;
		for (i = 0; i < a->nlisted; i++)
			if ((rc = audit_customer(a, tenant, env,
			    &a->listed[i])) != STORE_OK)
				return rc;
		if (a->nlisted > 0) {
			memcpy(a->from, a->listed[a->nlisted - 1].id,
			    sizeof(a->from));
			a->skip_from = 1;
		}
	} while (a->list_more);
	return STORE_OK;
}

/* The log, leaf by leaf, AUDIT_CHUNK leaves to a read. */
static int
audit_log(struct audit *a)
{
	int	rc = STORE_OK;

	memset(&a->saved, 0, sizeof(a->saved));
	while (a->saved.size < a->log_size) {
		a->chunk_end = a->log_size - a->saved.size > AUDIT_CHUNK ?
		    a->saved.size + AUDIT_CHUNK : a->log_size;
		if ((rc = audit_read(a, audit_chunk)) != STORE_OK ||
		    (rc = audit_usage_fold(a)) != STORE_OK)
			break;
	}
	return rc;
}

static void
audit_free(struct audit *a)
{
	audit_free_keys(a);
	sbuf_free(&a->leaf);
	sbuf_free(&a->pending);
	free(a->usage);
	free(a->batch);
	free(a->tenants);
	free(a->listed);
	free(a->steps);
	free(a->cust.months.v);
	free(a->cust.stored.v);
	free(a);
}

int
audit_run(struct store *st, audit_report_fn report, void *arg,
    struct audit_result *res)
{
	struct audit	*a;
	size_t		 i;
	int		 rc, env, whole;

	memset(res, 0, sizeof(*res));
	if ((a = calloc(1, sizeof(*a))) == NULL)
		return STORE_NOMEM;
	a->st = st;
	a->report = report;
	a->arg = arg;
	a->res = res;
	if ((a->batch = calloc(AUDIT_CHUNK, sizeof(*a->batch))) == NULL ||
	    (a->steps = calloc(AUDIT_CHUNK, sizeof(*a->steps))) == NULL ||
	    (a->listed = calloc(AUDIT_CUSTOMERS, sizeof(*a->listed))) ==
	    NULL) {
		rc = STORE_NOMEM;
		goto out;
	}
	if ((rc = audit_read(a, audit_begin)) != STORE_OK ||
	    (rc = audit_read(a, audit_ends)) != STORE_OK)
		goto out;
	rc = audit_log(a);
	/* After a hole (told) the log cannot be counted, but the rest can. */
	if (rc != STORE_OK && rc != AUDIT_HOLE)
		goto out;
	whole = rc == STORE_OK;
	if ((rc = audit_tenants(a)) != STORE_OK ||
	    (whole && (rc = audit_usage(a)) != STORE_OK))
		goto out;
	for (i = 0; i < a->ntenants; i++)
		for (env = STORE_ENV_TEST; env <= STORE_ENV_LIVE; env++)
			if ((rc = audit_customers(a, a->tenants[i],
			    (enum store_env)env)) != STORE_OK ||
			    (rc = audit_checkpoints(a, res, a->tenants[i],
			    (enum store_env)env)) != STORE_OK ||
			    (rc = audit_search(a, a->tenants[i],
			    (enum store_env)env)) != STORE_OK)
				goto out;
out:
	audit_free(a);
	return rc;
}
