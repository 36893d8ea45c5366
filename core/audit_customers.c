/*
 * The audit of each customer's totals (store.h): its seqs walked in
 * order, from its position records to the deltas they name, recomputing
 * its prefix sums, months and totals, which are then compared with the
 * stored ones read together.  Customers are listed AUDIT_CUSTOMERS to a
 * read, each resuming after the last, and their seqs read AUDIT_CHUNK to
 * a read; memory grows with a customer's months, not its deltas.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/decimal.h"
#include "../common/grow.h"
#include "../common/timefmt.h"
#include "audit_internal.h"

/* The stored totals changed while read: read them again. */
enum { AUDIT_AGAIN = STORE_USER };

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

/* The pass over one tenant+env's customers. */
struct audit_custpass {
	struct audit		*a;
	struct audit_result	*res;
	/* A read's worth of customers, listed from after from. */
	struct audit_listed	*listed;	/* AUDIT_CUSTOMERS */
	size_t			 nlisted;
	int			 list_more;
	char			 from[STORE_CUSTOMER_MAX + 1];
	int			 skip_from;
	/* A read's worth of the customer's seqs, judged after it. */
	struct audit_step	*steps;		/* AUDIT_CHUNK */
	size_t			 nsteps;
	int			 steps_closed;
	struct audit_cust	 cust;
};

/*
 * Reads seq s->seq: its position and the delta it names.  Past the
 * customer's last seq a position need not be; when it is not, the walk
 * is over.
 */
static int
audit_cust_step(struct audit_custpass *x, struct store_txn *t,
    struct audit_step *s)
{
	struct audit_cust	*c = &x->cust;
	struct store_custpos	 p;
	struct store_delta	 d;
	char			 other[AUDIT_NAME];
	char			 t1[TIMEFMT_LEN], t2[TIMEFMT_LEN];
	unsigned long long	 seq = s->seq, i;
	int			 rc;

