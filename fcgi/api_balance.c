/* Reading balances (SPEC 3.4, 3.5): derive and compare. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "../common/grow.h"
#include "../core/balance.h"
#include "../core/ids.h"
#include "../core/view.h"
#include "api.h"

#define DERIVE_LIMIT_MAX	1000
#define DERIVE_LIMIT_DEFAULT	100
/* Deltas a compare with theirDeltas may list and match, at most. */
#define COMPARE_DELTAS_MAX	100000
#define COMPARE_TOO_WIDE	(STORE_USER + 10)

/* Exact decimal text into *v; 0, or -1 after answering 400. */
static int
api_amount(struct ctx *c, const char *name, const char *text, decimal_t *v)
{
	if (text != NULL && decimal_parse(text, strlen(text), v) == DECIMAL_OK)
		return 0;
	response_error(c->resp, API_VALIDATION_ERROR, name, NULL,
	    "%s must be a number with at most 9 digits after the point",
	    name);
	return -1;
}

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

/*
 * An amount in the body: a JSON number, or a string holding one (some
 * clients send amounts as strings to keep them exact).  1, 0, -1.
 */
static int
api_body_amount(struct ctx *c, struct json_object *obj, const char *name,
    const char *label, int required, decimal_t *v)
{
	struct json_object	*m;
	const char		*text = NULL;

	if (!json_object_object_get_ex(obj, name, &m) || m == NULL) {
		if (!required)
			return 0;
		response_error(c->resp, API_VALIDATION_ERROR, label, NULL,
		    "%s is required", label);
		return -1;
	}
	if (json_object_is_type(m, json_type_int) ||
	    json_object_is_type(m, json_type_double) ||
	    json_object_is_type(m, json_type_string))
		text = json_object_get_string(m);
	return api_amount(c, label, text, v) < 0 ? -1 : 1;
}

/* The answer to a derive or compare: one balance, maybe a page of it. */
struct reading {
	struct ctx		*c;
	const char		*customer;
	struct balance_scope	 scope;
	struct balance		 b;
	uint64_t		 offset, limit;
	struct json_object	*deltas;	/* derive: the page */
};

static int
api_page_add(struct store_delta *d, void *arg)
{
	struct reading	*r = arg;

	json_object_array_add(r->deltas, view_record(d));
	return STORE_OK;
}

static int
api_reading_txn(struct store_txn *t, void *arg)
{
	struct reading	*r = arg;
	int		 rc;

	if ((rc = balance_derive(t, r->c->who.tenant, r->c->who.env,
	    r->customer, &r->scope, &r->b)) != STORE_OK ||
	    (rc = balance_latest_receipt(t, r->c->who.tenant, r->c->who.env,
	    r->customer, &r->b)) != STORE_OK)
		return rc;
	/* A retried transaction starts its page again. */
	json_object_put(r->deltas);
	if ((r->deltas = json_object_new_array()) == NULL)
		return STORE_NOMEM;
	if (r->offset >= r->b.count)
		return STORE_OK;
	return balance_each(t, r->c->who.tenant, r->c->who.env, r->customer,
	    r->b.first_seq + r->offset, r->b.last_seq, 0, r->limit,
	    api_page_add, r);
}

/* Reads r with txn; 0, or -1 after answering the failure. */
static int
api_read_balance(struct reading *r, store_txn_fn txn, void *arg)
{
	int	rc;

	rc = store_read(r->c->app->store, txn, arg);
	if (rc == STORE_OK)
		return 0;
	if (rc == STORE_NOTFOUND)
		response_error(r->c->resp, API_CUSTOMER_NOT_FOUND,
		    "customerId", NULL, "no deltas recorded for customer %s",
		    r->customer);
	else if (rc == BALANCE_NO_CHECKPOINT)
		response_error(r->c->resp, API_CHECKPOINT_NOT_FOUND,
		    "startingCheckpoint", NULL, "no checkpoint %s",
		    r->scope.checkpoint);
	else if (rc == COMPARE_TOO_WIDE)
		response_error(r->c->resp, API_SCOPE_TOO_WIDE, "theirDeltas",
		    NULL, "theirDeltas can be matched against at most %d "
		    "deltas: narrow the scope", COMPARE_DELTAS_MAX);
	else
		api_unavailable(r->c);
	return -1;
}

/* From a checkpoint, the balance starts where it ended, unless told. */
static decimal_t
api_start(const struct reading *r, int given, decimal_t start)
{
	return r->scope.kind == BALANCE_CHECKPOINT && !given ?
	    r->b.checkpoint_ending : start;
}

