#include <stdlib.h>
#include <string.h>

#include "../common/timefmt.h"
#include "balance.h"
#include "shared.h"
#include "tiles.h"

int
shared_month(struct store_txn *t, const struct share *sh, int month,
    struct shared_month *out)
{
	struct balance_scope	 scope;
	struct balance		 b;
	struct store_sth	 head;
	uint64_t		 all;
	int			 rc;

	memset(out, 0, sizeof(*out));
	out->month = month;
	memset(&scope, 0, sizeof(scope));
	scope.kind = BALANCE_PERIOD;
	scope.month = month;
	scope.start_ms = timefmt_month_start(month);
	scope.end_ms = timefmt_month_start(month + 1);
	rc = balance_derive(t, sh->tenant, sh->env, sh->customer_id, &scope,
	    &b);
	if (rc == STORE_NOTFOUND)	/* no delta yet: an empty record */
		return STORE_OK;
	if (rc != STORE_OK)
		return rc;
	/*
	 * derive counts the verified deltas and the pending ones after
	 * them; their sum comes from the running totals, so it is exact
	 * and costs two reads whatever the month holds.
	 */
	all = b.count + b.pending;
	out->count = all;
	out->verified = b.count;
	out->last_ms = b.customer.count > 0 ? b.customer.last_ms : 0;
	if (all == b.count)
		out->total = b.net;
	else if ((rc = balance_run_sum(t, sh->tenant, sh->env,
	    sh->customer_id, b.first_seq, b.first_seq + all - 1,
	    &out->total)) != STORE_OK)
		return rc;
	/* Read after derive's, the newest head covers at least as much. */
	if (all > 0 && all == b.count) {
		if ((rc = store_sth_latest(t, &head)) != STORE_OK)
			return rc == STORE_NOTFOUND ? STORE_CORRUPT : rc;
		out->verified_through_ms = head.signed_ms;
	}
	return STORE_OK;
}

void
shared_periods_free(struct shared_periods *ps)
{
	free(ps->list);
	ps->list = NULL;
	ps->n = 0;
}

/* The walks below fill the list made for the months from first on. */
struct shared_walk {
	struct shared_periods	*ps;
	int			 current;
};

/* The list is newest first: current is at 0. */
static struct shared_period *
shared_slot(struct shared_walk *w, int month)
{
	size_t	i;

	if (month > w->current)
		return NULL;
	i = (size_t)(w->current - month);
	return i < w->ps->n ? &w->ps->list[i] : NULL;
}

static int
shared_month_seen(int month, const struct store_month *m, void *arg)
{
	struct shared_period	*p;

	if ((p = shared_slot(arg, month)) != NULL) {
		p->count = m->count;
		p->net = m->sum;
	}
	return STORE_OK;
}

static int
shared_checkpoint_seen(const struct store_checkpoint *cp, void *arg)
{
	struct shared_period	*p;

	/* Newest first: a month's first checkpoint seen is its newest. */
	if ((p = shared_slot(arg, cp->month)) != NULL && !p->has_checkpoint) {
		p->has_checkpoint = 1;
		p->locked = cp->month < ((struct shared_walk *)arg)->current;
		p->cp = *cp;
	}
	return STORE_OK;
}

int
shared_periods(struct store_txn *t, const struct share *sh, int current,
    struct shared_periods *ps)
{
	struct shared_walk	w = { ps, current };
	struct store_customer	c;
	size_t			i, n = 1;
	int			first, rc;

	shared_periods_free(ps);	/* a retried transaction starts over */
	rc = store_customer_get(t, sh->tenant, sh->env, sh->customer_id, &c);
	if (rc != STORE_OK && rc != STORE_NOTFOUND)
		return rc;
	if (rc == STORE_OK && c.count > 0 &&
	    (first = timefmt_month(c.first_ms)) < current)
		n = (size_t)(current - first) + 1;
	if (n > SHARED_PERIODS_MAX)
		n = SHARED_PERIODS_MAX;
	if ((ps->list = calloc(n, sizeof(*ps->list))) == NULL)
		return STORE_NOMEM;
	ps->n = n;
	for (i = 0; i < n; i++)
		ps->list[i].month = current - (int)i;
	if (rc == STORE_NOTFOUND)
		return STORE_OK;
	if ((rc = store_month_each(t, sh->tenant, sh->env, sh->customer_id,
	    &c, shared_month_seen, &w)) != STORE_OK)
		return rc;
	return store_checkpoint_each(t, sh->tenant, sh->env, sh->customer_id,
	    shared_checkpoint_seen, &w);
}

struct shared_walk_deltas {
	struct tiles_reader	*tiles;		/* the head's tree; NULL: none */
	const struct shared_page *pg;
	shared_delta_fn		 fn;
	void			*arg;
};

static int
shared_delta_seen(struct store_delta *d, void *arg)
{
	struct shared_walk_deltas *w = arg;
	merkle_hash		 proof[MERKLE_PROOF_MAX];
	size_t			 len = 0;
	int			 verified;

	/* The page's head decides, so every proof is against that head. */
	verified = d->log_index < w->pg->head.size;
	if (verified && w->tiles != NULL && merkle_inclusion_proof(
	    tiles_reader_node, w->tiles, d->log_index, w->pg->head.size,
	    proof, &len) != 0)
		return STORE_CORRUPT;
	return w->fn(w->arg, d, verified, proof, len);
}

int
shared_deltas(struct store_txn *t, const struct share *sh,
    struct shared_page *pg, int proofs, shared_delta_fn fn, void *arg)
{
	struct shared_walk_deltas w = { NULL, pg, fn, arg };
	struct store_month	 m;
	uint64_t		 first;
	int			 rc;

	pg->total = 0;
	memset(&pg->head, 0, sizeof(pg->head));
	rc = store_sth_latest(t, &pg->head);
	if (rc != STORE_OK && rc != STORE_NOTFOUND)
		return rc;
	rc = store_month_get(t, sh->tenant, sh->env, sh->customer_id,
	    pg->month, &m);
	if (rc == STORE_NOTFOUND)
		return STORE_OK;
	if (rc != STORE_OK)
		return rc;
	pg->total = m.count;
	if (pg->offset >= m.count || pg->limit == 0)
		return STORE_OK;
	first = m.first_seq + pg->offset;
	/* Every proof is of the head's tree: its tiles read once. */
	if (proofs && (w.tiles = tiles_reader_new(t, pg->head.size)) == NULL)
		return STORE_NOMEM;
	rc = balance_each(t, sh->tenant, sh->env, sh->customer_id, first,
	    m.last_seq, 0, pg->limit, shared_delta_seen, &w);
	tiles_reader_free(w.tiles);
	return rc;
}

int
shared_compare(struct store_txn *t, const struct share *sh, int month,
    decimal_t yours, struct shared_comparison *out)
{
	int	rc;

	memset(out, 0, sizeof(*out));
	if ((rc = shared_month(t, sh, month, &out->record)) != STORE_OK)
		return rc;
	out->yours = yours;
	out->difference = yours - out->record.total;
	out->matches = out->difference == 0;
	return STORE_OK;
}
