/*
 * The ledger: the one path by which deltas enter the log.
 *
 * Request threads validate and fingerprint a request (emit.h), then hand
 * it to ledger_submit(), which blocks.  A single writer thread takes
 * every request waiting at that moment and records them all in one
 * transaction, where a failed request is undone alone (a batch runs in a
 * nested transaction; see ledger_group_run), and commits it to the
 * log buffer; a flusher thread then makes every group committed since
 * its last flush durable with one fsync, while the writer already works
 * on the next group.  Only after that flush are the submitters woken, so
 * no answer is ever sent for a delta that is not on disk.
 *
 * Because one thread assigns sequence numbers and log indexes, they are
 * gapless and in commit order; and because the idempotency check and the
 * write happen in that same thread and transaction, any number of
 * concurrent retries of one request record it exactly once.
 */
#ifndef TALLY_LEDGER_H
#define TALLY_LEDGER_H

#include <semaphore.h>
#include <stddef.h>

#include "apikey.h"
#include "emit.h"

struct ledger;

/*
 * What became of a request, and of each item of a batch.  The ledger
 * knows no status code and no error string: its caller says each outcome
 * (fcgi answers each in one switch).
 */
enum ledger_result {
	LEDGER_RECORDED,	/* a new delta; a batch: answered afresh */
	LEDGER_REPLAYED,	/* an earlier answer, or delta, again */
	LEDGER_CONFLICT,	/* a dedup key names another request */
	LEDGER_QUOTA,		/* over the tenant's monthly quota (request) */
	LEDGER_CADENCE,		/* the customer's cadence allows none yet */
	LEDGER_INVALID		/* invalid, or refused while recording */
};

struct ledger_item {
	struct emit_input	 in;		/* when valid */
	int			 valid;		/* emit_parse succeeded */
	struct emit_error	 err;		/* why it failed */
	/* Results. */
	enum ledger_result	 outcome;
	long long		 retry_after;	/* LEDGER_CADENCE: seconds */
	char			 record_id[STORE_ID_MAX + 1];
	char			 receipt_id[STORE_ID_MAX + 1];
	enum store_delta_status	 status;
	/* LEDGER_CONFLICT: the delta holding its referenceId. */
	char			 conflict_record[STORE_ID_MAX + 1];
};

struct ledger_request {
	/* In: who writes, the dedup key, one item (emit) or many (batch). */
	const struct principal	*who;
	const char		*idem_key;	/* Idempotency-Key, or NULL */
	int			 batch;
	uint8_t			 fingerprint[STORE_HASH_LEN]; /* batch */
	/* A batch's, as batch keys were bound before it was by meaning. */
	uint8_t			 legacy_fingerprint[STORE_HASH_LEN];
	struct ledger_item	*items;
	size_t			 nitems;
	/*
	 * Renders the answer into status, body and body_len (body
	 * malloc'd): for d, a single emit's (recorded, or replayed from
	 * its delta), else a batch's from its items.  The ledger calls it
	 * in its own transaction, since a batch's Idempotency-Key keeps the
	 * answer byte for byte; status is the caller's and only kept.
	 * Returns 0, or -1 out of memory.  NULL: no answer is wanted (tests,
	 * the bench); a batch with an Idempotency-Key, which must keep one,
	 * then fails with STORE_IO.
	 */
	int			(*answer)(struct ledger_request *,
				    const struct store_delta *d);

	/*
	 * Out, on STORE_OK: the outcome, and for RECORDED and REPLAYED the
	 * answer (body owned, free with ledger_request_free); for a single
	 * emit CADENCE or INVALID, items[0] says why.  For CONFLICT,
	 * conflict_record names the original (empty for a batch whose first
	 * item failed) and conflict_field the key ("Idempotency-Key" or
	 * "referenceId") that names it.  For a single emit both keys are
	 * always checked (SPEC 3.1): it is a replay if either is bound to
	 * the same request and neither to another request or another
	 * delta, a conflict if either is, and a new delta binds both.  A
	 * batch's items are deduplicated by their referenceIds alone, its
	 * Idempotency-Key replays the whole answer.  QUOTA: the request
	 * would take its tenant past the month's quota, so nothing of it is
	 * recorded, not even a batch's other items.
	 */
	int			 rc;
	enum ledger_result	 outcome;
	int			 status;
	char			*body;
	size_t			 body_len;
	char			 conflict_record[STORE_ID_MAX + 1];
	const char		*conflict_field;

	struct ledger_request	*next;		/* the queue; ledger-owned */
	sem_t			 done;		/* posted when finished */
};

/* Starts the writer and flusher threads.  Returns a store code. */
int	ledger_open(struct ledger **, struct store *);
/* Records and flushes what is queued, then stops both threads. */
void	ledger_close(struct ledger *);
/* Queues req and waits until it is durable (or failed); returns req->rc. */
int	ledger_submit(struct ledger *, struct ledger_request *);
void	ledger_request_free(struct ledger_request *);

/*
 * The recordId of the delta that holds a customer's referenceId: the
 * first one recorded with it, which a referenceId names forever.
 * STORE_NOTFOUND if no delta holds it.
 */
int	ledger_reference_owner(struct store_txn *, const char *tenant,
	    enum store_env, const char *customer_id, const char *reference_id,
	    char record_id[STORE_ID_MAX + 1]);

#endif
