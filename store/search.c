/*
 * Customer search (GET /balance/customers?search=): which customerIds of
 * a tenant+env contain a string, ignoring ASCII case, without walking
 * the tenant.
 *
 * The index is of trigrams, not a prefix index: the API's search has
 * always been a substring search ("ac" finds "big-acme"), and the
 * customers B-tree itself already answers prefixes.  It is written behind
 * the log (core/indexer.c, store_search_index), a step at a time: the
 * customers first seen in the log from the index's position to a new
 * one, to.  A step writes one record, a block, for each distinct
 * three-character run (lower-cased) of its customers' ids:
 *
 *	tenant \0 env \0 gram[3] to[8, big-endian]  ->  id \0 id \0 ...
 *
 * the ids of the step's customers that have the trigram, in strcmp
 * order, each once; and it moves the position to to in the same
 * transaction, so a step is all or nothing.  A record per trigram and
 * customer, as the index was until format 5, made ~17 puts of a bench
 * customer, each at its own place of a tree larger than the cache: the
 * indexer's puts were ~40% of all CPU under a load of new customers.  A
 * step of 2,048 such customers now writes ~1,300 blocks.
 *
 * A needle of three or more characters is found by walking the blocks
 * of one of its trigrams, the one with the fewest (Berkeley DB's
 * estimate, a descent of the tree), and matching each id in them for
 * real.  The ids found, with those of the tail (the customers first seen
 * in the log from the position on, what the indexer lags: its interval's
 * deltas when it keeps up), are then sorted: a customer recorded a moment
 * ago is found, and the caller sees ids in customerId order, each once.
 * Held ids take memory (4 MiB at most, store_search_held): a search that
 * finds more walks the tenant's customers instead, as a needle of one or
 * two characters does (it names no trigram, and matches most customers
 * of any tenant anyway).  Such a search reads most of the tenant either
 * way.
 *
 * The position is a key of the index itself that no tenant's key can
 * be (tenants are never empty), so that a search reads no page of the
 * meta database, which every checkpoint write-locks.  Absent, the index
 * covers nothing yet: a search reads the whole log as its tail, and the
 * indexer starts from the log's first delta.  So an index that is
 * missing (a directory made before it, one recovered, a group's first
 * master, format 5's first open) is built by the indexer's usual steps,
 * while tallyd serves.
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
#include "pack.h"

#define GRAM		STORE_SEARCH_GRAM
#define PREFIX_MAX	(STORE_TENANT_MAX + 8)	/* "tenant\0env\0" */
#define BLOCK_KEY_MAX	(PREFIX_MAX + GRAM + 8)

/* In the index: the log indexes below it are indexed. */
static const char	position_key[] = "\0search.position";
#define POSITION_KLEN	(sizeof(position_key) - 1)

size_t	store_search_held = 4 * 1024 * 1024;

/* The search found more than it holds: it walks the tenant instead. */
enum { SEARCH_TOO_MANY = STORE_USER - 2 };

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

/* "tenant\0env\0gram": the prefix of the trigram's blocks; 0 if too long. */
static size_t
search_gram_key(uint8_t key[BLOCK_KEY_MAX], const char *tenant,
    enum store_env env, const char gram[GRAM])
{
	size_t	plen;

	if ((plen = store_tenant_key(key, PREFIX_MAX, tenant, env)) == 0)
		return 0;
	memcpy(key + plen, gram, GRAM);
	return plen + GRAM;
}

/*
 * Calls fn for each id of a block, checking that the block is one: ids
 * of a customer's length, each terminated, in strictly rising order.
 */
static int
search_block_each(const void *val, size_t vlen, store_search_fn fn,
    void *arg)
{
	const char	*p = val, *end = p + vlen, *prev = NULL;
	size_t		 len;
	int		 rc;

	if (vlen == 0 || end[-1] != '\0')
		return STORE_CORRUPT;
	for (; p < end; prev = p, p += len + 1) {
		len = strlen(p);
		if (len == 0 || len > STORE_CUSTOMER_MAX ||
		    (prev != NULL && strcmp(prev, p) >= 0))
			return STORE_CORRUPT;
		if ((rc = fn(p, arg)) != STORE_OK)
			return rc;
	}
	return STORE_OK;
}