	s->state = AUDIT_STEP_NOPOS;
	rc = store_custpos_get(t, c->tenant, c->env, c->id, seq, &p);
	if (rc == STORE_NOTFOUND && seq > c->last) {
		x->steps_closed = 1;
		return STORE_OK;
	}
	if (rc == STORE_NOTFOUND || rc == STORE_CORRUPT) {
		audit_problem(x->a, "customer %s seq %llu: %s", c->name, seq,
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
		audit_problem(x->a, "customer %s seq %llu: its position names "
		    "leaf %llu, %s", c->name, seq, i, rc == STORE_NOTFOUND ?
		    "which the log does not have" :
		    "whose record does not decode");
		return STORE_OK;
	} else if (rc != STORE_OK)
		return rc;
	if (strcmp(d.tenant, c->tenant) != 0 || d.env != c->env ||
	    strcmp(d.customer_id, c->id) != 0 || d.seq != seq) {
		audit_name(other, d.tenant, d.env, d.customer_id);
		audit_problem(x->a, "customer %s seq %llu: its position names "
		    "leaf %llu, which is customer %s seq %llu", c->name, seq,
		    i, other, (unsigned long long)d.seq);
		goto out;
	}
	s->created_ms = d.created_ms;
	if (p.created_ms != d.created_ms) {
		timefmt_rfc3339(p.created_ms, t1);
		timefmt_rfc3339(d.created_ms, t2);
		audit_problem(x->a, "customer %s seq %llu (leaf %llu): time: "
		    "stored %s, expected %s", c->name, seq, i, t1, t2);
	}
	s->state = AUDIT_STEP_NOAMOUNT;
	if (decimal_parse(d.delta, strlen(d.delta), &s->amount) !=
	    DECIMAL_OK) {
		audit_problem(x->a, "customer %s seq %llu (leaf %llu): delta "
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
	struct audit_custpass	*x = arg;
	struct audit_step	*s;
	uint64_t		 seq = x->cust.next;
	int			 rc;

	x->nsteps = 0;
	x->steps_closed = 0;
	while (x->nsteps < AUDIT_CHUNK && !x->steps_closed) {
		s = &x->steps[x->nsteps];
		memset(s, 0, sizeof(*s));
		s->seq = seq++;
		if ((rc = audit_cust_step(x, t, s)) != STORE_OK)
			return rc;
		if (!x->steps_closed)
			x->nsteps++;
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
audit_cust_time(struct audit_custpass *x, const struct audit_step *s)
{
	struct audit_cust	*c = &x->cust;
	char			 t1[TIMEFMT_LEN], t2[TIMEFMT_LEN];

	if (c->last_known && s->created_ms < c->last_ms) {
		timefmt_rfc3339(s->created_ms, t1);
		timefmt_rfc3339(c->last_ms, t2);
		audit_problem(x->a, "customer %s seq %llu (leaf %llu): "
		    "recorded at %s, before seq %llu at %s", c->name,
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
audit_cust_sum(struct audit_custpass *x, const struct audit_step *s)
{
	struct audit_cust	*c = &x->cust;
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
		audit_problem(x->a, "customer %s seq %llu (leaf %llu): prefix "
		    "sum: stored %s, expected %s", c->name,
		    (unsigned long long)s->seq,
		    (unsigned long long)s->log_index, v1, v2);
	}
}

/* Takes in the seqs a read found; out of the read, so never twice. */
static int
audit_cust_judge(struct audit_custpass *x)
{
	struct audit_cust	*c = &x->cust;
	const struct audit_step	*s;
	size_t			 i;

	for (i = 0; i < x->nsteps; i++) {
		s = &x->steps[i];
		x->res->positions++;
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
			audit_cust_sum(x, s);
			continue;
		}
		audit_cust_time(x, s);
		audit_cust_sum(x, s);
		if (s->state != AUDIT_STEP_OK)
			c->months_known = 0;
		else if (audit_month_add(&c->months,
		    timefmt_month(s->created_ms), s) != STORE_OK)
			return STORE_NOMEM;
	}
	if (x->steps_closed)
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
	struct audit_custpass	*x = arg;
	struct audit_cust	*c = &x->cust;
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
	rc = store_month_each(t, c->tenant, c->env, c->id, &c->rec,
	    audit_cust_month, &c->stored);
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
audit_month_one(struct audit_custpass *x, const struct audit_month *want,
    const struct audit_month *got)
{
	const struct audit_cust	*c = &x->cust;
	const struct store_month *w, *g;
	char			 period[TIMEFMT_PERIOD_LEN];
	char			 v1[DECIMAL_MAX], v2[DECIMAL_MAX];

	x->res->months++;
	timefmt_period(want != NULL ? want->month : got->month, period);
	if (want == NULL) {
		audit_problem(x->a, "customer %s month %s: a month record, "
		    "but no delta that month", c->name, period);
		return;
	}
	w = &want->m;
	decimal_format(w->sum, v2);
	if (got == NULL) {
		audit_problem(x->a, "customer %s month %s: no month record; "
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
	audit_problem(x->a, "customer %s month %s: stored seqs %llu..%llu, "
	    "count %llu, sum %s; expected seqs %llu..%llu, count %llu, sum %s",
	    c->name, period, (unsigned long long)g->first_seq,
	    (unsigned long long)g->last_seq, (unsigned long long)g->count, v1,
	    (unsigned long long)w->first_seq, (unsigned long long)w->last_seq,
	    (unsigned long long)w->count, v2);
}

static void
audit_cust_months(struct audit_custpass *x)
{
	struct audit_cust	*c = &x->cust;
	struct audit_months	*w = &c->months, *g = &c->stored;
	size_t			 i = 0, j = 0;

	if (c->stored_corrupt) {
		audit_problem(x->a, "customer %s: a month record does not "
		    "decode", c->name);
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
			audit_month_one(x, &w->v[i++], NULL);
		else if (i == w->n || g->v[j].month < w->v[i].month)
			audit_month_one(x, NULL, &g->v[j++]);
		else {
			audit_month_one(x, &w->v[i], &g->v[j]);
			i++;
			j++;
		}
	}
}

static void
audit_cust_compare(struct audit_custpass *x)
{
	struct audit_cust		*c = &x->cust;
	const struct store_customer	*r = &c->rec;
	unsigned long long		 n = c->next - 1;
	char				 v1[DECIMAL_MAX], v2[DECIMAL_MAX];
	char				 t1[TIMEFMT_LEN], t2[TIMEFMT_LEN];

	x->res->customers++;
	if (n == 0)
		audit_problem(x->a, "customer %s: a totals record, but no "
		    "deltas", c->name);
	else if (r->last_seq != n)
		audit_problem(x->a, "customer %s: last seq: stored %llu, "
		    "expected %llu", c->name,
		    (unsigned long long)r->last_seq, n);
	if (n != 0 && c->count_known && r->count != n)
		audit_problem(x->a, "customer %s: count: stored %llu, expected "
		    "%llu", c->name, (unsigned long long)r->count, n);
	if (n != 0 && c->sum_known && r->sum != c->sum) {
		decimal_format(r->sum, v1);
		decimal_format(c->sum, v2);
		audit_problem(x->a, "customer %s: sum: stored %s, expected %s",
		    c->name, v1, v2);
	}
	if (n != 0 && c->first_known && r->first_ms != c->first_ms) {
		timefmt_rfc3339(r->first_ms, t1);
		timefmt_rfc3339(c->first_ms, t2);
		audit_problem(x->a, "customer %s: first delta time: stored %s, "
		    "expected %s", c->name, t1, t2);
	}
	if (n != 0 && c->last_known && r->last_ms != c->last_ms) {
		timefmt_rfc3339(r->last_ms, t1);
		timefmt_rfc3339(c->last_ms, t2);
		audit_problem(x->a, "customer %s: last delta time: stored %s, "
		    "expected %s", c->name, t1, t2);
	}
	audit_cust_months(x);
}

/*
 * One customer, through its last seq (last_seq as listed, and any the
 * totals gain while it is walked), in reads of AUDIT_CHUNK seqs.
 */
static int
audit_customer(struct audit_custpass *x, const char *tenant, enum store_env env,
    const struct audit_listed *l)
{
	struct audit_cust	*c = &x->cust;
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
			if ((rc = audit_read_with(x->a, audit_cust_read,
			    x)) != STORE_OK ||
			    (rc = audit_cust_judge(x)) != STORE_OK)
				return rc;
		}
		if ((rc = audit_read_with(x->a, audit_cust_stored, x)) !=
		    AUDIT_AGAIN)
			break;
		if (++tries == AUDIT_TRIES) {
			x->res->busy++;
			return STORE_OK;
		}
	}
	if (rc == STORE_OK)
		audit_cust_compare(x);
	return rc;
}

static int
audit_listed_add(const char *id, const struct store_customer *c, void *arg)
{
	struct audit_custpass	*x = arg;
	struct audit_listed	*l;

	if (x->skip_from && strcmp(id, x->from) == 0)
		return STORE_OK;
	if (x->nlisted == AUDIT_CUSTOMERS) {
		x->list_more = 1;
		return STORE_STOP;
	}
	l = &x->listed[x->nlisted++];
	snprintf(l->id, sizeof(l->id), "%s", id);
	l->last_seq = c->last_seq;
	return STORE_OK;
}

static int
audit_list_read(struct store_txn *t, void *arg)
{
	struct audit_custpass	*x = arg;
	int			 rc;

	x->nlisted = 0;
	x->list_more = 0;
	rc = store_customer_each_from(t, x->cust.tenant, x->cust.env, x->from,
	    audit_listed_add, x);
	return rc == STORE_STOP ? STORE_OK : rc;
}

/* A tenant's customers in one env, AUDIT_CUSTOMERS to a read. */
static int
audit_custs_walk(struct audit_custpass *x, const char *tenant,
    enum store_env env)
{
	size_t	i;
	int	rc;

	x->from[0] = '\0';
	x->skip_from = 0;
	do {
		snprintf(x->cust.tenant, sizeof(x->cust.tenant), "%s", tenant);
		x->cust.env = env;
		if ((rc = audit_read_with(x->a, audit_list_read, x)) !=
		    STORE_OK)
			return rc;
		for (i = 0; i < x->nlisted; i++)
			if ((rc = audit_customer(x, tenant, env,
			    &x->listed[i])) != STORE_OK)
				return rc;
		if (x->nlisted > 0) {
			memcpy(x->from, x->listed[x->nlisted - 1].id,
			    sizeof(x->from));
			x->skip_from = 1;
		}
	} while (x->list_more);
	return STORE_OK;
}

int
audit_customers(struct audit *a, struct audit_result *res,
    const char *tenant, enum store_env env)
{
	struct audit_custpass	*x;
	int			 rc;

	if ((x = calloc(1, sizeof(*x))) == NULL)
		return STORE_NOMEM;
	x->a = a;
	x->res = res;
	if ((x->steps = calloc(AUDIT_CHUNK, sizeof(*x->steps))) == NULL ||
	    (x->listed = calloc(AUDIT_CUSTOMERS, sizeof(*x->listed))) ==
	    NULL)
		rc = STORE_NOMEM;
	else
		rc = audit_custs_walk(x, tenant, env);
	free(x->listed);
	free(x->steps);
	free(x->cust.months.v);
	free(x->cust.stored.v);
	free(x);
	return rc;
}
