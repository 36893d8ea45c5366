/*
 * The customer search index (store/search.c) against the customers it
 * indexes: every trigram of every customerId is in it, and every entry
 * names a customer whose id has that trigram (lower-cased).  A missing
 * entry hides a customer from searches; a stray one is only wasted, but
 * tells of a write that went wrong, so both are problems.  Customers
 * AUDIT_CUSTOMERS and entries AUDIT_CHUNK to a read.
 *
 * Looking each entry's customer up, and each customer's entries, was 61%
 * of a verify of a log of many customers (26 lookups a customer).  So a
 * first pass of each walk looks nothing up: it checks each entry's
 * trigram against its own id, and sums a hash of every entry the
 * customers call for and of every entry there is.  Equal counts and
 * sums say the two sets are equal (a difference hiding in a 64-bit sum is
 * no damage a disk or a bug makes).  Only when they differ do the walks
 * run again with the lookups, to name what is missing or stray.
 *
 * The index is written behind the log (core/indexer.h): the customers
 * first seen from its position on are not in it yet, and lack nothing.
 * The first pass takes their entries out of the customers' sum; the
 * second skips them, and looks each other customer up in the block of
 * each of its trigrams that its first delta's place names.  While tallyd
 * records, new customers and the indexer's progress make the sums
 * differ, and the second pass, exact at each read, runs.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "audit_internal.h"

#define GRAM	STORE_SEARCH_GRAM

/* How many entries, and their hashes summed: a set's fingerprint. */
struct search_sum {
	uint64_t	n, sum;
};

struct search_walk {
	struct audit	*a;
	struct store_txn *t;
	const char	*tenant;
	enum store_env	 env;
	uint64_t	 covered;	/* the index's position, this read */
	size_t		 seen;		/* in this read */
	int		 named;		/* looking up, to name problems */
	struct search_sum sum;
	int		 more;
	/* Resuming: after the customer checked last, at the block unread. */
	int		 skip;
	char		 gram[GRAM + 1];
	uint64_t	 to;		/* of the block of gram */
	char		 id[STORE_CUSTOMER_MAX + 1];
};

/* FNV-1a of the entry, then splitmix64's finalizer to spread it. */
static uint64_t
audit_search_hash(const char gram[GRAM], const char *id)
{
	uint64_t	h = 0xcbf29ce484222325ULL;
	size_t		i;

	for (i = 0; i < GRAM; i++)
		h = (h ^ (uint8_t)gram[i]) * 0x100000001b3ULL;
	for (; *id != '\0'; id++)
		h = (h ^ (uint8_t)*id) * 0x100000001b3ULL;
	h = (h ^ (h >> 30)) * 0xbf58476d1ce4e5b9ULL;
	h = (h ^ (h >> 27)) * 0x94d049bb133111ebULL;
	return h ^ (h >> 31);
}

static void
audit_search_count(struct search_sum *s, const char gram[GRAM],
    const char *id)
{
	s->n++;
	s->sum += audit_search_hash(gram, id);
}

/* The entries the customer's id calls for, into sum. */
static void
audit_search_expect(struct search_sum *sum, const char *id)
{
	char	grams[STORE_CUSTOMER_MAX][GRAM];
	size_t	n, i;

	n = store_search_grams(id, grams);
	for (i = 0; i < n; i++)
		audit_search_count(sum, grams[i], id);
}

static int
audit_search_customer(const char *id, const struct store_customer *c,
    void *arg)
{
	struct search_walk	*w = arg;
	struct store_custpos	 first;
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
	if (strlen(id) > STORE_CUSTOMER_MAX)
		return STORE_CORRUPT;
	if (!w->named) {
		audit_search_expect(&w->sum, id);
		return STORE_OK;
	}
	/*
	 * Its first delta says which block of each trigram holds it; one
	 * past the index's position is not indexed yet, and one without a
	 * first position is named by the customers' pass.
	 */
	rc = store_custpos_get(w->t, w->tenant, w->env, id, 1, &first);
	if (rc == STORE_NOTFOUND)
		return STORE_OK;
	if (rc != STORE_OK || first.log_index >= w->covered)
		return rc;
	if ((rc = store_search_missing(w->t, w->tenant, w->env, id,
	    first.log_index, &missing)) != STORE_OK)
		return rc;
	if (missing > 0) {
		audit_name(name, w->tenant, w->env, id);
		audit_problem(w->a, "customer %s: the search index lacks %zu "
		    "of its trigrams, so searches miss it", name, missing);
	}
	return STORE_OK;
}

/*
 * A read ends between blocks, AUDIT_CHUNK entries or more into it (a
 * block is read whole), and the next starts at the block it ended
 * before.
 */
