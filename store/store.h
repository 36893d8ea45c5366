/*
 * The store: Tally's durable state in a transactional Berkeley DB
 * environment.  Nothing of Berkeley DB crosses this header.
 *
 * Every read and write runs inside store_read() or store_write(), which
 * call back into the caller with a transaction.  store_write() commits
 * with a synchronous log flush, so when it returns STORE_OK the change
 * survives a crash of the process or of the machine.  Both retry the
 * whole callback when Berkeley DB picks the transaction as a deadlock
 * victim, so a callback must have no effect outside the transaction.
 */
#ifndef TALLY_STORE_H
#define TALLY_STORE_H

#include <stddef.h>
#include <stdint.h>

struct store;
struct store_txn;

enum store_rc {
	STORE_OK = 0,
	STORE_NOTFOUND,		/* no such record */
	STORE_EXISTS,		/* a record with that key exists already */
	STORE_CONFLICT,		/* still deadlocked after every retry */
	STORE_NOMEM,
	STORE_CORRUPT,		/* a stored record does not decode */
	STORE_IO,		/* any other storage failure */
	STORE_RECOVER,		/* the environment needs recovery: restart */
	STORE_NOTINIT,		/* the data directory was never initialised */
	/* Callbacks may return their own codes from here up. */
	STORE_USER = 100
};

#define STORE_CREATE	0x01	/* store_open: create the data directory */

/*
 * Opens (and with STORE_CREATE, creates) the environment in dir, running
 * recovery first if a process using it died.  Several processes may have
 * it open at once.  On success *out is owned by the caller and released
 * with store_close().
 */
int		 store_open(struct store **out, const char *dir, int cache_mb,
		    int flags);
void		 store_close(struct store *);
const char	*store_strerror(int);
/* Flushes the cache and writes a checkpoint, bounding recovery time. */
int		 store_checkpoint(struct store *);

/*
 * Runs fn(txn, arg) in a transaction.  A callback result of STORE_OK
 * commits (store_write) or ends (store_read) it; any other result aborts
 * it and is returned as is.
 */
typedef int	(*store_txn_fn)(struct store_txn *, void *arg);
int		 store_write(struct store *, store_txn_fn, void *arg);
int		 store_read(struct store *, store_txn_fn, void *arg);

/* Tenants: one per vendor. */
#define STORE_TENANT_MAX	64
struct store_tenant {
	char		name[STORE_TENANT_MAX + 1];
	int64_t		created_ms;
};
int	store_tenant_add(struct store_txn *, const struct store_tenant *);
int	store_tenant_get(struct store_txn *, const char *name,
	    struct store_tenant *);
typedef int	(*store_tenant_fn)(const struct store_tenant *, void *arg);
int	store_tenant_each(struct store_txn *, store_tenant_fn, void *arg);

/* API keys.  Only a hash of the secret is ever stored. */
enum store_env { STORE_ENV_TEST = 0, STORE_ENV_LIVE = 1 };
enum store_key_kind { STORE_KEY_VENDOR = 0, STORE_KEY_CUSTOMER = 1 };

#define STORE_KEY_ID_MAX	32
#define STORE_CUSTOMER_MAX	128
#define STORE_SECRET_HASH_LEN	32
struct store_key {
	char			public_id[STORE_KEY_ID_MAX + 1];
	char			tenant[STORE_TENANT_MAX + 1];
	enum store_env		env;
	enum store_key_kind	kind;
	char			customer_id[STORE_CUSTOMER_MAX + 1];
	uint8_t			secret_hash[STORE_SECRET_HASH_LEN];
	int64_t			created_ms;
	int64_t			revoked_ms;	/* 0 while the key is live */
};
int	store_key_add(struct store_txn *, const struct store_key *);
/* Replaces an existing key record (to revoke it). */
int	store_key_update(struct store_txn *, const struct store_key *);
int	store_key_get(struct store_txn *, const char *public_id,
	    struct store_key *);
typedef int	(*store_key_fn)(const struct store_key *, void *arg);
int	store_key_each(struct store_txn *, store_key_fn, void *arg);

#endif