static struct json_object *
api_opt_receipt(const struct balance *b)
{
	return b->latest_receipt[0] != '\0' ?
	    json_object_new_string(b->latest_receipt) : NULL;
}

void
api_derive(struct ctx *c)
{
	struct reading		 r;
	struct json_object	*data, *page;
	decimal_t		 start = 0;
	int			 given;

	memset(&r, 0, sizeof(r));
	r.c = c;
	r.customer = c->match.params[0];
	r.limit = DERIVE_LIMIT_DEFAULT;
	if (!api_customer_access(c, r.customer) ||
	    api_scope(c, api_query_field, &r.scope) < 0 ||
	    (given = api_query_amount(c, "startingBalance", &start)) < 0 ||
	    api_query_range(c, "limit", 1, DERIVE_LIMIT_MAX, &r.limit) < 0 ||
	    api_query_u64(c, "offset", &r.offset) < 0)
		return;
	if (api_read_balance(&r, api_reading_txn, &r) < 0) {
		json_object_put(r.deltas);
		return;
	}
	start = api_start(&r, given, start);
	data = json_object_new_object();
	json_object_object_add(data, "customerId",
	    json_object_new_string(r.customer));
	json_object_object_add(data, "computedBalance",
	    view_decimal(start + r.b.net));
	json_object_object_add(data, "startingBalance",
	    view_decimal(start));
	json_object_object_add(data, "netChange", view_decimal(r.b.net));
	json_object_object_add(data, "deltasCount",
	    json_object_new_uint64(r.b.count));
	json_object_object_add(data, "deltaCount",
	    json_object_new_uint64(r.b.count));
	json_object_object_add(data, "pendingCount",
	    json_object_new_uint64(r.b.pending));
	json_object_object_add(data, "scope", view_scope(&r.scope));
	json_object_object_add(data, "latestReceiptId", api_opt_receipt(&r.b));
	json_object_object_add(data, "treeSize",
	    json_object_new_uint64(r.b.tree_size));
	json_object_object_add(data, "deltas", r.deltas);
	page = json_object_new_object();
	json_object_object_add(page, "limit", json_object_new_uint64(r.limit));
	json_object_object_add(page, "offset",
	    json_object_new_uint64(r.offset));
	json_object_object_add(page, "total", json_object_new_uint64(r.b.count));
	json_object_object_add(data, "pagination", page);
	response_success(c->resp, 200, data);
}

/*
 * Matching their list against the record, in memory that does not grow
 * with the scope: their list (at most what a 64 KiB body holds) is sorted
 * once and grouped by referenceId; the record's deltas are walked in
 * order, each found in it by binary search (a referenceId names one
 * delta of a customer, so a match only adds to its group).  Of the
 * record's unmatched deltas only those that can fall on the page are
 * kept: the list is ordered by referenceId, so a page ending at position
 * offset + limit needs at most that many of the smallest unmatched
 * referenceIds (a max-heap of them), and of the deltas without one, which
 * come last in the record's order, the first that many; the others are
 * only counted.  Work is O(scope log theirs + scope log page), memory
 * O(theirs + offset + limit), and JSON is built for the page alone.
 */
#define DISCREPANCY_LIMIT_MAX	1000	/* also the default */

/* Their amount for one referenceId (summed if it repeats), and ours. */
struct theirs {
	const char	*reference;	/* in the request body */
	decimal_t	 theirs, recorded;
	int		 has_recorded;
};

/* A recorded delta their list does not name: missing_in_theirs. */
struct unmatched {
	char		*id;		/* owned: referenceId, else recordId */
	decimal_t	 amount;
};

/* At most keep of the unmatched deltas, and how many there were. */
struct kept {
	struct unmatched *v;
	size_t		 n, cap, keep;
	uint64_t	 seen;
};

struct comparing {
	struct reading	 r;
	int		 matched;	/* theirDeltas given */
	struct theirs	*t;		/* sorted, one per referenceId */
	size_t		 nt;
	struct kept	 refs;		/* max-heap by referenceId */
	struct kept	 norefs;	/* the first ones, in record order */
	uint64_t	 offset, limit;	/* the page of discrepancies */
	uint64_t	 total;		/* discrepancies in all */
};

static int
api_theirs_cmp(const void *a, const void *b)
{
	const struct theirs	*x = a, *y = b;

	return strcmp(x->reference, y->reference);
}

