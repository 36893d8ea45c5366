/*
 * The audit of checkpoints (SPEC 4.4, docs/receipt.md).  Each one is
 * derived again and compared: its statement from its fields; its
 * signature with the key it names; which of its customer's seqs it
 * covers, how many, their exact sum and proofRoot, and its through seq,
 * from the customer's positions and deltas; its startingBalance from its
 * predecessor; its rootHash from the head of its treeSize.  And each of
 * its indexes (by id, by proof root, by customer and month) must lead to
 * it.
 *
 * A tenant+env's checkpoints are listed from its tenant index, newest
 * first, CHK_LIST entries to a read, each read resuming at the position
 * of the last entry the one before it read: checkpoints made meanwhile
 * come before it and are not listed.  Each listed checkpoint is then
 * checked in reads of its own, its deltas AUDIT_CHUNK to a read.
 *
 * Last the tenant index and the customer indexes are compared as sets
 * of ids, to find a checkpoint that one holds and the other does not:
 * up to CHK_SET ids at a time, so a tenant with more is compared in
 * passes, each over the ids of one hash bucket.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/decimal.h"
#include "../common/grow.h"
#include "../common/hex.h"
#include "../common/timefmt.h"
#include "../crypto/hash.h"
#include "../crypto/merkle.h"
#include "apikey.h"
#include "audit_internal.h"
#include "checkpoint.h"

#define CHK_LIST	AUDIT_CHUNK	/* index entries per listing read */
#define CHK_SET		65536		/* ids compared per pass */
#define CHK_WINDOW	48		/* statement bytes shown, at most */
#define CHK_MONTH_MIN	(1970 * 12)	/* the months timefmt knows */
#define CHK_MONTH_MAX	(9999 * 12 + 11)
#define CHK_WHAT	(STORE_ID_MAX + AUDIT_NAME + TIMEFMT_PERIOD_LEN + 8)
#define CHK_HEX		HEX_0X_SIZE(STORE_HASH_LEN)

typedef char	chk_id[STORE_ID_MAX + 1];

/* Why a read of the checkpoints ended early. */
enum {
	CHK_UNKNOWN = STORE_USER,	/* the log cannot say: told */
	CHK_LEFT		/* where the listing resumes is gone */
};

/* An id of one index, and whether the other has it. */
struct chk_member {
	chk_id		id;
	int		found;
};

/* The checkpoint being checked, and what the log says it should hold. */
struct chk_one {
	struct store_checkpoint	 c;
	struct store_checkpoint	 other;		/* what else a read needs */
	struct store_checkpoint	 scratch;
	char			 what[CHK_WHAT];   /* "id (customer month)" */
	int			 found;
	int			 run_known;	/* lo and hi */
	int			 sums_known;	/* edge and net */
	uint64_t		 lo, hi;	/* its run: seqs lo+1..hi */
	uint64_t		 start;		/* version 2: its predecessor's
						   end (or start) + 1 */
	int			 start_known;
	uint64_t		 next;		/* the run's next seq to read */
	struct merkle_edge	 edge, saved;
	decimal_t		 net, saved_net;
};

/* The listing of the tenant index, in reads of CHK_LIST entries. */
struct chk_listing {
	chk_id			*list;		/* this read's, of this pass */
	size_t			 nlist, nread;
	int			 more;
	int			 cut;		/* a bad entry ended it */
	int			 quiet;		/* listed before: told */
	chk_id			 from;		/* the last entry read */
	uint64_t		 from_at;	/* and its position */
	chk_id			 last;
	uint64_t		 last_at;
	int			 resumed;	/* from is yet to be met */
	chk_id			 first;		/* the newest when it began */
};

/* The walk over the customer indexes, AUDIT_CUSTOMERS to a read. */
struct chk_custwalk {
	char			(*custs)[STORE_CUSTOMER_MAX + 1];
	size_t			 ncusts;
	int			 more;
	char			 from[STORE_CUSTOMER_MAX + 1];
	int			 skip;		/* from was walked */
	const char		*cur;
	struct chk_member	*extra;		/* not in the tenant index */
	size_t			 nextra, capextra;
	char			(*cut)[STORE_CUSTOMER_MAX + 1];
	size_t			 ncut, capcut;
};

struct chk {
	struct audit		*a;
	struct audit_result	*res;
	char			 tenant[STORE_TENANT_MAX + 1];
	enum store_env		 env;
	char			 scope[STORE_TENANT_MAX + 8];	/* tenant/env */
	struct chk_listing	 ls;
	int			 tenant_cut;	/* the first listing's cut */
	uint64_t		 listed;
	/* This pass's ids of the tenant index, sorted. */
	unsigned		 npass, pass;
	struct chk_member	*set;
	size_t			 nset, capset;
	struct chk_custwalk	 cw;
	/* The checkpoint being checked. */
	const char		*id;
	const char		*note;		/* told with its name, if set */
	struct chk_one		 one;
};

