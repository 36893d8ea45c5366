/* tallyctl quota: a tenant's monthly allowance of deltas (SPEC 3.9). */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/timefmt.h"
#include "ctl.h"

static const char *const env_names[] = { "test", "live" };

struct quota_set {
	const char	*tenant;
	int		 envs[2];	/* which environments it applies to */
	int		 unlimited;
	uint64_t	 limit;
};

static int
quota_write(struct store_txn *t, void *arg)
{
	struct quota_set	*q = arg;
	struct store_tenant	 tn;
	int			 env, rc;

	if ((rc = store_tenant_get(t, q->tenant, &tn)) != STORE_OK)
		return rc;
	for (env = STORE_ENV_TEST; env <= STORE_ENV_LIVE; env++) {
		if (!q->envs[env])
			continue;
		rc = q->unlimited ? store_quota_delete(t, q->tenant, env) :
		    store_quota_put(t, q->tenant, env, q->limit);
		if (rc != STORE_OK)
			return rc;
	}
	return STORE_OK;
}

/* "unlimited", or a whole number of deltas per month. */
static int
quota_parse(const char *text, struct quota_set *q)
{
	char	*end;

	if (strcmp(text, "unlimited") == 0) {
		q->unlimited = 1;
		return 0;
	}
	if (text[0] < '0' || text[0] > '9')
		return -1;
	q->limit = strtoull(text, &end, 10);
	return *end == '\0' ? 0 : -1;
}

static int
cmd_quota_set(struct store *st, int argc, char *argv[])
{
	static const struct option opts[] = {
		{ "tenant", required_argument, NULL, 't' },
		{ "env", required_argument, NULL, 'e' },
		{ NULL, 0, NULL, 0 }
	};
	struct quota_set	q = { NULL, { 1, 1 }, 0, 0 };
	int			ch, rc;

	while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (ch == 't')
			q.tenant = optarg;
		else if (ch == 'e' && strcmp(optarg, "test") == 0)
			q.envs[STORE_ENV_LIVE] = 0;
		else if (ch == 'e' && strcmp(optarg, "live") == 0)
			q.envs[STORE_ENV_TEST] = 0;
		else
			ctl_usage();
	}
	if (q.tenant == NULL || optind != argc - 1 ||
	    quota_parse(argv[optind], &q) < 0)
		ctl_usage();
	rc = store_write(st, quota_write, &q);
	if (rc == STORE_NOTFOUND) {
		fprintf(stderr, "tallyctl: no tenant %s\n", q.tenant);
		return 1;
	} else if (rc != STORE_OK)
		return ctl_fail("quota set", rc);
	printf("quota of %s (%s): %s%s\n", q.tenant, q.envs[0] && q.envs[1] ?
	    "test and live" : q.envs[0] ? "test" : "live", argv[optind],
	    q.unlimited ? "" : " deltas per month");
	return 0;
}

struct quota_list {
	struct store_txn	*t;
	int			 month;
};

static int
quota_print(const struct store_tenant *tn, void *arg)
{
	struct quota_list	*ql = arg;
	uint64_t		 limit, used;
	int			 env, rc;

	for (env = STORE_ENV_TEST; env <= STORE_ENV_LIVE; env++) {
		if ((rc = store_usage_get(ql->t, tn->name, env, ql->month,
		    &used)) != STORE_OK)
			return rc;
		rc = store_quota_get(ql->t, tn->name, env, &limit);
		if (rc == STORE_NOTFOUND)
			printf("%-24s %-4s %12llu of unlimited\n", tn->name,
			    env_names[env], (unsigned long long)used);
		else if (rc == STORE_OK)
			printf("%-24s %-4s %12llu of %llu\n", tn->name,
			    env_names[env], (unsigned long long)used,
			    (unsigned long long)limit);
		else
			return rc;
	}
	return STORE_OK;
}

static int
quota_list(struct store_txn *t, void *arg)
{
	struct quota_list	*ql = arg;

	ql->t = t;
	return store_tenant_each(t, quota_print, ql);
}

int
ctl_quota(struct store *st, int argc, char *argv[])
{
	struct quota_list	ql;
	char			period[TIMEFMT_PERIOD_LEN];
	int			rc;

	if (argc >= 2 && strcmp(argv[1], "set") == 0)
		return cmd_quota_set(st, argc - 1, argv + 1);
	if (argc != 2 || strcmp(argv[1], "list") != 0)
		ctl_usage();
	ql.month = timefmt_month(timefmt_now_ms());
	timefmt_period(ql.month, period);
	printf("deltas recorded in %s:\n", period);
	if ((rc = store_read(st, quota_list, &ql)) != STORE_OK)
		return ctl_fail("quota list", rc);
	return 0;
}
