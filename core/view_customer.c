/* Views of customers (SPEC 3.3, 3.7-3.9): lists, pages, usage, gaps. */
#include <json-c/json.h>

#include "../common/timefmt.h"
#include "customer.h"
#include "gaps.h"
#include "usage.h"
#include "view.h"

/* The fields a customer's row and page share. */
static struct json_object *
view_customer_totals(const char *id, const struct balance *b)
{
	struct json_object	*o;

	if ((o = view_object()) == NULL)
		return NULL;
	view_put(o, "customerId", view_string(id));
	view_put(o, "totalDeltas", view_u64(b->count));
	view_put(o, "computedBalance", view_decimal(b->net));
	view_put(o, "pendingCount", view_u64(b->pending));
	view_put(o, "treeSize", view_u64(b->tree_size));
	return o;
}

/* A customer in the list: its totals and its first and last delta. */
static struct json_object *
view_customer_row(const char *id, const struct balance *b)
{
	struct json_object	*o;

	if ((o = view_customer_totals(id, b)) == NULL)
		return NULL;
	view_put(o, "firstDeltaAt", view_time(b->customer.first_ms));
	view_put(o, "lastDeltaAt", view_time(b->customer.last_ms));
	return o;
}

/* {total, page, limit}: a list paged by page number (1 the first). */
static struct json_object *
view_customer_page(uint64_t total, uint64_t page, uint64_t limit)
{
	struct json_object	*p;

	if ((p = view_object()) == NULL)
		return NULL;
	view_put(p, "total", view_u64(total));
	view_put(p, "page", view_u64(page));
	view_put(p, "limit", view_u64(limit));
	return p;
}

struct json_object *
view_customers(const struct customer_list *l, uint64_t page, uint64_t limit)
{
	struct json_object	*list, *p;
	size_t			 i;

	list = view_array();
	for (i = 0; list != NULL && i < l->n; i++)
		view_push(list, view_customer_row(l->rows[i].id,
		    &l->rows[i].b));
	if ((p = view_customer_page(l->total, page, limit)) != NULL)
		view_put(p, "totalPages",
		    view_u64((l->total + limit - 1) / limit));
	return view_list("customers", list, p);
}

/* {intervalSeconds (null: unlimited), source: customer or tenant} */
static struct json_object *
view_cadence(uint64_t cadence_ms, int own)
{
	struct json_object	*o;

	if ((o = view_object()) == NULL)
		return NULL;
	if (cadence_ms != 0)
		view_put(o, "intervalSeconds", view_u64(cadence_ms / 1000));
	else
		view_put_null(o, "intervalSeconds");
	view_put(o, "source", view_string(own ? "customer" : "tenant"));
	return o;
}

struct json_object *
view_customer(const char *id, const struct balance *b,
    const struct balance_scope *s, const struct store_checkpoint *latest,
    uint64_t cadence_ms, int cadence_own, struct json_object *activity)
{
	struct json_object	*o;

	if ((o = view_customer_totals(id, b)) == NULL) {
		json_object_put(activity);
		return NULL;
	}
	view_put(o, "scope", view_scope(s));
	if (latest != NULL)
		view_put(o, "latestCheckpoint", view_checkpoint(latest));
	else
		view_put_null(o, "latestCheckpoint");
	view_put(o, "cadence", view_cadence(cadence_ms, cadence_own));
	view_put(o, "recentActivity", activity);
	return o;
}

struct json_object *
view_activity(struct json_object *items, uint64_t total, uint64_t page,
    uint64_t limit)
{
	return view_list("items", items,
	    view_customer_page(total, page, limit));
}

struct json_object *
view_usage(const struct usage *u)
{
	struct json_object	*o;
	char			 period[TIMEFMT_PERIOD_LEN];

	if ((o = view_object()) == NULL)
		return NULL;
	timefmt_period(u->month, period);
	view_put(o, "allowed", view_bool(u->allowed));
	if (u->limited)
		view_put(o, "remaining", view_u64(u->remaining));
	else
		view_put_null(o, "remaining");
	view_put(o, "used", view_u64(u->used));
	if (u->limited)
		view_put(o, "limit", view_u64(u->limit));
	else
		view_put_null(o, "limit");
	view_put(o, "period", view_string(period));
	return o;
}

/* {from, to}: each run of sequence numbers missing. */
static struct json_object *
view_gap_list(const struct gaps_answer *a)
{
	struct json_object	*list, *gap;

	if ((list = view_array()) == NULL || a->from > a->to)
		return list;
	if ((gap = view_object()) != NULL) {
		view_put(gap, "from", view_u64(a->from));
		view_put(gap, "to", view_u64(a->to));
	}
	view_push(list, gap);
	return list;
}

/* {start, end}: each window of len_ms without a delta. */
static struct json_object *
view_missing_windows(const struct gaps_answer *a, int64_t len_ms)
{
	struct json_object	*list, *w;
	size_t			 i;

	list = view_array();
	for (i = 0; list != NULL && i < a->nmissing; i++) {
		if ((w = view_object()) != NULL) {
			view_put(w, "start", view_time(a->missing[i]));
			view_put(w, "end", view_time(a->missing[i] + len_ms));
		}
		view_push(list, w);
	}
	return list;
}

struct json_object *
view_gaps(const struct gaps_question *q, const struct gaps_answer *a)
{
	struct json_object	*o;

	if ((o = view_object()) == NULL)
		return NULL;
	view_put(o, "customerId", view_string(q->customer));
	view_put(o, "gaps", view_gap_list(a));
	view_put(o, "complete", view_bool(a->complete));
	view_put(o, "lastSequence", view_u64(a->last));
	view_put(o, "verifiedThrough", view_u64(a->b.last_seq));
	view_put(o, "treeSize", view_u64(a->b.tree_size));
	if (q->len_ms != 0) {
		view_put(o, "window", view_string(q->len_ms == GAPS_DAY_MS ?
		    "day" : "hour"));
		view_put(o, "missingWindows", view_missing_windows(a,
		    q->len_ms));
	}
	return o;
}
