#include <stdlib.h>
#include <string.h>

#include "../common/grow.h"
#include "../common/timefmt.h"
#include "gaps.h"

/* gaps_txn's own reason to end its transaction. */
enum gaps_stop {
	GAPS_WIDE = STORE_USER		/* too many windows */
};

struct gaps_read {
	const char			*tenant;
	enum store_env			 env;
	const struct gaps_question	*q;
	struct gaps_answer		*a;
	int64_t				 start_ms, end_ms;
};

static int64_t
gaps_floor(int64_t ms, int64_t len)
{
	return ms - ((ms % len) + len) % len;
}

/* Windows of len_ms from start to end in which no delta was recorded. */
static int
gaps_windows(struct store_txn *t, struct gaps_read *g)
{
	struct balance_scope	w = { .kind = BALANCE_CUSTOM };
	struct gaps_answer	*a = g->a;
	struct balance		b;
	int			rc;

	a->nmissing = 0;	/* a retried transaction starts again */
	for (w.start_ms = g->start_ms; w.start_ms < g->end_ms;
	    w.start_ms += g->q->len_ms) {
		w.end_ms = w.start_ms + g->q->len_ms;
		if ((rc = balance_derive(t, g->tenant, g->env, g->q->customer,
		    &w, &b)) != STORE_OK)
			return rc;
		if (b.count + b.pending > 0)
			continue;
		if (grow(&a->missing, &a->cap, a->nmissing + 1,
		    sizeof(*a->missing)) < 0)
			return STORE_NOMEM;
		a->missing[a->nmissing++] = w.start_ms;
	}
	return STORE_OK;
}

static int
gaps_txn(struct store_txn *t, void *arg)
{
	static const struct balance_scope all = { .kind = BALANCE_ALL };
	struct gaps_read		*g = arg;
	int64_t				 len = g->q->len_ms;
	int				 rc;

	if ((rc = balance_derive(t, g->tenant, g->env, g->q->customer, &all,
	    &g->a->b)) != STORE_OK || len == 0)
		return rc;
	/* By default from the first delta's window to the present one. */
	g->start_ms = g->q->start_ms != 0 ? g->q->start_ms :
	    gaps_floor(g->a->b.customer.first_ms, len);
	g->end_ms = g->q->end_ms != 0 ? g->q->end_ms :
	    gaps_floor(timefmt_now_ms(), len) + len;
	if (g->end_ms > g->start_ms &&
	    (g->end_ms - g->start_ms) / len > GAPS_WINDOWS_MAX)
		return GAPS_WIDE;
	return gaps_windows(t, g);
}

enum balance_result
gaps_run(struct store *st, const char *tenant, enum store_env env,
    const struct gaps_question *q, struct gaps_answer *a)
{
	struct gaps_read	 g = { tenant, env, q, a, 0, 0 };
	const struct balance	*b = &a->b;
	int			 rc;

	memset(a, 0, sizeof(*a));
	if ((rc = store_read(st, gaps_txn, &g)) == GAPS_WIDE)
		return BALANCE_TOO_WIDE;
	if (rc != STORE_OK)
		return balance_outcome(rc, b);
	a->last = b->last_seq + b->pending;
	a->from = q->from > b->last_seq + 1 ? q->from : b->last_seq + 1;
	a->to = q->to < a->last ? q->to : a->last;
	a->complete = a->from > a->to && a->nmissing == 0;
	return BALANCE_OK;
}

void
gaps_answer_free(struct gaps_answer *a)
{
	free(a->missing);
	a->missing = NULL;
	a->nmissing = a->cap = 0;
}
