/*
 * Customer search (GET /balance/customers?search=): which customerIds of
 * a tenant+env contain a string, ignoring ASCII case, without walking
 * the tenant.
 *
 * The index is of trigrams, not a prefix index: the API's search has
 * always been a substring search ("ac" finds "big-acme"), and the
 * customers B-tree itself already answers prefixes.  Every distinct
 * three-character run of a customerId, lower-cased, is one key
 *
 *	tenant \0 env \0 gram[3] customerId
 *
 * with an empty value, added once, when the customer's first delta is
 * appended (store_customer_append).  A needle of three or more
 * characters is found by walking the shortest list of its trigrams and
 * matching each id in it for real (search_indexed).  A needle of one or two
 * characters names no trigram: it walks the tenant's customers, as
 * before the index (such a needle matches most customers of any tenant
 * anyway, and the answer walks its matches to count them).
 *
 * A data directory made before the index has none: store_open builds it
 * (store_search_build), and marks it built, before it returns, so every
 * search can use it.  Searches do not read the mark: it sits in the meta
 * database beside the counters every checkpoint and delta write-locks.
 */
#include <stdlib.h>
#include <string.h>

#include "internal.h"

#define GRAM		STORE_SEARCH_GRAM
#define GKEY_MAX	(STORE_TENANT_MAX + STORE_CUSTOMER_MAX + 8)
#define BUILD_CHUNK	10000	/* customers indexed per transaction */

static const char	built_key[] = "custgrams.built";

static char
search_lower(char ch)
{
	return ch >= 'A' && ch <= 'Z' ? (char)(ch - 'A' + 'a') : ch;
}

int
store_search_match(const char *id, const char *needle)
{
	size_t	n = strlen(needle), i;

	for (; *id != '\0'; id++) {
		for (i = 0; i < n && id[i] != '\0' &&
		    search_lower(id[i]) == search_lower(needle[i]); i++)
			;
		if (i == n)
			return 1;
	}
	return n == 0;
}

size_t
store_search_grams(const char *s, char grams[][GRAM])
{
	size_t	len = strlen(s), n = 0, i, j, k;
	char	g[GRAM];

	for (i = 0; i + GRAM <= len; i++) {
		for (k = 0; k < GRAM; k++)
			g[k] = search_lower(s[i + k]);
		for (j = 0; j < n && memcmp(grams[j], g, GRAM) != 0; j++)
			;
		if (j == n)
			memcpy(grams[n++], g, GRAM);
	}
	return n;
}

/* "tenant\0env\0gram" and, with id, the id after it; 0 if too long. */
static size_t
search_key(uint8_t key[GKEY_MAX], const char *tenant, enum store_env env,
    const char gram[GRAM], const char *id)
{
	size_t	plen, ilen = id != NULL ? strlen(id) : 0;

	if ((plen = store_tenant_key(key, GKEY_MAX, tenant, env)) == 0 ||
	    plen + GRAM + ilen > GKEY_MAX)
		return 0;
	memcpy(key + plen, gram, GRAM);
	if (ilen > 0)
		memcpy(key + plen + GRAM, id, ilen);
	return plen + GRAM + ilen;
}

/*
 * Puts the customer's entries (missing NULL), or counts those the index
 * lacks into *missing.
 */
static int
search_entries(struct store_txn *t, const char *tenant, enum store_env env,
    const char *customer_id, size_t *missing)
{
	char	 grams[STORE_CUSTOMER_MAX][GRAM];
	uint8_t	 key[GKEY_MAX];
	void	*val;
	size_t	 n, i, klen, vlen;
	int	 rc = STORE_OK;

	if (strlen(customer_id) > STORE_CUSTOMER_MAX)
		return STORE_CORRUPT;
	n = store_search_grams(customer_id, grams);
	for (i = 0; i < n && rc == STORE_OK; i++) {
		if ((klen = search_key(key, tenant, env, grams[i],
		    customer_id)) == 0)
			return STORE_CORRUPT;
		if (missing == NULL) {
			rc = store_kv_put(t, STORE_DB_CUSTGRAMS, key, klen, "",
			    0, 0);
			continue;
		}
		rc = store_kv_get(t, STORE_DB_CUSTGRAMS, key, klen, &val,
		    &vlen);
		if (rc == STORE_OK)
			free(val);
		else if (rc == STORE_NOTFOUND) {
			(*missing)++;
			rc = STORE_OK;
		}
	}
	return rc;
}

int
store_search_add(struct store_txn *t, const char *tenant, enum store_env env,
    const char *customer_id)
{
	return search_entries(t, tenant, env, customer_id, NULL);
}

