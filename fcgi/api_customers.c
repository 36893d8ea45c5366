/* Customers, usage and gaps (SPEC 3.9). */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <json-c/json.h>

#include "../core/balance.h"
#include "../core/checkpoint.h"
#include "../core/view.h"
#include "api.h"

#define CUSTOMERS_LIMIT_MAX	100
#define CUSTOMERS_LIMIT_DEFAULT	20
#define ACTIVITY_LIMIT_MAX	100
#define ACTIVITY_LIMIT_DEFAULT	10
#define GAPS_LIMIT_MAX		1000
#define GAPS_LIMIT_DEFAULT	100

static const struct balance_scope all_deltas = { .kind = BALANCE_ALL };

/* The fields a customer's summary and detail share. */
static void
api_customer_totals(struct json_object *o, const char *id,
    const struct balance *b)
{
	json_object_object_add(o, "customerId", json_object_new_string(id));
	json_object_object_add(o, "totalDeltas",
	    json_object_new_uint64(b->count));
	json_object_object_add(o, "computedBalance", view_decimal(b->net));
	json_object_object_add(o, "pendingCount",
	    json_object_new_uint64(b->pending));
	json_object_object_add(o, "treeSize",
	    json_object_new_uint64(b->tree_size));
}

struct api_customers_listing {
	struct ctx		*c;
	char			 search[STORE_CUSTOMER_MAX + 1];
	uint64_t		 page, limit, total;
	struct store_txn	*t;
	struct json_object	*list;
};

/* A customer the search found: counted, and listed if on the page. */
static int
api_customer_row(const char *id, void *arg)
{
	struct api_customers_listing *l = arg;
	struct json_object	*o;
	struct balance		 b;
	int			 rc;

	if (l->total++ / l->limit != l->page - 1)
		return STORE_OK;
	if ((rc = balance_derive(l->t, l->c->who.tenant, l->c->who.env, id,
	    &all_deltas, &b)) != STORE_OK)
		return rc;
	o = json_object_new_object();
	api_customer_totals(o, id, &b);
	json_object_object_add(o, "firstDeltaAt",
	    view_time(b.customer.first_ms));
	json_object_object_add(o, "lastDeltaAt",
	    view_time(b.customer.last_ms));
	json_object_array_add(l->list, o);
	return STORE_OK;
}

static int
api_customers_txn(struct store_txn *t, void *arg)
{
	struct api_customers_listing *l = arg;

	l->t = t;
	l->total = 0;
	json_object_put(l->list);	/* a retried transaction starts again */
	if ((l->list = json_object_new_array()) == NULL)
		return STORE_NOMEM;
	return store_customer_search(t, l->c->who.tenant, l->c->who.env,
	    l->search, api_customer_row, l);
}

void
api_customers(struct ctx *c)
{
	struct api_customers_listing l;
	struct json_object	*data, *page;
	int			 rc;

	memset(&l, 0, sizeof(l));
	l.c = c;
	l.page = 1;
	l.limit = CUSTOMERS_LIMIT_DEFAULT;
	if (!api_vendor_only(c) ||
	    api_query_range(c, "page", 1, UINT32_MAX, &l.page) < 0 ||
	    api_query_range(c, "limit", 1, CUSTOMERS_LIMIT_MAX, &l.limit) < 0)
		return;
	if (request_query(c->req, "search", l.search, sizeof(l.search)) < 0) {
		response_error(c->resp, API_VALIDATION_ERROR, "search", NULL,
		    "search must be at most %d characters",
		    STORE_CUSTOMER_MAX);
		return;
	}
	if ((rc = store_read(c->app->store, api_customers_txn, &l)) !=
	    STORE_OK) {
		json_object_put(l.list);
		api_unavailable(c);
		return;
	}
	data = json_object_new_object();
	json_object_object_add(data, "customers", l.list);
	page = json_object_new_object();
	json_object_object_add(page, "total", json_object_new_uint64(l.total));
	json_object_object_add(page, "page", json_object_new_uint64(l.page));
	json_object_object_add(page, "limit", json_object_new_uint64(l.limit));
	json_object_object_add(page, "totalPages",
	    json_object_new_uint64((l.total + l.limit - 1) / l.limit));
	json_object_object_add(data, "pagination", page);
	response_success(c->resp, 200, data);
}