static void
chk_what(char out[CHK_WHAT], const struct store_checkpoint *c)
{
	char	name[AUDIT_NAME], period[TIMEFMT_PERIOD_LEN];

	audit_name(name, c->tenant, c->env, c->customer_id);
	timefmt_period(c->month, period);
	snprintf(out, CHK_WHAT, "%s (%s %s)", c->id, name, period);
}

static void
chk_hex(const uint8_t h[STORE_HASH_LEN], char out[CHK_HEX])
{
	hex_encode_0x(h, STORE_HASH_LEN, out);
}

/* The pass an id is compared in. */
static unsigned
chk_bucket(const struct chk *x, const char *id)
{
	uint32_t	h = 2166136261u;	/* FNV-1a */

	if (x->npass <= 1)
		return 0;
	while (*id != '\0')
		h = (h ^ (uint8_t)*id++) * 16777619u;
	return h % x->npass;
}

static int
chk_member_add(struct chk_member **v, size_t *n, size_t *cap, const char *id)
{
	if (grow(v, cap, *n + 1, sizeof(**v)) < 0)
		return STORE_NOMEM;
	snprintf((*v)[*n].id, sizeof((*v)[*n].id), "%s", id);
	(*v)[(*n)++].found = 0;
	return STORE_OK;
}

static int
chk_member_cmp(const void *x, const void *y)
{
	const struct chk_member	*mx = x, *my = y;

	return strcmp(mx->id, my->id);
}

static int
chk_member_key(const void *key, const void *m)
{
	return strcmp(key, ((const struct chk_member *)m)->id);
}

/*
 * One checkpoint: its record and everything a read of O(log n) records
 * can say; its run of deltas after (chk_run_read).
 */

/* Up to max bytes of s from from on, as a problem can show them. */
static void
chk_window(const char *s, size_t from, size_t max, char out[CHK_WINDOW + 1])
{
	size_t	i;

	for (i = 0; i < max && i < CHK_WINDOW && s[from + i] != '\0'; i++)
		out[i] = s[from + i] >= 0x20 && s[from + i] < 0x7f &&
		    s[from + i] != '\'' ? s[from + i] : '?';
	out[i] = '\0';
}

/*
 * The signed bytes against the statement its fields make; where they
 * differ, told by member (its name, then the bytes from the difference
 * or the member's start if near).
 */
static void
chk_statement(struct chk *x)
{
	struct chk_one	*o = &x->one;
	const char	*s = o->c.statement, *f = o->other.statement;
	char		 name[CHK_WINDOW + 1];
	char		 got[CHK_WINDOW + 1], want[CHK_WINDOW + 1];
	size_t		 i, from, len;

	o->other = o->c;
	if (checkpoint_statement(&o->other) < 0) {
		audit_problem(x->a, "checkpoint %s: its fields do not fit in a "
		    "statement", o->what);
		return;
	}
	for (i = 0; s[i] != '\0' && s[i] == f[i]; i++)
		continue;
	if (s[i] == f[i])
		return;
	for (from = i; from > 0 && s[from - 1] != ',' && s[from - 1] != '{';
	    from--)
		continue;
	for (len = 0; s[from] == '"' && s[from + 1 + len] != '\0' &&
	    s[from + 1 + len] != '"'; len++)
		continue;
	chk_window(s, from + 1, len, name);
	if (i - from > CHK_WINDOW / 2)
		from = i - CHK_WINDOW / 2;
	chk_window(s, from, CHK_WINDOW, got);
	chk_window(f, from, CHK_WINDOW, want);
	audit_problem(x->a, "checkpoint %s: its statement and its fields "
	    "differ at byte %zu%s%s: statement '%s', from the fields '%s'",
	    o->what, i, name[0] != '\0' ? ", in " : "", name, got, want);
}

/*
 * The key key_id names, as the audit read it when it began or, if added
 * since, as stored now: NULL if there is none that parses.  *own is
 * the caller's to free.
 */
static int
chk_key(struct chk *x, struct store_txn *t, const char *key_id,
    struct store_signkey *rec, const struct sigkey **key,
    struct sigkey **own)
{
	const struct audit_key	*k;
	int			 rc;

	*key = NULL;
	*own = NULL;
	memset(rec, 0, sizeof(*rec));
	if ((k = audit_find_key(x->a, key_id)) != NULL) {
		*key = k->key;
		*rec = k->rec;
		return STORE_OK;
	}
	rc = store_signkey_get(t, key_id, rec);
	if (rc == STORE_NOTFOUND || rc == STORE_CORRUPT)
		return STORE_OK;
	if (rc == STORE_OK && sigkey_from_public_pem(rec->pem,
	    strlen(rec->pem), own) == 0)
		*key = *own;
	return rc;
}

