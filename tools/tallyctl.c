/*
 * tallyctl: the operator's command line.  It opens the same store as a
 * running tallyd (both may have it open at once).
 *
 *   tallyctl [-c tally.conf] init	(default /etc/tally/tally.conf)
 *   tallyctl [-c tally.conf] tenant add NAME | tenant list
 *   tallyctl [-c tally.conf] key create --tenant NAME [--env live|test]
 *                                       [--customer ID]
 *   tallyctl [-c tally.conf] key list [--tenant NAME]
 *   tallyctl [-c tally.conf] key revoke KEYID
 *   tallyctl [-c tally.conf] export --tenant NAME [--env live|test]
 *                                   [--customer ID]
 *   tallyctl [-c tally.conf] signing-key generate|rotate [--alg ALG]
 *       [--no-endorse]
 *   tallyctl [-c tally.conf] signing-key list
 *   tallyctl [-c tally.conf] verify
 *   tallyctl [-c tally.conf] backup DIR
 *   tallyctl [-c tally.conf] tick [--tallyd PATH]
 *   tallyctl help | --help | -h | --version
 * (and quota, cadence, webhook, share: see ctl_usage_text)
 */
#include <sys/stat.h>

#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../common/conf.h"
#include "../common/log.h"
#include "../common/priv.h"
#include "../common/timefmt.h"
#include "../common/version.h"
#include "../core/apikey.h"
#include "../core/emit.h"
#include "../core/ids.h"
#include "../core/tlog.h"
#include "../core/view.h"
#include "../store/store.h"
#include "ctl.h"

/*
 * Set by a stop signal: tallyctl finishes or abandons what it is doing,
 * closes the store and exits 128 + the signal, as if the signal had
 * ended it.
 */
static volatile sig_atomic_t	ctl_signal;
static int			ctl_out_errno;	/* stdout's first failure */

static const char ctl_usage_text[] =
	    "usage: tallyctl [-c tally.conf] command\n"
	    "  init\n"
	    "  tenant add NAME\n"
	    "  tenant list\n"
	    "  key create --tenant NAME [--env live|test] [--customer ID]\n"
	    "  key list [--tenant NAME]\n"
	    "  key revoke KEYID\n"
	    "  export --tenant NAME [--env live|test] [--customer ID]\n"
	    "  signing-key generate|rotate [--alg ecdsa-p256|rsa-3072]\n"
	    "      [--no-endorse]   (rotate: the old private key is lost)\n"
	    "  signing-key list\n"
	    "  quota set --tenant NAME [--env live|test] LIMIT|unlimited\n"
	    "  quota list\n"
	    "  cadence set --tenant NAME [--env live|test] [--customer ID] "
	    "unlimited|DURATION (90s 15m 1h 24h 7d)\n"
	    "  cadence list\n"
	    "  webhook add --tenant NAME [--env live|test] URL\n"
	    "  webhook list [--tenant NAME]\n"
	    "  webhook remove|rotate-secret WEBHOOKID\n"
	    "  share create --tenant NAME [--env live|test] --customer ID\n"
	    "      [--policy two_tier|gated|open]\n"
	    "  share show|rotate-code|revoke --tenant NAME [--env live|test] "
	    "--customer ID\n"
	    "  verify\n"
	    "  tick [--tallyd PATH]   (tallyd as CGI: cron's background work)\n"
	    "  repl status   (a node of a replication group)\n"
	    "  backup DIR\n"
	    "  restore BACKUP [--head FILE] [--accept-fork]\n"
	    "  help | --help | -h | --version\n"
	    "The configuration is " CONF_DEFAULT_PATH " unless -c names "
	    "another.\n";

/*
 * The commands dispatch knows, checked before the store is opened: a
 * typo is a usage error that never opens it.
 */
static const char *const ctl_commands[] = {
	"init", "tenant", "key", "export", "signing-key", "verify", "quota",
	"cadence", "backup", "restore", "webhook", "share", "tick", "repl"
};

int
ctl_usage(void)
{
	fputs(ctl_usage_text, stderr);
	return 2;
}

int
ctl_stopped(void)
{
	if (ctl_out_errno == 0 && ferror(stdout))
		ctl_out_errno = errno != 0 ? errno : EIO;
	return ctl_signal != 0 || ctl_out_errno != 0;
}

static void
ctl_on_signal(int sig)
{
	ctl_signal = sig;
}

/*
 * A process that exits with the environment open makes the next one to
 * open it run recovery under everyone else, tallyd included (see
 * store_open).  So no signal may end tallyctl with the store open: a
 * stop signal only marks it (ctl_stopped), without SA_RESTART so that
 * a write blocked on a full pipe returns; SIGPIPE is ignored, so that a
 * reader gone away is a write error (EPIPE), not an exit.
 */
