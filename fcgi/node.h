/*
 * What tallyd runs beside its request threads: the writers, that is the
 * ledger (deltas), the integrator (signed tree heads) and the courier
 * (webhooks).  They run on the one node that may write: a store alone,
 * or the master of a replication group.
 *
 * A node of a group joins it in a thread of its own (requests meanwhile
 * get 503), then serves reads as a replica, and starts the writers once
 * it is elected master.  A master that stops being one (it lost the
 * majority, or found another master) cannot take back what it began:
 * it stops, to be started again as a replica (node_restart_wanted).
 */
#ifndef TALLY_NODE_H
#define TALLY_NODE_H

#include "../common/conf.h"

struct app;
struct node;

/*
 * Starts the node over app->store, opened by store_open (alone) or
 * store_open_repl with STORE_SERVE.  Alone, the writers run when it
 * returns 0.  Returns -1 with the reason logged.
 */
int	node_start(struct node **, struct app *, const struct conf *);
/*
 * Stops the writers, recording what the ledger has queued; NULL is
 * nothing.  Call with no request thread left.
 */
void	node_stop(struct node *);
/*
 * 1 when tallyd must leave without closing the store and be started
 * again: the node was demoted, or is still joining its group.
 */
int	node_restart_wanted(struct node *);

#endif
