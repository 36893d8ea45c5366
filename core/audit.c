/*
 * The audit's run (audit.h): what its passes share, and their order.
 * Each pass keeps its own state in its own file: audit_log.c (the log,
 * tree and heads), audit_usage.c (tenants' usage), audit_customers.c
 * (customers' totals), audit_checkpoints.c and audit_search.c.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/grow.h"
#include "../common/sbuf.h"
#include "apikey.h"
#include "audit_internal.h"

struct audit {
	struct store		*st;
	store_txn_fn		 fn;		/* what audit_read_with runs */
	void			*fnarg;		/* and with what */
	audit_report_fn		 report;
	void			*arg;
	struct audit_result	*res;
	int			 in_read;
	struct sbuf		 pending;	/* problems the read found */
	/* The signing keys, and the log's and tree's sizes, at the start. */
	struct audit_key	*keys;
	size_t			 nkeys, capkeys;
	uint64_t		 log_size, tree_size;
	/* Tenants named in the store or in the log. */
	char			(*tenants)[STORE_TENANT_MAX + 1];
	size_t			 ntenants, captenants;
};

/* line: the finding's kind as one digit, then its text. */
static void
audit_tell(struct audit *a, const char *line)
{
	enum audit_finding	kind = (enum audit_finding)(line[0] - '0');

	if (kind == AUDIT_WARNING)
		a->res->warnings++;
	else
		a->res->problems++;
	if (a->report != NULL)
		a->report(a->arg, kind, line + 1);
}

static void
audit_vfind(struct audit *, enum audit_finding, const char *, va_list)
    __attribute__((format(printf, 3, 0)));

static void
audit_vfind(struct audit *a, enum audit_finding kind, const char *fmt,
    va_list ap)
{
	char	line[AUDIT_LINE + 1];

	line[0] = (char)('0' + kind);
	vsnprintf(line + 1, sizeof(line) - 1, fmt, ap);
	/* A read may be retried: what it found is told when it is over. */
	if (a->in_read)
		sbuf_add(&a->pending, line, strlen(line) + 1);
	else
		audit_tell(a, line);
}

void
audit_problem(struct audit *a, const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	audit_vfind(a, AUDIT_PROBLEM, fmt, ap);
	va_end(ap);
}

void
audit_warning(struct audit *a, const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	audit_vfind(a, AUDIT_WARNING, fmt, ap);
	va_end(ap);
}

static int
audit_attempt(struct store_txn *t, void *arg)
{
	struct audit	*a = arg;

	a->pending.len = 0;	/* a retried read finds them again */
	return a->fn(t, a->fnarg);
}

int
audit_read_with(struct audit *a, store_txn_fn fn, void *arg)
{
	size_t	off;
	int	rc;

	a->fn = fn;
	a->fnarg = arg;
	a->in_read = 1;
	rc = store_read(a->st, audit_attempt, a);
	a->in_read = 0;
	if (a->pending.oom)
		return STORE_NOMEM;
	for (off = 0; off < a->pending.len;
	    off += strlen(a->pending.buf + off) + 1)
		audit_tell(a, a->pending.buf + off);
	a->pending.len = 0;
	return rc;
}

/* Runs fn(txn, a) in a read, then tells what its last attempt found. */
static int
audit_read(struct audit *a, store_txn_fn fn)
{
	return audit_read_with(a, fn, a);
}

void
audit_name(char out[AUDIT_NAME], const char *tenant, enum store_env env,
    const char *id)
{
	snprintf(out, AUDIT_NAME, "%s/%s/%s", tenant, apikey_env_name(env),
	    id);
}

static int
audit_add_key(const struct store_signkey *rec, void *arg)
{
	struct audit		*a = arg;
	struct audit_key	*k;

	if (grow(&a->keys, &a->capkeys, a->nkeys + 1, sizeof(*a->keys)) < 0)
		return STORE_NOMEM;
	k = &a->keys[a->nkeys++];
	k->rec = *rec;
	k->key = NULL;
	if (sigkey_from_public_pem(rec->pem, strlen(rec->pem), &k->key) < 0)
		audit_problem(a, "key %s: its public key does not parse",
		    rec->key_id);
	a->res->keys++;
	return STORE_OK;
}

static void
audit_free_keys(struct audit *a)
{
	size_t	i;

	for (i = 0; i < a->nkeys; i++)
		sigkey_free(a->keys[i].key);
	free(a->keys);
	a->keys = NULL;
	a->nkeys = a->capkeys = 0;
}

