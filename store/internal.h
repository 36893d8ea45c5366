/* Shared by the store's own files; never included outside store/. */
#ifndef TALLY_STORE_INTERNAL_H
#define TALLY_STORE_INTERNAL_H

#include <db.h>

#include "store.h"

enum store_db {
	STORE_DB_TENANTS,
	STORE_DB_KEYS,
	STORE_DB_META,		/* counters: the log's size */
	STORE_DB_DELTAS,	/* logIndex -> delta */
	STORE_DB_RECORDS,	/* recordId -> logIndex */
	STORE_DB_CUSTOMERS,	/* tenant, env, customer -> running totals,
				   the latest month's too */
	STORE_DB_CUSTLOG,	/* tenant, env, customer, seq -> position */
	STORE_DB_IDEMPOTENCY,	/* dedup key -> the original answer */
	STORE_DB_TREE,		/* format 2's tree nodes: empty from 3 on */
	STORE_DB_LEAVES,	/* leaf hash -> logIndex, to format 6 */
	STORE_DB_STH,		/* tree size -> signed tree head */
	STORE_DB_SIGNKEYS,	/* keyId -> signing key (public half) */
	STORE_DB_MONTHS,	/* tenant, env, customer, month -> totals,
				   of the months before the latest */
	STORE_DB_USAGE,		/* tenant, env, month -> deltas recorded */
	STORE_DB_QUOTAS,	/* tenant, env -> deltas allowed per month */
	STORE_DB_CHECKPOINTS,	/* checkpointId -> checkpoint */
	STORE_DB_CHKCUST,	/* customer, ~month, ~ordinal -> checkpointId */
	STORE_DB_CHKTENANT,	/* tenant, env, ~ordinal -> checkpointId */
	STORE_DB_CHKROOT,	/* proofRoot, ~ordinal -> checkpointId */
	STORE_DB_CADENCE,	/* tenant, env, customer ("": all) -> ms */
	STORE_DB_WEBHOOKS,	/* endpointId -> webhook endpoint */
	STORE_DB_EVENTS,	/* eventId -> webhook event and its delivery */
	STORE_DB_EVDUE,		/* nextAttempt, eventId: events to deliver */
	STORE_DB_EVLIST,	/* tenant, env, ~createdAt, eventId */
	STORE_DB_CUSTGRAMS,	/* tenant, env, trigram, step: customers */
	STORE_DB_SHARES,	/* link handle -> share (SPEC 8) */
	STORE_DB_SHARECUST,	/* tenant, env, customer -> live handle */
	STORE_DB_TILES,		/* tile level, index -> its hashes */
	STORE_DB_LEAFRUNS,	/* run, first hash -> hashes, logIndexes */
	STORE_DB_COUNT
};

/* The customer search index, alone (store.c, store_search_unlogged). */
#define STORE_SEARCH_FILE	"search.db"
/* Removes dir's search.db, if there is one (*removed: whether it was). */
int	store_search_remove(const char *dir, int *removed);

struct store_repl;

/*
 * The store's own codes (store.h): an environment open's EINVAL; an open
 * of the databases too early in a group's forming, to be tried again.
 */
enum { STORE_INVAL = STORE_STOP + 1, STORE_EARLY };

struct store {
	DB_ENV	*env;
	DB	*db[STORE_DB_COUNT];
	int	 envlock;		/* STORE_ENV_LOCK's fd, or -1 */
	int	 panicked;		/* atomic: store_panic_note */
	int	 recovered;		/* the open ran recovery */
	int	 joining;		/* store_env_create_repl's first open */
	void	(*panic_fn)(void *);
	void	*panic_arg;
	struct store_repl *repl;	/* NULL: not in a group */
	struct conf_repl repl_conf;
};

struct store_cache;

struct store_txn {
	struct store	*st;
	DB_TXN		*txn;
	u_int32_t	 get_flags;	/* DB_RMW in store_write */
	/*
	 * Every read's: DB_IGNORE_LEASE in a group.  Berkeley DB 5.3 checks
	 * the master's leases after each read and sleeps 50 ms (up to a
	 * lease) whenever the replicas have not yet granted them for the
	 * newest commit, which under writes is often: reads stalled up to
	 * 1 s in the bench.  The master fences its reads itself instead, by
	 * its acknowledged claims (store_repl_leading).
	 */
	u_int32_t	 read_flags;
	struct store_cache *cache;	/* a group commit's aggregates */
};