static int
chk_signature(struct chk *x, struct store_txn *t)
{
	struct chk_one		*o = &x->one;
	struct store_signkey	 rec;
	const struct sigkey	*key;
	struct sigkey		*own;
	int			 rc;

	if ((rc = chk_key(x, t, o->c.key_id, &rec, &key, &own)) != STORE_OK)
		return rc;
	if (key == NULL) {
		audit_problem(x->a, "checkpoint %s: signed by unknown key %s",
		    o->what, o->c.key_id);
		return STORE_OK;
	}
	if (strcmp(o->c.alg, rec.alg) != 0)
		audit_problem(x->a, "checkpoint %s: alg: stored %s, key %s is "
		    "%s", o->what, o->c.alg, o->c.key_id, rec.alg);
	if (sigkey_verify(key, o->c.statement, strlen(o->c.statement),
	    o->c.sig, o->c.sig_len) != 0)
		audit_problem(x->a, "checkpoint %s: its signature does not "
		    "verify with key %s", o->what, o->c.key_id);
	sigkey_free(own);
	return STORE_OK;
}

/*
 * Whether p's fields are those of its statement, the bytes it signed
 * (its own check verifies the signature: a flipped byte anywhere in p
 * shows here already, and one verification each is enough).
 */
static int
chk_as_signed(struct chk *x, const struct store_checkpoint *p)
{
	struct store_checkpoint	*again = &x->one.scratch;

	*again = *p;
	return checkpoint_statement(again) == 0 &&
	    strcmp(again->statement, p->statement) == 0;
}

/* rootHash against the stored head of treeSize. */
static int
chk_head(struct chk *x, struct store_txn *t)
{
	struct chk_one		*o = &x->one;
	struct store_sth	 h;
	char			 h1[CHK_HEX], h2[CHK_HEX];
	unsigned long long	 size = o->c.tree_size;
	int			 rc;

	rc = store_sth_get(t, o->c.tree_size, &h);
	if (rc == STORE_NOTFOUND || rc == STORE_CORRUPT) {
		audit_problem(x->a, "checkpoint %s: treeSize %llu: %s", o->what,
		    size, rc == STORE_NOTFOUND ? "no signed tree head of that "
		    "size" : "the head of that size does not decode");
		return STORE_OK;
	} else if (rc != STORE_OK)
		return rc;
	if (!hash_equal(h.root, o->c.root_hash, STORE_HASH_LEN)) {
		chk_hex(o->c.root_hash, h1);
		chk_hex(h.root, h2);
		audit_problem(x->a, "checkpoint %s: rootHash: stored %s, the "
		    "head of size %llu has %s", o->what, h1, size, h2);
	}
	return STORE_OK;
}

/* Whether p can precede c: the same customer's, of no later month. */
static int
chk_precedes(struct chk *x, const struct store_checkpoint *p)
{
	const struct store_checkpoint	*c = &x->one.c;
	const char			*what = x->one.what;
	char				 name[AUDIT_NAME], when[TIMEFMT_LEN];
	int				 fits = 1;

	if (strcmp(p->tenant, c->tenant) != 0 || p->env != c->env ||
	    strcmp(p->customer_id, c->customer_id) != 0) {
		audit_name(name, p->tenant, p->env, p->customer_id);
		audit_problem(x->a, "checkpoint %s: previous checkpoint %s is "
		    "customer %s's", what, p->id, name);
		fits = 0;
	} else if (p->month > c->month) {
		timefmt_period(p->month, when);
		audit_problem(x->a, "checkpoint %s: previous checkpoint %s is "
		    "of a later month, %s", what, p->id, when);
		fits = 0;
	}
	if (p->created_ms > c->created_ms) {
		timefmt_rfc3339(p->created_ms, when);
		audit_problem(x->a, "checkpoint %s: previous checkpoint %s was "
		    "made after it, at %s", what, p->id, when);
	}
	return fits;
}

/*
 * The predecessor, and the startingBalance it gives: 0 with none, its
 * own start again for the same month, its end for an earlier one.  Its
 * balances count only as its statement has them: a predecessor altered
 * since is told where it is, and not again in every checkpoint after.
 */
static int
chk_previous(struct chk *x, struct store_txn *t)
{
	struct chk_one			*o = &x->one;
	const struct store_checkpoint	*c = &o->c, *p = &o->other;
	char				 v1[DECIMAL_MAX], v2[DECIMAL_MAX];
	decimal_t			 want = 0;
	int				 rc;

	if (c->previous[0] != '\0') {
		if (strcmp(c->previous, c->id) == 0) {
			audit_problem(x->a, "checkpoint %s: it names itself as "
			    "its previous checkpoint", o->what);
			return STORE_OK;
		}
		rc = store_checkpoint_get(t, c->previous, &o->other);
		if (rc == STORE_NOTFOUND || rc == STORE_CORRUPT) {
			audit_problem(x->a, "checkpoint %s: previous "
			    "checkpoint %s %s", o->what, c->previous,
			    rc == STORE_NOTFOUND ? "does not exist" :
			    "does not decode");
			return STORE_OK;
		} else if (rc != STORE_OK)
			return rc;
		if (!chk_precedes(x, p) || !chk_as_signed(x, p))
			return STORE_OK;
		want = p->month == c->month ? p->starting :
		    p->starting + p->net;
	}
	o->start = checkpoint_run_start(c->previous[0] != '\0' ? p : NULL,
	    c->month);
	o->start_known = 1;
	if (c->starting == want)
		return STORE_OK;
	decimal_format(c->starting, v1);
	decimal_format(want, v2);
	if (c->previous[0] == '\0')
		audit_problem(x->a, "checkpoint %s: startingBalance: stored "
		    "%s, expected %s, as it has no previous checkpoint",
		    o->what, v1, v2);
	else
		audit_problem(x->a, "checkpoint %s: startingBalance: stored "
		    "%s, expected %s, the %s of previous checkpoint %s",
		    o->what, v1, v2, p->month == c->month ? "start" : "end",
		    p->id);
	return STORE_OK;
}

