#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/hex.h"
#include "balance.h"

#define FIELD_MAX	96	/* longer than any valid scope value */

/* Reads the scope fields, refusing any that is not a string. */
static int
scope_field(balance_field_fn get, void *arg, const char *name, char *out,
    struct balance_error *err)
{
	int	rc = get(arg, name, out, FIELD_MAX);

	if (rc < 0) {
		err->field = name;
		snprintf(err->message, sizeof(err->message),
		    "%s must be a string of at most %d characters", name,
		    FIELD_MAX - 1);
	}
	return rc;
}

static int
scope_fail(struct balance_error *err, int combination, const char *field,
    const char *message)
{
	err->combination = combination;
	err->field = field;
	snprintf(err->message, sizeof(err->message), "%s", message);
	return -1;
}

static int
scope_checkpoint(struct balance_scope *s, const char *id, const char *type,
    int has_type, struct balance_error *err)
{
	size_t	len = strlen(id);

	if (has_type && strcmp(type, "checkpointId") != 0 &&
	    strcmp(type, "proofRoot") != 0)
		return scope_fail(err, 0, "startingCheckpointType",
		    "startingCheckpointType must be checkpointId or proofRoot");
	if (len > BALANCE_CHECKPOINT_MAX || len == 0)
		return scope_fail(err, 0, "startingCheckpoint",
		    "startingCheckpoint must be a checkpointId or proofRoot");
	s->kind = BALANCE_CHECKPOINT;
	s->by_proof_root = has_type && strcmp(type, "proofRoot") == 0;
	memcpy(s->checkpoint, id, len + 1);
	return 0;
}

static void
scope_month(struct balance_scope *s, enum balance_scope_kind kind, int month)
{
	s->kind = kind;
	s->month = month;
	s->start_ms = timefmt_month_start(month);
	s->end_ms = timefmt_month_start(month + 1);
}

void
balance_scope_month(struct balance_scope *s, int month)
{
	scope_month(s, BALANCE_PERIOD, month);
}

static int
scope_custom(struct balance_scope *s, const char *start, const char *end,
    struct balance_error *err)
{
	if (timefmt_parse_date(start, &s->start_ms) < 0)
		return scope_fail(err, 0, "startDate", "startDate must be a "
		    "date (YYYY-MM-DD) or an RFC 3339 UTC time");
	if (timefmt_parse_date(end, &s->end_ms) < 0)
		return scope_fail(err, 0, "endDate", "endDate must be a "
		    "date (YYYY-MM-DD) or an RFC 3339 UTC time");
	if (s->end_ms <= s->start_ms)
		return scope_fail(err, 0, "endDate",
		    "endDate must be after startDate (endDate is exclusive)");
	s->kind = BALANCE_CUSTOM;
	return 0;
}

int
balance_scope_parse(balance_field_fn get, void *arg, int64_t now_ms,
    struct balance_scope *s, struct balance_error *err)
{
	char	period[FIELD_MAX], preset[FIELD_MAX], start[FIELD_MAX];
	char	end[FIELD_MAX], chk[FIELD_MAX], chktype[FIELD_MAX];
	int	has_period, has_preset, has_start, has_end, has_chk, has_type;
	int	month;

	memset(s, 0, sizeof(*s));
	memset(err, 0, sizeof(*err));
	if ((has_period = scope_field(get, arg, "period", period, err)) < 0 ||
	    (has_preset = scope_field(get, arg, "timePreset", preset,
	    err)) < 0 ||
	    (has_start = scope_field(get, arg, "startDate", start, err)) < 0 ||
	    (has_end = scope_field(get, arg, "endDate", end, err)) < 0 ||
	    (has_chk = scope_field(get, arg, "startingCheckpoint", chk,
	    err)) < 0 ||
	    (has_type = scope_field(get, arg, "startingCheckpointType",
	    chktype, err)) < 0)
		return -1;