static void
ctl_signals(void)
{
	static const int	stops[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT };
	struct sigaction	sa;
	size_t			i;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = ctl_on_signal;
	sigemptyset(&sa.sa_mask);
	for (i = 0; i < sizeof(stops) / sizeof(stops[0]); i++)
		sigaction(stops[i], &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
}

static int
ctl_is_command(const char *name)
{
	size_t	i;

	for (i = 0; i < sizeof(ctl_commands) / sizeof(ctl_commands[0]); i++)
		if (strcmp(name, ctl_commands[i]) == 0)
			return 1;
	return 0;
}

/* --help or -h anywhere before "--": the usage, on stdout, and exit 0. */
static int
ctl_wants_help(int argc, char *argv[])
{
	int	i;

	for (i = 0; i < argc && strcmp(argv[i], "--") != 0; i++)
		if (strcmp(argv[i], "--help") == 0 ||
		    strcmp(argv[i], "-h") == 0)
			return 1;
	return 0;
}

int
ctl_fail(const char *what, int rc)
{
	/* Stopped on purpose (ctl_stopped): main says why, once. */
	if (rc != CTL_STOP)
		fprintf(stderr, "tallyctl: %s: %s\n", what,
		    store_strerror(rc));
	return 1;
}

static int
tenant_insert(struct store_txn *t, void *arg)
{
	return store_tenant_add(t, arg);
}

static int
cmd_tenant_add(struct store *st, const char *name)
{
	struct store_tenant	tn;
	int			rc;

	if (!ids_tenant_valid(name)) {
		fprintf(stderr, "tallyctl: tenant names are 1-64 of a-z 0-9 _ "
		    "-, starting with a letter or digit\n");
		return 1;
	}
	memset(&tn, 0, sizeof(tn));
	snprintf(tn.name, sizeof(tn.name), "%s", name);
	tn.created_ms = timefmt_now_ms();
	if ((rc = store_write(st, tenant_insert, &tn)) != STORE_OK)
		return ctl_fail(name, rc);
	printf("tenant %s added\n", name);
	return 0;
}

static int
tenant_print(const struct store_tenant *tn, void *arg)
{
	char	when[TIMEFMT_LEN];

	(void)arg;
	timefmt_rfc3339(tn->created_ms, when);
	printf("%-24s %s\n", tn->name, when);
	return ctl_stopped() ? CTL_STOP : 0;
}

static int
tenant_list(struct store_txn *t, void *arg)
{
	return store_tenant_each(t, tenant_print, arg);
}

static int
cmd_key_create(struct store *st, int argc, char *argv[])
{
	static const struct option opts[] = {
		{ "tenant", required_argument, NULL, 't' },
		{ "env", required_argument, NULL, 'e' },
		{ "customer", required_argument, NULL, 'u' },
		{ NULL, 0, NULL, 0 }
	};
	const char		*tenant = NULL, *customer = "";
	enum store_env		 env = STORE_ENV_LIVE;
	char			 text[APIKEY_TEXT_MAX];
	int			 ch, rc;

	while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (ch) {
		case 't':
			tenant = optarg;
			break;
		case 'e':
			if (strcmp(optarg, "live") == 0)
				env = STORE_ENV_LIVE;
			else if (strcmp(optarg, "test") == 0)
				env = STORE_ENV_TEST;
			else
				return ctl_usage();
			break;
		case 'u':
			customer = optarg;
			break;
		default:
			return ctl_usage();
		}
	}
	if (tenant == NULL || optind != argc)
		return ctl_usage();
	if (customer[0] != '\0' && !ids_customer_valid(customer)) {
		fprintf(stderr, "tallyctl: customer ids are 1-128 of "
		    "A-Z a-z 0-9 _ . : -\n");
		return 1;
	}
	rc = apikey_create(st, tenant, env, customer[0] ? STORE_KEY_CUSTOMER :
	    STORE_KEY_VENDOR, customer, text);
	if (rc == STORE_NOTFOUND) {
		fprintf(stderr, "tallyctl: no tenant %s\n", tenant);
		return 1;
	} else if (rc != STORE_OK)
		return ctl_fail("key create", rc);
	/* The only time the secret is ever shown: stdout, nothing else. */
	printf("%s\n", text);
	if (isatty(STDOUT_FILENO))
		fprintf(stderr, "tallyctl: store this key now; its secret "
		    "cannot be shown again\n");
	return 0;
}

