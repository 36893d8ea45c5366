/*
 * tallyd: the FastCGI responder, and a CGI program when started as one
 * (GATEWAY_INTERFACE set: cgi.h).
 *
 *   tallyd [-c tally.conf]	(default /etc/tally/tally.conf)
 *   tallyd --help | --version
 */

#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../common/conf.h"
#include "../common/log.h"
#include "../common/version.h"
#include "../deliver/courier.h"
#include "../deliver/sender.h"
#include "../store/store.h"
#include "app.h"
#include "cgi.h"
#include "node.h"
#include "server.h"
#include "startup.h"
#include "upkeep.h"

/*
 * Exit status after a store panic: a temporary failure (sysexits'
 * EX_TEMPFAIL) that a restart heals, as Restart=on-failure expects.
 */
#define TALLYD_EXIT_RECOVER	75
/*
 * The data directory is of a newer format than this tallyd knows: a
 * configuration error (sysexits' EX_CONFIG) that no restart heals, for
 * the unit's RestartPreventExitStatus.
 */
#define TALLYD_EXIT_NEWER	78

/*
 * The store panicked (store_on_panic): it fails every call until it is
 * opened again, which runs recovery.  Reopening it under threads that
 * hold its handles would be a second, riskier life in this process;
 * stopping is simple and certain.  So tallyd stops as on SIGTERM
 * (in-flight requests finish, answered 503) and exits
 * TALLYD_EXIT_RECOVER, for its supervisor (make run, systemd) to start
 * it again.
 */
/*
 * A request thread may wait on the ledger, and the ledger on a lock that
 * a killed process held, for ever: Berkeley DB wakes no lock waiter on a
 * panic.  So the orderly stop gets PANIC_GRACE_SECONDS; past them tallyd
 * leaves all the same, as main would (every answered write is on disk).
 */
#define PANIC_GRACE_SECONDS	5

static void
tallyd_panic_deadline(int sig)
{
	(void)sig;
	_exit(TALLYD_EXIT_RECOVER);
}

static void
tallyd_panic(void *arg)
{
	(void)arg;
	log_error("tallyd: the store needs recovery (a process died with it "
	    "open, or it is damaged): stopping, to be restarted");
	signal(SIGALRM, tallyd_panic_deadline);
	alarm(PANIC_GRACE_SECONDS);
	kill(getpid(), SIGTERM);
}

/*
 * A panicked store commits nothing more, and a thread of ours may wait
 * for ever on a lock that a killed process held (Berkeley DB wakes no
 * lock waiter on a panic): joining the ledger, integrator or courier
 * could hang, and closing the store frees nothing it can account for.
 * Every answered write is on disk already, so tallyd leaves at once; the
 * restart runs recovery as it opens the store (it would in any case: the
 * environment is marked), and the webhook sender leaves when its socket
 * closes with us.  So does a node that must rejoin its group (node.h).
 */
static int
tallyd_must_leave(struct store *st, struct node *node)
{
	return (st != NULL && store_panicked(st)) ||
	    node_restart_wanted(node);
}

/* Asked for (out is stdout), status 0; after a mistake, stderr and 2. */
static int
tallyd_usage(FILE *out, int status)
{
	fputs("usage: tallyd [-c tally.conf]\n"
	    "       tallyd --help | --version\n"
	    "The configuration is " CONF_DEFAULT_PATH " unless -c names "
	    "another.\n", out);
	return status;
}

static const struct option tallyd_opts[] = {
	{ "help",	no_argument,	NULL,	'h' },
	{ "version",	no_argument,	NULL,	'V' },
	{ NULL,		0,		NULL,	0 }
};

int
main(int argc, char *argv[])
{
	struct conf	 conf;
	struct app	 app;
	struct upkeep	*upkeep = NULL;
	struct node	*node = NULL;
	const char	*conf_path = NULL;
	int		 ch, fd = -1, rc, status = 1;

	/* The courier's webhook sender: tallyd again, in a mode of its own. */
	if ((argc == 2 || argc == 3) && strcmp(argv[1], "--sender") == 0)
		return sender_main(COURIER_SENDER_FD, argv[2]);
	/* Started by a web server as CGI (RFC 3875 4.1.4): one request. */
	if (getenv("GATEWAY_INTERFACE") != NULL)
		return cgi_main();

	/* Nothing is opened before the arguments are known to be right. */
	if (argc == 2 && strcmp(argv[1], "help") == 0)
		return tallyd_usage(stdout, 0);
	while ((ch = getopt_long(argc, argv, "c:h", tallyd_opts, NULL)) != -1)
		switch (ch) {
		case 'c':
			conf_path = optarg;
			break;
		case 'h':
			return tallyd_usage(stdout, 0);
		case 'V':
			printf("tallyd %s\n", TALLY_VERSION);
			return 0;
		default:
			return tallyd_usage(stderr, 2);
		}
	if (optind != argc)
		return tallyd_usage(stderr, 2);

	if (startup_conf(&conf, conf_path) < 0)
		return 1;
	memset(&app, 0, sizeof(app));
	startup_app(&app, &conf);
	server_block_signals();
	/* Bound first: a TCP port below 1024 needs root. */
	if ((fd = server_listen(conf.listen, conf.listen_mode,
	    conf.socket_group)) < 0)
		return 1;
	/*
	 * Then, before opening anything else, become the user: every file
	 * tallyd opens (the store, the signing keys) is then one the user
	 * can open again at the next start.
	 */
	if (startup_user(&conf) < 0)
		goto out;
	if ((rc = store_open_repl(&app.store, conf.data_dir, conf.cache_mb,
	    STORE_SERVE, &conf.repl)) != STORE_OK) {
		log_error("tallyd: store %s: %s", conf.data_dir,
		    store_strerror(rc));
		if (rc == STORE_NEWER)
			status = TALLYD_EXIT_NEWER;
		goto out;
	}
	store_on_panic(app.store, tallyd_panic, NULL);
	if (ratelimit_open(&app.ratelimit, conf.rate_limit,
	    conf.rate_burst) < 0) {
		log_error("tallyd: out of memory");
		goto out;
	}
	if (node_start(&node, &app, &conf) < 0)
		goto out;
	/* Every second: a panic while no request calls the store. */
	if (upkeep_start(&upkeep, app.store, 1000) < 0) {
		log_error("tallyd: cannot start the upkeep thread");
		goto out;
	}
	log_info("tallyd: listening on %s, data in %s, uid %u", conf.listen,
	    conf.data_dir, (unsigned)getuid());
	status = server_run(fd, conf.threads, conf.read_timeout,
	    &app) == 0 ? 0 : 1;
	/* No request thread is left: record what is queued, then stop. */
	if (!tallyd_must_leave(app.store, node)) {
		node_stop(node);
		node = NULL;
	}
out:
	upkeep_stop(upkeep);
	if (fd >= 0 && strncmp(conf.listen, "unix:", 5) == 0)
		unlink(conf.listen + 5);
	/*
	 * Also a panic met while the writers stopped: a group's master that
	 * loses its majority in its last commit.
	 */
	if (tallyd_must_leave(app.store, node)) {
		log_error("tallyd: stopped, to be started again");
		_exit(TALLYD_EXIT_RECOVER);
	}
	node_stop(node);
	ratelimit_close(app.ratelimit);
	store_close(app.store);
	log_info("tallyd: stopped");
	return status;
}
