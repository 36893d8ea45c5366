/*
 * What the parts of the audit share.  audit.c walks the log, the tree,
 * the heads and the totals, and owns the run (struct audit, opaque
 * here): its reads, the problems they find, and the signing keys read
 * when it began.  audit_checkpoints.c checks the checkpoints through it,
 * audit_search.c the customer search index.
 */
#ifndef TALLY_AUDIT_INTERNAL_H
#define TALLY_AUDIT_INTERNAL_H

#include "../crypto/sigkey.h"
#include "../store/store.h"
#include "audit.h"

#define AUDIT_CHUNK	4096		/* leaves or seqs per read */
#define AUDIT_CUSTOMERS	256		/* customers listed per read */
#define AUDIT_LINE	640		/* one problem, as told */
#define AUDIT_NAME	(STORE_TENANT_MAX + STORE_CUSTOMER_MAX + 8)
#define AUDIT_DONE	(STORE_USER + 2)	/* chunk complete */

struct audit;

/* A signing key as stored; key is NULL if its public key did not parse. */
struct audit_key {
	struct sigkey		*key;
	struct store_signkey	 rec;
};

/*
 * Tells one problem: at once, or, during a read, once the read is over
 * (a read retried after a deadlock tells nothing twice).
 */
void	audit_problem(struct audit *, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));
/*
 * Runs fn(txn, arg) in a read (store_read), then tells what its last
 * attempt found; returns fn's code.
 */
int	audit_read_with(struct audit *, store_txn_fn fn, void *arg);
/* "tenant/env/customerId", as problems name a customer. */
void	audit_name(char out[AUDIT_NAME], const char *tenant, enum store_env,
	    const char *id);
/* A key read when the audit began, or NULL. */
const struct audit_key *audit_find_key(const struct audit *,
	    const char *key_id);

/* audit_checkpoints.c: every checkpoint of tenant+env, counted in res. */
int	audit_checkpoints(struct audit *, struct audit_result *res,
	    const char *tenant, enum store_env);
/* audit_search.c: the customer search index of tenant+env. */
int	audit_search(struct audit *, const char *tenant, enum store_env);

#endif
