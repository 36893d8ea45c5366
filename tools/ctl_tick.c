/*
 * tallyctl tick: the background work of a host where tallyd runs as CGI
 * (README "Running as CGI"), for cron to run every minute.  Between
 * requests nothing of tallyd runs, so this is where a head is signed
 * over deltas that none covers yet, new customers are indexed for
 * search, webhook events that are due are delivered, and the store is
 * synced.  Harmless beside a running FastCGI tallyd: heads are stored
 * once per size, a customer indexed twice has the same entries, and a
 * delivery is at least once anyway.
 */
#include <errno.h>
#include <getopt.h>
#include <libgen.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../common/timefmt.h"
#include "../core/indexer.h"
#include "../core/integrator.h"
#include "../deliver/courier.h"
#include "ctl.h"

/* How often the courier's progress is looked at. */
#define TICK_POLL_MS	100

static int
tick_due_txn(struct store_txn *t, void *arg)
{
	int64_t	*next_ms = arg;
	int	 rc;

	if ((rc = store_event_next(t, next_ms)) == STORE_NOTFOUND) {
		*next_ms = INT64_MAX;
		return STORE_OK;
	}
	return rc;
}

/* 1 if an event is due now, 0 if none, -1 after a store failure. */
static int
tick_events_due(struct store *st)
{
	int64_t	next_ms;

	if (store_read(st, tick_due_txn, &next_ms) != STORE_OK)
		return -1;
	return next_ms <= timefmt_now_ms();
}

/* Heads until one covers the whole log; *size is its size. */
static int
tick_integrate(struct store *st, const struct conf *conf, uint64_t *size)
{
	struct integrator	*ig = NULL;
	char			 err[256];
	uint64_t		 before;
	int			 rc;

	if (integrator_open(&ig, st, conf->data_dir, conf->log_origin, err,
	    sizeof(err)) < 0) {
		fprintf(stderr, "tallyctl: %s\n", err);
		return 1;
	}
	*size = 0;
	do {
		before = *size;
		rc = integrator_step(ig, size);
	} while (rc == STORE_OK && *size != before && !ctl_stopped());
	integrator_close(ig);
	return rc == STORE_OK ? 0 : ctl_fail("signing a head", rc);
}

/*
 * The webhook sender is tallyd's (tallyd --sender): the one beside
 * tallyctl, as in a build tree, else the one in ../sbin, as installed.
 */
static int
tick_tallyd(char *out, size_t size)
{
	char	self[PATH_MAX], *dir;
	ssize_t	n;

	if ((n = readlink("/proc/self/exe", self, sizeof(self) - 1)) < 0)
		return -1;
	self[n] = '\0';
	dir = dirname(self);
	snprintf(out, size, "%s/tallyd", dir);
	if (access(out, X_OK) == 0)
		return 0;
	snprintf(out, size, "%s/../sbin/tallyd", dir);
	return access(out, X_OK) == 0 ? 0 : -1;
}

/*
 * Runs the courier until no event is due, or for one attempt's time and
 * a little more: what is still due then waits for the next tick.
 */
static int
tick_deliver(struct store *st, const struct conf *conf, const char *tallyd)
{
	struct courier	*co = NULL;
	char		 exe[PATH_MAX];
	int64_t		 deadline;
	int		 due;

	if ((due = tick_events_due(st)) <= 0)
		return due < 0 ? ctl_fail("webhook events", STORE_IO) : 0;
	if (tallyd != NULL)
		snprintf(exe, sizeof(exe), "%s", tallyd);
	else if (tick_tallyd(exe, sizeof(exe)) < 0) {
		fprintf(stderr, "tallyctl: webhook events are due, and no "
		    "tallyd to send them was found: name it with --tallyd\n");
		return 1;
	}
	if (courier_start(&co, st, conf, exe) < 0) {
		fprintf(stderr, "tallyctl: cannot start the webhook courier\n");
		return 1;
	}
	deadline = timefmt_now_ms() + conf->webhook_timeout_ms + 2000;
	while ((due = tick_events_due(st)) > 0 && !ctl_stopped() &&
	    timefmt_now_ms() < deadline)
		usleep(TICK_POLL_MS * 1000);
	courier_stop(co);
	return due < 0 ? ctl_fail("webhook events", STORE_IO) : 0;
}

static const struct option tick_opts[] = {
	{ "tallyd",	required_argument,	NULL,	't' },
	{ NULL,		0,			NULL,	0 }
};

int
ctl_tick(struct store *st, const struct conf *conf, int argc, char *argv[])
{
	const char	*tallyd = NULL;
	uint64_t	 size;
	int		 ch, rc;

	while ((ch = getopt_long(argc, argv, "", tick_opts, NULL)) != -1)
		switch (ch) {
		case 't':
			tallyd = optarg;
			break;
		default:
			return ctl_usage();
		}
	if (optind != argc)
		return ctl_usage();
	if ((rc = tick_integrate(st, conf, &size)) != 0)
		return rc;
	if ((rc = indexer_catch_up(st)) != STORE_OK)
		return ctl_fail("indexing customers", rc);
	if ((rc = tick_deliver(st, conf, tallyd)) != 0)
		return rc;
	if ((rc = store_sync(st)) != STORE_OK)
		return ctl_fail("sync", rc);
	printf("tick: the newest head covers %llu deltas\n",
	    (unsigned long long)size);
	return 0;
}
