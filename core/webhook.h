/*
 * Webhook events (SPEC 5).  A state change Tally reports writes its
 * events to the outbox in its own transaction, one per endpoint of its
 * tenant+env, each with the exact body every attempt will send: so an
 * event exists if and only if the change committed.
 *
 *   delta.verified	a signed tree head covers the delta (integrator)
 *   delta.failed	a batch item was refused (ledger): a single emit
 *			learns that from its own answer, a batch's caller
 *			from the item, and its agents from this event
 *   checkpoint.verified a new checkpoint was signed (checkpoint_make)
 *
 * The courier (deliver/) signs each attempt when it makes it.
 */
#ifndef TALLY_WEBHOOK_H
#define TALLY_WEBHOOK_H

#include <stddef.h>
#include <stdint.h>

#include "../store/store.h"

struct ledger_item;

/* "v1=" and 64 hex digits, twice with a comma during a rotation. */
#define WEBHOOK_SIG_MAX		(2 * (3 + 64) + 2)
/* The old secret keeps signing this long after a rotation. */
#define WEBHOOK_OVERLAP_MS	(24LL * 3600 * 1000)

/* The endpoints an event may go to, read once per transaction. */
struct webhook_targets;
int	webhook_targets_load(struct store_txn *, struct webhook_targets **);
void	webhook_targets_free(struct webhook_targets *);
/* 1 if no tenant has any endpoint: nothing to write. */
int	webhook_targets_none(const struct webhook_targets *);

int	webhook_delta_verified(struct store_txn *,
	    const struct webhook_targets *, const struct store_delta *,
	    const struct store_sth *head);
/* A refused batch item: index in the batch, and the item as refused. */
struct webhook_failure {
	const char		*tenant;
	enum store_env		 env;
	size_t			 index;
	const struct ledger_item *item;
};
int	webhook_delta_failed(struct store_txn *,
	    const struct webhook_targets *, const struct webhook_failure *);
int	webhook_checkpoint_verified(struct store_txn *,
	    const struct webhook_targets *, const struct store_checkpoint *);

/*
 * A new endpoint for tenant+env: id and secret chosen here.  Returns 0,
 * or -1 with err naming what is wrong with the URL.
 */
int	webhook_endpoint_new(struct store_webhook *, const char *tenant,
	    enum store_env, const char *url, int allow_private, char *err,
	    size_t errlen);
/* A new secret; the current one keeps signing for WEBHOOK_OVERLAP_MS. */
int	webhook_endpoint_rotate(struct store_webhook *, int64_t now_ms);

/*
 * The X-PacSpace-Signature value of one attempt: HMAC-SHA256 of
 * "<timestamp>.<body>" under each live secret, current first.
 */
int	webhook_sign(const struct store_webhook *, int64_t now_ms,
	    const char *timestamp, const void *body, size_t len,
	    char out[WEBHOOK_SIG_MAX + 1]);


#endif
