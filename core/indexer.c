#include <sys/prctl.h>

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>

#include "../common/clockwait.h"
#include "../common/log.h"
#include "indexer.h"

struct indexer {
	struct store	*store;
	pthread_t	 thread;
	pthread_mutex_t	 lock;
	pthread_cond_t	 wake;
	atomic_int	 stop;
};

/* One step's outcome: where the index stands after it. */
struct indexer_step {
	uint64_t	covered, size;
};

static int
indexer_txn(struct store_txn *t, void *arg)
{
	struct indexer_step	*s = arg;

	return store_search_index(t, INDEXER_BATCH, &s->covered, &s->size);
}

/*
 * Read-committed: the step reads the log the ledger appends to, and
 * must not hold it up (as the integrator).
 */
static int
indexer_step(struct store *st, struct indexer_step *s)
{
	return store_write_committed(st, indexer_txn, s);
}

/* Steps until the index covers the log, or stop (if not NULL) is set. */
static int
indexer_steps(struct store *st, atomic_int *stop)
{
	struct indexer_step	s;
	int			rc;

	do
		rc = indexer_step(st, &s);
	while (rc == STORE_OK && s.covered < s.size &&
	    (stop == NULL || !atomic_load(stop)));
	return rc;
}

int
indexer_catch_up(struct store *st)
{
	return indexer_steps(st, NULL);
}

static void *
indexer_main(void *arg)
{
	struct indexer	*ix = arg;
	int		 rc, failing = 0;

	prctl(PR_SET_NAME, "tally-index");
	pthread_mutex_lock(&ix->lock);
	while (!atomic_load(&ix->stop)) {
		pthread_mutex_unlock(&ix->lock);
		/* A backlog (after a restart, a burst) goes without pause. */
		rc = indexer_steps(ix->store, &ix->stop);
		/* Said once, not every interval. */
		if (rc != STORE_OK && !failing)
			log_error("indexer: %s", store_strerror(rc));
		failing = rc != STORE_OK;
		pthread_mutex_lock(&ix->lock);
		if (!atomic_load(&ix->stop))
			clockwait(&ix->wake, &ix->lock, INDEXER_INTERVAL_MS);
	}
	pthread_mutex_unlock(&ix->lock);
	return NULL;
}

int
indexer_start(struct indexer **out, struct store *st)
{
	struct indexer	*ix;

	*out = NULL;
	if ((ix = calloc(1, sizeof(*ix))) == NULL)
		return STORE_NOMEM;
	ix->store = st;
	pthread_mutex_init(&ix->lock, NULL);
	if (clockwait_init(&ix->wake) != 0)
		goto err;
	if (pthread_create(&ix->thread, NULL, indexer_main, ix) != 0) {
		pthread_cond_destroy(&ix->wake);
		goto err;
	}
	*out = ix;
	return STORE_OK;
err:
	pthread_mutex_destroy(&ix->lock);
	free(ix);
	return STORE_NOMEM;
}

void
indexer_stop(struct indexer *ix)
{
	if (ix == NULL)
		return;
	pthread_mutex_lock(&ix->lock);
	atomic_store(&ix->stop, 1);
	pthread_cond_signal(&ix->wake);
	pthread_mutex_unlock(&ix->lock);
	pthread_join(ix->thread, NULL);
	pthread_mutex_destroy(&ix->lock);
	pthread_cond_destroy(&ix->wake);
	free(ix);
}
