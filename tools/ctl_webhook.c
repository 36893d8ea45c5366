/*
 * tallyctl webhook: a tenant's endpoints (SPEC 5).  The secret is shown
 * once, when it is made (add, rotate-secret); list never shows it.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/timefmt.h"
#include "../core/webhook.h"
#include "ctl.h"

static const char *const env_names[] = { "test", "live" };

static int
webhook_insert(struct store_txn *t, void *arg)
{
	struct store_webhook	*w = arg;
	struct store_tenant	 tn;
	int			 rc;

	if ((rc = store_tenant_get(t, w->tenant, &tn)) != STORE_OK)
		return rc;
	return store_webhook_add(t, w);
}

static int
cmd_add(struct store *st, const struct conf *conf, int argc, char *argv[])
{
	static const struct option opts[] = {
		{ "tenant", required_argument, NULL, 't' },
		{ "env", required_argument, NULL, 'e' },
		{ NULL, 0, NULL, 0 }
	};
	struct store_webhook	 w;
	const char		*tenant = NULL;
	enum store_env		 env = STORE_ENV_LIVE;
	char			 err[200];
	int			 ch, rc;

	while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (ch == 't')
			tenant = optarg;
		else if (ch == 'e' && strcmp(optarg, "test") == 0)
			env = STORE_ENV_TEST;
		else if (ch != 'e' || strcmp(optarg, "live") != 0)
			return ctl_usage();
	}
	if (tenant == NULL || optind != argc - 1)
		return ctl_usage();
	if (webhook_endpoint_new(&w, tenant, env, argv[optind],
	    conf->webhook_allow_private, err, sizeof(err)) < 0) {
		fprintf(stderr, "tallyctl: webhook add: %s\n", err);
		return 1;
	}
	rc = store_write(st, webhook_insert, &w);
	if (rc == STORE_NOTFOUND) {
		fprintf(stderr, "tallyctl: no tenant %s\n", tenant);
		return 1;
	} else if (rc != STORE_OK)
		return ctl_fail("webhook add", rc);
	fprintf(stderr, "tallyctl: webhook %s of %s (%s) to %s; the secret is "
	    "shown only now\n", w.id, tenant, env_names[env], w.url);
	printf("%s %s\n", w.id, w.secret);
	explicit_bzero(&w, sizeof(w));
	return 0;
}

static int
webhook_print(const struct store_webhook *w, void *arg)
{
	const char	*tenant = arg;
	char		 created[TIMEFMT_LEN], until[TIMEFMT_LEN];

	if (tenant != NULL && strcmp(tenant, w->tenant) != 0)
		return STORE_OK;
	timefmt_rfc3339(w->created_ms, created);
	printf("%s %-24s %-4s %s %s", w->id, w->tenant, env_names[w->env],
	    created, w->url);
	if (w->old_secret[0] != '\0' && w->old_until_ms > timefmt_now_ms()) {
		timefmt_rfc3339(w->old_until_ms, until);
		printf(" (previous secret signs until %s)", until);
	}
	printf("\n");
	return STORE_OK;
}

static int
webhook_list(struct store_txn *t, void *arg)
{
	return store_webhook_each(t, webhook_print, arg);
}

static int
webhook_remove(struct store_txn *t, void *arg)
{
	return store_webhook_delete(t, arg);
}

struct rotation {
	const char		*id;
	struct store_webhook	 w;
};

static int
webhook_rotate(struct store_txn *t, void *arg)
{
	struct rotation	*r = arg;
	int		 rc;

	if ((rc = store_webhook_get(t, r->id, &r->w)) != STORE_OK)
		return rc;
	if (webhook_endpoint_rotate(&r->w, timefmt_now_ms()) < 0)
		return STORE_IO;
	return store_webhook_update(t, &r->w);
}

static int
cmd_rotate(struct store *st, const char *id)
{
	struct rotation	r;
	char		until[TIMEFMT_LEN];
	int		rc;

	memset(&r, 0, sizeof(r));
	r.id = id;
	rc = store_write(st, webhook_rotate, &r);
	if (rc == STORE_NOTFOUND) {
		fprintf(stderr, "tallyctl: no webhook %s\n", id);
		return 1;
	} else if (rc != STORE_OK)
		return ctl_fail("webhook rotate-secret", rc);
	timefmt_rfc3339(r.w.old_until_ms, until);
	fprintf(stderr, "tallyctl: webhook %s has a new secret, shown only "
	    "now; deliveries carry both signatures until %s\n", id, until);
	printf("%s\n", r.w.secret);
	explicit_bzero(&r, sizeof(r));
	return 0;
}

int
ctl_webhook(struct store *st, const struct conf *conf, int argc,
    char *argv[])
{
	int	rc;

	if (argc >= 2 && strcmp(argv[1], "add") == 0)
		return cmd_add(st, conf, argc - 1, argv + 1);
	if (argc == 3 && strcmp(argv[1], "rotate-secret") == 0)
		return cmd_rotate(st, argv[2]);
	if (argc == 3 && strcmp(argv[1], "remove") == 0) {
		rc = store_write(st, webhook_remove, argv[2]);
		if (rc == STORE_NOTFOUND) {
			fprintf(stderr, "tallyctl: no webhook %s\n", argv[2]);
			return 1;
		} else if (rc != STORE_OK)
			return ctl_fail("webhook remove", rc);
		printf("webhook %s removed; its undelivered events will "
		    "fail\n", argv[2]);
		return 0;
	}
	if (argc >= 2 && strcmp(argv[1], "list") == 0 && (argc == 2 ||
	    (argc == 4 && strcmp(argv[2], "--tenant") == 0))) {
		rc = store_read(st, webhook_list, argc == 4 ? argv[3] : NULL);
		return rc == STORE_OK ? 0 : ctl_fail("webhook list", rc);
	}
	return ctl_usage();
}