	if (has_chk) {
		if (has_period || has_preset || has_start || has_end)
			return scope_fail(err, 1, "startingCheckpoint",
			    "startingCheckpoint combines with no other scope "
			    "field");
		return scope_checkpoint(s, chk, chktype, has_type, err);
	}
	if (has_type)
		return scope_fail(err, 1, "startingCheckpointType",
		    "startingCheckpointType needs startingCheckpoint");
	if (has_period) {
		if (has_preset || has_start || has_end)
			return scope_fail(err, 1, "period", "period combines "
			    "with no other scope field");
		if (timefmt_parse_period(period, &month) < 0)
			return scope_fail(err, 0, "period",
			    "period must be a UTC month, YYYY-MM");
		scope_month(s, BALANCE_PERIOD, month);
		return 0;
	}
	if (has_preset && strcmp(preset, "current_month") != 0 &&
	    strcmp(preset, "custom") != 0)
		return scope_fail(err, 0, "timePreset",
		    "timePreset must be current_month or custom");
	if (has_preset && strcmp(preset, "current_month") == 0) {
		if (has_start || has_end)
			return scope_fail(err, 1, "timePreset", "startDate "
			    "and endDate go only with timePreset=custom");
		scope_month(s, BALANCE_CURRENT_MONTH, timefmt_month(now_ms));
		return 0;
	}
	if (has_start != has_end || (has_preset && !has_start))
		return scope_fail(err, 1, has_start ? "endDate" : "startDate",
		    "startDate and endDate are both needed for a custom "
		    "window");
	if (has_start)
		return scope_custom(s, start, end, err);
	s->kind = BALANCE_ALL;
	return 0;
}

/* One customer, read in one transaction. */
struct cust {
	struct store_txn	*t;
	const char		*tenant;
	enum store_env		 env;
	const char		*id;
};

static int
cust_pos(const struct cust *c, uint64_t seq, struct store_custpos *p)
{
	int	rc;

	rc = store_custpos_get(c->t, c->tenant, c->env, c->id, seq, p);
	/* Every seq up to the customer's last has its position. */
	return rc == STORE_NOTFOUND ? STORE_CORRUPT : rc;
}

/* The sum of the customer's deltas 1..seq. */
static int
cust_sum_through(const struct cust *c, uint64_t seq, decimal_t *sum)
{
	struct store_custpos	p;
	int			rc;

	*sum = 0;
	if (seq == 0)
		return STORE_OK;
	if ((rc = cust_pos(c, seq, &p)) == STORE_OK)
		*sum = p.sum;
	return rc;
}

/* Which ordering of a customer's positions a search follows. */
enum cust_order { BY_LOG_INDEX, BY_TIME };

/*
 * The first seq in 1..last+1 whose position is at or past at (in
 * logIndex or createdAt), by binary search: both grow with seq.
 */
static int
cust_search(const struct cust *c, uint64_t last, enum cust_order order,
    int64_t at, uint64_t *out)
{
	struct store_custpos	p;
	uint64_t		lo = 0, hi = last + 1, mid;
	int64_t			key;
	int			rc;

	while (hi - lo > 1) {		/* lo before at (or 0), hi not */
		mid = lo + (hi - lo) / 2;
		if ((rc = cust_pos(c, mid, &p)) != STORE_OK)
			return rc;
		key = order == BY_TIME ? p.created_ms : (int64_t)p.log_index;
		if (key < at)
			lo = mid;
		else
			hi = mid;
	}
	*out = hi;
	return STORE_OK;
}

/*
 * The last seq a signed head of size tree_size covers: log order is seq
 * order, so the covered deltas are a prefix.  Usually all are covered.
 */
static int
cust_verified(const struct cust *c, uint64_t last, uint64_t tree_size,
    uint64_t *out, uint64_t *last_index)
{
	struct store_custpos	p;
	int			rc;

	*out = 0;
	if (last == 0)
		return STORE_OK;
	if ((rc = cust_pos(c, last, &p)) != STORE_OK)
		return rc;
	*last_index = p.log_index;
	if (p.log_index < tree_size) {
		*out = last;
		return STORE_OK;
	}
	/* last is not covered: the first that is not lies in 1..last. */
	if ((rc = cust_search(c, last - 1, BY_LOG_INDEX, (int64_t)tree_size,
	    out)) == STORE_OK)
		(*out)--;
	return rc;
}