/* Replication (store/repl.c): the parts store.c calls. */
int	store_repl_new(struct store *, const struct conf_repl *);
void	store_repl_free(struct store *);
/* Before the environment closes: what of replication it must not outlive. */
void	store_repl_close(struct store *);
int	store_repl_joined(const char *dir);
int	store_repl_configure(struct store *, DB_ENV *);
void	store_repl_event(struct store *, u_int32_t event);
int	store_repl_probe(struct store *, const char *dir);
int	store_repl_writable(struct store *);
void	store_repl_before_commit(struct store_txn *, DB_TXN_TOKEN *);
int	store_repl_after_commit(struct store_txn *, const DB_TXN_TOKEN *);
int	store_open_dbs(struct store *, int create);
/* Closes the databases open (a failed open's too); the environment stays. */
void	store_close_dbs(struct store *, u_int32_t flags);
int	store_open_finish(struct store *, const char *dir, int writer);

/*
 * The bytes of ids found (and their pointers) a search holds at most
 * before it walks the tenant instead (search.c); tests lower it.
 */
extern size_t	store_search_held;

/* Berkeley DB's result translated once, here, into the store's own. */
int	store_rc(int dbrc);
/* Berkeley DB's error messages, into Tally's log. */
void	store_errcall(const DB_ENV *, const char *prefix, const char *msg);
/* put: STORE_EXISTS if unique is set and the key is taken. */
int	store_kv_put(struct store_txn *, enum store_db, const void *key,
	    size_t klen, const void *val, size_t vlen, int unique);
/* put of a packed record under a string key; frees the pack. */
struct pack;
int	store_put_packed(struct store_txn *, enum store_db, const char *key,
	    struct pack *, int unique);
/* store_kv_put and store_kv_get bypassing the group's cache. */
int	store_db_put(struct store_txn *, enum store_db, const void *key,
	    size_t klen, const void *val, size_t vlen);
int	store_db_get(struct store_txn *, enum store_db, const void *key,
	    size_t klen, void **val, size_t *vlen);
/* STORE_NOTFOUND if there is no such key. */
int	store_kv_del(struct store_txn *, enum store_db, const void *key,
	    size_t klen);
/* get: *val is malloc'd and owned by the caller on STORE_OK. */
int	store_kv_get(struct store_txn *, enum store_db, const void *key,
	    size_t klen, void **val, size_t *vlen);
/* Records whose value is one 64-bit big-endian number. */
int	store_kv_get_u64(struct store_txn *, enum store_db, const void *key,
	    size_t klen, uint64_t *out);
int	store_kv_put_u64(struct store_txn *, enum store_db, const void *key,
	    size_t klen, uint64_t v, int unique);
typedef int	(*store_kv_fn)(const void *key, size_t klen, const void *val,
		    size_t vlen, void *arg);
/*
 * Calls fn for every record in key order from the first key >= from
 * (from NULL: the first record); a non-zero result stops and is returned.
 */
int	store_kv_each(struct store_txn *, enum store_db, const void *from,
	    size_t fromlen, store_kv_fn, void *arg);
/*
 * store_kv_each read in bulk: Berkeley DB copies the records of a page
 * at a time into a buffer of about size bytes (more if one record needs
 * it), so a walk of many small records pays each page once rather than a
 * cursor call, a page latch and a lock per record.  For short walks over
 * records never written in the walk's own transaction: fn sees records
 * as they were when their buffer was filled.
 */
int	store_kv_each_bulk(struct store_txn *, enum store_db,
	    const void *from, size_t fromlen, size_t size, store_kv_fn,
	    void *arg);
/*
 * store_kv_each over the records whose key starts with prefix, from the
 * first key >= from (from NULL: the prefix itself): fn never sees a key
 * outside the prefix, and the walk ends at the prefix's last record.
 */
int	store_kv_each_prefix(struct store_txn *, enum store_db,
	    const void *prefix, size_t plen, const void *from, size_t fromlen,
	    store_kv_fn, void *arg);
