#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/grow.h"
#include "customer.h"

/* What customer_list reads, and where. */
struct customer_listing {
	struct store_txn	*t;
	const char		*tenant;
	enum store_env		 env;
	const char		*search;
	uint64_t		 page, limit;
	struct customer_list	*l;
};

/* A customer the search found: counted, and kept if on the page. */
static int
customer_found(const char *id, void *arg)
{
	static const struct balance_scope all = { .kind = BALANCE_ALL };
	struct customer_listing	*cl = arg;
	struct customer_list	*l = cl->l;
	struct customer_row	*row;

	if (l->total++ / cl->limit != cl->page - 1)
		return STORE_OK;
	if (grow(&l->rows, &l->cap, l->n + 1, sizeof(*l->rows)) < 0)
		return STORE_NOMEM;
	row = &l->rows[l->n++];
	snprintf(row->id, sizeof(row->id), "%s", id);
	return balance_derive(cl->t, cl->tenant, cl->env, id, &all, &row->b);
}

static int
customer_list_txn(struct store_txn *t, void *arg)
{
	struct customer_listing	*cl = arg;

	cl->t = t;
	cl->l->n = 0;		/* a retried transaction starts again */
	cl->l->total = 0;
	return store_customer_search(t, cl->tenant, cl->env, cl->search,
	    customer_found, cl);
}

int
customer_list(struct store *st, const char *tenant, enum store_env env,
    const char *search, uint64_t page, uint64_t limit,
    struct customer_list *l)
{
	struct customer_listing	cl = { NULL, tenant, env, search, page, limit,
				    l };

	memset(l, 0, sizeof(*l));
	return store_read(st, customer_list_txn, &cl);
}

void
customer_list_free(struct customer_list *l)
{
	free(l->rows);
	memset(l, 0, sizeof(*l));
}

/* What customer_read reads, and where. */
struct customer_reading {
	const char			*tenant;
	enum store_env			 env;
	const char			*id;
	const struct balance_scope	*scope;
	uint64_t			 page, limit;
	const struct balance_pager	*p;
	struct customer_page		*out;
};

/* Recent activity: the scope's deltas, verified or not, newest first. */
static int
customer_activity(struct store_txn *t, const struct customer_reading *r)
{
	const struct balance	*b = &r->out->b;
	uint64_t		 newest, skip;
	int			 rc;

	if ((rc = r->p->begin(r->p->arg)) != STORE_OK)
		return rc;
	r->out->total = b->count + b->pending;
	newest = b->last_seq + b->pending;
	skip = (r->page - 1) * r->limit;
	if (skip >= r->out->total)
		return STORE_OK;
	return balance_each(t, r->tenant, r->env, r->id, b->first_seq,
	    newest - skip, 1, r->limit, r->p->each, r->p->arg);
}

static int
customer_read_txn(struct store_txn *t, void *arg)
{
	struct customer_reading	*r = arg;
	struct customer_page	*out = r->out;
	int			 rc;

	if ((rc = balance_derive(t, r->tenant, r->env, r->id, r->scope,
	    &out->b)) != STORE_OK ||
	    (rc = store_cadence_get(t, r->tenant, r->env, r->id,
	    &out->cadence_ms, &out->cadence_own)) != STORE_OK)
		return rc;
	rc = store_checkpoint_latest(t, r->tenant, r->env, r->id, INT_MAX,
	    &out->latest);
	if (rc != STORE_OK && rc != STORE_NOTFOUND)
		return rc;
	out->has_latest = rc == STORE_OK;
	return customer_activity(t, r);
}

enum balance_result
customer_read(struct store *st, const char *tenant, enum store_env env,
    const char *customer_id, const struct balance_scope *s, uint64_t page,
    uint64_t limit, const struct balance_pager *p, struct customer_page *out)
{
	struct customer_reading	r = { tenant, env, customer_id, s, page,
				    limit, p, out };

	memset(out, 0, sizeof(*out));
	return balance_outcome(store_read(st, customer_read_txn, &r),
	    &out->b);
}