/*
 * Whether a block holds id: its ids rise, so the walk stops at the first
 * not below id.  STORE_CORRUPT if it is no block.
 */
static int
search_block_find(const char *block, size_t vlen, const char *id,
    int *holds)
{
	const char	*p = block, *end = block + vlen;
	int		 c = -1;

	if (vlen == 0 || end[-1] != '\0')
		return STORE_CORRUPT;
	for (; p < end && (c = strcmp(p, id)) < 0; p += strlen(p) + 1)
		;
	*holds = c == 0;
	return STORE_OK;
}

/*
 * Whether id is in the block of its trigram (key: "tenant\0env\0gram",
 * glen bytes, room for 8 more) written by the step that indexed the
 * customers first seen at first: the first block whose step ends past it.
 */
static int
search_block_holds(struct store_txn *t, uint8_t key[BLOCK_KEY_MAX],
    size_t glen, uint64_t first, const char *id, int *holds)
{
	void	*k, *v;
	size_t	 klen, vlen;
	int	 rc;

	*holds = 0;
	be64_put(key + glen, first + 1);
	rc = store_kv_seek(t, STORE_DB_CUSTGRAMS, key, glen + 8, &k, &klen,
	    &v, &vlen);
	if (rc != STORE_OK)
		return rc == STORE_NOTFOUND ? STORE_OK : rc;
	if (klen == glen + 8 && memcmp(k, key, glen) == 0)
		rc = search_block_find(v, vlen, id, holds);
	free(k);
	free(v);
	return rc;
}

int
store_search_missing(struct store_txn *t, const char *tenant,
    enum store_env env, const char *customer_id, uint64_t first,
    size_t *missing)
{
	char	grams[STORE_CUSTOMER_MAX][GRAM];
	uint8_t	key[BLOCK_KEY_MAX];
	size_t	n, i, glen;
	int	rc, holds;

	*missing = 0;
	if (strlen(customer_id) > STORE_CUSTOMER_MAX)
		return STORE_CORRUPT;
	n = store_search_grams(customer_id, grams);
	for (i = 0; i < n; i++) {
		if ((glen = search_gram_key(key, tenant, env, grams[i])) == 0)
			return STORE_CORRUPT;
		if ((rc = search_block_holds(t, key, glen, first, customer_id,
		    &holds)) != STORE_OK)
			return rc;
		*missing += !holds;
	}
	return STORE_OK;
}

/* The audit's walk of a tenant+env's blocks, id by id. */
struct block_walk {
	size_t			 plen;		/* of "tenant\0env\0" */
	char			 gram[GRAM];
	uint64_t		 to;
	store_search_entry_fn	 fn;
	void			*arg;
};

static int
search_block_entry(const char *id, void *arg)
{
	struct block_walk	*bw = arg;

	return bw->fn(bw->gram, bw->to, id, bw->arg);
}

/* A block's key, "tenant\0env\0gram to", into bw; STORE_CORRUPT if not. */
static int
search_block_key(struct block_walk *bw, const uint8_t *key, size_t klen)
{
	if (klen != bw->plen + GRAM + 8)
		return STORE_CORRUPT;
	memcpy(bw->gram, key + bw->plen, GRAM);
	bw->to = be64_get(key + bw->plen + GRAM);
	return STORE_OK;
}

static int
search_block_entries(const void *key, size_t klen, const void *val,
    size_t vlen, void *arg)
{
	struct block_walk	*bw = arg;
	int			 rc;

	if ((rc = search_block_key(bw, key, klen)) != STORE_OK)
		return rc;
	return search_block_each(val, vlen, search_block_entry, bw);
}