/*
 * Its indexes by proof root and by customer and month, which answer with
 * the newest that fits: one with the same root (two empty months share
 * theirs), or one of the same month made no earlier.
 */
static int
chk_indexes(struct chk *x, struct store_txn *t)
{
	struct chk_one		*o = &x->one;
	const struct store_checkpoint *c = &o->c, *f = &o->other;
	char			 what[CHK_WHAT];
	int			 rc;

	rc = store_checkpoint_by_root(t, c->proof_root, &o->other);
	if (rc != STORE_OK && rc != STORE_NOTFOUND && rc != STORE_CORRUPT)
		return rc;
	if (rc != STORE_OK || !hash_equal(f->proof_root, c->proof_root,
	    STORE_HASH_LEN))
		audit_problem(x->a, "checkpoint %s: the proofRoot index does "
		    "not lead to it", o->what);
	rc = store_checkpoint_latest(t, c->tenant, c->env, c->customer_id,
	    c->month, &o->other);
	if (rc != STORE_OK && rc != STORE_NOTFOUND && rc != STORE_CORRUPT)
		return rc;
	if (rc != STORE_OK)
		audit_problem(x->a, "checkpoint %s: its customer's index does "
		    "not lead to it", o->what);
	else if (strcmp(f->id, c->id) != 0 && (f->month != c->month ||
	    f->created_ms < c->created_ms)) {
		chk_what(what, f);
		audit_problem(x->a, "checkpoint %s: its customer's index leads "
		    "to %s instead", o->what, what);
	}
	return STORE_OK;
}

/*
 * The customer's last seq in 0..last recorded before ms and below the
 * checkpoint's treeSize, 0 for none.  Seqs are in time and log order,
 * so those are a prefix, and its end is found in O(log n) positions.
 */
static int
chk_seq_before(struct chk *x, struct store_txn *t, uint64_t last,
    int64_t ms, uint64_t *out)
{
	const struct store_checkpoint	*c = &x->one.c;
	struct store_custpos		 p;
	uint64_t			 lo = 0, hi = last + 1, mid;
	int				 rc;

	while (hi - lo > 1) {		/* lo in the prefix (or 0), hi not */
		mid = lo + (hi - lo) / 2;
		rc = store_custpos_get(t, c->tenant, c->env, c->customer_id,
		    mid, &p);
		if (rc == STORE_NOTFOUND || rc == STORE_CORRUPT)
			return CHK_UNKNOWN;	/* the customer walk tells */
		if (rc != STORE_OK)
			return rc;
		if (p.created_ms < ms && p.log_index < c->tree_size)
			lo = mid;
		else
			hi = mid;
	}
	*out = lo;
	return STORE_OK;
}

/*
 * Its run as the log has it, through the last seq recorded before the
 * month ended below treeSize (which is also the through seq): from its
 * predecessor's end for a version 2 checkpoint (SPEC 3.6), and for one
 * of version 1, from the first seq recorded in the month.
 */
static int
chk_run_ends(struct chk *x, struct store_txn *t)
{
	struct chk_one		*o = &x->one;
	const struct store_checkpoint *c = &o->c;
	struct store_customer	 cust;
	int			 rc;

	rc = store_customer_get(t, c->tenant, c->env, c->customer_id, &cust);
	if (rc == STORE_NOTFOUND || rc == STORE_CORRUPT)
		return STORE_OK;	/* the log walk tells */
	if (rc != STORE_OK)
		return rc;
	if (c->version >= 2 && !o->start_known)
		return STORE_OK;	/* its predecessor's problem was told */
	o->lo = o->start - 1;
	if ((c->version >= 2 || (rc = chk_seq_before(x, t, cust.last_seq,
	    timefmt_month_start(c->month), &o->lo)) == STORE_OK) &&
	    (rc = chk_seq_before(x, t, cust.last_seq,
	    timefmt_month_start(c->month + 1), &o->hi)) == STORE_OK)
		o->run_known = 1;
	return rc == CHK_UNKNOWN ? STORE_OK : rc;
}

