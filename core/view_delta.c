/*
 * The views of deltas (SPEC 3.1-3.3): a delta in full, a batch's answer,
 * a refused item's error (the batch answer's and the delta.failed
 * event's alike), a delta's status with its proof, and tallyctl's
 * export line.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "../common/hex.h"
#include "../common/jcs.h"
#include "../common/sbuf.h"
#include "../common/timefmt.h"
#include "ledger.h"
#include "view.h"

/*
 * A delta's JSON shape has one definition: the writer below, which
 * appends its text to an sbuf.  A derive page writes a hundred of them
 * straight into the answer's text, and every other view of a delta (emit's
 * answer, a status with its proof, tallyctl's export) is that text as a
 * value (view_raw), so no json-c object is built per delta anywhere.  The
 * bytes are those view_text writes of the same members: JCS string
 * escapes, each number's own text.
 */

/* A string member; member is its separator and quoted name. */
static void
view_delta_string(struct sbuf *sb, const char *member, const char *s)
{
	sbuf_adds(sb, member);
	jcs_string(s, strlen(s), sb);
}

/* A string with nothing to escape (hex, a time): quoted, not scanned. */
static void
view_delta_plain(struct sbuf *sb, const char *member, const char *s)
{
	sbuf_adds(sb, member);
	sbuf_addc(sb, '"');
	sbuf_adds(sb, s);
	sbuf_addc(sb, '"');
}

static void
view_delta_hash(struct sbuf *sb, const char *member,
    const uint8_t hash[STORE_HASH_LEN])
{
	char	hex[HEX_0X_SIZE(STORE_HASH_LEN)];

	hex_encode_0x(hash, STORE_HASH_LEN, hex);
	view_delta_plain(sb, member, hex);
}

static void
view_delta_time(struct sbuf *sb, const char *member, int64_t ms)
{
	char	when[TIMEFMT_LEN];

	timefmt_rfc3339(ms, when);
	view_delta_plain(sb, member, when);
}

/* An integer as view_i64 writes it. */
static void
view_delta_int(struct sbuf *sb, const char *member, int64_t v)
{
	char	text[24];
	int	n;

	n = snprintf(text, sizeof(text), "%" PRId64, v);
	sbuf_adds(sb, member);
	sbuf_add(sb, text, (size_t)n);
}

/* view_delta's members, after an opening brace, the object left open. */
static void
view_delta_members(const struct store_delta *d, struct sbuf *sb)
{
	view_delta_string(sb, "{\"recordId\":", d->record_id);
	view_delta_string(sb, ",\"receiptId\":", d->receipt_id);
	view_delta_plain(sb, ",\"status\":", view_delta_status(d->status));
	view_delta_string(sb, ",\"customerId\":", d->customer_id);
	/* An amount: its exact decimal text, as view_amount. */
	sbuf_adds(sb, ",\"delta\":");
	sbuf_adds(sb, d->delta);
	view_delta_string(sb, ",\"reason\":", d->reason);
	if (d->has_reference)
		view_delta_string(sb, ",\"referenceId\":", d->reference_id);
	else
		sbuf_adds(sb, ",\"referenceId\":null");
	view_delta_int(sb, ",\"sequenceNumber\":", (int64_t)d->seq);
	view_delta_int(sb, ",\"logIndex\":", (int64_t)d->log_index);
	view_delta_hash(sb, ",\"contentHash\":", d->content_hash);
	view_delta_hash(sb, ",\"leafHash\":", d->leaf_hash);
	view_delta_time(sb, ",\"createdAt\":", d->created_ms);
}

/*
 * The metadata as it was sent, or null.  Tally stores it canonical (RFC
 * 8785, integers within 2^53), which is what jsonin and view_text make
 * of it again, so its text goes in as it is.
 */