static int
api_theirs_find(const void *key, const void *elem)
{
	const struct theirs	*y = elem;

	return strcmp(key, y->reference);
}

static int
api_unmatched_cmp(const void *a, const void *b)
{
	const struct unmatched	*x = a, *y = b;

	return strcmp(x->id, y->id);
}

static void
api_kept_clear(struct kept *k)
{
	while (k->n > 0)
		free(k->v[--k->n].id);
	k->seen = 0;
}

/* Appends (id, amount) to k, which must have room for it below keep. */
static int
api_kept_add(struct kept *k, const char *id, decimal_t amount)
{
	if (grow(&k->v, &k->cap, k->n + 1, sizeof(*k->v)) < 0)
		return STORE_NOMEM;
	if ((k->v[k->n].id = strdup(id)) == NULL)
		return STORE_NOMEM;
	k->v[k->n++].amount = amount;
	return STORE_OK;
}

/* Restores the max-heap order of k from position i down. */
static void
api_heap_down(struct kept *k, size_t i)
{
	struct unmatched	 tmp;
	size_t			 big, c;

	for (;;) {
		big = i;
		for (c = 2 * i + 1; c <= 2 * i + 2 && c < k->n; c++)
			if (strcmp(k->v[c].id, k->v[big].id) > 0)
				big = c;
		if (big == i)
			return;
		tmp = k->v[i];
		k->v[i] = k->v[big];
		k->v[big] = tmp;
		i = big;
	}
}

/* Keeps reference if it is among the keep smallest seen so far. */
static int
api_heap_offer(struct kept *k, const char *reference, decimal_t amount)
{
	struct unmatched	 tmp;
	char			*id;
	size_t			 i;
	int			 rc;

	k->seen++;
	if (k->n < k->keep) {
		if ((rc = api_kept_add(k, reference, amount)) != STORE_OK)
			return rc;
		for (i = k->n - 1; i > 0 && strcmp(k->v[(i - 1) / 2].id,
		    k->v[i].id) < 0; i = (i - 1) / 2) {
			tmp = k->v[i];
			k->v[i] = k->v[(i - 1) / 2];
			k->v[(i - 1) / 2] = tmp;
		}
		return STORE_OK;
	}
	if (k->n == 0 || strcmp(reference, k->v[0].id) >= 0)
		return STORE_OK;
	if ((id = strdup(reference)) == NULL)
		return STORE_NOMEM;
	free(k->v[0].id);
	k->v[0].id = id;
	k->v[0].amount = amount;
	api_heap_down(k, 0);
	return STORE_OK;
}

static int
api_record_entry(struct store_delta *d, void *arg)
{
	struct comparing	*m = arg;
	struct theirs		*th;
	decimal_t		 amount;

	if (decimal_parse(d->delta, strlen(d->delta), &amount) != DECIMAL_OK)
		return STORE_CORRUPT;
	if (!d->has_reference) {
		if (m->norefs.seen++ < m->norefs.keep)
			return api_kept_add(&m->norefs, d->record_id, amount);
		return STORE_OK;
	}
	/* m->t is NULL for an empty list: no bsearch(NULL). */
	if (m->nt == 0 || (th = bsearch(d->reference_id, m->t, m->nt,
	    sizeof(m->t[0]), api_theirs_find)) == NULL)
		return api_heap_offer(&m->refs, d->reference_id, amount);
	th->recorded += amount;
	th->has_recorded = 1;
	return STORE_OK;
}

static int
api_compare_txn(struct store_txn *t, void *arg)
{
	struct comparing	*m = arg;
	struct reading		*r = &m->r;
	size_t			 i;
	int			 rc;

	if ((rc = balance_derive(t, r->c->who.tenant, r->c->who.env,
	    r->customer, &r->scope, &r->b)) != STORE_OK || !m->matched)
		return rc;
	if (r->b.count > COMPARE_DELTAS_MAX)
		return COMPARE_TOO_WIDE;
	/* A retried transaction starts again. */
	for (i = 0; i < m->nt; i++) {
		m->t[i].recorded = 0;
		m->t[i].has_recorded = 0;
	}
	api_kept_clear(&m->refs);
	api_kept_clear(&m->norefs);
	/* No unmatched delta beyond the page's end can be on it. */
	m->refs.keep = m->norefs.keep = m->offset + m->limit <
	    COMPARE_DELTAS_MAX ? m->offset + m->limit : COMPARE_DELTAS_MAX;
	return balance_each(t, r->c->who.tenant, r->c->who.env, r->customer,
	    r->b.first_seq, r->b.last_seq, 0, r->b.count, api_record_entry, m);
}

