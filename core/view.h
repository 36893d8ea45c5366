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
struct sbuf;
/* Declared only: a view of them includes their header itself. */
struct checkpoint_job;
struct receipt;
struct receipt_check;
struct receipt_delta;
struct tlog_consistency;
struct tlog_inclusion;
struct tlog_keys;

/* Building blocks. */

/*
 * Adds v under key to o, taking v.  A NULL v, or an add that fails, is
 * remembered as out of memory (see above); returns 0 or -1.
 */
int	view_put(struct json_object *o, const char *key, struct json_object *v);
/* An explicit null member. */
int	view_put_null(struct json_object *o, const char *key);
/* A string member, or null for NULL or "". */
int	view_put_optional(struct json_object *o, const char *key,
	    const char *s);
/* Appends v to the array a, taking v; a NULL v as in view_put. */
int	view_push(struct json_object *a, struct json_object *v);
/* New containers; NULL (remembered) out of memory. */
struct json_object *view_object(void);
struct json_object *view_array(void);
/* The same rule for a value built elsewhere: NULL is remembered. */
struct json_object *view_check(struct json_object *v);
/* Forgets a failure: a thread starting on a new answer calls it. */
void	view_reset(void);
/*
 * obj (consumed) as the compact JSON text Tally sends: malloc'd, NUL-
 * terminated, *len without the NUL.  NULL when out of memory, now or in
 * any view_put since the last view_text or view_reset (then forgotten).
 */
char	*view_text(struct json_object *obj, size_t *len);
/*
 * The same text between head and tail, in the one buffer: an envelope
 * around it without copying the answer into another.
 */
char	*view_text_within(struct json_object *obj, const char *head,
	    const char *tail, size_t *len);

struct json_object *view_string(const char *);
struct json_object *view_u64(uint64_t);
struct json_object *view_i64(int64_t);
struct json_object *view_bool(int);
/* A JSON number holding an exact decimal text, written as is. */
struct json_object *view_amount(const char *decimal_text);
/*
 * A value whose JSON text is given (malloc'd, taken; NULL is remembered
 * as out of memory), written as is: a list rendered as text (below).
 */
struct json_object *view_raw(char *text);
/*
 * Canonical JSON Tally wrote and stored (a leaf), as a value written back
 * byte for byte: parsing it again could only fail or change it.
 */
struct json_object *view_stored(const char *json_text);
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
/* {limit, offset, total}: a list paged by offset (0 the first). */
struct json_object *view_pagination(uint64_t limit, uint64_t offset,
	    uint64_t total);
/*
 * {name: list, pagination}, taking both: the shape of every paged list
 * (derive's deltas aside, which sit among its totals).
 */
struct json_object *view_list(const char *name, struct json_object *list,
	    struct json_object *pagination);
/* An error's extra members for a 429: {"retryAfterSeconds": seconds}. */
struct json_object *view_retry_after(long long seconds);

/* Deltas (SPEC 3.1). */

/* QUEUED | VERIFIED | FAILED, as the API names a delta's status. */
const char	*view_delta_status(enum store_delta_status);
/*
 * The API's view of a recorded delta (SPEC 3.1 response fields), as JSON
 * text appended to sb (out of memory: sb->oom), and as a value: that
 * text as view_raw makes it, to be written or put, not added to.  Every
 * view of a delta below is such a value.
 */
void	view_delta_write(const struct store_delta *, struct sbuf *sb);
struct json_object *view_delta(const struct store_delta *);
/* All of a recorded delta: the above, metadata, adjusts and verifiedAt. */
void	view_record_write(const struct store_delta *, struct sbuf *sb);
/*
 * A page of recorded deltas written as text as they are read, with no
 * json-c object per delta: begin empties sb (again when a reading starts
 * over), add appends a view_record_write, end closes the list and hands it
 * over as a value (view_raw), leaving sb empty.  Out of memory: sb->oom
 * after begin or add, a NULL (remembered) from end.
 */
void	view_records_begin(struct sbuf *sb);
void	view_records_add(struct sbuf *sb, const struct store_delta *);
struct json_object *view_records_end(struct sbuf *sb);

struct ledger_item;
struct ledger_request;

/*
 * Why a batch item was not recorded, {"code", "message", "field", ...}:
 * as the batch answers it and as its delta.failed event says it.
 */
struct json_object *view_item_error(const struct ledger_item *);
/* A batch's answer (SPEC 3.2): the totals and each item's result. */
struct json_object *view_batch(const struct ledger_request *);
/* Where a delta sits in the tree a head signs: hashes, index, size, root. */
struct json_object *view_delta_proof(const struct store_delta *,
	    const struct store_sth *head);
/*
 * A delta's status (SPEC 3.3): view_record_write's members and, once
 * verified, its proof (the thread's view failure is forgotten, as by
 * view_text: call it first, not inside another builder).
 */
struct json_object *view_record_proved(const struct store_delta *,
	    const struct store_sth *head,
	    const uint8_t (*proof)[STORE_HASH_LEN], size_t len);
