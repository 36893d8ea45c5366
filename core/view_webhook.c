/* The webhook events' bodies (SPEC 5): an envelope around each event's data. */
#include <stdio.h>

#include "ledger.h"
#include "view.h"

struct json_object *
view_webhook_event(const char *id, const char *name, const char *tenant,
    int64_t created_ms, struct json_object *data)
{
	struct json_object	*o;

	o = view_object();
	view_put(o, "id", view_string(id));
	view_put(o, "event", view_string(name));
	view_put(o, "tenantId", view_string(tenant));
	view_put(o, "createdAt", view_time(created_ms));
	view_put(o, "data", data);
	return o;
}

struct json_object *
view_delta_verified(const struct store_delta *d, const struct store_sth *head)
{
	struct json_object	*o;
	char			 seq[24];

	if ((o = view_object()) == NULL)
		return NULL;
	view_put(o, "recordId", view_string(d->record_id));
	view_put(o, "receiptId", view_string(d->receipt_id));
	view_put(o, "customerId", view_string(d->customer_id));
	view_put(o, "delta", view_amount(d->delta));
	snprintf(seq, sizeof(seq), "%llu", (unsigned long long)d->seq);
	view_put(o, "sequenceNumber", view_string(seq));
	view_put_optional(o, "referenceId", d->has_reference ?
	    d->reference_id : NULL);
	view_put(o, "verificationReference", view_hash(d->leaf_hash));
	view_put(o, "blockTimestamp", view_time(head->signed_ms));
	view_put(o, "proof", view_delta_proof(d, head));
	return o;
}

struct json_object *
view_delta_failed(size_t index, const struct ledger_item *it)
{
	const struct emit_input	*in = &it->in;
	struct json_object	*o;

	if ((o = view_object()) == NULL)
		return NULL;
	view_put(o, "index", view_u64(index));
	view_put_optional(o, "customerId", in->identified ? in->customer_id :
	    NULL);
	view_put_optional(o, "referenceId", in->identified &&
	    in->has_reference ? in->reference_id : NULL);
	if (it->valid)
		view_put(o, "delta", view_amount(in->delta));
	else
		view_put_null(o, "delta");
	view_put(o, "error", view_item_error(it));
	return o;
}