/*
 * The record with the least key >= key, or with key NULL the last one:
 * *k and *v are malloc'd and owned by the caller on STORE_OK.
 */
int	store_kv_seek(struct store_txn *, enum store_db, const void *key,
	    size_t klen, void **k, size_t *klen_out, void **v, size_t *vlen);
/* The record with the greatest key <= key, as store_kv_seek gives it. */
int	store_kv_floor(struct store_txn *, enum store_db, const void *key,
	    size_t klen, void **k, size_t *klen_out, void **v, size_t *vlen);
/*
 * The estimated share (0 to 1) of the records whose key is less than key,
 * from one descent of the tree: to compare the sizes of key ranges.
 */
int	store_kv_less(struct store_txn *, enum store_db, const void *key,
	    size_t klen, double *less);
/* The last key (at most size bytes), without reading its value. */
int	store_kv_last_key(struct store_txn *, enum store_db, void *key,
	    size_t size, size_t *klen);
/*
 * Puts the records next yields, until it returns STORE_STOP (*key and
 * *val stay valid until its next call; any other code ends the puts and
 * is returned), through one cursor that tries the page of its last put
 * before it descends the tree (DB_CURSOR_BULK): records given in the
 * tree's order (memcmp's, a prefix first) that fall on one leaf page pay
 * one page for all of them, not a root-to-leaf descent each.  A key
 * already there takes the new value.  Not through the group's cache: for
 * databases it does not hold.
 */
typedef int	(*store_kv_next_fn)(const void **key, size_t *klen,
		    const void **val, size_t *vlen, void *arg);
int	store_kv_put_each(struct store_txn *, enum store_db,
	    store_kv_next_fn next, void *arg);

/*
 * "tenant\0env\0customer\0": a customer's key, and the prefix of its
 * per-seq and per-month records.  Returns its length, 0 if over size.
 */
size_t	store_customer_key(uint8_t *buf, size_t size, const char *tenant,
	    enum store_env env, const char *customer_id);
/* "tenant\0env\0": the prefix of everything of one tenant+env. */
size_t	store_tenant_key(uint8_t *buf, size_t size, const char *tenant,
	    enum store_env env);
/* Keeps every per-customer total current as d is appended after prev. */
int	store_customer_append(struct store_txn *,
	    const struct store_customer *prev, const struct store_delta *d,
	    __int128 amount);

/*
 * A group commit's cache of aggregates and settings (store/cache.c):
 * store_kv_get and store_kv_put of the databases it holds go through it
 * while a transaction has one (store_write_deferred); only point reads
 * and writes, never a cursor nor a delete, meet them there.
 * store_nested opens a request (begin) and ends it (end: kept if commit,
 * else forgotten); what a transaction does outside one (a single emit in
 * its group's transaction) is the group's at once;
 * store_cache_flush writes what the group changed, before its commit.
 */
int	store_cache_holds(enum store_db);
struct store_cache *store_cache_new(void);
void	store_cache_reset(struct store_cache *);
void	store_cache_free(struct store_cache *);
int	store_cache_get(struct store_txn *, enum store_db, const void *key,
	    size_t klen, void **val, size_t *vlen);
int	store_cache_put(struct store_txn *, enum store_db, const void *key,
	    size_t klen, const void *val, size_t vlen);
void	store_cache_begin(struct store_cache *);
void	store_cache_end(struct store_cache *, int commit);
int	store_cache_flush(struct store_txn *);

/*
 * Format 2 -> 3: the tiles of the tree of size leaves made from its node
 * records, STORE_MIGRATE_TILES at most a call from tile (level, index)
 * on; next_level and next_index say where the next call goes on, and
 * next_level 8 that every tile is made.  Rewriting a tile made before
 * writes the same bytes, so a migration cut short starts over safely.
 */
#define STORE_MIGRATE_TILES	64
struct store_tree_migration {
	uint64_t	size;
	unsigned	level, next_level;
	uint64_t	index, next_index;
};
int	store_tree_migrate(struct store_txn *, struct store_tree_migration *);
/*
 * Then the node records go, STORE_DROP_NODES at most a call: fewer
 * dropped says none is left.
 */
#define STORE_DROP_NODES	4096
int	store_tree_drop(struct store_txn *, unsigned *dropped);

#endif
