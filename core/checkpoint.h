/*
 * Checkpoints (SPEC 3.6, 4.4): a signed lock of one customer's UTC
 * month.  A customer's checkpoints form one chain, and each covers a run
 * of the customer's seqs without a gap: from just after its
 * predecessor's run (from 1 for the first) through the last delta
 * recorded before the month's end that a signed tree head covers.  A
 * delta recorded in a month after that month was locked is so carried
 * into the next checkpoint; none is ever left outside the chain.  The
 * checkpoint names that head, the Merkle root of the covered leaf hashes
 * (proofRoot), the balances and its predecessor; the statement of all
 * that, in canonical JSON with a fresh salt, is signed with the log's
 * key.  The exact format is docs/receipt.md.
 *
 * Checkpointing a month again with nothing new returns the checkpoint
 * made before; after new deltas a new one names it as its predecessor,
 * replaces it and starts where it started.  A month before one already
 * locked cannot be locked any more.
 *
 * Checkpoints made before version 2 (a record's version 1) covered
 * their month's deltas only; they are kept and verify as they were.
 */
#ifndef TALLY_CHECKPOINT_H
#define TALLY_CHECKPOINT_H

#include <stddef.h>
#include <stdint.h>

#include "../store/store.h"

/* What checkpoint_make and checkpoint_get answer. */
enum checkpoint_result {
	CHECKPOINT_OK = 0,	/* made, found unchanged, or found */
	CHECKPOINT_NO_DELTAS,	/* the customer has no delta at all */
	CHECKPOINT_NOT_FOUND,	/* no such checkpoint (of that tenant) */
	CHECKPOINT_LATER,	/* a later month is locked: see job->later */
	CHECKPOINT_NO_HEAD,	/* no signed head yet */
	CHECKPOINT_NO_SIGNER,	/* signing failed */
	CHECKPOINT_FAILED	/* the store failed or memory ran out */
};

/* Signs a statement: sig holds STORE_SIG_MAX bytes; 0 or -1. */
typedef int	(*checkpoint_sign_fn)(void *arg, const void *msg, size_t len,
		    uint8_t *sig, size_t *siglen,
		    char key_id[STORE_KEYID_MAX + 1],
		    char alg[STORE_ALG_MAX + 1]);

struct checkpoint_job {
	/* In. */
	const char		*tenant;
	enum store_env		 env;
	const char		*customer_id;	/* NULL: every customer with
						   deltas that month */
	int			 month;
	checkpoint_sign_fn	 sign;
	void			*sign_arg;
	/* In, checkpoint-all only (customer_id NULL); all may stay 0. */
	const char		*after;		/* only customers past it */
	size_t			 chunk;		/* customers per transaction;
						   0: CHECKPOINT_CHUNK */
	uint64_t		 chunk_deltas;	/* 0: CHECKPOINT_CHUNK_DELTAS */
	size_t			 keep;		/* list at most this many;
						   0: all */
	int			 page;		/* stop once keep are listed
						   and one more is found */
	/* Out: the checkpoints, made now or found unchanged, by customer. */
	struct store_checkpoint	*list;
	size_t			 n, cap;
	uint64_t		 count;		/* made or found in all */
	char			 later[STORE_CUSTOMER_MAX + 1]; /* LATER: who */
};

/*
 * A checkpoint-all transaction walks this many customers: each locks a
 * handful of pages (its totals, its checkpoint index, and a random page
 * of each checkpoint index keyed by random ids), so a chunk stays near a
 * few thousand of the store's 100,000 locks while the ledger's group
 * commits take theirs, and one fsync per chunk costs nothing next to
 * 1,000 signatures.
 */
#define CHECKPOINT_CHUNK	1000
/*
 * ... or fewer, once its checkpoints cover this many deltas: a proof root
 * reads every covered delta, and so locks its pages.  A customer with
 * more gets a transaction of its own (its checkpoint is one write).
 */
#define CHECKPOINT_CHUNK_DELTAS	20000

/*
 * Locks the job's month for one customer in one transaction or, for
 * checkpoint-all, for every customer due, chunk customers per
 * transaction in customerId order.  Each customer's checkpoint is its own
 * link of its own chain, so atomicity per customer is what the chain
 * needs: a failure mid-way (a 503, a crash) leaves the chunks before it
 * committed and whole, and the same call again finds those unchanged
 * (a customer with nothing new keeps its checkpoint) and goes on where
 * it stopped.  Free with checkpoint_job_free.
 */
enum checkpoint_result checkpoint_make(struct store *,
	    struct checkpoint_job *);
void	checkpoint_job_free(struct checkpoint_job *);

/*
 * The checkpoint id, if it is one of tenant's in env: another tenant's
 * is as unknown as none (CHECKPOINT_NOT_FOUND).
 */
enum checkpoint_result checkpoint_get(struct store *, const char *tenant,
	    enum store_env, const char *id, struct store_checkpoint *);

/*
 * The first seq a new checkpoint of month covers, after prev (NULL for
 * none): right after prev's run, or, re-locking prev's own month, where
 * prev started, since it replaces it.  A version 1 prev covered its
 * month's deltas only: everything up to its through seq is behind it,
 * and an empty one covered nothing of its own.
 */
uint64_t checkpoint_run_start(const struct store_checkpoint *prev, int month);
/* Writes c's statement (JCS, SPEC 4.4) into c->statement; 0 or -1. */
int	checkpoint_statement(struct store_checkpoint *c);

#endif
