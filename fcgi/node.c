#include <sys/prctl.h>

#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <unistd.h>

#include "../common/clockwait.h"
#include "../common/log.h"
#include "../core/indexer.h"
#include "../deliver/courier.h"
#include "../store/nodelay.h"
#include "../store/store.h"
#include "app.h"
#include "node.h"

struct node {
	struct app		*app;
	const struct conf	*conf;
	struct courier		*courier;
	struct indexer		*indexer;
	pthread_t		 thread;
	int			 threaded;	/* a group's: joins, waits */
	pthread_mutex_t		 lock;
	pthread_cond_t		 changed;
	int			 joined;	/* store_repl_start returned */
	int			 writing;	/* the writers run */
	int			 stop;
	int			 claim_failing;	/* node_main's */
	int			 restart;	/* atomic */
};

/* The writers, then app->writer: request threads see them all or none. */
static int
node_writers_start(struct node *n)
{
	struct app	*app = n->app;
	char		 err[256];
	int		 rc;

	if (integrator_open(&app->integrator, app->store, n->conf->data_dir,
	    n->conf->log_origin, err, sizeof(err)) < 0) {
		log_error("tallyd: %s", err);
		return -1;
	}
	if ((rc = indexer_start(&n->indexer, app->store)) != STORE_OK) {
		log_error("tallyd: cannot start the search indexer: %s",
		    store_strerror(rc));
		return -1;
	}
	if ((rc = ledger_open(&app->ledger, app->store)) != STORE_OK) {
		log_error("tallyd: cannot start the ledger: %s",
		    store_strerror(rc));
		return -1;
	}
	if (integrator_start(app->integrator, n->conf->sth_interval_ms) < 0) {
		log_error("tallyd: cannot start the integrator");
		return -1;
	}
	/* /proc/self/exe: this very binary, even if its path changes. */
	if (courier_start(&n->courier, app->store, n->conf,
	    "/proc/self/exe") < 0) {
		log_error("tallyd: cannot start the webhook courier");
		return -1;
	}
	__atomic_store_n(&app->writer, 1, __ATOMIC_RELEASE);
	return 0;
}

/* Leaves for a restart: as a panic does (tallyd.c), through SIGTERM. */
static void
node_leave(struct node *n, const char *why)
{
	log_error("tallyd: %s: stopping, to be started again", why);
	__atomic_store_n(&n->restart, 1, __ATOMIC_RELEASE);
	kill(getpid(), SIGTERM);
}

/*
 * Berkeley DB's thread (store_on_role): only wakes node_main, which asks
 * store_role itself.
 */
static void
node_on_role(void *arg, enum store_role role)
{
	struct node	*n = arg;

	(void)role;
	pthread_mutex_lock(&n->lock);
	pthread_cond_signal(&n->changed);
	pthread_mutex_unlock(&n->lock);
}

/*
 * The master's claim (store_repl_claim): the first, before any write is
 * taken, proves that the group follows this master; the next keep it so.
 * A failure is said once, not every interval.
 */
static int
node_claim(struct node *n)
{
	int	rc;

	rc = store_repl_claim(n->app->store);
	if (rc != STORE_OK && !n->claim_failing)
		log_error("tallyd: the group did not acknowledge this "
		    "master's claim: %s", store_strerror(rc));
	else if (rc == STORE_OK && n->claim_failing)
		log_info("tallyd: the group acknowledges this master again");
	n->claim_failing = rc != STORE_OK;
	return rc == STORE_OK ? 0 : -1;
}

