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
 * with an empty value.  A needle of three or more characters is found
 * by walking the shortest list of its trigrams and matching each id in
 * it for real (search_indexed).  A needle of one or two characters
 * names no trigram: it walks the tenant's customers, as before the index
 * (such a needle matches most customers of any tenant anyway, and the
 * answer walks its matches to count them).
 *
 * The index is written behind the log, not by the ledger: its ~13 puts
 * a new customer, at random places of the tree, were half of the one
 * writer's time.  The indexer (core/indexer.c, store_search_index) adds
 * the customers first seen in the log from its position on, a step's
 * entries sorted into the tree's order (struct search_batch), and moves
 * the position in the same transaction, so a step is all or nothing.  A
 * search reads the position, then the customers first seen in the log
 * from there (the tail: what the indexer lags, its interval's deltas
 * when it keeps up), then the index, and merges the two by customerId:
 * a customer recorded a moment ago is found.
 *
 * The position is a key of the index itself that no tenant's key can
 * be (tenants are never empty), so that a search reads no page of the
 * meta database, which every checkpoint write-locks.  Absent, the index
 * covers nothing yet: a search reads the whole log as its tail, and the
 * indexer starts from the log's first delta.  So an index that is
 * missing (a directory made before it, one recovered, a group's first
 * master) is built by the indexer's usual steps, while tallyd serves.
 *
 * Alone, the index is search.db, which has no log records and is
 * removed after a recovery (store.c, store_search_unlogged); in a group
 * it is custgrams.db, logged.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/grow.h"
#include "internal.h"

#define GRAM		STORE_SEARCH_GRAM
#define GKEY_MAX	(STORE_TENANT_MAX + STORE_CUSTOMER_MAX + 8)

/* In the index: the log indexes below it are indexed. */
static const char	position_key[] = "\0search.position";
#define POSITION_KLEN	(sizeof(position_key) - 1)

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

int
store_search_missing(struct store_txn *t, const char *tenant,
    enum store_env env, const char *customer_id, size_t *missing)
{
	char	 grams[STORE_CUSTOMER_MAX][GRAM];
	uint8_t	 key[GKEY_MAX];
	void	*val;
	size_t	 n, i, klen, vlen;
	int	 rc = STORE_OK;