static int
audit_search_entry(const char *gram, uint64_t to, const char *id,
    void *arg)
{
	struct search_walk	*w = arg;
	struct store_customer	 c;
	char			 name[AUDIT_NAME], g[GRAM + 1];
	int			 rc, i, lower = 1, block;

	memcpy(g, gram, GRAM);
	g[GRAM] = '\0';
	block = strcmp(g, w->gram) != 0 || to != w->to;
	memcpy(w->gram, g, sizeof(w->gram));
	w->to = to;
	if (w->seen >= AUDIT_CHUNK && block) {
		w->more = 1;
		return STORE_STOP;
	}
	w->seen++;
	if (!w->named) {
		/* Its own id says whether the trigram belongs: no lookup. */
		for (i = 0; i < GRAM; i++)
			lower &= !(g[i] >= 'A' && g[i] <= 'Z');
		audit_search_count(&w->sum, g, id);
		if (lower && store_search_match(id, g))
			return STORE_OK;
		audit_name(name, w->tenant, w->env, id);
		audit_problem(w->a, "search index: trigram \"%s\" names %s, "
		    "whose id has no such trigram", g, name);
		return STORE_OK;
	}
	rc = store_customer_get(w->t, w->tenant, w->env, id, &c);
	if (rc != STORE_OK && rc != STORE_NOTFOUND)
		return rc;
	audit_name(name, w->tenant, w->env, id);
	if (rc == STORE_NOTFOUND)
		audit_problem(w->a, "search index: trigram \"%s\" names %s, "
		    "which is no customer", g, name);
	return STORE_OK;
}

static int
audit_search_customers_read(struct store_txn *t, void *arg)
{
	struct search_walk	*w = arg;
	struct search_sum	 sum = w->sum;
	char			 from[STORE_CUSTOMER_MAX + 1];
	int			 rc;

	w->t = t;
	w->seen = 0;
	w->more = 0;
	memcpy(from, w->id, sizeof(from));
	/*
	 * The position before the entries: each customer before it has
	 * every entry this read can see.
	 */
	if ((rc = store_search_position(t, &w->covered)) != STORE_OK)
		return rc;
	rc = store_customer_each_from(t, w->tenant, w->env, from,
	    audit_search_customer, w);
	/* A retried read starts where this one did. */
	if (rc != STORE_OK && rc != STORE_STOP) {
		memcpy(w->id, from, sizeof(from));
		w->sum = sum;
	}
	return rc == STORE_STOP ? STORE_OK : rc;
}

static int
audit_search_entries_read(struct store_txn *t, void *arg)
{
	struct search_walk	*w = arg;
	struct search_sum	 sum = w->sum;
	char			 gram[GRAM + 1];
	uint64_t		 to = w->to;
	int			 rc;

	w->t = t;
	w->seen = 0;
	w->more = 0;
	memcpy(gram, w->gram, sizeof(gram));
	rc = store_search_each_from(t, w->tenant, w->env,
	    w->skip ? gram : NULL, to, audit_search_entry, w);
	if (rc != STORE_OK && rc != STORE_STOP) {
		memcpy(w->gram, gram, sizeof(gram));
		w->to = to;
		w->sum = sum;
	}
	return rc == STORE_STOP ? STORE_OK : rc;
}

/*
 * Runs read over tenant+env's customers or index entries, chunk by chunk;
 * named: looking up to name problems, else summing into *sum.
 */
static int
audit_search_walk(struct audit *a, const char *tenant, enum store_env env,
    store_txn_fn read, int named, struct search_sum *sum)
{
	struct search_walk	w;
	int			rc;

	memset(&w, 0, sizeof(w));
	w.a = a;
	w.tenant = tenant;
	w.env = env;
	w.named = named;
	do {
		if ((rc = audit_read_with(a, read, &w)) != STORE_OK)
			return rc;
		w.skip = 1;
	} while (w.more);
	if (sum != NULL)
		*sum = w.sum;
	return STORE_OK;
}

static int
audit_search_tail_one(const char *id, void *arg)
{
	audit_search_expect(arg, id);
	return STORE_OK;
}

/* The entries the customers not indexed yet call for. */
struct search_tail {
	const char		*tenant;
	enum store_env		 env;
	struct search_sum	 sum;
};

static int
audit_search_tail_read(struct store_txn *t, void *arg)
{
	struct search_tail	*st = arg;
	uint64_t		 covered;
	int			 rc;

	memset(&st->sum, 0, sizeof(st->sum));
	if ((rc = store_search_position(t, &covered)) != STORE_OK)
		return rc;
	return store_search_pending(t, st->tenant, st->env, covered,
	    audit_search_tail_one, &st->sum);
}

int
audit_search(struct audit *a, const char *tenant, enum store_env env)
{
	struct search_sum	want, have;
	struct search_tail	tail = { tenant, env, { 0, 0 } };
	int			rc;

	if ((rc = audit_search_walk(a, tenant, env,
	    audit_search_customers_read, 0, &want)) != STORE_OK ||
	    (rc = audit_read_with(a, audit_search_tail_read, &tail)) !=
	    STORE_OK ||
	    (rc = audit_search_walk(a, tenant, env,
	    audit_search_entries_read, 0, &have)) != STORE_OK)
		return rc;
	want.n -= tail.sum.n;
	want.sum -= tail.sum.sum;
	if (want.n == have.n && want.sum == have.sum)
		return STORE_OK;
	if ((rc = audit_search_walk(a, tenant, env,
	    audit_search_customers_read, 1, NULL)) != STORE_OK)
		return rc;
	return audit_search_walk(a, tenant, env, audit_search_entries_read, 1,
	    NULL);
}