static int
audit_begin(struct store_txn *t, void *arg)
{
	struct audit		*a = arg;
	struct store_sth	 h;
	int			 rc;

	audit_free_keys(a);
	a->res->keys = 0;
	if ((rc = store_log_size(t, &a->log_size)) != STORE_OK)
		return rc;
	rc = store_sth_latest(t, &h);
	if (rc != STORE_OK && rc != STORE_NOTFOUND)
		return rc;
	a->tree_size = rc == STORE_OK ? h.size : 0;
	return store_signkey_each(t, audit_add_key, a);
}

const struct audit_key *
audit_find_key(const struct audit *a, const char *key_id)
{
	size_t	i;

	for (i = 0; i < a->nkeys; i++)
		if (strcmp(a->keys[i].rec.key_id, key_id) == 0)
			return &a->keys[i];
	return NULL;
}

/* Tenants: those the store names, and any the log names besides. */

static int
audit_tenant_add(struct audit *a, const char *name)
{
	if (grow(&a->tenants, &a->captenants, a->ntenants + 1,
	    sizeof(*a->tenants)) < 0)
		return STORE_NOMEM;
	snprintf(a->tenants[a->ntenants++], sizeof(*a->tenants), "%s", name);
	return STORE_OK;
}

static int
audit_tenant_each(const struct store_tenant *tn, void *arg)
{
	return audit_tenant_add(arg, tn->name);
}

static int
audit_tenants_read(struct store_txn *t, void *arg)
{
	struct audit	*a = arg;

	a->ntenants = 0;
	return store_tenant_each(t, audit_tenant_each, a);
}

/* A tenant the log names: one the store does not name is told. */
struct audit_named {
	struct audit	*a;
	size_t		 known;		/* the store's, first in tenants */
};

static int
audit_tenant_logged(const char *name, void *arg)
{
	struct audit_named	*n = arg;
	size_t			 j;

	for (j = 0; j < n->known; j++)
		if (strcmp(n->a->tenants[j], name) == 0)
			return STORE_OK;
	audit_problem(n->a, "tenant %s: deltas in the log, but no tenant "
	    "record", name);
	return audit_tenant_add(n->a, name);
}

static int
audit_tenants(struct audit *a, const struct audit_usage *usage)
{
	struct audit_named	n = { a, 0 };
	int			rc;

	if ((rc = audit_read(a, audit_tenants_read)) != STORE_OK)
		return rc;
	n.known = a->ntenants;
	return audit_usage_each_tenant(usage, audit_tenant_logged, &n);
}

static void
audit_free(struct audit *a)
{
	audit_free_keys(a);
	sbuf_free(&a->pending);
	free(a->tenants);
	free(a);
}

/*
 * The passes for one tenant+env, once the log is walked: its customers,
 * its checkpoints, its search index.
 */
static int
audit_tenant(struct audit *a, const char *tenant, enum store_env env)
{
	int	rc;

	if ((rc = audit_customers(a, a->res, tenant, env)) != STORE_OK ||
	    (rc = audit_checkpoints(a, a->res, tenant, env)) != STORE_OK)
		return rc;
	return audit_search(a, tenant, env);
}

int
audit_run(struct store *st, audit_report_fn report, void *arg,
    struct audit_result *res)
{
	struct audit		*a;
	struct audit_usage	*usage = NULL;
	size_t			 i;
	int			 rc, env, whole;

	memset(res, 0, sizeof(*res));
	if ((a = calloc(1, sizeof(*a))) == NULL)
		return STORE_NOMEM;
	a->st = st;
	a->report = report;
	a->arg = arg;
	a->res = res;
	if ((usage = audit_usage_new(a, res)) == NULL) {
		rc = STORE_NOMEM;
		goto out;
	}
	if ((rc = audit_read(a, audit_begin)) != STORE_OK ||
	    (rc = audit_log(a, res, usage, a->log_size, a->tree_size,
	    &whole)) != STORE_OK ||
	    (rc = audit_tenants(a, usage)) != STORE_OK)
		goto out;
	if (whole && (rc = audit_usage_check(usage, a->tenants,
	    a->ntenants)) != STORE_OK)
		goto out;
	for (i = 0; i < a->ntenants; i++)
		for (env = STORE_ENV_TEST; env <= STORE_ENV_LIVE; env++)
			if ((rc = audit_tenant(a, a->tenants[i],
			    (enum store_env)env)) != STORE_OK)
				goto out;
out:
	audit_usage_free(usage);
	audit_free(a);
	return rc;
}
