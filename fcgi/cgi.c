#include <sys/file.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../common/conf.h"
#include "../common/log.h"
#include "../common/timefmt.h"
#include "../core/indexer.h"
#include "../store/store.h"
#include "app.h"
#include "cgi.h"
#include "server.h"
#include "startup.h"
#include "upkeep.h"

/*
 * Who holds it signs the next head and indexes new customers; in
 * data_dir, the CGI user's.
 */
#define CGI_LOCK_FILE	"cgi.lock"
/* The API keys' rate-limit buckets, a file each, in data_dir. */
#define CGI_RATE_DIR	"ratelimit"

/*
 * Seconds a process whose store panicked has to answer (503) and leave
 * before it is ended, as tallyd's.
 */
#define CGI_PANIC_GRACE	2
/*
 * Seconds the store may take to open.  It takes milliseconds, recovery
 * after a killed process included; but a process can wait on a lock that
 * a killed one held, when that one died between the recovery that freed
 * it and this process's open, and no panic wakes it.  Recovery that is
 * cut short runs again at the next open, from the start.  (The upkeep
 * thread does not run yet: it needs the store.)
 */
#define CGI_OPEN_SECONDS	10
/*
 * How often the upkeep thread asks whether the store panicked, in ms: a
 * thread waiting on a lock makes no call that would tell.
 */
#define CGI_WATCH_MS	100

/*
 * The log's size, the newest head's size and time (0 before one), and
 * the search index's position.
 */
struct cgi_log {
	uint64_t	size;
	uint64_t	head_size;
	int64_t		head_ms;
	uint64_t	indexed;
};

static int
cgi_log_txn(struct store_txn *t, void *arg)
{
	struct cgi_log		*l = arg;
	struct store_sth	 head;
	int			 rc;

	if ((rc = store_log_size(t, &l->size)) != STORE_OK)
		return rc;
	memset(&head, 0, sizeof(head));
	if ((rc = store_sth_latest(t, &head)) != STORE_OK &&
	    rc != STORE_NOTFOUND)
		return rc;
	l->head_size = head.size;
	l->head_ms = head.signed_ms;
	return store_search_position(t, &l->indexed);
}

static void
cgi_sleep_ms(int64_t ms)
{
	struct timespec	ts;

	ts.tv_sec = (time_t)(ms / 1000);
	ts.tv_nsec = (long)(ms % 1000) * 1000000L;
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		continue;
}

/*
 * One head over every delta logged before it, no sooner than
 * interval_ms after the newest head, so that a burst of writes shares a
 * head as it does under FastCGI's integrator thread.
 */
static int
cgi_sign(struct app *app, const struct cgi_log *l, int interval_ms)
{
	int64_t		wait;
	uint64_t	size;
	int		rc;

	wait = l->head_ms + interval_ms - timefmt_now_ms();
	if (wait > interval_ms)
		wait = interval_ms;	/* a clock set back */
	if (wait > 0)
		cgi_sleep_ms(wait);
	do
		rc = integrator_step(app->integrator, &size);
	while (rc == STORE_OK && size < l->size);
	return rc;
}

/*
 * After the answer: the deltas no head covers yet get one, and the
 * customers the search index lacks are indexed (core/indexer.h).  One
 * process at a time does it, holding the lock file; one that finds the
 * lock taken leaves at once, for the holder reads the log again after
 * it lets go of the lock: a delta logged before that failed try is seen
 * then.  So with traffic every delta is covered within about
 * sth_interval_ms, and only one process at a time stays to wait for it.
 */
static void
cgi_integrate(struct app *app, const struct conf *conf)
{
	struct cgi_log	l;
	char		path[CONF_PATH_MAX + sizeof(CGI_LOCK_FILE) + 1];
	int		fd, rc;

	snprintf(path, sizeof(path), "%s/%s", conf->data_dir, CGI_LOCK_FILE);
	for (;;) {
		if ((rc = store_read(app->store, cgi_log_txn, &l)) !=
		    STORE_OK) {
			log_error("cgi: reading the log: %s",
			    store_strerror(rc));
			return;
		}
		if (l.size == l.head_size && l.head_ms != 0 &&
		    l.indexed == l.size)
			return;
		if ((fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600)) <
		    0) {
			log_error("cgi: %s: %s", path, strerror(errno));
			return;
		}
		if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
			close(fd);
			return;		/* the holder will see our deltas */
		}
		rc = l.size == l.head_size && l.head_ms != 0 ? STORE_OK :
		    cgi_sign(app, &l, conf->sth_interval_ms);
		if (rc != STORE_OK)
			log_error("cgi: signing a head: %s",
			    store_strerror(rc));
		else if ((rc = indexer_catch_up(app->store)) != STORE_OK)
			log_error("cgi: indexing customers: %s",
			    store_strerror(rc));
		close(fd);		/* lets go of the lock */
		if (rc != STORE_OK)
			return;
	}
}

