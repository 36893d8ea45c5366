/*
 * The indexer: the one writer of the customer search index (store/search.c),
 * off the ledger's path.  In its own thread on the node that records (the
 * master), it indexes the customers first seen in the log since its
 * position, in log order, a step a transaction, each step moving the
 * position with the entries it adds.  Searches read the tail it has not
 * reached yet, so what it lags costs a search time, never a result.
 * Where no thread lives (CGI, tallyctl tick) indexer_catch_up does the
 * same work in the caller.
 */
#ifndef TALLY_INDEXER_H
#define TALLY_INDEXER_H

#include <stdint.h>

#include "../store/store.h"

#define INDEXER_BATCH		2048	/* deltas a step (transaction) at most */
#define INDEXER_INTERVAL_MS	50	/* between steps, once caught up */

struct indexer;

/*
 * Starts the thread.  Returns a store code; *out is stopped and freed
 * with indexer_stop.
 */
int	indexer_start(struct indexer **out, struct store *);
void	indexer_stop(struct indexer *);
/*
 * Steps until the index covers the log as it was at the call, or a step
 * fails (its store code).
 */
int	indexer_catch_up(struct store *);

#endif