int
store_search_each_from(struct store_txn *t, const char *tenant,
    enum store_env env, const char *from_gram, uint64_t from_to,
    store_search_entry_fn fn, void *arg)
{
	struct block_walk	bw = { .fn = fn, .arg = arg };
	uint8_t			prefix[BLOCK_KEY_MAX], start[BLOCK_KEY_MAX];
	size_t			slen;

	if ((bw.plen = store_tenant_key(prefix, sizeof(prefix), tenant,
	    env)) == 0)
		return STORE_OK;
	if (from_gram == NULL)
		return store_kv_each_prefix(t, STORE_DB_CUSTGRAMS, prefix,
		    bw.plen, NULL, 0, search_block_entries, &bw);
	if ((slen = search_gram_key(start, tenant, env, from_gram)) == 0)
		return STORE_OK;
	be64_put(start + slen, from_to);
	return store_kv_each_prefix(t, STORE_DB_CUSTGRAMS, prefix, bw.plen,
	    start, slen + 8, search_block_entries, &bw);
}

/* The share of the index's records that are gram's blocks (an estimate). */
static int
search_share(struct store_txn *t, const uint8_t *gkey, size_t glen,
    double *share)
{
	uint8_t	end[BLOCK_KEY_MAX + 1];
	double	lo, hi;
	int	rc;

	/* Past every block of the trigram. */
	memcpy(end, gkey, glen);
	memset(end + glen, 0xff, 9);
	if ((rc = store_kv_less(t, STORE_DB_CUSTGRAMS, gkey, glen, &lo)) !=
	    STORE_OK ||
	    (rc = store_kv_less(t, STORE_DB_CUSTGRAMS, end, glen + 9, &hi)) !=
	    STORE_OK)
		return rc;
	*share = hi - lo;
	return STORE_OK;
}

/* What a search found: ids, each terminated, in the order found. */
struct search_found {
	const char	*needle;
	char		*ids;
	size_t		 used, cap;
	size_t		 n;
};

static int
search_found_add(const char *id, void *arg)
{
	struct search_found	*f = arg;
	size_t			 len = strlen(id) + 1;

	if (!store_search_match(id, f->needle))
		return STORE_OK;
	/* Each id is held, then pointed at to be sorted. */
	if (f->used + len + (f->n + 1) * sizeof(char *) > store_search_held)
		return SEARCH_TOO_MANY;
	if (grow(&f->ids, &f->cap, f->used + len, 1) < 0)
		return STORE_NOMEM;
	memcpy(f->ids + f->used, id, len);
	f->used += len;
	f->n++;
	return STORE_OK;
}

static int
search_found_block(const void *key, size_t klen, const void *val,
    size_t vlen, void *arg)
{
	(void)key;
	(void)klen;
	return search_block_each(val, vlen, search_found_add, arg);
}

/*
 * Every customer whose id holds the needle is in a block of each of its
 * n trigrams: the trigram of fewest blocks (by Berkeley DB's estimate of
 * each, a descent of the tree) is walked, and each id in it matched.
 */
static int
search_indexed(struct store_txn *t, const char *tenant, enum store_env env,
    char grams[][GRAM], size_t n, struct search_found *f)
{
	uint8_t	gkey[BLOCK_KEY_MAX], best[BLOCK_KEY_MAX];
	double	share, least = 2;
	size_t	glen, blen = 0, i;
	int	rc;

	for (i = 0; i < n; i++) {
		if ((glen = search_gram_key(gkey, tenant, env, grams[i])) ==
		    0)
			return STORE_OK;	/* no such tenant key */
		if ((rc = search_share(t, gkey, glen, &share)) != STORE_OK)
			return rc;
		if (share < least) {
			least = share;
			memcpy(best, gkey, glen);
			blen = glen;
		}
	}
	return store_kv_each_prefix(t, STORE_DB_CUSTGRAMS, best, blen, NULL,
	    0, search_found_block, f);
}