/* The first seq in 1..last+1 recorded at or after ms. */
static int
cust_seq_at(const struct cust *c, uint64_t last, int64_t ms, uint64_t *out)
{
	return cust_search(c, last, BY_TIME, ms, out);
}

/* The checkpoint a scope starts from; it must be this customer's. */
static int
balance_checkpoint(const struct cust *c, const struct balance_scope *s,
    struct store_checkpoint *cp)
{
	uint8_t		 root[STORE_HASH_LEN];
	int		 rc;

	if (s->by_proof_root) {
		if (hex_decode_0x(s->checkpoint, root, sizeof(root),
		    HEX_0X_OPTIONAL | HEX_ANY_CASE) < 0)
			return STORE_NOTFOUND;
		rc = store_checkpoint_by_root(c->t, root, cp);
	} else
		rc = store_checkpoint_get(c->t, s->checkpoint, cp);
	if (rc == STORE_OK && (strcmp(cp->tenant, c->tenant) != 0 ||
	    cp->env != c->env || strcmp(cp->customer_id, c->id) != 0))
		return STORE_NOTFOUND;
	return rc;
}

/* The scope as a run a..z of seqs (empty if z < a), from the totals. */
static int
balance_range(const struct cust *c, const struct balance_scope *s,
    uint64_t last, struct store_month *m, uint64_t *a, uint64_t *z,
    struct balance *b)
{
	struct store_checkpoint	*cp;
	int			 rc;

	*a = 1;
	*z = last;
	switch (s->kind) {
	case BALANCE_ALL:
		return STORE_OK;
	case BALANCE_PERIOD:
	case BALANCE_CURRENT_MONTH:
		rc = store_month_get(c->t, c->tenant, c->env, c->id, s->month,
		    m);
		if (rc == STORE_NOTFOUND) {
			*z = 0;
			return STORE_OK;
		}
		*a = m->first_seq;
		/* A month may have grown since the customer was read. */
		if (m->last_seq < *z)
			*z = m->last_seq;
		return rc;
	case BALANCE_CUSTOM:
		if ((rc = cust_seq_at(c, last, s->start_ms, a)) != STORE_OK ||
		    (rc = cust_seq_at(c, last, s->end_ms, z)) != STORE_OK)
			return rc;
		(*z)--;
		return STORE_OK;
	case BALANCE_CHECKPOINT:
		/* Everything after what the checkpoint locked. */
		if ((cp = malloc(sizeof(*cp))) == NULL)
			return STORE_NOMEM;
		if ((rc = balance_checkpoint(c, s, cp)) == STORE_OK) {
			*a = cp->through_seq + 1;
			b->checkpoint_ending = cp->starting + cp->net;
		}
		free(cp);
		return rc;
	}
	return STORE_CORRUPT;
}

int
balance_derive(struct store_txn *t, const char *tenant, enum store_env env,
    const char *customer_id, const struct balance_scope *s,
    struct balance *b)
{
	struct cust		c = { t, tenant, env, customer_id };
	struct store_sth	head;
	struct store_month	m;
	uint64_t		a, z, verified, upto;
	int			rc;

	memset(b, 0, sizeof(*b));
	memset(&m, 0, sizeof(m));
	/* The head first: every delta it covers is in the totals read next. */
	rc = store_sth_latest(t, &head);
	if (rc != STORE_OK && rc != STORE_NOTFOUND)
		return rc;
	b->tree_size = rc == STORE_OK ? head.size : 0;
	if ((rc = store_customer_get(t, tenant, env, customer_id,
	    &b->customer)) != STORE_OK)
		return rc;
	if (b->customer.count != b->customer.last_seq)
		return STORE_CORRUPT;
	if ((rc = balance_range(&c, s, b->customer.last_seq, &m, &a, &z,
	    b)) !=
	    STORE_OK ||
	    (rc = cust_verified(&c, b->customer.last_seq, b->tree_size,
	    &verified, &b->newest_index)) != STORE_OK)
		return rc;