static void
view_delta_metadata(const struct store_delta *d, struct sbuf *sb)
{
	sbuf_adds(sb, ",\"metadata\":");
	sbuf_adds(sb, d->metadata != NULL ? d->metadata : "null");
}

void
view_delta_write(const struct store_delta *d, struct sbuf *sb)
{
	view_delta_members(d, sb);
	sbuf_addc(sb, '}');
}

/* view_record_write's members, the object left open. */
static void
view_record_members(const struct store_delta *d, struct sbuf *sb)
{
	view_delta_members(d, sb);
	view_delta_metadata(d, sb);
	if (d->adjusts[0] != '\0') {
		view_delta_string(sb, ",\"adjusts\":{\"recordId\":",
		    d->adjusts);
		sbuf_addc(sb, '}');
	} else
		sbuf_adds(sb, ",\"adjusts\":null");
	if (d->verified_ms != 0)
		view_delta_time(sb, ",\"verifiedAt\":", d->verified_ms);
	else
		sbuf_adds(sb, ",\"verifiedAt\":null");
}

void
view_record_write(const struct store_delta *d, struct sbuf *sb)
{
	view_record_members(d, sb);
	sbuf_addc(sb, '}');
}

/* What write makes of d, as a value; NULL (remembered) out of memory. */
static struct json_object *
view_delta_value(const struct store_delta *d,
    void (*write)(const struct store_delta *, struct sbuf *))
{
	struct sbuf	sb = { 0 };

	write(d, &sb);
	return view_raw(sbuf_take(&sb, NULL));
}

struct json_object *
view_delta(const struct store_delta *d)
{
	return view_delta_value(d, view_delta_write);
}

void
view_records_begin(struct sbuf *sb)
{
	sbuf_reset(sb);
	sbuf_addc(sb, '[');
}

void
view_records_add(struct sbuf *sb, const struct store_delta *d)
{
	if (sb->len > 1)
		sbuf_addc(sb, ',');
	view_record_write(d, sb);
}

struct json_object *
view_records_end(struct sbuf *sb)
{
	sbuf_addc(sb, ']');
	return view_raw(sbuf_take(sb, NULL));
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
	struct json_object	*p;
	struct sbuf		 sb = { 0 };
	char			*text;
	size_t			 tlen;

	view_record_members(d, &sb);
	if (d->status != STORE_DELTA_VERIFIED) {
		sbuf_adds(&sb, ",\"proof\":null}");
		return view_raw(sbuf_take(&sb, NULL));
	}
	if ((p = view_delta_proof(d, head)) != NULL) {
		view_put(p, "inclusionProof", view_hashes(proof, len));
		view_put(p, "checkpoint", view_string(head->note));
	}
	if ((text = view_text(p, &tlen)) == NULL) {
		sbuf_free(&sb);
		return view_check(NULL);
	}
	sbuf_adds(&sb, ",\"proof\":");
	sbuf_add(&sb, text, tlen);
	sbuf_addc(&sb, '}');
	free(text);
	return view_raw(sbuf_take(&sb, NULL));
}

/* An export line: view_delta's members, metadata, adjusts, salt, leaf. */
static void
view_delta_export_write(const struct store_delta *d, struct sbuf *sb)
{
	char	salt[2 * STORE_HASH_LEN + 1];

	view_delta_members(d, sb);
	view_delta_metadata(d, sb);
	if (d->adjusts[0] != '\0')
		view_delta_string(sb, ",\"adjusts\":", d->adjusts);
	else
		sbuf_adds(sb, ",\"adjusts\":null");
	hex_encode(d->salt, STORE_HASH_LEN, salt);
	view_delta_plain(sb, ",\"salt\":", salt);
	sbuf_adds(sb, ",\"leafData\":");
	jcs_string(d->leaf_data, d->leaf_len, sb);
	sbuf_addc(sb, '}');
}

struct json_object *
view_delta_export(const struct store_delta *d)
{
	return view_delta_value(d, view_delta_export_write);
}
