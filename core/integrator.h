/*
 * The integrator: the one writer of the Merkle tree and of signed tree
 * heads.  In its own thread, never a request thread, it takes the
 * leaves the ledger committed since the last head, adds them to the
 * tree, signs a tree head of the new size (note.h) with the active key, and
 * stores nodes and head in one transaction.  A delta is VERIFIED exactly
 * when a stored head covers its logIndex; verifiedAt is that head's time.
 *
 * The tree is a function of the append-only log, so every head of one
 * size has the same root, whoever signs it and however often tallyd
 * restarts; a head is stored at most once per size.
 */
#ifndef TALLY_INTEGRATOR_H
#define TALLY_INTEGRATOR_H

#include <stddef.h>
#include <stdint.h>

#include "../store/store.h"

#define INTEGRATOR_BATCH	8192	/* leaves per transaction at most */

struct integrator;

/*
 * Loads the active signing key from data_dir (refusing a key file that
 * group or others may read).  The heads it signs name origin.  Returns
 * 0, or -1 with err saying why.
 */
int	integrator_open(struct integrator **, struct store *,
	    const char *data_dir, const char *origin, char *err,
	    size_t errlen);
/* Starts the background thread: one step every interval_ms. */
int	integrator_start(struct integrator *, int interval_ms);
/* Stops the thread if started, and frees. */
void	integrator_close(struct integrator *);
/*
 * One step: signs a head over up to INTEGRATOR_BATCH more leaves, or
 * over the empty log when no head exists yet.  *size is the newest
 * head's size after it.  Returns a store code.
 */
int	integrator_step(struct integrator *, uint64_t *size);
/*
 * Signs msg (a checkpoint statement) with the key that signs heads now,
 * naming it in key_id and alg; sig holds SIGKEY_SIG_MAX bytes.  0 or -1.
 */
int	integrator_sign_statement(struct integrator *, const void *msg,
	    size_t len, uint8_t *sig, size_t *siglen,
	    char key_id[STORE_KEYID_MAX + 1], char alg[STORE_ALG_MAX + 1]);
/*
 * Waits up to timeout_ms until a stored head covers every delta logged
 * before the call, so that what a client just recorded can be locked in
 * a checkpoint.  Woken by each step, not polling.  0 once covered; -1
 * after the timeout, a store failure, or without an integrator.
 */
int	integrator_wait_covered(struct integrator *, int timeout_ms);
/* 1 while a signing key is loaded and the last step succeeded. */
int	integrator_ready(struct integrator *);

#endif