int
store_search_missing(struct store_txn *t, const char *tenant,
    enum store_env env, const char *customer_id, size_t *missing)
{
	*missing = 0;
	return search_entries(t, tenant, env, customer_id, missing);
}

/*
 * The customerId of an index entry, after the off bytes of its tenant,
 * env (and gram); STORE_CORRUPT if it cannot be one.
 */
static int
search_entry_id(const void *key, size_t klen, size_t off,
    char id[STORE_CUSTOMER_MAX + 1])
{
	size_t	ilen = klen - off;

	if (klen <= off || ilen > STORE_CUSTOMER_MAX)
		return STORE_CORRUPT;
	memcpy(id, (const char *)key + off, ilen);
	id[ilen] = '\0';
	return strlen(id) == ilen ? STORE_OK : STORE_CORRUPT;
}

struct gram_each {
	size_t			 plen;		/* of "tenant\0env\0" */
	store_search_entry_fn	 fn;
	void			*arg;
};

static int
search_entry(const void *key, size_t klen, const void *val, size_t vlen,
    void *arg)
{
	struct gram_each	*ge = arg;
	char			 id[STORE_CUSTOMER_MAX + 1];

	(void)val;
	if (vlen != 0 || search_entry_id(key, klen, ge->plen + GRAM, id) !=
	    STORE_OK)
		return STORE_CORRUPT;
	return ge->fn((const char *)key + ge->plen, id, ge->arg);
}

int
store_search_each_from(struct store_txn *t, const char *tenant,
    enum store_env env, const char *from_gram, const char *from_id,
    store_search_entry_fn fn, void *arg)
{
	struct gram_each	ge = { 0, fn, arg };
	uint8_t			prefix[GKEY_MAX], start[GKEY_MAX];
	size_t			slen;

	if ((ge.plen = store_tenant_key(prefix, sizeof(prefix), tenant,
	    env)) == 0)
		return STORE_OK;
	if (from_gram == NULL)
		return store_kv_each_prefix(t, STORE_DB_CUSTGRAMS, prefix,
		    ge.plen, NULL, 0, search_entry, &ge);
	if ((slen = search_key(start, tenant, env, from_gram, from_id)) == 0)
		return STORE_OK;
	return store_kv_each_prefix(t, STORE_DB_CUSTGRAMS, prefix, ge.plen,
	    start, slen, search_entry, &ge);
}

/* The share of the index's keys in gram's list (Berkeley DB's estimate). */
static int
search_share(struct store_txn *t, const uint8_t *gkey, size_t glen,
    double *share)
{
	uint8_t	end[GKEY_MAX + 1];
	double	lo, hi;
	int	rc;

	/* Past every id of the list: ids are ASCII, below 0xff. */
	memcpy(end, gkey, glen);
	end[glen] = 0xff;
	if ((rc = store_kv_less(t, STORE_DB_CUSTGRAMS, gkey, glen, &lo)) !=
	    STORE_OK ||
	    (rc = store_kv_less(t, STORE_DB_CUSTGRAMS, end, glen + 1, &hi)) !=
	    STORE_OK)
		return rc;
	*share = hi - lo;
	return STORE_OK;
}

struct search_list {
	size_t		 plen;		/* of "tenant\0env\0gram" */
	const char	*needle;
	store_search_fn	 fn;
	void		*arg;
};

static int
search_listed(const void *key, size_t klen, const void *val, size_t vlen,
    void *arg)
{
	struct search_list	*sl = arg;
	char			 id[STORE_CUSTOMER_MAX + 1];

	(void)val;
	(void)vlen;
	if (search_entry_id(key, klen, sl->plen, id) != STORE_OK)
		return STORE_CORRUPT;
	return store_search_match(id, sl->needle) ? sl->fn(id, sl->arg) :
	    STORE_OK;
}

/*
 * Every customer whose id holds the needle is in the list of each of its
 * n trigrams: the shortest list (by Berkeley DB's estimate of each, a
 * descent of the tree) is walked, and each id in it, the whole id being
 * in the key, is matched for real.  Walking one list in order costs
 * less than intersecting all of them with seeks, and yields ids in
 * customerId order, as the tenant's walk did.
 */