struct detail {
	struct ctx		*c;
	const char		*customer;
	struct balance_scope	 scope;
	struct balance		 b;
	uint64_t		 page, limit, total;
	struct json_object	*items;
	struct store_checkpoint	 latest;	/* when has_latest */
	int			 has_latest;
	uint64_t		 cadence_ms;	/* 0: unlimited */
	int			 cadence_own;	/* the customer's own setting */
};

static int
api_activity_add(struct store_delta *d, void *arg)
{
	struct detail	*dt = arg;

	json_object_array_add(dt->items, view_record(d));
	return STORE_OK;
}

/* Recent activity: the scope's deltas, verified or not, newest first. */
static int
api_customer_txn(struct store_txn *t, void *arg)
{
	struct detail	*dt = arg;
	uint64_t	 newest, skip;
	int		 rc;

	if ((rc = balance_derive(t, dt->c->who.tenant, dt->c->who.env,
	    dt->customer, &dt->scope, &dt->b)) != STORE_OK ||
	    (rc = store_cadence_get(t, dt->c->who.tenant, dt->c->who.env,
	    dt->customer, &dt->cadence_ms, &dt->cadence_own)) != STORE_OK)
		return rc;
	rc = store_checkpoint_latest(t, dt->c->who.tenant, dt->c->who.env,
	    dt->customer, INT_MAX, &dt->latest);
	if (rc != STORE_OK && rc != STORE_NOTFOUND)
		return rc;
	dt->has_latest = rc == STORE_OK;
	json_object_put(dt->items);	/* a retried transaction starts again */
	if ((dt->items = json_object_new_array()) == NULL)
		return STORE_NOMEM;
	dt->total = dt->b.count + dt->b.pending;
	newest = dt->b.last_seq + dt->b.pending;
	skip = (dt->page - 1) * dt->limit;
	if (skip >= dt->total)
		return STORE_OK;
	return balance_each(t, dt->c->who.tenant, dt->c->who.env, dt->customer,
	    dt->b.first_seq, newest - skip, 1, dt->limit, api_activity_add,
	    dt);
}

/* {intervalSeconds (null: unlimited), source: customer or tenant} */
static struct json_object *
api_cadence_json(const struct detail *dt)
{
	struct json_object	*o = json_object_new_object();

	json_object_object_add(o, "intervalSeconds", dt->cadence_ms ?
	    json_object_new_uint64(dt->cadence_ms / 1000) : NULL);
	json_object_object_add(o, "source", json_object_new_string(
	    dt->cadence_own ? "customer" : "tenant"));
	return o;
}

void
api_customer(struct ctx *c)
{
	struct detail		 dt;
	struct json_object	*data, *act, *page;
	int			 rc;

	memset(&dt, 0, sizeof(dt));
	dt.c = c;
	dt.customer = c->match.params[0];
	dt.page = 1;
	dt.limit = ACTIVITY_LIMIT_DEFAULT;
	dt.scope.kind = BALANCE_ALL;
	if (!api_customer_access(c, dt.customer) ||
	    api_query_range(c, "deltaPage", 1, UINT32_MAX, &dt.page) < 0 ||
	    api_query_range(c, "deltaLimit", 1, ACTIVITY_LIMIT_MAX,
	    &dt.limit) < 0 ||
	    api_query_period(c, &dt.scope.month) < 0)
		return;
	if (dt.scope.month >= 0)
		dt.scope.kind = BALANCE_PERIOD;
	rc = store_read(c->app->store, api_customer_txn, &dt);
	if (rc == STORE_NOTFOUND) {
		response_error(c->resp, API_CUSTOMER_NOT_FOUND, "customerId",
		    NULL, "no deltas recorded for customer %s", dt.customer);
		goto out;
	} else if (rc != STORE_OK) {
		api_unavailable(c);
		goto out;
	}
	data = json_object_new_object();
	api_customer_totals(data, dt.customer, &dt.b);
	json_object_object_add(data, "scope", view_scope(&dt.scope));
	json_object_object_add(data, "latestCheckpoint", dt.has_latest ?
	    view_checkpoint(&dt.latest) : NULL);
	json_object_object_add(data, "cadence", api_cadence_json(&dt));
	act = json_object_new_object();
	json_object_object_add(act, "items", dt.items);
	dt.items = NULL;
	page = json_object_new_object();
	json_object_object_add(page, "total", json_object_new_uint64(dt.total));
	json_object_object_add(page, "page", json_object_new_uint64(dt.page));
	json_object_object_add(page, "limit", json_object_new_uint64(dt.limit));
	json_object_object_add(act, "pagination", page);
	json_object_object_add(data, "recentActivity", act);
	response_success(c->resp, 200, data);
out:
	json_object_put(dt.items);
}