	upto = z < verified ? z : verified;
	b->first_seq = a;
	b->last_seq = upto < a ? a - 1 : upto;
	b->count = b->last_seq + 1 - a;
	if (z > verified && z >= a)
		b->pending = z - (verified > a - 1 ? verified : a - 1);

	if (b->count == 0)
		b->net = 0;
	else if (s->kind == BALANCE_ALL && upto == b->customer.last_seq)
		b->net = b->customer.sum;	/* the running total */
	else if (m.count > 0 && upto == m.last_seq)
		b->net = m.sum;			/* the month's total */
	else
		return balance_run_sum(t, tenant, env, customer_id, a, upto,
		    &b->net);
	return STORE_OK;
}

enum balance_result
balance_outcome(int rc, const struct balance *b)
{
	switch (rc) {
	case STORE_OK:
		return BALANCE_OK;
	case STORE_NOTFOUND:
		/* A customer is stored with its first delta. */
		return b->customer.count == 0 ? BALANCE_NO_CUSTOMER :
		    BALANCE_NO_CHECKPOINT;
	case STORE_NOMEM:
		return BALANCE_NOMEM;
	default:
		return BALANCE_UNAVAILABLE;
	}
}

decimal_t
balance_start(const struct balance_scope *s, const struct balance *b,
    int given, decimal_t start)
{
	return s->kind == BALANCE_CHECKPOINT && !given ?
	    b->checkpoint_ending : start;
}

int
balance_run_sum(struct store_txn *t, const char *tenant, enum store_env env,
    const char *customer_id, uint64_t first, uint64_t last, decimal_t *sum)
{
	struct cust	c = { t, tenant, env, customer_id };
	decimal_t	below;
	int		rc;

	*sum = 0;
	if (first == 0 || last < first)
		return STORE_OK;
	if ((rc = cust_sum_through(&c, first - 1, &below)) == STORE_OK &&
	    (rc = cust_sum_through(&c, last, sum)) == STORE_OK)
		*sum -= below;
	return rc;
}

int
balance_latest_receipt(struct store_txn *t, const char *tenant,
    enum store_env env, const char *customer_id, struct balance *b)
{
	struct cust		c = { t, tenant, env, customer_id };
	struct store_custpos	p;
	int			rc;

	b->latest_receipt[0] = '\0';
	if (b->count == 0)
		return STORE_OK;
	/* Usually the customer's newest, whose position derive read. */
	p.log_index = b->newest_index;
	if (b->last_seq != b->customer.last_seq &&
	    (rc = cust_pos(&c, b->last_seq, &p)) != STORE_OK)
		return rc;
	return store_delta_receipt(t, p.log_index, b->latest_receipt);
}

/*
 * A run of a customer's history, read together: positions with one
 * cursor, the deltas in one walk over their range in the log when they
 * lie close (store_delta_run_read), and the head that first covers each
 * delta with one walk of the heads signed over the run, where a lookup
 * per delta cost three descents of three trees.
 */
#define BALANCE_CHUNK	128

struct balance_chunk {
	struct store_custpos	 pos[BALANCE_CHUNK];
	uint64_t		 index[BALANCE_CHUNK];
	int64_t			 verified_ms[BALANCE_CHUNK]; /* 0: no head */
	size_t			 n, covered;
	struct store_delta_run	*run;
};

/* Heads come by size: each covers the deltas below it not yet covered. */
static int
balance_chunk_head(const struct store_sth *h, void *arg)
{
	struct balance_chunk	*ch = arg;

	while (ch->covered < ch->n &&
	    ch->pos[ch->covered].log_index < h->size)
		ch->verified_ms[ch->covered++] = h->signed_ms;
	return ch->covered == ch->n ? STORE_STOP : STORE_OK;
}

/* Seq first .. first+n-1: positions ascend with seq, as the log does. */
static int
balance_chunk_read(const struct cust *c, uint64_t first, size_t n,
    struct balance_chunk *ch)
{
	size_t	i;
	int	rc;

