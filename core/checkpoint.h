/*
 * Checkpoints (SPEC 3.6, 4.4): a signed lock of one customer's UTC
 * month.  It covers the month's deltas a signed tree head covers, names
 * that head, the Merkle root of the covered leaf hashes (proofRoot), the
 * balances, and the customer's checkpoint before it; the statement of
 * all that, in canonical JSON, is signed with the log's key.  The exact
 * format is docs/receipt.md.
 *
 * Checkpointing an unchanged month again returns the checkpoint made
 * before; after new deltas a new one names it as its predecessor and
 * covers the whole month again.  A month before one already locked
 * cannot be locked any more, so each customer's checkpoints form one
 * chain.
 */
#ifndef TALLY_CHECKPOINT_H
#define TALLY_CHECKPOINT_H

#include <stddef.h>
#include <stdint.h>

#include "../store/store.h"

struct json_object;

#define CHECKPOINT_LATER	(STORE_USER + 20)  /* a later month is locked */
#define CHECKPOINT_NO_HEAD	(STORE_USER + 21)  /* no signed head yet */
#define CHECKPOINT_NO_SIGNER	(STORE_USER + 22)  /* signing failed */

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
	/* Out: the checkpoints, made now or found unchanged. */
	struct store_checkpoint	*list;
	size_t			 n, cap;
	char			 later[STORE_CUSTOMER_MAX + 1]; /* LATER: who */
};

/*
 * Locks the job's month for its customer(s) in one transaction.  Returns
 * a store code: STORE_NOTFOUND for a customer with no delta at all, or
 * one of the CHECKPOINT_ codes above.  Free with checkpoint_job_free.
 */
int	checkpoint_make(struct store *, struct checkpoint_job *);
void	checkpoint_job_free(struct checkpoint_job *);

/* Writes c's statement (JCS, SPEC 4.4) into c->statement; 0 or -1. */
int	checkpoint_statement(struct store_checkpoint *c);
/* The API's view of a checkpoint (SPEC 3.6). */
struct json_object *checkpoint_json(const struct store_checkpoint *);

#endif