struct usage {
	const struct principal	*who;
	int			 month;
	uint64_t		 used, limit;
	int			 limited;
};

static int
api_usage_txn(struct store_txn *t, void *arg)
{
	struct usage	*u = arg;
	int		 rc;

	if ((rc = store_usage_get(t, u->who->tenant, u->who->env, u->month,
	    &u->used)) != STORE_OK)
		return rc;
	rc = store_quota_get(t, u->who->tenant, u->who->env, &u->limit);
	u->limited = rc == STORE_OK;
	return rc == STORE_NOTFOUND ? STORE_OK : rc;
}

void
api_usage(struct ctx *c)
{
	struct usage		 u = { &c->who, 0, 0, 0, 0 };
	struct json_object	*data;
	char			 period[TIMEFMT_PERIOD_LEN];

	if (!api_vendor_only(c))
		return;
	u.month = timefmt_month(timefmt_now_ms());
	if (store_read(c->app->store, api_usage_txn, &u) != STORE_OK) {
		api_unavailable(c);
		return;
	}
	timefmt_period(u.month, period);
	data = json_object_new_object();
	json_object_object_add(data, "allowed", json_object_new_boolean(
	    !u.limited || u.used < u.limit));
	json_object_object_add(data, "remaining", u.limited ?
	    json_object_new_uint64(u.used < u.limit ? u.limit - u.used : 0) :
	    NULL);
	json_object_object_add(data, "used", json_object_new_uint64(u.used));
	json_object_object_add(data, "limit", u.limited ?
	    json_object_new_uint64(u.limit) : NULL);
	json_object_object_add(data, "period", json_object_new_string(period));
	response_success(c->resp, 200, data);
}

#define WINDOWS_MAX	10000	/* cadence windows one gaps answer checks */

struct gaps {
	const struct principal	*who;
	const char		*customer;
	struct balance		 b;
	/* Cadence windows (window=day|hour), when asked for. */
	int64_t			 len_ms;		/* 0: not asked */
	int64_t			 start_ms, end_ms;	/* 0: from the data */
	struct json_object	*missing;
};

static int64_t
api_floor(int64_t ms, int64_t len)
{
	return ms - ((ms % len) + len) % len;
}

/* Windows of len_ms from start to end in which no delta was recorded. */
static int
api_gap_windows(struct store_txn *t, struct gaps *g)
{
	struct balance_scope	w = { .kind = BALANCE_CUSTOM };
	struct balance		b;
	struct json_object	*o;
	int			rc;

	json_object_put(g->missing);	/* a retried transaction starts again */
	if ((g->missing = json_object_new_array()) == NULL)
		return STORE_NOMEM;
	for (w.start_ms = g->start_ms; w.start_ms < g->end_ms;
	    w.start_ms += g->len_ms) {
		w.end_ms = w.start_ms + g->len_ms;
		if ((rc = balance_derive(t, g->who->tenant, g->who->env,
		    g->customer, &w, &b)) != STORE_OK)
			return rc;
		if (b.count + b.pending > 0)
			continue;
		o = json_object_new_object();
		json_object_object_add(o, "start", view_time(w.start_ms));
		json_object_object_add(o, "end", view_time(w.end_ms));
		json_object_array_add(g->missing, o);
	}
	return STORE_OK;
}

static int
api_gaps_txn(struct store_txn *t, void *arg)
{
	struct gaps	*g = arg;
	int		 rc;

	if ((rc = balance_derive(t, g->who->tenant, g->who->env, g->customer,
	    &all_deltas, &g->b)) != STORE_OK || g->len_ms == 0)
		return rc;
	/* By default from the first delta's window to the present one. */
	if (g->start_ms == 0)
		g->start_ms = api_floor(g->b.customer.first_ms, g->len_ms);
	if (g->end_ms == 0)
		g->end_ms = api_floor(timefmt_now_ms(), g->len_ms) + g->len_ms;
	if (g->end_ms > g->start_ms &&
	    (g->end_ms - g->start_ms) / g->len_ms > WINDOWS_MAX)
		return STORE_USER;
	return api_gap_windows(t, g);
}