static int
key_print(const struct store_key *k, void *arg)
{
	const char	*tenant = arg;
	char		 when[TIMEFMT_LEN], revoked[TIMEFMT_LEN];

	if (tenant != NULL && strcmp(tenant, k->tenant) != 0)
		return 0;
	timefmt_rfc3339(k->created_ms, when);
	if (k->revoked_ms != 0)
		timefmt_rfc3339(k->revoked_ms, revoked);
	printf("%-24s %-16s %-4s %-8s %-20s %s %s\n", k->public_id, k->tenant,
	    apikey_env_name(k->env), apikey_kind_name(k->kind),
	    k->customer_id[0] ? k->customer_id : "-", when,
	    k->revoked_ms ? revoked : "active");
	return ctl_stopped() ? CTL_STOP : 0;
}

static int
key_list(struct store_txn *t, void *arg)
{
	return store_key_each(t, key_print, arg);
}

static int
cmd_key_list(struct store *st, int argc, char *argv[])
{
	const char	*tenant = NULL;
	int		 rc;

	if (argc == 3 && strcmp(argv[1], "--tenant") == 0)
		tenant = argv[2];
	else if (argc != 1)
		return ctl_usage();
	printf("%-24s %-16s %-4s %-8s %-20s %-24s %s\n", "KEYID", "TENANT",
	    "ENV", "KIND", "CUSTOMER", "CREATED", "REVOKED");
	if ((rc = store_read(st, key_list, (void *)(uintptr_t)tenant)) !=
	    STORE_OK)
		return ctl_fail("key list", rc);
	return 0;
}

struct export {
	const char		*tenant, *customer;
	enum store_env		 env;
	long			 count;
	struct store_txn	*txn;
};

/* One delta per line: the API's fields plus the leaf data and salt. */
static int
export_one(const struct store_delta *d, void *arg)
{
	struct export		*ex = arg;
	struct store_delta	 v;
	char			*text;
	size_t			 len;
	int			 rc;

	if (strcmp(d->tenant, ex->tenant) != 0 || d->env != ex->env ||
	    (ex->customer != NULL && strcmp(d->customer_id,
	    ex->customer) != 0))
		return 0;
	v = *d;		/* shallow: only its status changes */
	if ((rc = tlog_delta_status(ex->txn, &v)) != STORE_OK)
		return rc;
	if ((text = view_text(view_delta_export(&v), &len)) == NULL)
		return STORE_NOMEM;
	printf("%s\n", text);
	free(text);
	ex->count++;
	/* A reader gone (| head) or a signal: stop, and close the store. */
	return ctl_stopped() ? CTL_STOP : 0;
}

static int
export_all(struct store_txn *t, void *arg)
{
	struct export	*ex = arg;

	ex->count = 0;
	ex->txn = t;
	return store_delta_each(t, 0, export_one, ex);
}

static int
cmd_export(struct store *st, int argc, char *argv[])
{
	static const struct option opts[] = {
		{ "tenant", required_argument, NULL, 't' },
		{ "env", required_argument, NULL, 'e' },
		{ "customer", required_argument, NULL, 'u' },
		{ NULL, 0, NULL, 0 }
	};
	struct export	ex = { NULL, NULL, STORE_ENV_LIVE, 0, NULL };
	int		ch, rc;

	while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (ch == 't')
			ex.tenant = optarg;
		else if (ch == 'u')
			ex.customer = optarg;
		else if (ch == 'e' && strcmp(optarg, "test") == 0)
			ex.env = STORE_ENV_TEST;
		else if (ch != 'e' || strcmp(optarg, "live") != 0)
			return ctl_usage();
	}
	if (ex.tenant == NULL || optind != argc)
		return ctl_usage();
	if ((rc = store_read(st, export_all, &ex)) != STORE_OK)
		return ctl_fail("export", rc);
	return 0;
}

static int
dispatch(struct store *st, const struct conf *conf, int argc, char *argv[])
{
	int	rc;

	if (argc >= 2 && strcmp(argv[0], "tenant") == 0) {
		if (strcmp(argv[1], "add") == 0 && argc == 3)
			return cmd_tenant_add(st, argv[2]);
		if (strcmp(argv[1], "list") == 0 && argc == 2) {
			if ((rc = store_read(st, tenant_list, NULL)) !=
			    STORE_OK)
				return ctl_fail("tenant list", rc);
			return 0;
		}
	} else if (argc >= 2 && strcmp(argv[0], "key") == 0) {
		if (strcmp(argv[1], "create") == 0)
			return cmd_key_create(st, argc - 1, argv + 1);
		if (strcmp(argv[1], "list") == 0)
			return cmd_key_list(st, argc - 1, argv + 1);
		if (strcmp(argv[1], "revoke") == 0 && argc == 3) {
			if ((rc = apikey_revoke(st, argv[2])) != STORE_OK)
				return ctl_fail(argv[2], rc);
			printf("key %s revoked\n", argv[2]);
			return 0;
		}
	} else if (strcmp(argv[0], "export") == 0)
		return cmd_export(st, argc, argv);
	else if (strcmp(argv[0], "signing-key") == 0)
		return ctl_signing_key(st, conf, argc, argv);
	else if (strcmp(argv[0], "verify") == 0)
		return ctl_verify(st, argc, argv);
	else if (strcmp(argv[0], "quota") == 0)
		return ctl_quota(st, argc, argv);
	else if (strcmp(argv[0], "cadence") == 0)
		return ctl_cadence(st, argc, argv);
	else if (strcmp(argv[0], "backup") == 0)
		return ctl_backup(st, conf, argc, argv);
	else if (strcmp(argv[0], "restore") == 0)
		return ctl_restore(st, conf, argc, argv);
	else if (strcmp(argv[0], "webhook") == 0)
		return ctl_webhook(st, conf, argc, argv);
	else if (strcmp(argv[0], "tick") == 0)
		return ctl_tick(st, conf, argc, argv);
	else if (strcmp(argv[0], "share") == 0)
		return ctl_share(st, conf, argc, argv);
	else if (strcmp(argv[0], "repl") == 0)
		return ctl_repl(st, argc, argv);
	return ctl_usage();
}

