/*
 * The group commit's aggregates, kept in memory for the group.
 *
 * Every delta rewrites its customer's running totals, its month and its
 * tenant's monthly usage.  Within one group commit the same records are
 * read and rewritten again and again (a batch of one customer, a tenant's
 * usage by every delta), and each rewrite is a B-tree put with its log
 * record.  So the group's transaction reads each of them once, keeps it
 * here, and writes it once, just before the commit (store_cache_flush).
 * The settings every delta reads are kept the same way, read once.
 *
 * A request may run in a nested transaction that may be undone (every
 * batch; a single emit only when its group runs again after one failed,
 * core/ledger.c): what such a request writes stays the request's (the
 * entry's "request" value) until its nested transaction commits, and an
 * undone request leaves no trace, not even the entries it read first,
 * whose locks went with its transaction.  What a request does in the
 * group's own transaction is the group's at once.  Only point reads and
 * writes of the cached databases pass here; nothing walks them with a
 * cursor inside a group.
 */
#include <sys/queue.h>

#include <stdlib.h>
#include <string.h>

#include "internal.h"

#define CACHE_VAL_MAX	104	/* the largest aggregate record, packed */
#define CACHE_BUCKETS	4096	/* a group's keys: up to three per delta */

struct cache_entry {
	struct cache_entry	*hnext;		/* the bucket's chain */
	size_t			 b;		/* the bucket's index */
	LIST_ENTRY(cache_entry)	 all;		/* the group's entries */
	struct cache_entry	*rnext;		/* the request's entries */
	enum store_db		 db;
	/* The group's value: as read, or as a committed request left it. */
	int			 have;		/* 0: no such record */
	int			 dirty;		/* to write at the flush */
	size_t			 vlen;
	uint8_t			 val[CACHE_VAL_MAX];
	/* The open request's: read by it first, or written by it. */
	int			 in_request;
	int			 fresh;		/* read first by the request */
	int			 rwritten;
	size_t			 rvlen;
	uint8_t			 rval[CACHE_VAL_MAX];
	size_t			 klen;
	uint8_t			 key[];
};

/*
 * The buckets find an entry; the list of all of them is what a reset
 * and a flush walk, so that a group of a few requests does not pay a
 * walk over every bucket twice.
 */
struct store_cache {
	struct cache_entry	*bucket[CACHE_BUCKETS];
	LIST_HEAD(, cache_entry) entries;
	struct cache_entry	*request;	/* entries the request touched */
	int			 nested;	/* a request is open */
};

/*
 * The aggregates, and the settings every delta reads (a tenant's quota,
 * its customers' cadence), which a group only ever reads.
 */
int
store_cache_holds(enum store_db db)
{
	return db == STORE_DB_CUSTOMERS || db == STORE_DB_MONTHS ||
	    db == STORE_DB_USAGE || db == STORE_DB_QUOTAS ||
	    db == STORE_DB_CADENCE;
}

struct store_cache *
store_cache_new(void)
{
	return calloc(1, sizeof(struct store_cache));
}

void
store_cache_reset(struct store_cache *c)
{
	struct cache_entry	*e;

	if (c == NULL)
		return;
	while ((e = LIST_FIRST(&c->entries)) != NULL) {
		LIST_REMOVE(e, all);
		c->bucket[e->b] = NULL;
		free(e);
	}
	c->request = NULL;
	c->nested = 0;
}

void
store_cache_free(struct store_cache *c)
{
	store_cache_reset(c);
	free(c);
}

/* FNV-1a over the database and the key. */
static size_t
cache_bucket(enum store_db db, const uint8_t *key, size_t klen)
{
	uint32_t	h = 2166136261u ^ (uint32_t)db;
	size_t		i;

	for (i = 0; i < klen; i++)
		h = (h ^ key[i]) * 16777619u;
	return h % CACHE_BUCKETS;
}

static struct cache_entry *
cache_find(struct store_cache *c, enum store_db db, const void *key,
    size_t klen)
{
	struct cache_entry	*e;

	for (e = c->bucket[cache_bucket(db, key, klen)]; e != NULL;
	    e = e->hnext)
		if (e->db == db && e->klen == klen &&
		    memcmp(e->key, key, klen) == 0)
			return e;
	return NULL;
}

/* Makes e the open request's, if a request is open and it is not yet. */
static void
cache_touch(struct store_cache *c, struct cache_entry *e)
{
	if (!c->nested || e->in_request)
		return;
	e->in_request = 1;
	e->rnext = c->request;
	c->request = e;
}

