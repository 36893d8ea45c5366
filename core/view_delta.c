/*
 * The views of deltas (SPEC 3.1-3.3): a delta in full, a batch's answer,
 * a refused item's error (the batch answer's and the delta.failed
 * event's alike), a delta's status with its proof, and tallyctl's
 * export line.
 */
#include <json-c/json.h>

#include "../common/hex.h"
#include "ledger.h"
#include "view.h"

/* The delta's metadata as the object it was sent as, or null. */
static void
view_delta_metadata(struct json_object *o, const struct store_delta *d)
{
	if (d->metadata != NULL)
		view_put_parsed(o, "metadata", d->metadata);
	else
		view_put_null(o, "metadata");
}

struct json_object *
view_record(const struct store_delta *d)
{
	struct json_object	*o, *adjusts;

	if ((o = view_delta(d)) == NULL)
		return NULL;
	view_delta_metadata(o, d);
	if (d->adjusts[0] != '\0') {
		if ((adjusts = view_object()) != NULL)
			view_put(adjusts, "recordId", view_string(d->adjusts));
		view_put(o, "adjusts", adjusts);
	} else
		view_put_null(o, "adjusts");
	if (d->verified_ms != 0)
		view_put(o, "verifiedAt", view_time(d->verified_ms));
	else
		view_put_null(o, "verifiedAt");
	return o;
}

/* The API's error code for an item that was not recorded. */
static const char *
view_item_code(enum ledger_result r)
{
	switch (r) {
	case LEDGER_CADENCE:	return "CADENCE_LIMIT";
	case LEDGER_CONFLICT:	return "IDEMPOTENCY_KEY_REUSED";
	default:		return "VALIDATION_ERROR";
	}
}

struct json_object *
view_item_error(const struct ledger_item *it)
{
	struct json_object	*err;

	if ((err = view_object()) == NULL)
		return NULL;
	view_put(err, "code", view_string(view_item_code(it->outcome)));
	view_put(err, "message", view_string(it->err.message));
	view_put_optional(err, "field", it->err.field);
	/* The delta that holds the key: the original this one repeats. */
	if (it->conflict_record[0] != '\0')
		view_put(err, "recordId", view_string(it->conflict_record));
	if (it->retry_after > 0)
		view_put(err, "retryAfterSeconds", view_i64(it->retry_after));
	return err;
}

/* One item of a batch's results. */
static struct json_object *
view_batch_result(const struct ledger_item *it, size_t index)
{
	struct json_object	*res;
	int			 ok;

	if ((res = view_object()) == NULL)
		return NULL;
	ok = it->outcome == LEDGER_RECORDED || it->outcome == LEDGER_REPLAYED;
	view_put(res, "index", view_i64((int64_t)index));
	view_put(res, "status", view_string(view_delta_status(ok ?
	    it->status : STORE_DELTA_FAILED)));
	view_put_optional(res, "recordId", it->record_id[0] != '\0' ?
	    it->record_id : NULL);
	view_put_optional(res, "receiptId", it->receipt_id[0] != '\0' ?
	    it->receipt_id : NULL);
	if (!ok)
		view_put(res, "error", view_item_error(it));
	if (it->outcome == LEDGER_REPLAYED)
		view_put(res, "idempotent", view_bool(1));
	return res;
}

struct json_object *
view_batch(const struct ledger_request *req)
{
	struct json_object	*data, *results;
	const struct ledger_item *it;
	size_t			 i, failed = 0;

	if ((data = view_object()) == NULL)
		return NULL;
	results = view_array();
	for (i = 0; i < req->nitems; i++) {
		it = &req->items[i];
		failed += it->outcome != LEDGER_RECORDED &&
		    it->outcome != LEDGER_REPLAYED;
		view_push(results, view_batch_result(it, i));
	}
	view_put(data, "totalQueued", view_i64((int64_t)(req->nitems -
	    failed)));
	view_put(data, "totalFailed", view_i64((int64_t)failed));
	view_put(data, "results", results);
	return data;
}

struct json_object *
view_delta_proof(const struct store_delta *d, const struct store_sth *head)
{
	struct json_object	*o;

	if ((o = view_object()) == NULL)
		return NULL;
	view_put(o, "leafHash", view_hash(d->leaf_hash));
	view_put(o, "contentHash", view_hash(d->content_hash));
	view_put(o, "logIndex", view_u64(d->log_index));
	view_put(o, "treeSize", view_u64(head->size));
	view_put(o, "rootHash", view_hash(head->root));
	return o;
}

struct json_object *
view_record_proved(const struct store_delta *d, const struct store_sth *head,
    const uint8_t (*proof)[STORE_HASH_LEN], size_t len)
{
	struct json_object	*o, *p;

	if ((o = view_record(d)) == NULL)
		return NULL;
	if (d->status != STORE_DELTA_VERIFIED) {
		view_put_null(o, "proof");
		return o;
	}
	if ((p = view_delta_proof(d, head)) != NULL) {
		view_put(p, "inclusionProof", view_hashes(proof, len));
		view_put(p, "checkpoint", view_string(head->note));
	}
	view_put(o, "proof", p);
	return o;
}

struct json_object *
view_delta_export(const struct store_delta *d)
{
	struct json_object	*o;
	char			 salt[2 * STORE_HASH_LEN + 1];

	if ((o = view_delta(d)) == NULL)
		return NULL;
	view_delta_metadata(o, d);
	view_put_optional(o, "adjusts", d->adjusts[0] != '\0' ?
	    d->adjusts : NULL);
	hex_encode(d->salt, STORE_HASH_LEN, salt);
	view_put(o, "salt", view_string(salt));
	view_put(o, "leafData", view_check(json_object_new_string_len(
	    d->leaf_data, (int)d->leaf_len)));
	return o;
}
