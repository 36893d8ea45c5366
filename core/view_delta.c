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

/*
 * A delta's text is gathered in a buffer on the stack and added to the
 * sbuf once a delta, or when the buffer is full: member by member, a
 * page of a hundred deltas made some forty calls into the sbuf per delta.
 * Strings, hashes and times are written straight into the buffer; only a
 * string that needs escapes goes through jcs_string, and text longer
 * than the buffer to the sbuf directly, each after what is gathered.
 */
struct view_out {
	struct sbuf	*sb;
	size_t		 len;
	char		 buf[2048];
};

static void
view_out_start(struct view_out *o, struct sbuf *sb)
{
	o->sb = sb;
	o->len = 0;
}

static void
view_out_flush(struct view_out *o)
{
	sbuf_add(o->sb, o->buf, o->len);
	o->len = 0;
}

/* Room for n more bytes in the buffer; 0 if n can never fit. */
static int
view_out_room(struct view_out *o, size_t n)
{
	if (n > sizeof(o->buf) - o->len)
		view_out_flush(o);
	return n <= sizeof(o->buf);
}

static void
view_out_add(struct view_out *o, const char *s, size_t n)
{
	if (!view_out_room(o, n)) {
		sbuf_add(o->sb, s, n);
		return;
	}
	memcpy(o->buf + o->len, s, n);
	o->len += n;
}

/* A member's separator and quoted name, or any text known at compile time. */
#define VIEW_OUT_LIT(o, lit)	view_out_add(o, lit, sizeof(lit) - 1)

static void
view_out_adds(struct view_out *o, const char *s)
{
	view_out_add(o, s, strlen(s));
}

/*
 * Whether any of the n bytes at p needs a JCS escape (a control
 * character, a quote, a backslash): ids never do, and few reasons do.
 * Eight bytes at a time: a word's byte below 0x20, or equal to '"' or
 * '\\' once xored with it (below 1), sets that byte's high bit in one
 * of the terms; a borrow can only set a bit above a byte that did.
 */
static int
view_delta_escapes(const unsigned char *p, size_t n)
{
	const uint64_t	ones = 0x0101010101010101ULL;
	uint64_t	w, q, b, hit = 0;
	size_t		i;

	for (i = 0; i + 8 <= n; i += 8) {
		memcpy(&w, p + i, 8);
		q = w ^ ones * '"';
		b = w ^ ones * '\\';
		hit |= ((w - ones * 0x20) & ~w) | ((q - ones) & ~q) |
		    ((b - ones) & ~b);
	}
	hit &= ones << 7;
	for (; i < n; i++)
		hit |= p[i] < 0x20 || p[i] == '"' || p[i] == '\\';
	return hit != 0;
}

/* A string member, with JCS string escapes. */
static void
view_delta_string(struct view_out *o, const char *member, size_t mlen,
    const char *s)
{
	size_t	len = strlen(s);

	view_out_add(o, member, mlen);
	if (view_delta_escapes((const unsigned char *)s, len) ||
	    !view_out_room(o, len + 2)) {
		view_out_flush(o);
		jcs_string(s, len, o->sb);
		return;
	}
	o->buf[o->len++] = '"';
	memcpy(o->buf + o->len, s, len);
	o->len += len;
	o->buf[o->len++] = '"';
}

#define VIEW_DELTA_STRING(o, lit, s) \
	view_delta_string(o, lit, sizeof(lit) - 1, s)

/* A string with nothing to escape (hex, a time): quoted, not scanned. */
static void
view_delta_plain(struct view_out *o, const char *member, const char *s,
    size_t len)
{
	view_out_adds(o, member);
	view_out_add(o, "\"", 1);
	view_out_add(o, s, len);
	view_out_add(o, "\"", 1);
}

/* A hash member: its "0x" hex written in the buffer, quoted. */
static void
view_delta_hash(struct view_out *o, const char *member, size_t mlen,
    const uint8_t hash[STORE_HASH_LEN])
{
	view_out_add(o, member, mlen);
	view_out_room(o, HEX_0X_SIZE(STORE_HASH_LEN) + 1);
	o->buf[o->len++] = '"';
	hex_encode_0x(hash, STORE_HASH_LEN, o->buf + o->len);
	o->len += HEX_0X_SIZE(STORE_HASH_LEN) - 1;
	o->buf[o->len++] = '"';
}

#define VIEW_DELTA_HASH(o, lit, hash) \
	view_delta_hash(o, lit, sizeof(lit) - 1, hash)

/*
 * The last two times written, per thread: a page's deltas mostly share
 * theirs (a batch's createdAt, the verifiedAt of the head that covered
 * it), and making a date of milliseconds was 2.5% of a page's CPU.
 */
static __thread struct view_time {
	int	 set;
	int64_t	 ms;
	char	 text[TIMEFMT_LEN];
} view_times[2];
static __thread unsigned view_times_next;

static const char *
view_time_text(int64_t ms)
{
	struct view_time	*t;
	unsigned		 i;

	for (i = 0; i < 2; i++)
		if (view_times[i].set && view_times[i].ms == ms)
			return view_times[i].text;
	t = &view_times[view_times_next++ % 2];
	t->set = 1;
	t->ms = ms;
	timefmt_rfc3339(ms, t->text);
	return t->text;
}

