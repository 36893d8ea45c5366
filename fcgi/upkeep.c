#include <sys/prctl.h>

#include <malloc.h>
#include <pthread.h>
#include <stdlib.h>

#include "../common/clockwait.h"
#include "../common/log.h"
#include "../store/store.h"
#include "upkeep.h"

struct upkeep {
	pthread_t	 thread;
	pthread_mutex_t	 lock;
	pthread_cond_t	 wake;
	int		 stop;
	int		 interval_ms;
	struct store	*store;
};

static void *
upkeep_main(void *arg)
{
	struct upkeep	*u = arg;
	long		 since_sync = 0;
	int		 rc;

	prctl(PR_SET_NAME, "tally-upkeep");
	pthread_mutex_lock(&u->lock);
	while (!u->stop) {
		clockwait(&u->wake, &u->lock, u->interval_ms);
		if (u->stop)
			break;
		pthread_mutex_unlock(&u->lock);
		/*
		 * Memory a burst of large requests freed stays in the arenas
		 * of the threads that served them (40 MiB after 1000-delta
		 * batches at 8 connections): hand it back to the system.
		 */
		malloc_trim(0);
		/* Panicked, the callback has run: nothing to write. */
		if (!store_panicked(u->store) &&
		    (since_sync += u->interval_ms) >= UPKEEP_SYNC_MS) {
			since_sync = 0;
			if ((rc = store_sync(u->store)) != STORE_OK)
				log_warn("store sync: %s", store_strerror(rc));
		}
		pthread_mutex_lock(&u->lock);
	}
	pthread_mutex_unlock(&u->lock);
	return NULL;
}

int
upkeep_start(struct upkeep **out, struct store *st, int interval_ms)
{
	struct upkeep	*u;

	*out = NULL;
	if ((u = calloc(1, sizeof(*u))) == NULL)
		return -1;
	u->store = st;
	u->interval_ms = interval_ms;
	pthread_mutex_init(&u->lock, NULL);
	if (clockwait_init(&u->wake) != 0)
		goto err;
	if (pthread_create(&u->thread, NULL, upkeep_main, u) != 0) {
		pthread_cond_destroy(&u->wake);
		goto err;
	}
	*out = u;
	return 0;
err:
	pthread_mutex_destroy(&u->lock);
	free(u);
	return -1;
}

void
upkeep_stop(struct upkeep *u)
{
	if (u == NULL)
		return;
	pthread_mutex_lock(&u->lock);
	u->stop = 1;
	pthread_cond_signal(&u->wake);
	pthread_mutex_unlock(&u->lock);
	pthread_join(u->thread, NULL);
	pthread_cond_destroy(&u->wake);
	pthread_mutex_destroy(&u->lock);
	free(u);
}
