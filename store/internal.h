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
	STORE_DB_CUSTOMERS,	/* tenant, env, customer -> running totals */
	STORE_DB_CUSTLOG,	/* tenant, env, customer, seq -> logIndex */
	STORE_DB_IDEMPOTENCY,	/* dedup key -> the original answer */
	STORE_DB_COUNT
};

struct store {
	DB_ENV	*env;
	DB	*db[STORE_DB_COUNT];
};

struct store_txn {
	struct store	*st;
	DB_TXN		*txn;
};

/* Berkeley DB's result translated once, here, into the store's own. */
int	store_rc(int dbrc);
/* put: STORE_EXISTS if unique is set and the key is taken. */
int	store_kv_put(struct store_txn *, enum store_db, const void *key,
	    size_t klen, const void *val, size_t vlen, int unique);
/* get: *val is malloc'd and owned by the caller on STORE_OK. */
int	store_kv_get(struct store_txn *, enum store_db, const void *key,
	    size_t klen, void **val, size_t *vlen);
typedef int	(*store_kv_fn)(const void *key, size_t klen, const void *val,
		    size_t vlen, void *arg);
/* Calls fn for every record in key order; a non-zero result stops. */
int	store_kv_each(struct store_txn *, enum store_db, store_kv_fn,
	    void *arg);

#endif
