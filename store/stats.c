/*
 * The environment's figures for GET /metrics: Berkeley DB's own
 * statistics of its cache (memp_stat) and lock table (lock_stat), and
 * the webhook outbox's length.
 */
#include <stdlib.h>
#include <string.h>

#include "internal.h"

static int
store_stats_count(const void *key, size_t klen, const void *val,
    size_t vlen, void *arg)
{
	(void)key;
	(void)klen;
	(void)val;
	(void)vlen;
	(*(uint64_t *)arg)++;
	return STORE_OK;
}

static int
store_stats_backlog(struct store_txn *t, void *arg)
{
	uint64_t	*n = arg;

	*n = 0;
	return store_kv_each(t, STORE_DB_EVDUE, NULL, 0, store_stats_count, n);
}

int
store_stats(struct store *st, struct store_stats *out)
{
	DB_MPOOL_STAT	*mp = NULL;
	DB_LOCK_STAT	*lk = NULL;
	int		 rc;

	memset(out, 0, sizeof(*out));
	/* Both are malloc'd by Berkeley DB, for the caller to free. */
	if ((rc = store_rc(st->env->memp_stat(st->env, &mp, NULL, 0))) !=
	    STORE_OK)
		goto out;
	out->cache_bytes = (uint64_t)mp->st_gbytes * (1ULL << 30) +
	    mp->st_bytes;
	out->cache_hits = mp->st_cache_hit;
	out->cache_misses = mp->st_cache_miss;
	if ((rc = store_rc(st->env->lock_stat(st->env, &lk, 0))) != STORE_OK)
		goto out;
	out->locks = lk->st_nlocks;
	out->locks_max = lk->st_maxlocks;
	out->locks_peak = lk->st_maxnlocks;
	out->lock_objects = lk->st_nobjects;
	out->lock_waits = lk->st_lock_wait;
	out->deadlocks = lk->st_ndeadlocks;
	rc = store_read(st, store_stats_backlog, &out->webhook_backlog);
out:
	free(mp);
	free(lk);
	return rc;
}
