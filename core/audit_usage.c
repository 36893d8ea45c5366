/*
 * The audit of usage: each tenant's deltas per month, counted from the
 * log as the log pass (audit_log.c) walks it and then from the deltas
 * recorded since, and compared with the counters the ledger keeps for
 * quotas.  Memory grows with the tenants and months, not the deltas.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/grow.h"
#include "../common/timefmt.h"
#include "apikey.h"
#include "audit_internal.h"

/* Why a read of the usage ended early. */
enum {
	AUDIT_HOLE = STORE_USER,	/* the log has a gap: told */
	AUDIT_AGAIN			/* deltas were recorded while read */
};

/* Deltas of one tenant, env and month: counted from the log, and stored. */
struct audit_usage_count {
	char			 tenant[STORE_TENANT_MAX + 1];
	enum store_env		 env;
	int			 month;
	uint64_t		 count;
	uint64_t		 stored;
	int			 corrupt;	/* stored does not decode */
};

struct audit_usage {
	struct audit			*a;
	struct audit_result		*res;
	/* Sorted by tenant, env and month. */
	struct audit_usage_count	*v;
	size_t				 n, cap;
	/* A read's worth of deltas, counted once the read is over. */
	struct audit_usage_count	*batch;		/* AUDIT_CHUNK */
	size_t				 nbatch;
	uint64_t			 counted;	/* deltas counted */
	uint64_t			 count_end;
	int				 count_more;
};

struct audit_usage *
audit_usage_new(struct audit *a, struct audit_result *res)
{
	struct audit_usage	*u;

	if ((u = calloc(1, sizeof(*u))) == NULL)
		return NULL;
	if ((u->batch = calloc(AUDIT_CHUNK, sizeof(*u->batch))) == NULL) {
		free(u);
		return NULL;
	}
	u->a = a;
	u->res = res;
	return u;
}

void
audit_usage_free(struct audit_usage *u)
{
	if (u == NULL)
		return;
	free(u->v);
	free(u->batch);
	free(u);
}

void
audit_usage_note(struct audit_usage *u, const struct store_delta *d)
{
	struct audit_usage_count	*k = &u->batch[u->nbatch++];

	memset(k, 0, sizeof(*k));
	snprintf(k->tenant, sizeof(k->tenant), "%s", d->tenant);
	k->env = d->env;
	k->month = timefmt_month(d->created_ms);
}

void
audit_usage_forget(struct audit_usage *u)
{
	u->nbatch = 0;
}

static int
audit_usage_cmp(const struct audit_usage_count *x,
    const struct audit_usage_count *y)
{
	int	c;

	if ((c = strcmp(x->tenant, y->tenant)) != 0)
		return c;
	if (x->env != y->env)
		return x->env < y->env ? -1 : 1;
	return x->month < y->month ? -1 : x->month > y->month;
}

/* The counter of key's tenant, env and month, added (at 0) if new. */
static struct audit_usage_count *
audit_usage_find(struct audit_usage *u, const struct audit_usage_count *key)
{
	size_t	lo = 0, hi = u->n, mid;
	int	c;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if ((c = audit_usage_cmp(&u->v[mid], key)) == 0)
			return &u->v[mid];
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (grow(&u->v, &u->cap, u->n + 1, sizeof(*u->v)) < 0)
		return NULL;
	memmove(&u->v[lo + 1], &u->v[lo], (u->n - lo) * sizeof(*u->v));
	u->n++;
	u->v[lo] = *key;
	u->v[lo].count = 0;
	return &u->v[lo];
}

int
audit_usage_fold(struct audit_usage *u)
{
	struct audit_usage_count	*c;
	size_t				 i;

	for (i = 0; i < u->nbatch; i++) {
		if ((c = audit_usage_find(u, &u->batch[i])) == NULL)
			return STORE_NOMEM;
		c->count++;
	}
	u->counted += u->nbatch;
	u->nbatch = 0;
	return STORE_OK;
}

int
audit_usage_each_tenant(const struct audit_usage *u,
    int (*fn)(const char *tenant, void *arg), void *arg)
{
	const char	*prev = NULL;
	size_t		 i;
	int		 rc;

	/* Sorted by tenant: each tenant once. */
	for (i = 0; i < u->n; i++) {
		if (prev != NULL && strcmp(prev, u->v[i].tenant) == 0)
			continue;
		prev = u->v[i].tenant;
		if ((rc = fn(prev, arg)) != STORE_OK)
			return rc;
	}
	return STORE_OK;
}