/*
 * The entry of key, read from the database the first time if read is
 * set; a put needs no value to overwrite (an undone request drops the
 * entry it made, a committed one replaces its value), so a record's
 * first put in the group reads nothing.  Its lock is then taken by the
 * put at the flush, before the commit like any other.
 */
static int
cache_entry_get(struct store_txn *t, enum store_db db, const void *key,
    size_t klen, int read, struct cache_entry **out)
{
	struct store_cache	*c = t->cache;
	struct cache_entry	*e;
	void			*val = NULL;
	size_t			 vlen = 0, b;
	int			 rc = STORE_NOTFOUND;

	if ((*out = cache_find(c, db, key, klen)) != NULL)
		return STORE_OK;
	if (read)
		rc = store_db_get(t, db, key, klen, &val, &vlen);
	if (rc != STORE_OK && rc != STORE_NOTFOUND)
		return rc;
	if (rc == STORE_OK && vlen > CACHE_VAL_MAX) {
		free(val);
		return STORE_CORRUPT;
	}
	if ((e = calloc(1, sizeof(*e) + klen)) == NULL) {
		free(val);
		return STORE_NOMEM;
	}
	e->db = db;
	e->have = rc == STORE_OK;
	e->vlen = vlen;
	if (e->have)
		memcpy(e->val, val, vlen);
	free(val);
	e->klen = klen;
	memcpy(e->key, key, klen);
	b = cache_bucket(db, key, klen);
	e->b = b;
	e->hnext = c->bucket[b];
	c->bucket[b] = e;
	LIST_INSERT_HEAD(&c->entries, e, all);
	/* Its lock is the request's until the request commits. */
	e->fresh = c->nested;
	cache_touch(c, e);
	*out = e;
	return STORE_OK;
}

int
store_cache_get(struct store_txn *t, enum store_db db, const void *key,
    size_t klen, void **val, size_t *vlen)
{
	struct cache_entry	*e;
	const uint8_t		*v;
	size_t			 n;
	int			 rc;

	if ((rc = cache_entry_get(t, db, key, klen, 1, &e)) != STORE_OK)
		return rc;
	if (e->rwritten) {
		v = e->rval;
		n = e->rvlen;
	} else if (e->have) {
		v = e->val;
		n = e->vlen;
	} else
		return STORE_NOTFOUND;
	if ((*val = malloc(n ? n : 1)) == NULL)
		return STORE_NOMEM;
	memcpy(*val, v, n);
	*vlen = n;
	return STORE_OK;
}

int
store_cache_put(struct store_txn *t, enum store_db db, const void *key,
    size_t klen, const void *val, size_t vlen)
{
	struct store_cache	*c = t->cache;
	struct cache_entry	*e;
	int			 rc;

	if (vlen > CACHE_VAL_MAX)
		return STORE_CORRUPT;
	if ((rc = cache_entry_get(t, db, key, klen, 0, &e)) != STORE_OK)
		return rc;
	if (!c->nested) {
		memcpy(e->val, val, vlen);
		e->vlen = vlen;
		e->have = e->dirty = 1;
		return STORE_OK;
	}
	cache_touch(c, e);
	memcpy(e->rval, val, vlen);
	e->rvlen = vlen;
	e->rwritten = 1;
	return STORE_OK;
}

void
store_cache_begin(struct store_cache *c)
{
	c->request = NULL;
	c->nested = 1;
}

/* Unlinks e from its bucket and frees it. */
static void
cache_drop(struct store_cache *c, struct cache_entry *e)
{
	struct cache_entry	**pp;

	pp = &c->bucket[e->b];
	while (*pp != e)
		pp = &(*pp)->hnext;
	*pp = e->hnext;
	LIST_REMOVE(e, all);
	free(e);
}

void
store_cache_end(struct store_cache *c, int commit)
{
	struct cache_entry	*e, *next;

	for (e = c->request; e != NULL; e = next) {
		next = e->rnext;
		e->rnext = NULL;
		e->in_request = 0;
		if (!commit && e->fresh) {
			cache_drop(c, e);
			continue;
		}
		if (commit && e->rwritten) {
			memcpy(e->val, e->rval, e->rvlen);
			e->vlen = e->rvlen;
			e->have = e->dirty = 1;
		}
		e->fresh = e->rwritten = 0;
	}
	c->request = NULL;
	c->nested = 0;
}

int
store_cache_flush(struct store_txn *t)
{
	struct cache_entry	*e;
	int			 rc;

	LIST_FOREACH(e, &t->cache->entries, all) {
		if (!e->dirty)
			continue;
		if ((rc = store_db_put(t, e->db, e->key, e->klen, e->val,
		    e->vlen)) != STORE_OK)
			return rc;
		e->dirty = 0;
	}
	return STORE_OK;
}