	*missing = 0;
	if (strlen(customer_id) > STORE_CUSTOMER_MAX)
		return STORE_CORRUPT;
	n = store_search_grams(customer_id, grams);
	for (i = 0; i < n && rc == STORE_OK; i++) {
		if ((klen = search_key(key, tenant, env, grams[i],
		    customer_id)) == 0)
			return STORE_CORRUPT;
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

/*
 * Entries are added a batch at a time, sorted, through one cursor
 * (store_kv_put_keys).  Put as they come, a new customer's ~13 keys
 * fell at as many places of the tree, each a descent from the root; a
 * step's keys sorted, those of one trigram follow one another on the
 * same leaf pages.  A batch holds at most BATCH_BYTES of keys: a full
 * one is put and the batch goes on, in the same transaction.
 */
#define BATCH_BYTES	(1024 * 1024)

struct search_batch {
	uint8_t			*bytes;		/* BATCH_BYTES: the keys */
	size_t			 used;
	struct store_kv_key	*keys;		/* into bytes */
	size_t			 n, cap;
};

static int
search_batch_cmp(const void *a, const void *b)
{
	const struct store_kv_key	*x = a, *y = b;
	int				 c;

	/* The tree's order: bytes, then a prefix first. */
	if ((c = memcmp(x->key, y->key, x->len < y->len ? x->len :
	    y->len)) != 0)
		return c;
	return (x->len > y->len) - (x->len < y->len);
}

/* Puts what the batch holds, each key once, and empties it. */
static int
search_batch_put(struct store_txn *t, struct search_batch *b)
{
	size_t	i, n = 0;
	int	rc;

	if (b->n == 0)
		return STORE_OK;
	qsort(b->keys, b->n, sizeof(*b->keys), search_batch_cmp);
	for (i = 0; i < b->n; i++)
		if (n == 0 || search_batch_cmp(&b->keys[n - 1],
		    &b->keys[i]) != 0)
			b->keys[n++] = b->keys[i];
	rc = store_kv_put_keys(t, STORE_DB_CUSTGRAMS, b->keys, n);
	b->used = b->n = 0;
	return rc;
}

/* Adds the customer's entries to the batch (putting a full one). */
static int
search_batch_add(struct store_txn *t, struct search_batch *b,
    const char *tenant, enum store_env env, const char *customer_id)
{
	char	grams[STORE_CUSTOMER_MAX][GRAM];
	size_t	n, i, klen;
	int	rc;

	if (strlen(customer_id) > STORE_CUSTOMER_MAX)
		return STORE_CORRUPT;
	if (b->bytes == NULL && (b->bytes = malloc(BATCH_BYTES)) == NULL)
		return STORE_NOMEM;
	n = store_search_grams(customer_id, grams);
	for (i = 0; i < n; i++) {
		if (b->used + GKEY_MAX > BATCH_BYTES &&
		    (rc = search_batch_put(t, b)) != STORE_OK)
			return rc;
		if (grow(&b->keys, &b->cap, b->n + 1, sizeof(*b->keys)) < 0)
			return STORE_NOMEM;
		if ((klen = search_key(b->bytes + b->used, tenant, env,
		    grams[i], customer_id)) == 0)
			return STORE_CORRUPT;
		b->keys[b->n].key = b->bytes + b->used;
		b->keys[b->n++].len = klen;
		b->used += klen;
	}
	return STORE_OK;
}

static void
search_batch_free(struct search_batch *b)
{
	free(b->bytes);
	free(b->keys);
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
store_search_position(struct store_txn *t, uint64_t *covered)
{
	int	rc;

	rc = store_kv_get_u64(t, STORE_DB_CUSTGRAMS, position_key,
	    POSITION_KLEN, covered);
	if (rc == STORE_NOTFOUND) {
		*covered = 0;
		return STORE_OK;
	}
	return rc;
}

struct search_pending {
	const char	*tenant;
	enum store_env	 env;
	store_search_fn	 fn;
	void		*arg;
};

static int
search_pending_delta(const struct store_delta_head *d, void *arg)
{
	struct search_pending	*sp = arg;

	if (d->seq != 1 || d->env != sp->env || strcmp(d->tenant,
	    sp->tenant) != 0)
		return STORE_OK;
	return sp->fn(d->customer_id, sp->arg);
}

int
store_search_pending(struct store_txn *t, const char *tenant,
    enum store_env env, uint64_t from, store_search_fn fn, void *arg)
{
	struct search_pending	sp = { tenant, env, fn, arg };

	return store_delta_heads(t, from, search_pending_delta, &sp);
}

/* The tail's customers that match, then sorted by customerId. */
struct search_tail {
	const char	*needle;
	char		(*ids)[STORE_CUSTOMER_MAX + 1];
	size_t		 n, cap, next;
	store_search_fn	 fn;
	void		*arg;
};

static int
search_tail_add(const char *id, void *arg)
{
	struct search_tail	*st = arg;

	if (!store_search_match(id, st->needle))
		return STORE_OK;
	if (grow(&st->ids, &st->cap, st->n + 1, sizeof(*st->ids)) < 0)
		return STORE_NOMEM;
	snprintf(st->ids[st->n++], sizeof(*st->ids), "%s", id);
	return STORE_OK;
}

static int
search_tail_cmp(const void *a, const void *b)
{
	return strcmp(a, b);
}

/*
 * An id the index found, after the tail's ids before it.  One the tail
 * has too was indexed since the position was read: it is told once.
 * Both are in customerId order, the index's keys comparing as strcmp.
 */
static int
search_merged(const char *id, void *arg)
{
	struct search_tail	*st = arg;
	int			 c, rc;

	while (st->next < st->n) {
		if ((c = strcmp(st->ids[st->next], id)) > 0)
			break;
		st->next++;
		if (c == 0)
			break;
		if ((rc = st->fn(st->ids[st->next - 1], st->arg)) != STORE_OK)
			return rc;
	}
	return st->fn(id, st->arg);
}

/*
 * The index and the tail from its position, read in that order: the
 * position first, so that every customer before it is in the index the
 * walk reads (entries are only ever added), and every one after it in
 * the tail.
 */
static int
search_with_tail(struct store_txn *t, const char *tenant, enum store_env env,
    const char *needle, char grams[][GRAM], size_t n, store_search_fn fn,
    void *arg)
{
	struct search_tail	st = { needle, NULL, 0, 0, 0, fn, arg };
	uint64_t		covered;
	int			rc;

	if ((rc = store_search_position(t, &covered)) != STORE_OK ||
	    (rc = store_search_pending(t, tenant, env, covered,
	    search_tail_add, &st)) != STORE_OK)
		goto out;
	if (st.n > 1)
		qsort(st.ids, st.n, sizeof(*st.ids), search_tail_cmp);
	rc = search_indexed(t, tenant, env, needle, grams, n, search_merged,
	    &st);
	for (; rc == STORE_OK && st.next < st.n; st.next++)
		rc = fn(st.ids[st.next], arg);
out:
	free(st.ids);
	return rc;
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
	return search_with_tail(t, tenant, env, needle, grams, n, fn, arg);
}

/* The indexer's step (core/indexer.c). */

struct search_step {
	struct store_txn	*t;
	uint64_t		 to;
	struct search_batch	 batch;
};

static int
search_step_delta(const struct store_delta_head *d, void *arg)
{
	struct search_step	*ss = arg;

	if (d->log_index >= ss->to)
		return STORE_STOP;
	return d->seq == 1 ? search_batch_add(ss->t, &ss->batch, d->tenant,
	    d->env, d->customer_id) : STORE_OK;
}

int
store_search_index(struct store_txn *t, uint64_t most, uint64_t *covered,
    uint64_t *size)
{
	struct search_step	ss;
	int			rc;

	memset(&ss, 0, sizeof(ss));
	ss.t = t;
	if ((rc = store_search_position(t, covered)) != STORE_OK ||
	    (rc = store_log_size(t, size)) != STORE_OK)
		return rc;
	if (*covered > *size)
		return STORE_CORRUPT;
	if (*covered == *size)
		return STORE_OK;
	ss.to = *size - *covered > most ? *covered + most : *size;
	rc = store_delta_heads(t, *covered, search_step_delta, &ss);
	if (rc == STORE_OK || rc == STORE_STOP)
		rc = search_batch_put(t, &ss.batch);
	search_batch_free(&ss.batch);
	if (rc != STORE_OK)
		return rc;
	*covered = ss.to;
	return store_kv_put_u64(t, STORE_DB_CUSTGRAMS, position_key,
	    POSITION_KLEN, *covered, 0);
}