/* Counts one discrepancy, and adds it to list if it is on the page. */
static void
api_discrepancy(struct comparing *m, struct json_object *list,
    const char *reference, const char *record_id, int has_recorded,
    decimal_t recorded, int has_theirs, decimal_t theirs)
{
	struct json_object	*o;

	if (m->total++ < m->offset || m->total > m->offset + m->limit)
		return;
	o = json_object_new_object();
	json_object_object_add(o, "referenceId", reference != NULL ?
	    json_object_new_string(reference) : NULL);
	json_object_object_add(o, "kind", json_object_new_string(
	    !has_recorded ? "missing_in_record" : !has_theirs ?
	    "missing_in_theirs" : "amount_differs"));
	json_object_object_add(o, "recorded", has_recorded ?
	    view_decimal(recorded) : NULL);
	json_object_object_add(o, "theirs", has_theirs ?
	    view_decimal(theirs) : NULL);
	if (record_id != NULL)
		json_object_object_add(o, "recordId",
		    json_object_new_string(record_id));
	json_object_array_add(list, o);
}

/*
 * The page of discrepancies between the record and their list, by
 * referenceId; the record's deltas that have no referenceId cannot be
 * matched and come last, by recordId in the record's order.  m->total
 * gets how many there are in all.  Every delta kept has its exact
 * position: each one not kept lies beyond the page (see above).
 */
static struct json_object *
api_discrepancies(struct comparing *m)
{
	struct json_object	*list = json_object_new_array();
	struct theirs		*th;
	struct unmatched	*u;
	size_t			 i, j;

	if (m->refs.n > 0)	/* v is NULL when empty: no qsort(NULL) */
		qsort(m->refs.v, m->refs.n, sizeof(m->refs.v[0]),
		    api_unmatched_cmp);
	m->total = 0;
	for (i = j = 0; i < m->nt || j < m->refs.n; ) {
		th = i < m->nt ? &m->t[i] : NULL;
		u = j < m->refs.n ? &m->refs.v[j] : NULL;
		if (th != NULL && (u == NULL ||
		    strcmp(th->reference, u->id) < 0)) {
			i++;
			if (!th->has_recorded || th->recorded != th->theirs)
				api_discrepancy(m, list, th->reference, NULL,
				    th->has_recorded, th->recorded, 1,
				    th->theirs);
		} else {
			j++;
			api_discrepancy(m, list, u->id, NULL, 1, u->amount, 0,
			    0);
		}
	}
	m->total += m->refs.seen - m->refs.n;
	for (j = 0; j < m->norefs.n; j++)
		api_discrepancy(m, list, NULL, m->norefs.v[j].id, 1,
		    m->norefs.v[j].amount, 0, 0);
	m->total += m->norefs.seen - m->norefs.n;
	return list;
}

/* Their list: [{referenceId, delta}]; 0, or -1 after a 400. */
static int
api_their_deltas(struct ctx *c, struct comparing *m)
{
	struct json_object	*list, *item, *ref;
	struct theirs		*th;
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
	m->matched = 1;
	n = json_object_array_length(list);
	if (n > 0 && (m->t = calloc(n, sizeof(m->t[0]))) == NULL) {
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
		th = &m->t[i];
		th->reference = json_object_get_string(ref);
		snprintf(field, sizeof(field), "theirDeltas[%zu].delta", i);
		if (api_body_amount(c, item, "delta", field, 1,
		    &th->theirs) < 0)
			return -1;
	}
	/* One entry per referenceId, their amounts summed. */
	if (n > 0)
		qsort(m->t, n, sizeof(m->t[0]), api_theirs_cmp);
	for (i = 0; i < n; i++) {
		if (m->nt > 0 && strcmp(m->t[m->nt - 1].reference,
		    m->t[i].reference) == 0)
			m->t[m->nt - 1].theirs += m->t[i].theirs;
		else
			m->t[m->nt++] = m->t[i];
	}
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

/* |a - b| <= tolerance */
static int
api_within(decimal_t a, decimal_t b, decimal_t tolerance)
{
	decimal_t	d = a - b;

	return (d < 0 ? -d : d) <= tolerance;
}

static int
api_compare_input(struct ctx *c, struct comparing *m, decimal_t *yours,
    decimal_t *theirs, int *has_theirs, decimal_t *start, int *has_start,
    decimal_t *tol)
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
	m->r.customer = json_object_get_string(id);
	if (!api_customer_access(c, m->r.customer) ||
	    api_scope(c, api_body_field, &m->r.scope) < 0 ||
	    api_body_amount(c, c->body, "yourBalance", "yourBalance", 1,
	    yours) < 0 ||
	    (*has_theirs = api_body_amount(c, c->body, "theirBalance",
	    "theirBalance", 0, theirs)) < 0 ||
	    (*has_start = api_body_amount(c, c->body, "startingBalance",
	    "startingBalance", 0, start)) < 0 ||
	    api_body_amount(c, c->body, "tolerance", "tolerance", 0, tol) < 0)
		return -1;
	if (*tol < 0) {
		response_error(c->resp, API_VALIDATION_ERROR, "tolerance", NULL,
		    "tolerance must not be negative");
		return -1;
	}
	if (api_body_count(c, "discrepancyLimit", 1, DISCREPANCY_LIMIT_MAX,
	    DISCREPANCY_LIMIT_MAX, &m->limit) < 0 ||
	    api_body_count(c, "discrepancyOffset", 0, INT64_MAX, 0,
	    &m->offset) < 0)
		return -1;
	return api_their_deltas(c, m);
}