static int
chk_record_read(struct store_txn *t, void *arg)
{
	struct chk	*x = arg;
	struct chk_one	*o = &x->one;
	int		 rc;

	o->found = o->run_known = o->start_known = 0;
	rc = store_checkpoint_get(t, x->id, &o->c);
	if (rc == STORE_NOTFOUND || rc == STORE_CORRUPT) {
		audit_problem(x->a, "checkpoint %s: %s", x->id,
		    rc == STORE_NOTFOUND ? "indexed, but no record" :
		    "its record does not decode");
		return STORE_OK;
	} else if (rc != STORE_OK)
		return rc;
	o->found = 1;
	chk_what(o->what, &o->c);
	if (x->note != NULL)
		audit_problem(x->a, "checkpoint %s: %s", o->what, x->note);
	if (o->c.month < CHK_MONTH_MIN || o->c.month > CHK_MONTH_MAX) {
		audit_problem(x->a, "checkpoint %s: month %d is not one of "
		    "1970-01..9999-12", o->what, o->c.month);
		return STORE_OK;
	}
	chk_statement(x);
	if ((rc = chk_signature(x, t)) != STORE_OK ||
	    (rc = chk_head(x, t)) != STORE_OK ||
	    (rc = chk_previous(x, t)) != STORE_OK ||
	    (rc = chk_indexes(x, t)) != STORE_OK)
		return rc;
	return chk_run_ends(x, t);
}

/* AUDIT_CHUNK seqs of the run: their leaf hashes and amounts. */
static int
chk_run_read(struct store_txn *t, void *arg)
{
	struct chk			*x = arg;
	struct chk_one			*o = &x->one;
	const struct store_checkpoint	*c = &o->c;
	struct store_custpos		 p;
	struct store_delta		 d;
	decimal_t			 amount;
	uint64_t			 seq, end;
	int				 rc;

	o->edge = o->saved;
	o->net = o->saved_net;
	end = o->hi - o->next >= AUDIT_CHUNK ? o->next + AUDIT_CHUNK - 1 :
	    o->hi;
	for (seq = o->next; seq <= end; seq++) {
		rc = store_custpos_get(t, c->tenant, c->env, c->customer_id,
		    seq, &p);
		if (rc == STORE_OK)
			rc = store_delta_get(t, p.log_index, &d);
		/* Positions and deltas are the customer walk's to tell. */
		if (rc == STORE_NOTFOUND || rc == STORE_CORRUPT)
			return CHK_UNKNOWN;
		if (rc != STORE_OK)
			return rc;
		if (strcmp(d.tenant, c->tenant) != 0 || d.env != c->env ||
		    strcmp(d.customer_id, c->customer_id) != 0 ||
		    d.seq != seq || decimal_parse(d.delta, strlen(d.delta),
		    &amount) != DECIMAL_OK)
			rc = CHK_UNKNOWN;
		else if (merkle_edge_append(&o->edge, d.leaf_hash, NULL,
		    NULL) != 0)
			rc = STORE_NOMEM;
		else
			o->net += amount;
		store_delta_free(&d);
		if (rc != STORE_OK)
			return rc;
	}
	o->saved = o->edge;
	o->saved_net = o->net;
	o->next = end + 1;
	return STORE_OK;
}

static void
chk_run_compare(struct chk *x)
{
	struct chk_one			*o = &x->one;
	const struct store_checkpoint	*c = &o->c;
	unsigned long long		 n = o->hi - o->lo;
	merkle_hash			 root;
	char				 v1[DECIMAL_MAX], v2[DECIMAL_MAX];
	char				 h1[CHK_HEX], h2[CHK_HEX];
	int				 same;

	if (!o->run_known)
		return;		/* what hid it was told */
	/* An empty run is stored as any first_seq, last_seq one before. */
	same = n == 0 ? c->count == 0 && c->last_seq < c->first_seq :
	    c->first_seq == o->lo + 1 && c->last_seq == o->hi &&
	    c->count == n;
	if (!same)
		audit_problem(x->a, "checkpoint %s: deltas: stored seqs "
		    "%llu..%llu, count %llu; expected seqs %llu..%llu, count "
		    "%llu", o->what, (unsigned long long)c->first_seq,
		    (unsigned long long)c->last_seq,
		    (unsigned long long)c->count,
		    (unsigned long long)o->lo + 1, (unsigned long long)o->hi,
		    n);
	if (c->through_seq != o->hi)
		audit_problem(x->a, "checkpoint %s: through seq: stored %llu, "
		    "expected %llu", o->what,
		    (unsigned long long)c->through_seq,
		    (unsigned long long)o->hi);
	if (!o->sums_known)
		return;
	if (c->net != o->net) {
		decimal_format(c->net, v1);
		decimal_format(o->net, v2);
		audit_problem(x->a, "checkpoint %s: netChange: stored %s, "
		    "expected %s", o->what, v1, v2);
	}
	if (merkle_edge_root(&o->edge, root) == 0 &&
	    !hash_equal(root, c->proof_root, STORE_HASH_LEN)) {
		chk_hex(c->proof_root, h1);
		chk_hex(root, h2);
		audit_problem(x->a, "checkpoint %s: proofRoot: stored %s, "
		    "expected %s", o->what, h1, h2);
	}
}