static int
audit_count_delta(const struct store_delta *d, void *arg)
{
	struct audit_usage	*u = arg;

	if (u->counted + u->nbatch == u->count_end)
		return STORE_STOP;
	if (d->log_index != u->counted + u->nbatch)
		return AUDIT_HOLE;
	audit_usage_note(u, d);
	return STORE_OK;
}

/*
 * Counts the deltas recorded since the log walk, which the counters
 * count too: a read's worth at a time.
 */
static int
audit_count_read(struct store_txn *t, void *arg)
{
	struct audit_usage	*u = arg;
	uint64_t		 size;
	int			 rc;

	u->nbatch = 0;
	if ((rc = store_log_size(t, &size)) != STORE_OK)
		return rc;
	u->count_more = 0;
	if (u->counted >= size)
		return STORE_OK;
	u->count_more = size - u->counted > AUDIT_CHUNK;
	u->count_end = u->count_more ? u->counted + AUDIT_CHUNK : size;
	rc = store_delta_each(t, u->counted, audit_count_delta, u);
	if (rc != STORE_OK && rc != STORE_STOP && rc != AUDIT_HOLE)
		return rc;
	if (u->counted + u->nbatch != u->count_end) {
		audit_problem(u->a, "leaf %llu: missing from the log",
		    (unsigned long long)(u->counted + u->nbatch));
		return AUDIT_HOLE;
	}
	return STORE_OK;
}

/*
 * Every counter, in a read that starts and ends with the log at the
 * size counted: no delta was recorded, so none was counted, in between.
 */
static int
audit_usage_read(struct store_txn *t, void *arg)
{
	struct audit_usage		*u = arg;
	struct audit_usage_count	*c;
	uint64_t			 size;
	size_t				 i;
	int				 rc;

	if ((rc = store_log_size(t, &size)) != STORE_OK)
		return rc;
	if (size != u->counted)
		return AUDIT_AGAIN;
	for (i = 0; i < u->n; i++) {
		c = &u->v[i];
		rc = store_usage_get(t, c->tenant, c->env, c->month,
		    &c->stored);
		c->corrupt = rc == STORE_CORRUPT;
		if (rc != STORE_OK && rc != STORE_CORRUPT)
			return rc;
	}
	if ((rc = store_log_size(t, &size)) != STORE_OK)
		return rc;
	return size == u->counted ? STORE_OK : AUDIT_AGAIN;
}

static void
audit_usage_compare(struct audit_usage *u)
{
	const struct audit_usage_count	*c;
	char				 period[TIMEFMT_PERIOD_LEN];
	size_t				 i;

	for (i = 0; i < u->n; i++) {
		c = &u->v[i];
		u->res->usage++;
		timefmt_period(c->month, period);
		if (c->corrupt)
			audit_problem(u->a, "usage %s/%s %s: the record does "
			    "not decode", c->tenant, apikey_env_name(c->env),
			    period);
		else if (c->stored != c->count)
			audit_problem(u->a, "usage %s/%s %s: stored %llu, "
			    "expected %llu", c->tenant,
			    apikey_env_name(c->env), period,
			    (unsigned long long)c->stored,
			    (unsigned long long)c->count);
	}
}

/*
 * The counters of every month with a delta, and of this month for every
 * tenant (a quota reads that one, delta or not).  A counter of another
 * month with no delta is not found: nothing lists the counters.
 */
int
audit_usage_check(struct audit_usage *u,
    char (*tenants)[STORE_TENANT_MAX + 1], size_t ntenants)
{
	struct audit_usage_count	 key;
	size_t				 i;
	int				 env, rc, tries = 0;

	memset(&key, 0, sizeof(key));
	key.month = timefmt_month(timefmt_now_ms());
	for (i = 0; i < ntenants; i++)
		for (env = STORE_ENV_TEST; env <= STORE_ENV_LIVE; env++) {
			snprintf(key.tenant, sizeof(key.tenant), "%s",
			    tenants[i]);
			key.env = (enum store_env)env;
			if (audit_usage_find(u, &key) == NULL)
				return STORE_NOMEM;
		}
	for (;;) {
		do {
			rc = audit_read_with(u->a, audit_count_read, u);
			if (rc == AUDIT_HOLE)
				return STORE_OK;	/* told */
			if (rc != STORE_OK ||
			    (rc = audit_usage_fold(u)) != STORE_OK)
				return rc;
		} while (u->count_more);
		if ((rc = audit_read_with(u->a, audit_usage_read, u)) !=
		    AUDIT_AGAIN)
			break;
		if (++tries == AUDIT_TRIES) {
			u->res->busy++;
			return STORE_OK;
		}
	}
	if (rc == STORE_OK)
		audit_usage_compare(u);
	return rc;
}