int
main(int argc, char *argv[])
{
	struct conf	 conf;
	struct store	*st = NULL;
	const char	*conf_path = NULL;
	char		 err[256];
	int		 rc, init;

	if (argc >= 3 && strcmp(argv[1], "-c") == 0) {
		conf_path = argv[2];
		argc -= 2;
		argv += 2;
	}
	/* Asked for, the usage is an answer: stdout, and success. */
	if (ctl_wants_help(argc - 1, argv + 1) ||
	    (argc == 2 && strcmp(argv[1], "help") == 0)) {
		fputs(ctl_usage_text, stdout);
		return 0;
	}
	if (argc == 2 && strcmp(argv[1], "--version") == 0) {
		printf("tallyctl %s\n", TALLY_VERSION);
		return 0;
	}
	if (argc < 2 || !ctl_is_command(argv[1]))
		return ctl_usage();
	argc--;
	argv++;
	init = strcmp(argv[0], "init") == 0;
	if (init && argc != 1)
		return ctl_usage();

	if (conf_read(&conf, conf_path, err, sizeof(err)) < 0) {
		fprintf(stderr, "tallyctl: %s\n", err);
		return 1;
	}
	log_set_level(LOG_LEVEL_WARN);
	umask(077);
	/*
	 * Root becomes tallyd's user too, so that nothing tallyctl creates
	 * (environment files, logs, keys, backups) is root's.
	 */
	if (priv_drop(conf.user, conf.data_dir, init ? PRIV_DATA_CREATE : 0,
	    err, sizeof(err)) < 0) {
		fprintf(stderr, "tallyctl: %s\n", err);
		return 1;
	}
	/*
	 * From here every way out goes through store_close (see
	 * ctl_signals): commands return their status, even for a usage
	 * error, and never exit.
	 */
	ctl_signals();
	/* repl status: also from a node that cannot read its databases. */
	rc = store_open_repl(&st, conf.data_dir, conf.cache_mb,
	    init ? STORE_CREATE : strcmp(argv[0], "repl") == 0 ?
	    STORE_ENV_ONLY : 0, &conf.repl);
	/* restore brings back a lost store: it goes on without one. */
	if (rc == STORE_NOTINIT && strcmp(argv[0], "restore") == 0)
		rc = STORE_OK;
	if (rc != STORE_OK) {
		fprintf(stderr, "tallyctl: %s: %s\n", conf.data_dir,
		    store_strerror(rc));
		return 1;
	}
	if (ctl_stopped())
		rc = 1;		/* a signal during the open: do nothing */
	else if (init) {
		/* Idempotent: a second init keeps the data and the key. */
		if ((rc = ctl_signing_key_ensure(st, &conf)) == 0)
			printf("initialised %s\n", conf.data_dir);
	} else {
		/* getopt_long in subcommands starts from their own argv[0]. */
		optind = 1;
		rc = dispatch(st, &conf, argc, argv);
	}
	ctl_stopped();		/* notes a failed write while errno holds */
	store_close(st);
	/* Flushed after the close: a slow reader never holds the store. */
	if (fflush(stdout) == EOF && ctl_out_errno == 0)
		ctl_out_errno = errno;
	if (ctl_signal != 0) {
		fprintf(stderr, "tallyctl: stopped by signal %d; the store is "
		    "closed\n", (int)ctl_signal);
		return 128 + ctl_signal;
	}
	if (ctl_out_errno == EPIPE)
		return 128 + SIGPIPE;	/* the reader left: not news */
	if (ctl_out_errno != 0) {
		fprintf(stderr, "tallyctl: standard output: %s\n",
		    strerror(ctl_out_errno));
		return rc != 0 ? rc : 1;
	}
	return rc;
}
