/*
 * What the passes of the audit share.  audit.c owns the run (struct
 * audit, opaque here): its reads, the findings they make, the signing
 * keys read when it began, and the order of the passes, each with its
 * own state in its own file: audit_log.c walks the log, the tree and
 * the heads; audit_usage.c counts each tenant's usage; then, for each
 * tenant+env, audit_customers.c checks its customers' totals,
 * audit_checkpoints.c its checkpoints and audit_search.c its search
 * index.
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
#define AUDIT_TRIES	20		/* reads of totals that keep changing */

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
/* The same for a warning (audit.h). */
void	audit_warning(struct audit *, const char *fmt, ...)
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

/*
 * audit_usage.c: each tenant's deltas per month, counted from the log
 * and compared with the ledger's counters.  The log pass notes each
 * delta it reads, forgets them when its read starts again, and folds
 * them in once the read is over.  Owned by the caller: audit_usage_new,
 * audit_usage_free.
 */
struct audit_usage;
struct audit_usage *audit_usage_new(struct audit *, struct audit_result *);
void	audit_usage_free(struct audit_usage *);
void	audit_usage_note(struct audit_usage *, const struct store_delta *);
void	audit_usage_forget(struct audit_usage *);
int	audit_usage_fold(struct audit_usage *);
/* Calls fn for each tenant the log names, once, until non-zero. */
int	audit_usage_each_tenant(const struct audit_usage *,
	    int (*fn)(const char *tenant, void *arg), void *arg);
/*
 * Counts the deltas recorded since the log walk, then compares every
 * counter of a month with a delta, and this month's of every tenant.
 */
int	audit_usage_check(struct audit_usage *,
	    char (*tenants)[STORE_TENANT_MAX + 1], size_t ntenants);

/*
 * audit_log.c: the log's first log_size leaves, the tree's first
 * tree_size, every head; each delta noted in usage.  *whole is 0 if
 * the log has a hole (told), and so cannot be counted.
 */
int	audit_log(struct audit *, struct audit_result *res,
	    struct audit_usage *usage, uint64_t log_size, uint64_t tree_size,
	    int *whole);
/* audit_customers.c: every customer's totals of tenant+env. */
int	audit_customers(struct audit *, struct audit_result *res,
	    const char *tenant, enum store_env);
/* audit_checkpoints.c: every checkpoint of tenant+env, counted in res. */
int	audit_checkpoints(struct audit *, struct audit_result *res,
	    const char *tenant, enum store_env);
/* audit_search.c: the customer search index of tenant+env. */
int	audit_search(struct audit *, const char *tenant, enum store_env);

#endif