/* Checks checkpoint id; note (if not NULL) is told with its name. */
static int
chk_check(struct chk *x, const char *id, const char *note)
{
	struct chk_one	*o = &x->one;
	int		 rc;

	x->id = id;
	x->note = note;
	if ((rc = audit_read_with(x->a, chk_record_read, x)) != STORE_OK ||
	    !o->found)
		return rc;
	x->res->checkpoints++;
	o->sums_known = o->run_known;
	memset(&o->saved, 0, sizeof(o->saved));
	o->saved_net = 0;
	o->edge = o->saved;
	o->net = 0;
	o->next = o->lo + 1;
	while (o->sums_known && o->next <= o->hi) {
		rc = audit_read_with(x->a, chk_run_read, x);
		if (rc == CHK_UNKNOWN)
			o->sums_known = 0;
		else if (rc != STORE_OK)
			return rc;
	}
	chk_run_compare(x);
	return STORE_OK;
}

/*
 * The tenant index, listed from its newest entry, CHK_LIST entries to a
 * read, keeping the ids of this pass's bucket.
 */

static int
chk_list_entry(const struct store_checkpoint *c, uint64_t at, void *arg)
{
	struct chk	*x = arg;
	char		 what[CHK_WHAT];

	if (x->ls.resumed) {
		/* A read resumes at the entry the last one ended with. */
		if (at != x->ls.from_at || strcmp(c->id, x->ls.from) != 0)
			return CHK_LEFT;
		x->ls.resumed = 0;
		return STORE_OK;
	}
	if (x->ls.nread == CHK_LIST) {
		x->ls.more = 1;
		return STORE_STOP;
	}
	if (x->ls.from[0] == '\0' && x->ls.nread == 0)
		snprintf(x->ls.first, sizeof(x->ls.first), "%s", c->id);
	x->ls.nread++;
	snprintf(x->ls.last, sizeof(x->ls.last), "%s", c->id);
	x->ls.last_at = at;
	if (strcmp(c->tenant, x->tenant) != 0 || c->env != x->env) {
		chk_what(what, c);
		if (!x->ls.quiet)
			audit_problem(x->a, "checkpoint %s: listed among the "
			    "checkpoints of %s", what, x->scope);
		return STORE_OK;
	}
	if (chk_bucket(x, c->id) == x->pass)
		memcpy(x->ls.list[x->ls.nlist++], c->id, sizeof(chk_id));
	return STORE_OK;
}

static int
chk_list_read(struct store_txn *t, void *arg)
{
	struct chk	*x = arg;
	const char	*after;
	int		 rc;

	x->ls.nlist = x->ls.nread = 0;
	x->ls.more = 0;
	x->ls.resumed = x->ls.from[0] != '\0';
	if (!x->ls.resumed)
		x->ls.first[0] = '\0';
	rc = store_checkpoint_each_from(t, x->tenant, x->env, x->ls.from_at,
	    chk_list_entry, x);
	if (rc == STORE_STOP)
		return STORE_OK;
	if (rc == STORE_CORRUPT) {
		/* The store does not say which: the entry after the last. */
		x->ls.cut = 1;
		after = x->ls.nread > 0 ? x->ls.last : x->ls.from;
		if (!x->ls.quiet)
			audit_problem(x->a, "checkpoints of %s: %s%s, the "
			    "tenant index names a checkpoint whose record is "
			    "missing or does not decode; the index cannot be "
			    "read past it", x->scope, after[0] != '\0' ?
			    "after " : "first", after);
		return STORE_OK;
	}
	if (rc == CHK_LEFT || (rc == STORE_OK && x->ls.resumed)) {
		rc = STORE_OK;
		x->ls.cut = 1;
		if (!x->ls.quiet)
			audit_problem(x->a, "checkpoints of %s: %s left the "
			    "tenant index while it was read", x->scope,
			    x->ls.from);
	}
	return rc;
}

/* Lists the tenant index, handing each read's ids to fn. */
static int
chk_list(struct chk *x, int (*fn)(struct chk *))
{
	int	rc;

	x->ls.from[0] = '\0';
	x->ls.from_at = 0;
	x->ls.cut = 0;
	do {
		if ((rc = audit_read_with(x->a, chk_list_read, x)) !=
		    STORE_OK || (rc = fn(x)) != STORE_OK)
			return rc;
		if (x->ls.nread > 0) {
			memcpy(x->ls.from, x->ls.last, sizeof(x->ls.from));
			x->ls.from_at = x->ls.last_at;
		}
	} while (x->ls.more);
	return STORE_OK;
}

static int
chk_set_fill(struct chk *x)
{
	size_t	i;
	int	rc;

	for (i = 0; i < x->ls.nlist; i++)
		if ((rc = chk_member_add(&x->set, &x->nset, &x->capset,
		    x->ls.list[i])) != STORE_OK)
			return rc;
	return STORE_OK;
}

