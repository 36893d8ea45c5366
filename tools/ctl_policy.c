/*
 * tallyctl quota and cadence: a tenant's policies.  The quota caps the
 * deltas it records per month (SPEC 3.9); the cadence is the least time
 * between two deltas of one customer (the recording granularity).
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/timefmt.h"
#include "../core/ids.h"
#include "ctl.h"

static const char *const env_names[] = { "test", "live" };

/* --env live|test: only that environment (both without it). */
static int
policy_env(const char *name, int envs[2])
{
	if (strcmp(name, "test") == 0)
		envs[STORE_ENV_LIVE] = 0;
	else if (strcmp(name, "live") == 0)
		envs[STORE_ENV_TEST] = 0;
	else
		return -1;
	return 0;
}

static const char *
policy_env_names(const int envs[2])
{
	return envs[0] && envs[1] ? "test and live" : envs[0] ? "test" :
	    "live";
}

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
		else if (ch != 'e' || policy_env(optarg, q.envs) < 0)
			return ctl_usage();
	}
	if (q.tenant == NULL || optind != argc - 1 ||
	    quota_parse(argv[optind], &q) < 0)
		return ctl_usage();
	rc = store_write(st, quota_write, &q);
	if (rc == STORE_NOTFOUND) {
		fprintf(stderr, "tallyctl: no tenant %s\n", q.tenant);
		return 1;
	} else if (rc != STORE_OK)
		return ctl_fail("quota set", rc);
	printf("quota of %s (%s): %s%s\n", q.tenant, policy_env_names(q.envs),
	    argv[optind], q.unlimited ? "" : " deltas per month");
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
		return ctl_usage();
	ql.month = timefmt_month(timefmt_now_ms());
	timefmt_period(ql.month, period);
	printf("deltas recorded in %s:\n", period);
	if ((rc = store_read(st, quota_list, &ql)) != STORE_OK)
		return ctl_fail("quota list", rc);
	return 0;
}

struct cadence_set {
	const char	*tenant;
	int		 envs[2];
	const char	*customer;	/* "": the tenant's default */
	uint64_t	 ms;		/* 0: unlimited */
};

static int
cadence_write(struct store_txn *t, void *arg)
{
	struct cadence_set	*cs = arg;
	struct store_tenant	 tn;
	int			 env, rc;

	if ((rc = store_tenant_get(t, cs->tenant, &tn)) != STORE_OK)
		return rc;
	for (env = STORE_ENV_TEST; env <= STORE_ENV_LIVE; env++)
		if (cs->envs[env] && (rc = store_cadence_put(t, cs->tenant,
		    env, cs->customer, cs->ms)) != STORE_OK)
			return rc;
	return STORE_OK;
}

/* "unlimited", or a whole number with a unit: 90s, 15m, 1h, 24h, 7d. */
static int
cadence_parse(const char *text, uint64_t *ms)
{
	unsigned long long	 n;
	char			*end;

	*ms = 0;
	if (strcmp(text, "unlimited") == 0)
		return 0;
	if (text[0] < '1' || text[0] > '9')
		return -1;
	n = strtoull(text, &end, 10);
	if (n > 366ULL * 24 * 3600 || end[0] == '\0' || end[1] != '\0')
		return -1;
	switch (*end) {
	case 'd': n *= 24;	/* FALLTHROUGH */
	case 'h': n *= 60;	/* FALLTHROUGH */
	case 'm': n *= 60;	/* FALLTHROUGH */
	case 's': break;
	default: return -1;
	}
	*ms = n * 1000;
	return n > 366ULL * 24 * 3600 ? -1 : 0;
}

static int
cmd_cadence_set(struct store *st, int argc, char *argv[])
{
	static const struct option opts[] = {
		{ "tenant", required_argument, NULL, 't' },
		{ "env", required_argument, NULL, 'e' },
		{ "customer", required_argument, NULL, 'u' },
		{ NULL, 0, NULL, 0 }
	};
	struct cadence_set	cs = { NULL, { 1, 1 }, "", 0 };
	int			ch, rc;

	while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (ch == 't')
			cs.tenant = optarg;
		else if (ch == 'u' && ids_customer_valid(optarg))
			cs.customer = optarg;
		else if (ch != 'e' || policy_env(optarg, cs.envs) < 0)
			return ctl_usage();
	}
	if (cs.tenant == NULL || optind != argc - 1 ||
	    cadence_parse(argv[optind], &cs.ms) < 0)
		return ctl_usage();
	rc = store_write(st, cadence_write, &cs);
	if (rc == STORE_NOTFOUND) {
		fprintf(stderr, "tallyctl: no tenant %s\n", cs.tenant);
		return 1;
	} else if (rc != STORE_OK)
		return ctl_fail("cadence set", rc);
	printf("cadence of %s%s%s (%s): %s\n", cs.tenant,
	    cs.customer[0] ? " customer " : "", cs.customer,
	    policy_env_names(cs.envs), argv[optind]);
	return 0;
}

struct cadence_list {
	struct store_txn	*t;
	const char		*tenant;
	int			 env;
};

static int
cadence_print(const char *customer, uint64_t ms, void *arg)
{
	struct cadence_list	*cl = arg;

	if (ms == 0)
		printf("%-24s %-4s %-32s unlimited\n", cl->tenant,
		    env_names[cl->env], customer[0] ? customer : "(default)");
	else
		printf("%-24s %-4s %-32s %llus\n", cl->tenant,
		    env_names[cl->env], customer[0] ? customer : "(default)",
		    (unsigned long long)(ms / 1000));
	return 0;
}

static int
cadence_tenant(const struct store_tenant *tn, void *arg)
{
	struct cadence_list	*cl = arg;
	int			 rc = STORE_OK;

	cl->tenant = tn->name;
	for (cl->env = STORE_ENV_TEST; cl->env <= STORE_ENV_LIVE &&
	    rc == STORE_OK; cl->env++)
		rc = store_cadence_each(cl->t, tn->name, cl->env,
		    cadence_print, cl);
	return rc;
}

static int
cadence_list(struct store_txn *t, void *arg)
{
	struct cadence_list	*cl = arg;

	cl->t = t;
	return store_tenant_each(t, cadence_tenant, cl);
}

int
ctl_cadence(struct store *st, int argc, char *argv[])
{
	struct cadence_list	cl;
	int			rc;

	if (argc >= 2 && strcmp(argv[1], "set") == 0)
		return cmd_cadence_set(st, argc - 1, argv + 1);
	if (argc != 2 || strcmp(argv[1], "list") != 0)
		return ctl_usage();
	printf("cadence settings (none: unlimited):\n");
	if ((rc = store_read(st, cadence_list, &cl)) != STORE_OK)
		return ctl_fail("cadence list", rc);
	return 0;
}
