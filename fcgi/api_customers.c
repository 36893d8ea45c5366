/* Customers, usage and gaps (SPEC 3.9). */
#include <limits.h>
#include <string.h>

#include <json-c/json.h>

#include "../core/balance.h"
#include "../core/gaps.h"
#include "../core/usage.h"
#include "../core/view.h"
#include "api.h"

#define CUSTOMERS_LIMIT_MAX	100
#define CUSTOMERS_LIMIT_DEFAULT	20
#define ACTIVITY_LIMIT_MAX	100
#define ACTIVITY_LIMIT_DEFAULT	10
#define GAPS_LIMIT_MAX		1000
#define GAPS_LIMIT_DEFAULT	100

static const struct balance_scope all_deltas = { .kind = BALANCE_ALL };

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
	struct balance		 b;
	int			 rc;

	if (l->total++ / l->limit != l->page - 1)
		return STORE_OK;
	if ((rc = balance_derive(l->t, l->c->who.tenant, l->c->who.env, id,
	    &all_deltas, &b)) != STORE_OK)
		return rc;
	return view_push(l->list, view_customer_row(id, &b)) < 0 ?
	    STORE_NOMEM : STORE_OK;
}

static int
api_customers_txn(struct store_txn *t, void *arg)
{
	struct api_customers_listing *l = arg;

	l->t = t;
	l->total = 0;
	json_object_put(l->list);	/* a retried transaction starts again */
	if ((l->list = view_array()) == NULL)
		return STORE_NOMEM;
	return store_customer_search(t, l->c->who.tenant, l->c->who.env,
	    l->search, api_customer_row, l);
}

void
api_customers(struct ctx *c)
{
	struct api_customers_listing l;
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
	response_success(c->resp, 200, view_customers(l.list, l.total, l.page,
	    l.limit));
}

struct api_customers_detail {
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
	struct api_customers_detail	*dt = arg;

	return view_push(dt->items, view_record(d)) < 0 ? STORE_NOMEM :
	    STORE_OK;
}

static int
api_customer_txn(struct store_txn *t, void *arg)
{
	struct api_customers_detail	*dt = arg;
	const struct principal		*who = &dt->c->who;
	int				 rc;

	if ((rc = balance_derive(t, who->tenant, who->env, dt->customer,
	    &dt->scope, &dt->b)) != STORE_OK ||
	    (rc = store_cadence_get(t, who->tenant, who->env, dt->customer,
	    &dt->cadence_ms, &dt->cadence_own)) != STORE_OK)
		return rc;
	rc = store_checkpoint_latest(t, who->tenant, who->env, dt->customer,
	    INT_MAX, &dt->latest);
	if (rc != STORE_OK && rc != STORE_NOTFOUND)
		return rc;
	dt->has_latest = rc == STORE_OK;
	json_object_put(dt->items);	/* a retried transaction starts again */
	if ((dt->items = view_array()) == NULL)
		return STORE_NOMEM;
	return balance_activity(t, who->tenant, who->env, dt->customer,
	    &dt->b, dt->page, dt->limit, &dt->total, api_activity_add, dt);
}

void
api_customer(struct ctx *c)
{
	struct api_customers_detail	 dt;
	enum balance_result		 res;

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
	res = balance_outcome(store_read(c->app->store, api_customer_txn, &dt),
	    &dt.b);
	if (res != BALANCE_OK) {
		json_object_put(dt.items);
		api_balance_fail(c, res, dt.customer, NULL, NULL, NULL);
		return;
	}
	response_success(c->resp, 200, view_customer(dt.customer, &dt.b,
	    &dt.scope, dt.has_latest ? &dt.latest : NULL, dt.cadence_ms,
	    dt.cadence_own, view_activity(dt.items, dt.total, dt.page,
	    dt.limit)));
}

void
api_usage(struct ctx *c)
{
	struct usage	u;

	if (!api_vendor_only(c))
		return;
	if (usage_get(c->app->store, c->who.tenant, c->who.env,
	    timefmt_now_ms(), &u) != STORE_OK) {
		api_unavailable(c);
		return;
	}
	response_success(c->resp, 200, view_usage(&u));
}

/* window=day|hour and optional startDate/endDate; -1 after a 400. */
static int
api_gaps_window(struct ctx *c, struct gaps_question *q)
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
	q->len_ms = strcmp(text, "day") == 0 ? GAPS_DAY_MS : GAPS_HOUR_MS;
	if ((rc = api_query_field(c, "startDate", text, sizeof(text))) != 0 &&
	    (rc < 0 || timefmt_parse_date(text, &q->start_ms) < 0)) {
		response_error(c->resp, API_VALIDATION_ERROR, "startDate", NULL,
		    "startDate must be a date or an RFC 3339 UTC time");
		return -1;
	}
	if ((rc = api_query_field(c, "endDate", text, sizeof(text))) != 0 &&
	    (rc < 0 || timefmt_parse_date(text, &q->end_ms) < 0)) {
		response_error(c->resp, API_VALIDATION_ERROR, "endDate", NULL,
		    "endDate must be a date or an RFC 3339 UTC time");
		return -1;
	}
	return 0;
}

/* The gaps of a customer's record (gaps.h). */
void
api_gaps(struct ctx *c)
{
	struct gaps_question	 q;
	struct gaps_answer	 a;
	uint64_t		 limit = GAPS_LIMIT_DEFAULT;	/* of gaps */
	enum balance_result	 res;

	memset(&q, 0, sizeof(q));
	q.customer = c->match.params[0];
	q.from = 1;
	q.to = UINT64_MAX;
	if (!api_vendor_only(c) || !api_customer_access(c, q.customer) ||
	    api_query_range(c, "fromSequence", 1, UINT64_MAX, &q.from) < 0 ||
	    api_query_range(c, "toSequence", 1, UINT64_MAX, &q.to) < 0 ||
	    api_query_range(c, "limit", 1, GAPS_LIMIT_MAX, &limit) < 0 ||
	    api_gaps_window(c, &q) < 0)
		return;
	if (q.to < q.from) {
		response_error(c->resp, API_VALIDATION_ERROR, "toSequence",
		    NULL, "toSequence must not be below fromSequence");
		return;
	}
	res = gaps_run(c->app->store, c->who.tenant, c->who.env, &q, &a);
	if (res == BALANCE_OK)
		response_success(c->resp, 200, view_gaps(&q, &a));
	else
		api_balance_fail(c, res, q.customer, NULL, "startDate",
		    "at most %d windows at once", GAPS_WINDOWS_MAX);
	gaps_answer_free(&a);
}