static void
cgi_deadline(int sig)
{
	(void)sig;
	_exit(1);
}

/*
 * Leaves at once, without exit handlers.  After the store failed to open
 * or panicked, as tallyd does (tallyd.c): a thread may wait for ever on
 * a lock of a killed process, Berkeley DB frees nothing of a panicked
 * environment, and the next process to open it runs recovery in any
 * case.  Every answered write is on disk.
 */
static _Noreturn void
cgi_leave(int status)
{
	_exit(status);
}

/*
 * The store panicked: this process answers 503 (app_handle) and leaves,
 * and the next to open the store runs recovery.  A thread of it may wait
 * for ever on a lock that a killed process held (Berkeley DB wakes no
 * lock waiter on a panic): past CGI_PANIC_GRACE it leaves all the same,
 * with no answer (the web server's 500), for every answered write is on
 * disk.
 */
static void
cgi_panic(void *arg)
{
	(void)arg;
	log_error("tallyd: the store needs recovery (a process died with it "
	    "open, or it is damaged)");
	signal(SIGALRM, cgi_deadline);
	alarm(CGI_PANIC_GRACE);
}

/*
 * A web server ends a CGI program it no longer needs with SIGTERM
 * (mod_cgid, once the request is over: while this process signs a
 * head), and a client gone makes a write to stdout raise SIGPIPE.  Dying
 * of either with the store open would make the next process run
 * recovery under every other one: they are ignored, and the process
 * leaves when its work is done, which is bounded (sth_interval_ms and a
 * step).
 */
static void
cgi_signals(void)
{
	signal(SIGPIPE, SIG_IGN);
	signal(SIGTERM, SIG_IGN);
	signal(SIGHUP, SIG_IGN);
	signal(SIGINT, SIG_IGN);
}

int
cgi_main(void)
{
	struct conf	 conf;
	struct app	 app;
	struct upkeep	*upkeep = NULL;
	char		 err[256], path[CONF_PATH_MAX + sizeof(CGI_RATE_DIR) + 1];
	int		 rc, status = 1;

	cgi_signals();
	memset(&app, 0, sizeof(app));
	/*
	 * Before an answer is possible, a failure answers nothing: the web
	 * server then says 500, in the API's envelope where it is
	 * configured so (apache/tally.conf with TALLY_CGI), and the log
	 * says why.
	 */
	if (startup_conf(&conf, getenv("TALLY_CONFIG")) < 0 ||
	    startup_user(&conf) < 0)
		return 1;
	/* A process a request would have to join the group each time. */
	if (conf.repl.listen.port != 0) {
		log_error("tallyd: repl_listen is set: a node of a "
		    "replication group runs as a FastCGI server, not as CGI");
		return 1;
	}
	startup_app(&app, &conf);
	app.step_first = 1;
	signal(SIGALRM, cgi_deadline);
	alarm(CGI_OPEN_SECONDS);
	rc = store_open(&app.store, conf.data_dir, conf.cache_mb, 0);
	alarm(0);
	if (rc != STORE_OK) {
		log_error("tallyd: store %s: %s", conf.data_dir,
		    store_strerror(rc));
		cgi_leave(1);
	}
	store_on_panic(app.store, cgi_panic, NULL);
	if (upkeep_start(&upkeep, app.store, CGI_WATCH_MS) < 0) {
		log_error("tallyd: cannot start the upkeep thread");
		goto out;
	}
	if (integrator_open(&app.integrator, app.store, conf.data_dir,
	    conf.log_origin, err, sizeof(err)) < 0) {
		log_error("tallyd: %s", err);
		goto out;
	}
	if ((rc = ledger_open(&app.ledger, app.store)) != STORE_OK) {
		log_error("tallyd: cannot start the ledger: %s",
		    store_strerror(rc));
		goto out;
	}
	snprintf(path, sizeof(path), "%s/%s", conf.data_dir, CGI_RATE_DIR);
	if (ratelimit_open_shared(&app.ratelimit, conf.rate_limit,
	    conf.rate_burst, path) < 0) {
		log_error("tallyd: %s: %s", path, strerror(errno));
		goto out;
	}
	status = server_cgi(&app) == 0 ? 0 : 1;
	if (store_panicked(app.store))
		cgi_leave(status);
	ledger_close(app.ledger);
	app.ledger = NULL;
	cgi_integrate(&app, &conf);
out:
	if (app.store != NULL && store_panicked(app.store))
		cgi_leave(status);
	ledger_close(app.ledger);
	integrator_close(app.integrator);
	ratelimit_close(app.ratelimit);
	upkeep_stop(upkeep);
	store_leave(app.store);
	/*
	 * The process's memory is the kernel's to free from here.  And a
	 * close that found the environment panicked by another process's
	 * recovery meanwhile (after the check above) leaves Berkeley DB's
	 * handles allocated, which LeakSanitizer would report on exit.
	 */
	cgi_leave(status);
}