/* A time member: its RFC 3339 text, quoted. */
static void
view_delta_time(struct view_out *o, const char *member, size_t mlen,
    int64_t ms)
{
	view_out_add(o, member, mlen);
	view_out_room(o, TIMEFMT_LEN + 1);
	o->buf[o->len++] = '"';
	memcpy(o->buf + o->len, view_time_text(ms), TIMEFMT_LEN - 1);
	o->len += TIMEFMT_LEN - 1;
	o->buf[o->len++] = '"';
}

#define VIEW_DELTA_TIME(o, lit, ms) \
	view_delta_time(o, lit, sizeof(lit) - 1, ms)

/* An integer as view_i64 writes it ("%" PRId64), without stdio. */
static void
view_delta_int(struct view_out *o, const char *member, size_t mlen,
    int64_t v)
{
	char		text[24], *p = text + sizeof(text);
	uint64_t	u = v < 0 ? 0 - (uint64_t)v : (uint64_t)v;

	do
		*--p = (char)('0' + u % 10);
	while ((u /= 10) != 0);
	if (v < 0)
		*--p = '-';
	view_out_add(o, member, mlen);
	view_out_add(o, p, (size_t)(text + sizeof(text) - p));
}

#define VIEW_DELTA_INT(o, lit, v) \
	view_delta_int(o, lit, sizeof(lit) - 1, v)

/* view_delta's members, after an opening brace, the object left open. */
static void
view_delta_members(const struct store_delta *d, struct view_out *o)
{
	const char	*status = view_delta_status(d->status);

	VIEW_DELTA_STRING(o, "{\"recordId\":", d->record_id);
	VIEW_DELTA_STRING(o, ",\"receiptId\":", d->receipt_id);
	view_delta_plain(o, ",\"status\":", status, strlen(status));
	VIEW_DELTA_STRING(o, ",\"customerId\":", d->customer_id);
	/* An amount: its exact decimal text, as view_amount. */
	VIEW_OUT_LIT(o, ",\"delta\":");
	view_out_adds(o, d->delta);
	VIEW_DELTA_STRING(o, ",\"reason\":", d->reason);
	if (d->has_reference)
		VIEW_DELTA_STRING(o, ",\"referenceId\":", d->reference_id);
	else
		VIEW_OUT_LIT(o, ",\"referenceId\":null");
	VIEW_DELTA_INT(o, ",\"sequenceNumber\":", (int64_t)d->seq);
	VIEW_DELTA_INT(o, ",\"logIndex\":", (int64_t)d->log_index);
	VIEW_DELTA_HASH(o, ",\"contentHash\":", d->content_hash);
	VIEW_DELTA_HASH(o, ",\"leafHash\":", d->leaf_hash);
	VIEW_DELTA_TIME(o, ",\"createdAt\":", d->created_ms);
}

/*
 * The metadata as it was sent, or null.  Tally stores it canonical (RFC
 * 8785, integers within 2^53), which is what jsonin and view_text make
 * of it again, so its text goes in as it is.
 */
static void
view_delta_metadata(const struct store_delta *d, struct view_out *o)
{
	VIEW_OUT_LIT(o, ",\"metadata\":");
	view_out_adds(o, d->metadata != NULL ? d->metadata : "null");
}

void
view_delta_write(const struct store_delta *d, struct sbuf *sb)
{
	struct view_out	o;

	view_out_start(&o, sb);
	view_delta_members(d, &o);
	VIEW_OUT_LIT(&o, "}");
	view_out_flush(&o);
}

/* view_record_write's members, the object left open. */
static void
view_record_members(const struct store_delta *d, struct view_out *o)
{
	view_delta_members(d, o);
	view_delta_metadata(d, o);
	if (d->adjusts[0] != '\0') {
		VIEW_DELTA_STRING(o, ",\"adjusts\":{\"recordId\":",
		    d->adjusts);
		VIEW_OUT_LIT(o, "}");
	} else
		VIEW_OUT_LIT(o, ",\"adjusts\":null");
	if (d->verified_ms != 0)
		VIEW_DELTA_TIME(o, ",\"verifiedAt\":", d->verified_ms);
	else
		VIEW_OUT_LIT(o, ",\"verifiedAt\":null");
}

void
view_record_write(const struct store_delta *d, struct sbuf *sb)
{
	struct view_out	o;

	view_out_start(&o, sb);
	view_record_members(d, &o);
	VIEW_OUT_LIT(&o, "}");
	view_out_flush(&o);
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
	struct view_out		 o;
	char			*text;
	size_t			 tlen;

	view_out_start(&o, &sb);
	view_record_members(d, &o);
	view_out_flush(&o);
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
	struct view_out	o;
	char		salt[2 * STORE_HASH_LEN + 1];

	view_out_start(&o, sb);
	view_delta_members(d, &o);
	view_delta_metadata(d, &o);
	if (d->adjusts[0] != '\0')
		VIEW_DELTA_STRING(&o, ",\"adjusts\":", d->adjusts);
	else
		VIEW_OUT_LIT(&o, ",\"adjusts\":null");
	hex_encode(d->salt, STORE_HASH_LEN, salt);
	view_delta_plain(&o, ",\"salt\":", salt, sizeof(salt) - 1);
	VIEW_OUT_LIT(&o, ",\"leafData\":");
	view_out_flush(&o);
	jcs_string(d->leaf_data, d->leaf_len, sb);
	sbuf_addc(sb, '}');
}

struct json_object *
view_delta_export(const struct store_delta *d)
{
	return view_delta_value(d, view_delta_export_write);
}
