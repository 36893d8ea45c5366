/* Reading balances (SPEC 3.4, 3.5): derive and compare. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "../common/sbuf.h"
#include "../core/balance.h"
#include "../core/compare.h"
#include "../core/ids.h"
#include "../core/view.h"
#include "api.h"

#define DERIVE_LIMIT_MAX	1000
#define DERIVE_LIMIT_DEFAULT	100

/* An amount in the query: 1 present, 0 absent, -1 after a 400. */
static int
api_query_amount(struct ctx *c, const char *name, decimal_t *v)
{
	char	text[DECIMAL_MAX];
	int	rc;

	if ((rc = api_query_field(c, name, text, sizeof(text))) == 0)
		return 0;
	return api_amount(c, name, rc > 0 ? text : NULL, v) < 0 ? -1 : 1;
}

void
api_derive(struct ctx *c)
{
	struct balance_scope	 scope;
	struct balance		 b;
	struct sbuf		 deltas = { 0 };
	struct balance_pager	 pager = { api_records_begin, api_records_add,
				    &deltas };
	const char		*customer = c->match.params[0];
	uint64_t		 offset = 0, limit = DERIVE_LIMIT_DEFAULT;
	decimal_t		 start = 0;
	enum balance_result	 res;
	int			 given;

	if (!api_customer_access(c, customer) ||
	    api_scope(c, api_query_field, &scope) < 0 ||
	    (given = api_query_amount(c, "startingBalance", &start)) < 0 ||
	    api_query_range(c, "limit", 1, DERIVE_LIMIT_MAX, &limit) < 0 ||
	    api_query_u64(c, "offset", &offset) < 0)
		return;
	res = balance_read(c->app->store, c->who.tenant, c->who.env, customer,
	    &scope, offset, limit, &pager, &b);
	if (res != BALANCE_OK) {
		sbuf_free(&deltas);
		api_balance_fail(c, res, customer, &scope, NULL, NULL);
		return;
	}
	start = balance_start(&scope, &b, given, start);
	response_success(c->resp, 200, view_derive(customer, &scope, &b,
	    start, view_records_end(&deltas), limit, offset));
}

/* Their list: [{referenceId, delta}]; 0, or -1 after a 400. */
static int
api_their_deltas(struct ctx *c, struct compare_question *q,
    struct compare_theirs **listp)
{
	struct json_object	*list, *item, *ref;
	struct compare_theirs	*th;
	char			 field[48];
	size_t			 i, n;

	if (!json_object_object_get_ex(c->body, "theirDeltas", &list) ||
	    list == NULL)
		return 0;
	if (!json_object_is_type(list, json_type_array)) {
		response_error(c->resp, API_VALIDATION_ERROR, "theirDeltas",
		    NULL, "theirDeltas must be an array");
		return -1;
	}
	q->matched = 1;
	n = json_object_array_length(list);
	if (n > 0 && (*listp = calloc(n, sizeof(**listp))) == NULL) {
		response_out_of_memory(c->resp);
		return -1;
	}
	for (i = 0; i < n; i++) {
		item = json_object_array_get_idx(list, i);
		snprintf(field, sizeof(field), "theirDeltas[%zu]", i);
		if (!json_object_is_type(item, json_type_object) ||
		    !json_object_object_get_ex(item, "referenceId", &ref) ||
		    !json_object_is_type(ref, json_type_string)) {
			response_error(c->resp, API_VALIDATION_ERROR, field,
			    NULL, "%s must be {referenceId: string, delta: "
			    "number}", field);
			return -1;
		}
		th = &(*listp)[i];
		th->reference = json_object_get_string(ref);
		snprintf(field, sizeof(field), "theirDeltas[%zu].delta", i);
		if (api_body_amount(c, item, "delta", field, 1,
		    &th->amount) < 0)
			return -1;
	}
	q->list = *listp;
	q->nlist = n;
	return 0;
}

/* A whole number in the body, min..max, else dflt; 0, or -1 after 400. */
static int
api_body_count(struct ctx *c, const char *name, int64_t min, int64_t max,
    int64_t dflt, uint64_t *out)
{
	struct json_object	*v;
	int64_t			 n = dflt;

	if (json_object_object_get_ex(c->body, name, &v) && v != NULL) {
		n = json_object_is_type(v, json_type_int) ?
		    json_object_get_int64(v) : min - 1;
		if (n < min || n > max) {
			response_error(c->resp, API_VALIDATION_ERROR, name,
			    NULL, "%s must be a whole number from %lld to %lld",
			    name, (long long)min, (long long)max);
			return -1;
		}
	}
	*out = (uint64_t)n;
	return 0;
}

static int
api_compare_input(struct ctx *c, struct compare_question *q,
    struct compare_theirs **list)
{
	struct json_object	*id;

	if (!json_object_object_get_ex(c->body, "customerId", &id) ||
	    !json_object_is_type(id, json_type_string) ||
	    !ids_customer_valid(json_object_get_string(id))) {
		response_error(c->resp, API_VALIDATION_ERROR, "customerId",
		    NULL, "customerId is required: 1 to 128 of A-Z a-z 0-9 "
		    "_ . : -");
		return -1;
	}
	q->customer = json_object_get_string(id);
	if (!api_customer_access(c, q->customer) ||
	    api_scope(c, api_body_field, &q->scope) < 0 ||
	    api_body_amount(c, c->body, "yourBalance", "yourBalance", 1,
	    &q->yours) < 0 ||
	    (q->has_theirs = api_body_amount(c, c->body, "theirBalance",
	    "theirBalance", 0, &q->theirs)) < 0 ||
	    (q->has_start = api_body_amount(c, c->body, "startingBalance",
	    "startingBalance", 0, &q->start)) < 0 ||
	    api_body_amount(c, c->body, "tolerance", "tolerance", 0,
	    &q->tolerance) < 0)
		return -1;
	if (q->tolerance < 0) {
		response_error(c->resp, API_VALIDATION_ERROR, "tolerance", NULL,
		    "tolerance must not be negative");
		return -1;
	}
	if (api_body_count(c, "discrepancyLimit", 1, COMPARE_PAGE_MAX,
	    COMPARE_PAGE_MAX, &q->limit) < 0 ||
	    api_body_count(c, "discrepancyOffset", 0, INT64_MAX, 0,
	    &q->offset) < 0)
		return -1;
	return api_their_deltas(c, q, list);
}

void
api_compare(struct ctx *c)
{
	struct compare_question	 q;
	struct compare_answer	 a;
	struct compare_theirs	*list = NULL;
	enum balance_result	 res;

	memset(&q, 0, sizeof(q));
	if (api_compare_input(c, &q, &list) < 0)
		goto out;
	res = compare_run(c->app->store, c->who.tenant, c->who.env, &q, &a);
	if (res == BALANCE_OK)
		response_success(c->resp, 200, view_compare(&q, &a));
	else
		api_balance_fail(c, res, q.customer, &q.scope, "theirDeltas",
		    "theirDeltas can be matched against at most %d deltas: "
		    "narrow the scope", COMPARE_DELTAS_MAX);
	compare_answer_free(&a);
out:
	free(list);
}