/* window=day|hour and optional startDate/endDate; -1 after a 400. */
static int
api_gaps_window(struct ctx *c, struct gaps *g)
{
	char	text[40];
	int	rc;

	if ((rc = api_query_field(c, "window", text, sizeof(text))) == 0)
		return 0;
	if (rc < 0 || (strcmp(text, "day") != 0 && strcmp(text, "hour") != 0)) {
		response_error(c->resp, API_VALIDATION_ERROR, "window", NULL,
		    "window must be day or hour");
		return -1;
	}
	g->len_ms = strcmp(text, "day") == 0 ? 86400000 : 3600000;
	if ((rc = api_query_field(c, "startDate", text, sizeof(text))) != 0 &&
	    (rc < 0 || timefmt_parse_date(text, &g->start_ms) < 0)) {
		response_error(c->resp, API_VALIDATION_ERROR, "startDate", NULL,
		    "startDate must be a date or an RFC 3339 UTC time");
		return -1;
	}
	if ((rc = api_query_field(c, "endDate", text, sizeof(text))) != 0 &&
	    (rc < 0 || timefmt_parse_date(text, &g->end_ms) < 0)) {
		response_error(c->resp, API_VALIDATION_ERROR, "endDate", NULL,
		    "endDate must be a date or an RFC 3339 UTC time");
		return -1;
	}
	return 0;
}

/*
 * Tally numbers a customer's deltas itself, without holes, so the only
 * sequence numbers missing from the verified record are those no signed
 * tree head covers yet: at most one run, at the end.  With window=, it
 * also lists the windows of that length in which no delta was recorded:
 * the skipped intervals of periodic metering.
 */
void
api_gaps(struct ctx *c)
{
	struct gaps		 g;
	struct json_object	*data, *list, *gap;
	uint64_t		 from = 1, to = UINT64_MAX;
	uint64_t		 limit = GAPS_LIMIT_DEFAULT;	/* of gaps */
	uint64_t		 last, lo, hi;
	int			 rc;

	memset(&g, 0, sizeof(g));
	g.who = &c->who;
	g.customer = c->match.params[0];
	if (!api_vendor_only(c) || !api_customer_access(c, g.customer) ||
	    api_query_range(c, "fromSequence", 1, UINT64_MAX, &from) < 0 ||
	    api_query_range(c, "toSequence", 1, UINT64_MAX, &to) < 0 ||
	    api_query_range(c, "limit", 1, GAPS_LIMIT_MAX, &limit) < 0 ||
	    api_gaps_window(c, &g) < 0)
		return;
	if (to < from) {
		response_error(c->resp, API_VALIDATION_ERROR, "toSequence",
		    NULL, "toSequence must not be below fromSequence");
		return;
	}
	rc = store_read(c->app->store, api_gaps_txn, &g);
	if (rc == STORE_NOTFOUND) {
		response_error(c->resp, API_CUSTOMER_NOT_FOUND, "customerId",
		    NULL, "no deltas recorded for customer %s", g.customer);
		goto out;
	} else if (rc == STORE_USER) {
		response_error(c->resp, API_SCOPE_TOO_WIDE, "startDate", NULL,
		    "at most %d windows at once", WINDOWS_MAX);
		goto out;
	} else if (rc != STORE_OK) {
		api_unavailable(c);
		goto out;
	}
	last = g.b.last_seq + g.b.pending;
	lo = from > g.b.last_seq + 1 ? from : g.b.last_seq + 1;
	hi = to < last ? to : last;
	list = json_object_new_array();
	if (lo <= hi) {
		gap = json_object_new_object();
		json_object_object_add(gap, "from", json_object_new_uint64(lo));
		json_object_object_add(gap, "to", json_object_new_uint64(hi));
		json_object_array_add(list, gap);
	}
	data = json_object_new_object();
	json_object_object_add(data, "customerId",
	    json_object_new_string(g.customer));
	json_object_object_add(data, "gaps", list);
	json_object_object_add(data, "complete", json_object_new_boolean(
	    lo > hi && (g.missing == NULL ||
	    json_object_array_length(g.missing) == 0)));
	json_object_object_add(data, "lastSequence",
	    json_object_new_uint64(last));
	json_object_object_add(data, "verifiedThrough",
	    json_object_new_uint64(g.b.last_seq));
	json_object_object_add(data, "treeSize",
	    json_object_new_uint64(g.b.tree_size));
	if (g.len_ms != 0) {
		json_object_object_add(data, "window", json_object_new_string(
		    g.len_ms == 86400000 ? "day" : "hour"));
		json_object_object_add(data, "missingWindows", g.missing);
		g.missing = NULL;
	}
	response_success(c->resp, 200, data);
out:
	json_object_put(g.missing);
}