/* Checks what a read listed; the first CHK_SET ids are the first set. */
static int
chk_check_listed(struct chk *x)
{
	size_t	i;
	int	rc;

	x->listed += x->ls.nlist;
	if (x->listed <= CHK_SET && (rc = chk_set_fill(x)) != STORE_OK)
		return rc;
	for (i = 0; i < x->ls.nlist; i++)
		if ((rc = chk_check(x, x->ls.list[i], NULL)) != STORE_OK)
			return rc;
	return STORE_OK;
}

/* Sorts the pass's ids, for bsearch, each once. */
static void
chk_set_sort(struct chk *x)
{
	size_t	i, n = 0;

	if (x->nset > 1)
		qsort(x->set, x->nset, sizeof(*x->set), chk_member_cmp);
	for (i = 0; i < x->nset; i++) {
		if (n > 0 && strcmp(x->set[n - 1].id, x->set[i].id) == 0) {
			audit_problem(x->a, "checkpoint %s: listed twice in "
			    "the tenant index of %s", x->set[i].id, x->scope);
			continue;
		}
		x->set[n++] = x->set[i];
	}
	x->nset = n;
}

/*
 * The customer indexes, each customer's read whole (it has a few a
 * month), against this pass's ids of the tenant index.
 */

static int
chk_cut_add(struct chk *x, const char *customer)
{
	size_t	 i;

	for (i = 0; i < x->cw.ncut; i++)
		if (strcmp(x->cw.cut[i], customer) == 0)
			return STORE_OK;
	if (grow(&x->cw.cut, &x->cw.capcut, x->cw.ncut + 1,
	    sizeof(*x->cw.cut)) < 0)
		return STORE_NOMEM;
	snprintf(x->cw.cut[x->cw.ncut++], sizeof(*x->cw.cut), "%s",
	    customer);
	return STORE_OK;
}

static int
chk_cust_listed(const char *id, const struct store_customer *c, void *arg)
{
	struct chk	*x = arg;

	(void)c;
	if (x->cw.skip && strcmp(id, x->cw.from) == 0)
		return STORE_OK;
	if (x->cw.ncusts == AUDIT_CUSTOMERS) {
		x->cw.more = 1;
		return STORE_STOP;
	}
	snprintf(x->cw.custs[x->cw.ncusts++], sizeof(*x->cw.custs), "%s", id);
	return STORE_OK;
}

static int
chk_cust_entry(const struct store_checkpoint *c, void *arg)
{
	struct chk		*x = arg;
	struct chk_member	*m;
	char			 what[CHK_WHAT], name[AUDIT_NAME];

	if (strcmp(c->tenant, x->tenant) != 0 || c->env != x->env ||
	    strcmp(c->customer_id, x->cw.cur) != 0) {
		chk_what(what, c);
		audit_name(name, x->tenant, x->env, x->cw.cur);
		if (x->pass == 0)
			audit_problem(x->a, "checkpoint %s: listed among the "
			    "checkpoints of customer %s", what, name);
		return STORE_OK;
	}
	if (chk_bucket(x, c->id) != x->pass)
		return STORE_OK;
	m = x->nset == 0 ? NULL : bsearch(c->id, x->set, x->nset, sizeof(*m),
	    chk_member_key);
	if (m != NULL) {
		m->found = 1;
		return STORE_OK;
	}
	return chk_member_add(&x->cw.extra, &x->cw.nextra, &x->cw.capextra,
	    c->id);
}

static int
chk_cust_read(struct store_txn *t, void *arg)
{
	struct chk	*x = arg;
	char		 name[AUDIT_NAME];
	size_t		 i;
	int		 rc;

	x->cw.ncusts = 0;
	x->cw.more = 0;
	x->cw.nextra = 0;
	rc = store_customer_each_from(t, x->tenant, x->env, x->cw.from,
	    chk_cust_listed, x);
	if (rc != STORE_OK && rc != STORE_STOP)
		return rc;
	for (i = 0; i < x->cw.ncusts; i++) {
		x->cw.cur = x->cw.custs[i];
		rc = store_checkpoint_each(t, x->tenant, x->env, x->cw.cur,
		    chk_cust_entry, x);
		if (rc == STORE_CORRUPT) {
			audit_name(name, x->tenant, x->env, x->cw.cur);
			if (x->pass == 0)
				audit_problem(x->a, "customer %s: its "
				    "checkpoint index names a checkpoint whose "
				    "record is missing or does not decode",
				    name);
			rc = chk_cut_add(x, x->cw.cur);
		}
		if (rc != STORE_OK)
			return rc;
	}
	return STORE_OK;
}

/* The tenant index from its start to where the listing began. */
static int
chk_new_entry(const struct store_checkpoint *c, void *arg)
{
	struct chk	*x = arg;
	size_t		 i;

	if (x->ls.first[0] != '\0' && strcmp(c->id, x->ls.first) == 0)
		return STORE_STOP;
	for (i = 0; i < x->cw.nextra; i++)
		if (strcmp(x->cw.extra[i].id, c->id) == 0)
			x->cw.extra[i].found = 1;
	return STORE_OK;
}

