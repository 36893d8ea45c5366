/*
 * Views: every JSON shape Tally answers with, built in one place, for the
 * API (fcgi/), the webhook bodies (webhook.c) and tallyctl alike.  No
 * other file of core/ builds JSON; fcgi/ parses requests, asks core,
 * and hands what core answered to a view.
 *
 * Running out of memory is remembered, not returned at every step: each
 * builder here adds members with view_put, which notes a NULL value (a
 * failed allocation) or a failed add, and view_text then refuses to
 * serialise anything built since the last view_text or view_reset on
 * this thread.  So an answer is either whole or not sent at all (the API
 * answers 503 with Retry-After), never an answer with a null where an
 * allocation failed.  Only view_put_null writes a null on purpose.
 *
 * A view reads the types of store.h and of the core headers it names
 * below; it calls nothing in core but other views, so any file of core
 * may call a view without making a cycle.
 */
#ifndef TALLY_VIEW_H
#define TALLY_VIEW_H

#include <stddef.h>
#include <stdint.h>

#include "../common/decimal.h"
#include "../store/store.h"
#include "balance.h"

struct json_object;

/* Building blocks. */

/*
 * Adds v under key to o, taking v.  A NULL v, or an add that fails, is
 * remembered as out of memory (see above); returns 0 or -1.
 */
int	view_put(struct json_object *o, const char *key, struct json_object *v);
/* An explicit null member. */
int	view_put_null(struct json_object *o, const char *key);
/* Appends v to the array a, taking v; a NULL v as in view_put. */
int	view_push(struct json_object *a, struct json_object *v);
/* New containers; NULL (remembered) out of memory. */
struct json_object *view_object(void);
struct json_object *view_array(void);
/* The same rule for a value built elsewhere: NULL is remembered. */
struct json_object *view_check(struct json_object *v);
/* 1 if an allocation failed since the last view_text or view_reset. */
int	view_failed(void);
/* Forgets a failure: a thread starting on a new answer calls it. */
void	view_reset(void);
/*
 * obj (consumed) as the compact JSON text Tally sends: malloc'd, NUL-
 * terminated, *len without the NUL.  NULL when out of memory, now or in
 * any view_put since the last view_text or view_reset (then forgotten).
 */
char	*view_text(struct json_object *obj, size_t *len);

struct json_object *view_string(const char *);
struct json_object *view_u64(uint64_t);
struct json_object *view_i64(int64_t);
struct json_object *view_bool(int);
/* A JSON number holding an exact decimal text, written as is. */
struct json_object *view_amount(const char *decimal_text);
/* An exact amount as such a number. */
struct json_object *view_decimal(decimal_t);
/* A hash as the API writes every hash: "0x" and lowercase hex. */
struct json_object *view_hash(const uint8_t hash[STORE_HASH_LEN]);
/* An array of n hashes in that form (a Merkle proof). */
struct json_object *view_hashes(const uint8_t (*hashes)[STORE_HASH_LEN],
	    size_t n);
/* A time as the API writes every time: RFC 3339 UTC with ms. */
struct json_object *view_time(int64_t ms);
/* Bytes as a base64 JSON string (signatures, statements). */
struct json_object *view_base64(const void *, size_t);
/*
 * An amount under name as a JSON number (as PacSpace clients read it)
 * and under name + "Exact" as the exact decimal string no parser rounds.
 */
int	view_put_exact(struct json_object *o, const char *name, decimal_t);
/* An error's extra members for a 429: {"retryAfterSeconds": seconds}. */
struct json_object *view_retry_after(long long seconds);

/* Deltas (SPEC 3.1). */

/* QUEUED | VERIFIED | FAILED, as the API names a delta's status. */
const char	*view_delta_status(enum store_delta_status);
/* The API's view of a recorded delta (SPEC 3.1 response fields). */
struct json_object *view_delta(const struct store_delta *);
/* All of a recorded delta: the above, metadata, adjusts and verifiedAt. */
struct json_object *view_record(const struct store_delta *);

/* Balances (SPEC 3.4). */

/* The scope as the API reports it: {"type", "period", "startDate", ...}. */
struct json_object *view_scope(const struct balance_scope *);

/* Customers (SPEC 3.3, 3.7-3.9). */

/* Checkpoints and receipts (SPEC 3.6). */

/* The API's view of a checkpoint. */
struct json_object *view_checkpoint(const struct store_checkpoint *);

/* The log (SPEC 4). */

/* Webhooks (SPEC 3.10, 5). */

/* QUEUED | VERIFIED | FAILED, as the API names a delivery's status. */
const char	*view_event_status(enum store_event_status);
/* The API's view of one delivery. */
struct json_object *view_event(const struct store_event *);

/* The Shared Record (SPEC 8). */

struct share;
struct shared_comparison;
struct shared_month;
struct shared_period;
struct sbuf;
/* A share as the vendor sees it; code (or NULL) is shown only when made. */
struct json_object *view_share(const struct share *, const char *url,
	    const char *code);
/* GET /shared/{handle}: the month's facts, as full or summary access. */
struct json_object *view_shared_summary(const struct share *, int full,
	    const struct shared_month *, int64_t as_of_ms);
/* One period of GET /shared/{handle}/periods, with its checkpoint. */
struct json_object *view_shared_period(const struct shared_period *);
/* A delta with its leaf and, when verified, its inclusion proof. */
struct json_object *view_shared_delta(const struct store_delta *,
	    int verified, const uint8_t (*proof)[STORE_HASH_LEN], size_t len);
/*
 * An invoice proof's customerLinkUrl, customerLinkHost and accessHint,
 * put into o: each null when the customer has no share (or, for the
 * host and hint, none applies).
 */
struct share_invoice;
int	view_put_share_invoice(struct json_object *o,
	    const struct share_invoice *);
/* The facts of a compare: the customer's figure against the record. */
struct json_object *view_shared_compare(const struct shared_comparison *);
/* The CSV export (RFC 4180): its header line, and one line per delta. */
void	view_shared_csv_head(struct sbuf *);
void	view_shared_csv_row(struct sbuf *, const struct store_delta *,
	    int verified);

/* The system (SPEC 7). */

#endif
