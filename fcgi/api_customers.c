/* Customers, usage and gaps (SPEC 3.9). */
#include <string.h>

#include "../common/sbuf.h"
#include "../core/balance.h"
#include "../core/customer.h"
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

void
api_customers(struct ctx *c)
{
	struct customer_list	 l;
	char			 search[STORE_CUSTOMER_MAX + 1] = "";
	uint64_t		 page = 1, limit = CUSTOMERS_LIMIT_DEFAULT;

	if (!api_vendor_only(c) ||
	    api_query_range(c, "page", 1, UINT32_MAX, &page) < 0 ||
	    api_query_range(c, "limit", 1, CUSTOMERS_LIMIT_MAX, &limit) < 0)
		return;
	if (request_query(c->req, "search", search, sizeof(search)) < 0) {
		response_error(c->resp, API_VALIDATION_ERROR, "search", NULL,
		    "search must be at most %d characters",
		    STORE_CUSTOMER_MAX);
		return;
	}
	if (customer_list(c->app->store, c->who.tenant, c->who.env, search,
	    page, limit, &l) != STORE_OK)
		api_unavailable(c);
	else
		response_success(c->resp, 200, view_customers(&l, page, limit));
	customer_list_free(&l);
}

void
api_customer(struct ctx *c)
{
	struct balance_scope	 scope = { .kind = BALANCE_ALL };
	struct customer_page	 cp;
	int			 month;
	struct sbuf		 items = { 0 };
	struct balance_pager	 pager = { api_records_begin, api_records_add,
				    &items };
	const char		*customer = c->match.params[0];
	uint64_t		 page = 1, limit = ACTIVITY_LIMIT_DEFAULT;
	enum balance_result	 res;

	if (!api_customer_access(c, customer) ||
	    api_query_range(c, "deltaPage", 1, UINT32_MAX, &page) < 0 ||
	    api_query_range(c, "deltaLimit", 1, ACTIVITY_LIMIT_MAX,
	    &limit) < 0 ||
	    api_query_period(c, &month) < 0)
		return;
	if (month >= 0)
		balance_scope_month(&scope, month);
	res = customer_read(c->app->store, c->who.tenant, c->who.env, customer,
	    &scope, page, limit, &pager, &cp);
	if (res != BALANCE_OK) {
		sbuf_free(&items);
		api_balance_fail(c, res, customer, NULL, NULL, NULL);
		return;
	}
	response_success(c->resp, 200, view_customer(customer, &cp.b, &scope,
	    cp.has_latest ? &cp.latest : NULL, cp.cadence_ms, cp.cadence_own,
	    view_activity(view_records_end(&items), cp.total, page, limit)));
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