static int
search_id_cmp(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Tells fn what f found, by customerId, each once. */
static int
search_found_tell(struct search_found *f, store_search_fn fn, void *arg)
{
	const char	**ids, *p;
	size_t		  i;
	int		  rc = STORE_OK;

	if (f->n == 0)
		return STORE_OK;
	if ((ids = calloc(f->n, sizeof(*ids))) == NULL)
		return STORE_NOMEM;
	for (i = 0, p = f->ids; i < f->n; p += strlen(p) + 1)
		ids[i++] = p;
	qsort(ids, f->n, sizeof(*ids), search_id_cmp);
	for (i = 0; i < f->n && rc == STORE_OK; i++)
		if (i == 0 || strcmp(ids[i - 1], ids[i]) != 0)
			rc = fn(ids[i], arg);
	free(ids);
	return rc;
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

/*
 * The tail from the index's position, then the index, read in that
 * order: the position first, so that every customer before it is in the
 * index the walk reads (entries are only ever added), and every one
 * after it in the tail.  A customer indexed since the position was read
 * is found twice, and told once.
 */
static int
search_with_tail(struct store_txn *t, const char *tenant, enum store_env env,
    const char *needle, char grams[][GRAM], size_t n, store_search_fn fn,
    void *arg)
{
	struct search_found	f = { needle, NULL, 0, 0, 0 };
	struct search_scan	ss = { needle, fn, arg };
	uint64_t		covered;
	int			rc;

	if ((rc = store_search_position(t, &covered)) != STORE_OK)
		return rc;
	if ((rc = store_search_pending(t, tenant, env, covered,
	    search_found_add, &f)) == STORE_OK)
		rc = search_indexed(t, tenant, env, grams, n, &f);
	if (rc == STORE_OK)
		rc = search_found_tell(&f, fn, arg);
	free(f.ids);
	if (rc == SEARCH_TOO_MANY)
		return store_customer_each(t, tenant, env, search_scanned,
		    &ss);
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

/* A customer first seen in the step's deltas. */
struct step_customer {
	uint8_t	prefix[PREFIX_MAX];	/* "tenant\0env\0" */
	size_t	plen;
	char	id[STORE_CUSTOMER_MAX + 1];
};

/* One of its trigrams: a place in a block. */
struct step_entry {
	const struct step_customer	*c;
	char				 gram[GRAM];
};

struct search_step {
	uint64_t		 to;
	struct step_customer	*custs;
	size_t			 ncusts, custcap;
	struct step_entry	*entries;
	size_t			 n, cap;
	size_t			 next;		/* the first entry not put */
	uint8_t			 key[BLOCK_KEY_MAX];
	char			*val;		/* the block being put */
	size_t			 vlen, vcap;
};

static int
search_step_delta(const struct store_delta_head *d, void *arg)
{
	struct search_step	*ss = arg;
	struct step_customer	*c;

	if (d->log_index >= ss->to)
		return STORE_STOP;
	if (d->seq != 1)
		return STORE_OK;
	if (grow(&ss->custs, &ss->custcap, ss->ncusts + 1,
	    sizeof(*ss->custs)) < 0)
		return STORE_NOMEM;
	c = &ss->custs[ss->ncusts];
	if ((c->plen = store_tenant_key(c->prefix, sizeof(c->prefix),
	    d->tenant, d->env)) == 0 || strlen(d->customer_id) >
	    STORE_CUSTOMER_MAX)
		return STORE_CORRUPT;
	memcpy(c->id, d->customer_id, strlen(d->customer_id) + 1);
	ss->ncusts++;
	return STORE_OK;
}

/* Each customer's trigrams, once the customers are all read (and stay). */
static int
search_step_entries(struct search_step *ss)
{
	char	grams[STORE_CUSTOMER_MAX][GRAM];
	size_t	i, j, n;

	for (i = 0; i < ss->ncusts; i++) {
		n = store_search_grams(ss->custs[i].id, grams);
		if (grow(&ss->entries, &ss->cap, ss->n + n,
		    sizeof(*ss->entries)) < 0)
			return STORE_NOMEM;
		for (j = 0; j < n; j++) {
			ss->entries[ss->n].c = &ss->custs[i];
			memcpy(ss->entries[ss->n++].gram, grams[j], GRAM);
		}
	}
	return STORE_OK;
}

/* Tenant+env and trigram: the block an entry is in. */
static int
step_block_cmp(const struct step_entry *x, const struct step_entry *y)
{
	const struct step_customer	*a = x->c, *b = y->c;
	int				 c;

	/* No tenant key is a prefix of another: each ends "\0env\0". */
	if ((c = memcmp(a->prefix, b->prefix, a->plen < b->plen ? a->plen :
	    b->plen)) != 0 || (c = (a->plen > b->plen) - (a->plen < b->plen))
	    != 0)
		return c;
	return memcmp(x->gram, y->gram, GRAM);
}

/* The blocks' keys' order, then the ids' within a block. */
static int
step_entry_cmp(const void *a, const void *b)
{
	const struct step_entry	*x = a, *y = b;
	int			 c;

	if ((c = step_block_cmp(x, y)) != 0)
		return c;
	return strcmp(x->c->id, y->c->id);
}

/* The next block of the sorted entries (store_kv_put_each's next). */
static int
search_step_block(const void **key, size_t *klen, const void **val,
    size_t *vlen, void *arg)
{
	struct search_step		*ss = arg;
	const struct step_entry		*first, *e;
	const struct step_customer	*c;
	const char			*last = NULL;
	size_t				 ilen;

	if (ss->next == ss->n)
		return STORE_STOP;
	first = &ss->entries[ss->next];
	ss->vlen = 0;
	for (; ss->next < ss->n; ss->next++) {
		e = &ss->entries[ss->next];
		if (step_block_cmp(first, e) != 0)
			break;
		if (last != NULL && strcmp(last, e->c->id) == 0)
			continue;
		ilen = strlen(e->c->id) + 1;
		if (grow(&ss->val, &ss->vcap, ss->vlen + ilen, 1) < 0)
			return STORE_NOMEM;
		memcpy(ss->val + ss->vlen, e->c->id, ilen);
		ss->vlen += ilen;
		last = e->c->id;
	}
	c = first->c;
	memcpy(ss->key, c->prefix, c->plen);
	memcpy(ss->key + c->plen, first->gram, GRAM);
	be64_put(ss->key + c->plen + GRAM, ss->to);
	*key = ss->key;
	*klen = c->plen + GRAM + 8;
	*val = ss->val;
	*vlen = ss->vlen;
	return STORE_OK;
}

int
store_search_index(struct store_txn *t, uint64_t most, uint64_t *covered,
    uint64_t *size)
{
	struct search_step	ss;
	int			rc;

	memset(&ss, 0, sizeof(ss));
	if ((rc = store_search_position(t, covered)) != STORE_OK ||
	    (rc = store_log_size(t, size)) != STORE_OK)
		return rc;
	if (*covered > *size)
		return STORE_CORRUPT;
	if (*covered == *size)
		return STORE_OK;
	ss.to = *size - *covered > most ? *covered + most : *size;
	rc = store_delta_heads(t, *covered, search_step_delta, &ss);
	if (rc != STORE_OK && rc != STORE_STOP)
		goto out;
	if ((rc = search_step_entries(&ss)) != STORE_OK)
		goto out;
	if (ss.n > 1)		/* qsort's array may not be NULL */
		qsort(ss.entries, ss.n, sizeof(*ss.entries), step_entry_cmp);
	if ((rc = store_kv_put_each(t, STORE_DB_CUSTGRAMS, search_step_block,
	    &ss)) != STORE_OK)
		goto out;
	*covered = ss.to;
	rc = store_kv_put_u64(t, STORE_DB_CUSTGRAMS, position_key,
	    POSITION_KLEN, *covered, 0);
out:
	free(ss.custs);
	free(ss.entries);
	free(ss.val);
	return rc;
}