/* A delta as `tallyctl export` writes it: with metadata, salt, leaf. */
struct json_object *view_delta_export(const struct store_delta *);

/* Balances (SPEC 3.4). */

struct compare_question;
struct compare_answer;

/* The scope as the API reports it: {"type", "period", "startDate", ...}. */
struct json_object *view_scope(const struct balance_scope *);
/*
 * A derived balance that starts from start, with deltas (taken), the
 * page at offset of at most limit of b's verified deltas.
 */
struct json_object *view_derive(const char *customer,
	    const struct balance_scope *, const struct balance *b,
	    decimal_t start, struct json_object *deltas, uint64_t limit,
	    uint64_t offset);
/* A comparison, and with a list of theirs its page of discrepancies. */
struct json_object *view_compare(const struct compare_question *,
	    const struct compare_answer *);

/* Customers (SPEC 3.3, 3.7-3.9). */

struct customer_list;
struct gaps_question;
struct gaps_answer;
struct usage;

/* The list of customers: page (1 the first) of limit each. */
struct json_object *view_customers(const struct customer_list *,
	    uint64_t page, uint64_t limit);
/*
 * A customer's page: its totals in the scope, its latest checkpoint
 * (NULL: none yet), its cadence (cadence_ms 0: unlimited; own: set for
 * the customer, else the tenant's), and its recent activity (taken).
 */
struct json_object *view_customer(const char *id, const struct balance *,
	    const struct balance_scope *, const struct store_checkpoint *latest,
	    uint64_t cadence_ms, int cadence_own, struct json_object *activity);
/* Recent activity: items (taken), page (1 the first) of limit, of total. */
struct json_object *view_activity(struct json_object *items, uint64_t total,
	    uint64_t page, uint64_t limit);
/* A tenant's usage of the month, against its quota. */
struct json_object *view_usage(const struct usage *);
/* The gaps in a customer's record, and the windows missing if asked. */
struct json_object *view_gaps(const struct gaps_question *,
	    const struct gaps_answer *);

/* Checkpoints and receipts (SPEC 3.6). */

/* The API's view of a checkpoint. */
struct json_object *view_checkpoint(const struct store_checkpoint *);
/* A page of checkpoint-all: {checkpoints, count, next}. */
struct json_object *view_checkpoint_page(const struct checkpoint_job *);
/*
 * The invoice proof of a checkpoint, its links under base ("": paths),
 * with the customer's Shared Record link when it has one.
 */
struct share_invoice;
struct json_object *view_invoice_proof(const struct store_checkpoint *,
	    const char *base, const struct share_invoice *);
/* The public verification of a checkpoint, and the extra of a miss. */
struct json_object *view_verify(const struct receipt_check *);
struct json_object *view_verify_unknown(void);
/*
 * A receipt bundle in the pieces it is streamed in, each appended to sb
 * as text: the head ({members..., "deltas": [), each delta, and the
 * tail (], "keys": [...]}).  0, or -1 out of memory.
 */
int	view_receipt_head(const struct receipt *, struct sbuf *);
int	view_receipt_delta(const struct receipt_delta *, struct sbuf *);
int	view_receipt_tail(const struct receipt *, struct sbuf *);

/* The log (SPEC 4). */

/* GET /log/checkpoint: a signed tree head, its note as "checkpoint". */
struct json_object *view_tree_head(const struct store_sth *);
/* GET /log/inclusion and /log/consistency: a proof and its roots. */
struct json_object *view_inclusion(const struct tlog_inclusion *);
struct json_object *view_consistency(const struct tlog_consistency *);
/* The signing keys as an array (a receipt's "keys"), and as GET /keys. */
struct json_object *view_keys(const struct tlog_keys *);
struct json_object *view_log_keys(const struct tlog_keys *);

/* Webhooks (SPEC 3.10, 5). */

/* QUEUED | VERIFIED | FAILED, as the API names a delivery's status. */
const char	*view_event_status(enum store_event_status);
/* The API's view of one delivery. */
struct json_object *view_event(const struct store_event *);
/* An event's body: its envelope around data (taken). */
struct json_object *view_webhook_event(const char *id, const char *name,
	    const char *tenant, int64_t created_ms, struct json_object *data);
/* delta.verified's data: the delta and where head covers it. */
struct json_object *view_delta_verified(const struct store_delta *,
	    const struct store_sth *head);
/* delta.failed's data: the batch item at index, and why it failed. */
struct json_object *view_delta_failed(size_t index,
	    const struct ledger_item *);

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
/* The facts of a compare: the customer's figure against the record. */
struct json_object *view_shared_compare(const struct shared_comparison *);
/* The CSV export (RFC 4180): its header line, and one line per delta. */
void	view_shared_csv_head(struct sbuf *);
void	view_shared_csv_row(struct sbuf *, const struct store_delta *,
	    int verified);

/* The system (SPEC 7). */

#endif
