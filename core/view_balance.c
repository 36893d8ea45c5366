/* Views of balances (SPEC 3.4, 3.5): derive and compare. */
#include <json-c/json.h>

#include "compare.h"
#include "view.h"

/* An amount, or a null when there is none. */
static void
view_balance_put_opt(struct json_object *o, const char *key, int has,
    decimal_t v)
{
	if (has)
		view_put(o, key, view_decimal(v));
	else
		view_put_null(o, key);
}

struct json_object *
view_derive(const char *customer, const struct balance_scope *s,
    const struct balance *b, decimal_t start, struct json_object *deltas,
    uint64_t limit, uint64_t offset)
{
	struct json_object	*o;

	if ((o = view_object()) == NULL) {
		json_object_put(deltas);
		return NULL;
	}
	view_put(o, "customerId", view_string(customer));
	view_put(o, "computedBalance", view_decimal(start + b->net));
	view_put(o, "startingBalance", view_decimal(start));
	view_put(o, "netChange", view_decimal(b->net));
	view_put(o, "deltasCount", view_u64(b->count));
	view_put(o, "deltaCount", view_u64(b->count));
	view_put(o, "pendingCount", view_u64(b->pending));
	view_put(o, "scope", view_scope(s));
	if (b->latest_receipt[0] != '\0')
		view_put(o, "latestReceiptId", view_string(b->latest_receipt));
	else
		view_put_null(o, "latestReceiptId");
	view_put(o, "treeSize", view_u64(b->tree_size));
	view_put(o, "deltas", deltas);
	view_put(o, "pagination", view_pagination(limit, offset, b->count));
	return o;
}

static struct json_object *
view_discrepancy(const struct compare_discrepancy *d)
{
	static const char *const kinds[] = {
		[COMPARE_MISSING_IN_RECORD] = "missing_in_record",
		[COMPARE_MISSING_IN_THEIRS] = "missing_in_theirs",
		[COMPARE_AMOUNT_DIFFERS] = "amount_differs"
	};
	struct json_object	*o;

	if ((o = view_object()) == NULL)
		return NULL;
	if (d->reference != NULL)
		view_put(o, "referenceId", view_string(d->reference));
	else
		view_put_null(o, "referenceId");
	view_put(o, "kind", view_string(kinds[d->kind]));
	view_balance_put_opt(o, "recorded",
	    d->kind != COMPARE_MISSING_IN_RECORD, d->recorded);
	view_balance_put_opt(o, "theirs",
	    d->kind != COMPARE_MISSING_IN_THEIRS, d->theirs);
	if (d->record_id != NULL)
		view_put(o, "recordId", view_string(d->record_id));
	return o;
}

/* A page (README): the whole list unless it is long. */
static void
view_discrepancies(struct json_object *o, const struct compare_question *q,
    const struct compare_answer *a)
{
	struct json_object	*list;
	size_t			 i;

	view_put(o, "truncated", view_bool(a->npage < a->total));
	view_put(o, "discrepanciesTotal", view_u64(a->total));
	view_put(o, "discrepancyPagination",
	    view_pagination(q->limit, q->offset, a->total));
	list = view_array();
	for (i = 0; list != NULL && i < a->npage; i++)
		view_push(list, view_discrepancy(&a->page[i]));
	view_put(o, "discrepancies", list);
}

struct json_object *
view_compare(const struct compare_question *q, const struct compare_answer *a)
{
	struct json_object	*o;

	if ((o = view_object()) == NULL)
		return NULL;
	view_put(o, "customerId", view_string(q->customer));
	view_put(o, "neutralBalance", view_decimal(a->neutral));
	view_put(o, "yourBalance", view_decimal(q->yours));
	view_balance_put_opt(o, "theirBalance", q->has_theirs, q->theirs);
	view_put(o, "matchesYours", view_bool(a->matches_yours));
	if (q->has_theirs)
		view_put(o, "matchesTheirs", view_bool(a->matches_theirs));
	else
		view_put_null(o, "matchesTheirs");
	view_put(o, "match", view_bool(a->match));
	view_put(o, "yourDifference", view_decimal(a->your_difference));
	view_balance_put_opt(o, "theirDifference", q->has_theirs,
	    a->their_difference);
	view_put(o, "startingBalance", view_decimal(a->start));
	view_put(o, "tolerance", view_decimal(q->tolerance));
	view_put(o, "deltasCount", view_u64(a->b.count));
	view_put(o, "pendingCount", view_u64(a->b.pending));
	view_put(o, "scope", view_scope(&q->scope));
	view_put(o, "treeSize", view_u64(a->b.tree_size));
	if (q->matched)
		view_discrepancies(o, q, a);
	return o;
}