static int
chk_new_read(struct store_txn *t, void *arg)
{
	struct chk	*x = arg;
	size_t		 i;
	int		 rc;

	for (i = 0; i < x->cw.nextra; i++)
		x->cw.extra[i].found = 0;
	rc = store_checkpoint_each(t, x->tenant, x->env, NULL, chk_new_entry,
	    x);
	return rc == STORE_STOP || rc == STORE_CORRUPT ? STORE_OK : rc;
}

/*
 * Ids a customer index has and the listing had not: made since it
 * began (ahead of its first in the tenant index now), or missing from
 * the tenant index, and so not checked yet.
 */
static int
chk_extras(struct chk *x)
{
	size_t	i;
	int	rc;

	if (x->cw.nextra == 0)
		return STORE_OK;
	if ((rc = audit_read_with(x->a, chk_new_read, x)) != STORE_OK)
		return rc;
	for (i = 0; i < x->cw.nextra; i++) {
		if (x->cw.extra[i].found)
			continue;
		/* Past a bad entry the tenant index is not read: told. */
		rc = chk_check(x, x->cw.extra[i].id, x->tenant_cut ? NULL :
		    "found through its customer's index, but not through the "
		    "tenant index");
		if (rc != STORE_OK)
			return rc;
	}
	return STORE_OK;
}

static int
chk_walk(struct chk *x)
{
	int	rc;

	x->cw.from[0] = '\0';
	x->cw.skip = 0;
	do {
		if ((rc = audit_read_with(x->a, chk_cust_read, x)) !=
		    STORE_OK || (rc = chk_extras(x)) != STORE_OK)
			return rc;
		if (x->cw.ncusts > 0) {
			memcpy(x->cw.from, x->cw.custs[x->cw.ncusts - 1],
			    sizeof(x->cw.from));
			x->cw.skip = 1;
		}
	} while (x->cw.more);
	return STORE_OK;
}

static int
chk_describe_read(struct store_txn *t, void *arg)
{
	struct chk	*x = arg;
	int		 rc;

	rc = store_checkpoint_get(t, x->id, &x->one.other);
	x->one.found = rc == STORE_OK;
	return rc == STORE_NOTFOUND || rc == STORE_CORRUPT ? STORE_OK : rc;
}

/* Ids of the tenant index no customer index had. */
static int
chk_unmatched(struct chk *x)
{
	const struct store_checkpoint	*c = &x->one.other;
	char				 what[CHK_WHAT];
	size_t				 i, j;
	int				 rc;

	for (i = 0; i < x->nset; i++) {
		if (x->set[i].found)
			continue;
		x->id = x->set[i].id;
		if ((rc = audit_read_with(x->a, chk_describe_read, x)) !=
		    STORE_OK)
			return rc;
		if (!x->one.found) {
			snprintf(what, sizeof(what), "%s", x->id);
			j = x->cw.ncut;
		} else {
			chk_what(what, c);
			/* Past a bad entry its index is not read: told. */
			for (j = 0; j < x->cw.ncut; j++)
				if (strcmp(x->cw.cut[j],
				    c->customer_id) == 0)
					break;
		}
		if (j == x->cw.ncut)
			audit_problem(x->a, "checkpoint %s: found through the "
			    "tenant index, but not through its customer's "
			    "index", what);
	}
	return STORE_OK;
}

static void
chk_free(struct chk *x)
{
	free(x->ls.list);
	free(x->set);
	free(x->cw.custs);
	free(x->cw.extra);
	free(x->cw.cut);
	free(x);
}

int
audit_checkpoints(struct audit *a, struct audit_result *res,
    const char *tenant, enum store_env env)
{
	struct chk	*x;
	int		 rc;

	if ((x = calloc(1, sizeof(*x))) == NULL)
		return STORE_NOMEM;
	x->a = a;
	x->res = res;
	snprintf(x->tenant, sizeof(x->tenant), "%s", tenant);
	x->env = env;
	snprintf(x->scope, sizeof(x->scope), "%s/%s", tenant,
	    apikey_env_name(env));
	if ((x->ls.list = calloc(CHK_LIST, sizeof(*x->ls.list))) == NULL ||
	    (x->cw.custs = calloc(AUDIT_CUSTOMERS, sizeof(*x->cw.custs))) ==
	    NULL) {
		rc = STORE_NOMEM;
		goto out;
	}
	x->npass = 1;
	if ((rc = chk_list(x, chk_check_listed)) != STORE_OK)
		goto out;
	x->tenant_cut = x->ls.cut;
	x->ls.quiet = 1;
	x->npass = 1 + (x->listed > 0 ? (x->listed - 1) / CHK_SET : 0);
	for (x->pass = 0; x->pass < x->npass; x->pass++) {
		/* One pass: the listing above made the set. */
		if (x->npass > 1) {
			x->nset = 0;
			if ((rc = chk_list(x, chk_set_fill)) != STORE_OK)
				goto out;
		}
		chk_set_sort(x);
		if ((rc = chk_walk(x)) != STORE_OK ||
		    (rc = chk_unmatched(x)) != STORE_OK)
			goto out;
	}
out:
	chk_free(x);
	return rc;
}