static void *
node_main(void *arg)
{
	struct node	*n = arg;
	enum store_role	 role;
	int		 missing;

	prctl(PR_SET_NAME, "tally-node");
	nodelay_fail_fast();
	if (store_repl_start(n->app->store, n->conf->data_dir) != STORE_OK) {
		node_leave(n, "cannot join the replication group");
		return NULL;
	}
	if ((missing = nodelay_missing()) > 0)
		log_error("tallyd: %d replication connection(s) without "
		    "TCP_NODELAY: every acknowledged commit will wait ~40 ms "
		    "(was tallyd linked statically?)", missing);
	__atomic_store_n(&n->app->joined, 1, __ATOMIC_RELEASE);
	pthread_mutex_lock(&n->lock);
	n->joined = 1;
	while (!n->stop) {
		role = store_role(n->app->store);
		if (n->writing && role != STORE_ROLE_MASTER) {
			pthread_mutex_unlock(&n->lock);
			node_leave(n, "this node is no longer the master");
			return NULL;
		}
		if (!n->writing && role == STORE_ROLE_MASTER) {
			pthread_mutex_unlock(&n->lock);
			/*
			 * A group still forming (a site joining) may take
			 * seconds to acknowledge: try again, as long as this
			 * node is master.
			 */
			if (node_claim(n) < 0) {
				usleep(STORE_REPL_CLAIM_INTERVAL_MS * 1000);
				pthread_mutex_lock(&n->lock);
				continue;
			}
			if (node_writers_start(n) < 0) {
				node_leave(n, "cannot start as the master");
				return NULL;
			}
			log_info("tallyd: recording, as the group's master");
			pthread_mutex_lock(&n->lock);
			n->writing = 1;
			continue;
		}
		if (!n->writing) {
			pthread_cond_wait(&n->changed, &n->lock);
			continue;
		}
		clockwait(&n->changed, &n->lock, STORE_REPL_CLAIM_INTERVAL_MS);
		pthread_mutex_unlock(&n->lock);
		(void)node_claim(n);
		pthread_mutex_lock(&n->lock);
	}
	pthread_mutex_unlock(&n->lock);
	return NULL;
}

int
node_start(struct node **out, struct app *app, const struct conf *conf)
{
	struct node	*n;

	*out = NULL;
	if ((n = calloc(1, sizeof(*n))) == NULL) {
		log_error("tallyd: out of memory");
		return -1;
	}
	n->app = app;
	n->conf = conf;
	pthread_mutex_init(&n->lock, NULL);
	if (clockwait_init(&n->changed) != 0) {
		free(n);
		log_error("tallyd: out of memory");
		return -1;
	}
	*out = n;
	if (store_role(app->store) == STORE_ROLE_ALONE) {
		n->writing = 1;
		return node_writers_start(n);
	}
	app->replicated = 1;
	store_on_role(app->store, node_on_role, n);
	if (pthread_create(&n->thread, NULL, node_main, n) != 0) {
		log_error("tallyd: cannot start the node's thread");
		return -1;
	}
	n->threaded = 1;
	return 0;
}

int
node_restart_wanted(struct node *n)
{
	int	joining;

	if (n == NULL)
		return 0;
	pthread_mutex_lock(&n->lock);
	joining = n->threaded && !n->joined;
	pthread_mutex_unlock(&n->lock);
	return joining || __atomic_load_n(&n->restart, __ATOMIC_ACQUIRE);
}

void
node_stop(struct node *n)
{
	struct app	*app;

	if (n == NULL)
		return;
	app = n->app;
	if (n->threaded) {
		/* Still joining, it is in Berkeley DB: tallyd leaves as is. */
		if (node_restart_wanted(n))
			return;
		store_on_role(app->store, NULL, NULL);
		pthread_mutex_lock(&n->lock);
		n->stop = 1;
		pthread_cond_signal(&n->changed);
		pthread_mutex_unlock(&n->lock);
		pthread_join(n->thread, NULL);
	}
	__atomic_store_n(&app->writer, 0, __ATOMIC_RELEASE);
	ledger_close(app->ledger);
	app->ledger = NULL;
	integrator_close(app->integrator);
	app->integrator = NULL;
	indexer_stop(n->indexer);
	courier_stop(n->courier);
	pthread_mutex_destroy(&n->lock);
	pthread_cond_destroy(&n->changed);
	free(n);
}