	rc = store_custpos_range(c->t, c->tenant, c->env, c->id, first, n,
	    ch->pos);
	if (rc != STORE_OK)
		return rc == STORE_NOTFOUND ? STORE_CORRUPT : rc;
	ch->n = n;
	ch->covered = 0;
	memset(ch->verified_ms, 0, sizeof(ch->verified_ms));
	rc = store_sth_each(c->t, ch->pos[0].log_index + 1, balance_chunk_head,
	    ch);
	if (rc != STORE_OK && rc != STORE_STOP)
		return rc;
	for (i = 0; i < n; i++)
		ch->index[i] = ch->pos[i].log_index;
	return store_delta_run_read(c->t, ch->run, ch->index, n);
}

static int
balance_chunk_delta(const struct balance_chunk *ch, size_t i,
    balance_delta_fn fn, void *arg)
{
	struct store_delta	d;
	int			rc;

	if ((rc = store_delta_run_get(ch->run, i, &d)) != STORE_OK)
		return rc;
	if (ch->verified_ms[i] != 0) {
		d.status = STORE_DELTA_VERIFIED;
		d.verified_ms = ch->verified_ms[i];
	}
	/* Its metadata and leaf data are the run's: nothing to free. */
	return fn(&d, arg);
}

int
balance_each(struct store_txn *t, const char *tenant, enum store_env env,
    const char *customer_id, uint64_t first, uint64_t last, int newest_first,
    uint64_t limit, balance_delta_fn fn, void *arg)
{
	struct cust		c = { t, tenant, env, customer_id };
	struct balance_chunk	ch;
	uint64_t		n, done, start;
	size_t			i, k;
	int			rc = STORE_OK;

	if (first == 0 || last < first)
		return STORE_OK;
	n = last - first + 1;
	if (n > limit)
		n = limit;
	if ((ch.run = store_delta_run_new()) == NULL)
		return STORE_NOMEM;
	for (done = 0; rc == STORE_OK && done < n; done += k) {
		k = n - done < BALANCE_CHUNK ? (size_t)(n - done) :
		    BALANCE_CHUNK;
		start = newest_first ? last - done - k + 1 : first + done;
		if ((rc = balance_chunk_read(&c, start, k, &ch)) != STORE_OK)
			break;
		for (i = 0; rc == STORE_OK && i < k; i++)
			rc = balance_chunk_delta(&ch, newest_first ? k - 1 - i :
			    i, fn, arg);
	}
	store_delta_run_free(ch.run);
	return rc;
}

/* What balance_read reads, and where. */
struct balance_reading {
	const char			*tenant;
	enum store_env			 env;
	const char			*id;
	const struct balance_scope	*scope;
	uint64_t			 offset, limit;
	const struct balance_pager	*p;
	struct balance			*b;
};

static int
balance_read_txn(struct store_txn *t, void *arg)
{
	struct balance_reading	*r = arg;
	struct balance		*b = r->b;
	int			 rc;

	if ((rc = balance_derive(t, r->tenant, r->env, r->id, r->scope,
	    b)) != STORE_OK ||
	    (rc = balance_latest_receipt(t, r->tenant, r->env, r->id,
	    b)) != STORE_OK ||
	    (rc = r->p->begin(r->p->arg)) != STORE_OK)
		return rc;
	if (r->offset >= b->count)
		return STORE_OK;
	return balance_each(t, r->tenant, r->env, r->id,
	    b->first_seq + r->offset, b->last_seq, 0, r->limit, r->p->each,
	    r->p->arg);
}

enum balance_result
balance_read(struct store *st, const char *tenant, enum store_env env,
    const char *customer_id, const struct balance_scope *s, uint64_t offset,
    uint64_t limit, const struct balance_pager *p, struct balance *b)
{
	struct balance_reading	r = { tenant, env, customer_id, s, offset,
				    limit, p, b };

	memset(b, 0, sizeof(*b));
	return balance_outcome(store_read(st, balance_read_txn, &r), b);
}