static int
search_indexed(struct store_txn *t, const char *tenant, enum store_env env,
    const char *needle, char grams[][GRAM], size_t n, store_search_fn fn,
    void *arg)
{
	struct search_list	sl = { 0, needle, fn, arg };
	uint8_t			gkey[GKEY_MAX], best[GKEY_MAX];
	double			share, least = 2;
	size_t			glen, i;
	int			rc;

	for (i = 0; i < n; i++) {
		if ((glen = search_key(gkey, tenant, env, grams[i], NULL)) ==
		    0)
			return STORE_OK;	/* no such tenant key */
		if ((rc = search_share(t, gkey, glen, &share)) != STORE_OK)
			return rc;
		if (share < least) {
			least = share;
			memcpy(best, gkey, glen);
			sl.plen = glen;
		}
	}
	return store_kv_each_prefix(t, STORE_DB_CUSTGRAMS, best, sl.plen, NULL,
	    0, search_listed, &sl);
}

struct search_scan {
	const char	*needle;
	store_search_fn	 fn;
	void		*arg;
};

static int
search_scanned(const char *id, const struct store_customer *c, void *arg)
{
	struct search_scan	*ss = arg;

	(void)c;
	return store_search_match(id, ss->needle) ? ss->fn(id, ss->arg) :
	    STORE_OK;
}

int
store_customer_search(struct store_txn *t, const char *tenant,
    enum store_env env, const char *needle, store_search_fn fn, void *arg)
{
	struct search_scan	 ss = { needle, fn, arg };
	char			 grams[STORE_CUSTOMER_MAX][GRAM];
	size_t			 n;

	if (strlen(needle) > STORE_CUSTOMER_MAX)
		return STORE_OK;	/* longer than any customerId */
	if ((n = store_search_grams(needle, grams)) == 0)
		return store_customer_each(t, tenant, env, search_scanned,
		    &ss);
	return search_indexed(t, tenant, env, needle, grams, n, fn, arg);
}

/* Building the index of a data directory made before it, chunk by chunk. */

struct search_build {
	struct store_txn	*t;
	uint8_t			 resume[GKEY_MAX];	/* last indexed */
	size_t			 rlen;
	uint8_t			 last[GKEY_MAX];	/* in this chunk */
	size_t			 llen;
	size_t			 done;			/* in this chunk */
	int			 more;
};

static int
search_build_one(const void *key, size_t klen, const void *val, size_t vlen,
    void *arg)
{
	struct search_build	*sb = arg;
	const char		*tenant = key, *env;
	size_t			 tl;

	(void)val;
	(void)vlen;
	if (sb->rlen == klen && memcmp(key, sb->resume, klen) == 0)
		return STORE_OK;
	if (sb->done == BUILD_CHUNK)
		return STORE_STOP;	/* this chunk is full */
	/* "tenant\0env\0id\0" (store_customer_key). */
	if (klen > GKEY_MAX || ((const char *)key)[klen - 1] != '\0' ||
	    (tl = strnlen(tenant, klen)) + 4 > klen)
		return STORE_CORRUPT;
	env = tenant + tl + 1;
	if (env[1] != '\0' || (env[0] != '0' && env[0] != '1'))
		return STORE_CORRUPT;
	memcpy(sb->last, key, klen);
	sb->llen = klen;
	sb->done++;
	return store_search_add(sb->t, tenant, (enum store_env)(env[0] - '0'),
	    env + 2);
}

static int
search_build_txn(struct store_txn *t, void *arg)
{
	struct search_build	*sb = arg;
	int			 rc;

	sb->t = t;
	sb->done = 0;
	sb->more = 0;
	sb->llen = 0;
	rc = store_kv_each(t, STORE_DB_CUSTOMERS, sb->rlen ? sb->resume : NULL,
	    sb->rlen, search_build_one, sb);
	if (rc == STORE_STOP) {
		sb->more = 1;
		rc = STORE_OK;
	}
	if (rc == STORE_OK && !sb->more)
		rc = store_kv_put_u64(t, STORE_DB_META, built_key,
		    sizeof(built_key) - 1, 1, 0);
	return rc;
}

static int
search_built_txn(struct store_txn *t, void *arg)
{
	uint64_t	v;
	int		rc;

	rc = store_kv_get_u64(t, STORE_DB_META, built_key,
	    sizeof(built_key) - 1, &v);
	*(int *)arg = rc == STORE_OK;
	return rc == STORE_NOTFOUND ? STORE_OK : rc;
}

int
store_search_build(struct store *st)
{
	struct search_build	*sb;
	int			 rc, built = 0;

	if ((rc = store_read(st, search_built_txn, &built)) != STORE_OK ||
	    built)
		return rc;
	if ((sb = calloc(1, sizeof(*sb))) == NULL)
		return STORE_NOMEM;
	do {
		if ((rc = store_write(st, search_build_txn, sb)) != STORE_OK)
			break;
		memcpy(sb->resume, sb->last, sb->llen);
		sb->rlen = sb->llen;
	} while (sb->more);
	free(sb);
	return rc;
}