void
api_compare(struct ctx *c)
{
	struct comparing	 m;
	struct json_object	*data, *list, *page;
	decimal_t		 yours = 0, theirs = 0, start = 0, tol = 0;
	decimal_t		 neutral;
	int			 has_theirs = 0, has_start = 0, mine_ok;
	int			 theirs_ok;

	memset(&m, 0, sizeof(m));
	m.r.c = c;
	if (api_compare_input(c, &m, &yours, &theirs, &has_theirs, &start,
	    &has_start, &tol) < 0 ||
	    api_read_balance(&m.r, api_compare_txn, &m) < 0)
		goto out;
	start = api_start(&m.r, has_start, start);
	neutral = start + m.r.b.net;
	mine_ok = api_within(yours, neutral, tol);
	theirs_ok = has_theirs && api_within(theirs, neutral, tol);
	data = json_object_new_object();
	json_object_object_add(data, "customerId",
	    json_object_new_string(m.r.customer));
	json_object_object_add(data, "neutralBalance",
	    view_decimal(neutral));
	json_object_object_add(data, "yourBalance", view_decimal(yours));
	json_object_object_add(data, "theirBalance", has_theirs ?
	    view_decimal(theirs) : NULL);
	json_object_object_add(data, "matchesYours",
	    json_object_new_boolean(mine_ok));
	json_object_object_add(data, "matchesTheirs", has_theirs ?
	    json_object_new_boolean(theirs_ok) : NULL);
	json_object_object_add(data, "match", json_object_new_boolean(
	    mine_ok && (!has_theirs || theirs_ok)));
	json_object_object_add(data, "yourDifference",
	    view_decimal(yours - neutral));
	json_object_object_add(data, "theirDifference", has_theirs ?
	    view_decimal(theirs - neutral) : NULL);
	json_object_object_add(data, "startingBalance",
	    view_decimal(start));
	json_object_object_add(data, "tolerance", view_decimal(tol));
	json_object_object_add(data, "deltasCount",
	    json_object_new_uint64(m.r.b.count));
	json_object_object_add(data, "pendingCount",
	    json_object_new_uint64(m.r.b.pending));
	json_object_object_add(data, "scope", view_scope(&m.r.scope));
	json_object_object_add(data, "treeSize",
	    json_object_new_uint64(m.r.b.tree_size));
	if (m.matched) {
		/* A page (README): the whole list unless it is long. */
		list = api_discrepancies(&m);
		json_object_object_add(data, "truncated",
		    json_object_new_boolean(json_object_array_length(list) <
		    m.total));
		json_object_object_add(data, "discrepanciesTotal",
		    json_object_new_uint64(m.total));
		page = json_object_new_object();
		json_object_object_add(page, "limit",
		    json_object_new_uint64(m.limit));
		json_object_object_add(page, "offset",
		    json_object_new_uint64(m.offset));
		json_object_object_add(page, "total",
		    json_object_new_uint64(m.total));
		json_object_object_add(data, "discrepancyPagination", page);
		json_object_object_add(data, "discrepancies", list);
	}
	response_success(c->resp, 200, data);
out:
	free(m.t);
	api_kept_clear(&m.refs);
	api_kept_clear(&m.norefs);
	free(m.refs.v);
	free(m.norefs.v);
}
