/*
 * The customer search index (store/search.c) against the customers it
 * indexes: every trigram of every customerId is in it, and every entry
 * names a customer whose id has that trigram (lower-cased).  A missing
 * entry hides a customer from searches; a stray one is only wasted, but
 * tells of a write that went wrong, so both are problems.  Customers
 * AUDIT_CUSTOMERS and entries AUDIT_CHUNK to a read.
 */
#include <stdio.h>
#include <string.h>

#include "audit_internal.h"

#define GRAM	3

struct search_walk {
	struct audit	*a;
	struct store_txn *t;
	const char	*tenant;
	enum store_env	 env;
	size_t		 seen;		/* in this read */
	int		 more;
	int		 skip;		/* the resume point was checked */
	char		 gram[GRAM + 1];
	char		 id[STORE_CUSTOMER_MAX + 1];
};

static int
audit_search_customer(const char *id, const struct store_customer *c,
    void *arg)
{
	struct search_walk	*w = arg;
	char			 name[AUDIT_NAME];
	size_t			 missing;
	int			 rc;

	(void)c;
	if (w->skip && strcmp(id, w->id) == 0)
		return STORE_OK;
	if (w->seen == AUDIT_CUSTOMERS) {
		w->more = 1;
		return STORE_STOP;
	}
	w->seen++;
	snprintf(w->id, sizeof(w->id), "%s", id);
	if ((rc = store_search_missing(w->t, w->tenant, w->env, id,
	    &missing)) != STORE_OK)
		return rc;
	if (missing > 0) {
		audit_name(name, w->tenant, w->env, id);
		audit_problem(w->a, "customer %s: the search index lacks %zu "
		    "of its trigrams, so searches miss it", name, missing);
	}
	return STORE_OK;
}

static int
audit_search_entry(const char *gram, const char *id, void *arg)
{
	struct search_walk	*w = arg;
	struct store_customer	 c;
	char			 name[AUDIT_NAME], g[GRAM + 1];
	int			 rc, i, lower = 1;

	memcpy(g, gram, GRAM);
	g[GRAM] = '\0';
	if (w->skip && strcmp(g, w->gram) == 0 && strcmp(id, w->id) == 0)
		return STORE_OK;
	if (w->seen == AUDIT_CHUNK) {
		w->more = 1;
		return STORE_STOP;
	}
	w->seen++;
	memcpy(w->gram, g, sizeof(w->gram));
	snprintf(w->id, sizeof(w->id), "%s", id);
	for (i = 0; i < GRAM; i++)
		lower &= !(g[i] >= 'A' && g[i] <= 'Z');
	rc = store_customer_get(w->t, w->tenant, w->env, id, &c);
	if (rc != STORE_OK && rc != STORE_NOTFOUND)
		return rc;
	audit_name(name, w->tenant, w->env, id);
	if (rc == STORE_NOTFOUND)
		audit_problem(w->a, "search index: trigram \"%s\" names %s, "
		    "which is no customer", g, name);
	else if (!lower || !store_search_match(id, g))
		audit_problem(w->a, "search index: trigram \"%s\" names %s, "
		    "whose id has no such trigram", g, name);
	return STORE_OK;
}

static int
audit_search_customers_read(struct store_txn *t, void *arg)
{
	struct search_walk	*w = arg;
	char			 from[STORE_CUSTOMER_MAX + 1];
	int			 rc;

	w->t = t;
	w->seen = 0;
	w->more = 0;
	memcpy(from, w->id, sizeof(from));
	rc = store_customer_each_from(t, w->tenant, w->env, from,
	    audit_search_customer, w);
	/* A retried read starts where this one did. */
	if (rc != STORE_OK && rc != STORE_STOP)
		memcpy(w->id, from, sizeof(from));
	return rc == STORE_STOP ? STORE_OK : rc;
}

static int
audit_search_entries_read(struct store_txn *t, void *arg)
{
	struct search_walk	*w = arg;
	char			 gram[GRAM + 1], id[STORE_CUSTOMER_MAX + 1];
	int			 rc;

	w->t = t;
	w->seen = 0;
	w->more = 0;
	memcpy(gram, w->gram, sizeof(gram));
	memcpy(id, w->id, sizeof(id));
	rc = store_search_each_from(t, w->tenant, w->env,
	    w->skip ? gram : NULL, id, audit_search_entry, w);
	if (rc != STORE_OK && rc != STORE_STOP) {
		memcpy(w->gram, gram, sizeof(gram));
		memcpy(w->id, id, sizeof(id));
	}
	return rc == STORE_STOP ? STORE_OK : rc;
}

/* Runs read over tenant+env's customers or index entries, chunk by chunk. */
static int
audit_search_walk(struct audit *a, const char *tenant, enum store_env env,
    store_txn_fn read)
{
	struct search_walk	w;
	int			rc;

	memset(&w, 0, sizeof(w));
	w.a = a;
	w.tenant = tenant;
	w.env = env;
	do {
		if ((rc = audit_read_with(a, read, &w)) != STORE_OK)
			return rc;
		w.skip = 1;
	} while (w.more);
	return STORE_OK;
}

int
audit_search(struct audit *a, const char *tenant, enum store_env env)
{
	int	rc;

	if ((rc = audit_search_walk(a, tenant, env,
	    audit_search_customers_read)) != STORE_OK)
		return rc;
	return audit_search_walk(a, tenant, env, audit_search_entries_read);
}
