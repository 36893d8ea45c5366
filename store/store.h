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

#include "../common/conf.h"

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
	STORE_NEWER,		/* written by a newer Tally (STORE_FORMAT) */
	STORE_NOTMASTER,	/* a replica: writes go to the master */
	STORE_UNACKED,		/* the group did not confirm the commit */
	STORE_STOP,		/* a walk's callback: stop here, all is well */
	/*
	 * Codes past STORE_STOP and below STORE_USER are the store's own,
	 * private to the file of store/ that uses them.  From STORE_USER
	 * up: a callback's own reasons to end a walk or its transaction;
	 * each is private to the file that defines it, in an enum there,
	 * and never crosses a header.
	 */
	STORE_USER = 100
};

/*
 * Walks (every store_..._each and store_..._search): the callback is
 * called for each record in order until it returns non-zero, and the
 * walk then returns that value as it is, STORE_STOP included; a walk
 * that reaches its end returns STORE_OK.  STORE_STOP means "stop here,
 * all is well": the caller turns it into STORE_OK where it wants to.
 * A walk ..._each_from starts at a given key, so that a reader which
 * commits and opens its read every chunk resumes where it left off.
 */

#define STORE_CREATE	0x01	/* store_open: create the data directory */
/*
 * store_open_repl: this process serves the node (tallyd): it opens the
 * environment only, and store_repl_start joins the group.
 */
#define STORE_SERVE	0x02
/*
 * store_open_repl (tallyctl): on a node of a group, the environment only;
 * store_attach opens the databases.  A master cut off from its group
 * cannot open them (its leases ran out), yet can say what it is.
 */
#define STORE_ENV_ONLY	0x04

/*
 * The format of the data directory this code writes, recorded in it.
 * 1: no record (up to the release of 2026-12-05, 44d0664); 2: the
 * Shared Record's databases (shares.db, sharecust.db) and the record;
 * 3: the tree as tiles (tiles.db), tree.db's nodes emptied; 4: the
 * customer search index unlogged (search.db), custgrams.db removed, its
 * position what says it is built; 5: the index's records a block of
 * customers per trigram and step, the index of format 4 emptied; 6: a
 * customer's record keeps its latest month (a record of 5 reads as it
 * is).  Raise it with each change an older tallyd could misread, and
 * teach store_migrate the step.
 */
#define STORE_FORMAT	7

/*
 * Opens (and with STORE_CREATE, creates) the environment in dir, running
 * recovery first if a process using it died.  Several processes may have
 * it open at once.  On success *out is owned by the caller and released
 * with store_close().
 *
 * A directory of an older format is migrated to STORE_FORMAT, once; one
 * of a newer format is refused (STORE_NEWER), untouched, since this code
 * could misread it.  The environment's regions keep the sizes they were
 * made with: when cache_mb (or the lock table) differs from theirs and
 * no other process has the environment open, they are made again, so a
 * new cache_mb applies at the first start with every process stopped.
 */
int		 store_open(struct store **out, const char *dir, int cache_mb,
		    int flags);
void		 store_close(struct store *);

/*
 * Replication (store/repl.c; README "Running more than one machine").
 * store_open_repl is store_open for a node of a group (repl->listen set):
 * with STORE_SERVE (tallyd) only the environment is opened, and
 * store_repl_start then starts Berkeley DB's Replication Manager, waits
 * until this node is the master or a replica that caught up, and opens
 * the databases; until it returns nothing else may be called but
 * store_role and store_close.  Without STORE_SERVE (tallyctl) the
 * databases are opened at once; beside a running tallyd the process
 * writes through the group, alone it may only read (STORE_NOTMASTER).
 * A data directory that was never in a group is opened by tallyctl as
 * store_open does, so that a node is set up (init, tenants) before its
 * first start; with STORE_SERVE it is made if missing, to be filled by
 * the group.
 *
 * On a replica every write fails with STORE_NOTMASTER; on a master a
 * commit the group did not acknowledge in time fails with STORE_UNACKED
 * (it stays in this node's log but was never answered as done).
 */
enum store_role {
	STORE_ROLE_ALONE,	/* not replicated */
	STORE_ROLE_ELECTING,	/* in a group, role not known yet */
	STORE_ROLE_MASTER,
	STORE_ROLE_REPLICA
};

int		 store_open_repl(struct store **out, const char *dir,
		    int cache_mb, int flags, const struct conf_repl *repl);
int		 store_repl_start(struct store *, const char *dir);
/* The databases of a store opened STORE_ENV_ONLY (else nothing to do). */
int		 store_attach(struct store *);
enum store_role	 store_role(struct store *);
const char	*store_role_name(enum store_role);
/*
 * fn(arg, role) on each change of role of a serving process, from
 * Berkeley DB's own thread: it must not call into the store.  Once
 * store_on_role returns, the callback it replaced is not running and
 * will not run again (so its arg may be freed).
 */
void		 store_on_role(struct store *,
		    void (*fn)(void *, enum store_role), void *arg);
/*
 * Read-your-writes on a replica: asks the master for its last commit and
 * waits until this node has applied it (at most timeout_ms each).
 * STORE_OK at once on a master or a store alone; STORE_NOTMASTER when no
 * master answers or this node lags too far.
 */
int		 store_repl_catch_up(struct store *, int timeout_ms,
		    int *waited_ms);
/*
 * The master's claim, committed when it becomes master and then every
 * STORE_REPL_CLAIM_INTERVAL_MS by tallyd: which node is master, and how
 * many of its claims the group acknowledged.  The first proves that the
 * group follows this master; the next keep its leases granted (without
 * a commit for a lease's time, the next read or write waits ~250 ms for
 * new grants) and tell a tallyctl beside it when the group has its
 * change (store_write then returns).
 */
#define STORE_REPL_CLAIM_INTERVAL_MS	250
int		 store_repl_claim(struct store *);
/*
 * 1 while this master may answer reads: its last claim was acknowledged
 * less than half a lease ago, so no other master can have been elected
 * yet (store alone, or leases off: always 1).
 */
int		 store_repl_leading(struct store *);

#define STORE_REPL_PEERS	CONF_PEERS_MAX
#define STORE_ADDR_MAX		(CONF_HOST_MAX + 8)

struct store_repl_peer {
	char		addr[STORE_ADDR_MAX + 1];
	int		connected;	/* as this process sees it */
	int		master;
};

struct store_repl_status {
	enum store_role	 role;
	char		 self[STORE_ADDR_MAX + 1];
	char		 master[STORE_ADDR_MAX + 1];	/* "" unknown */
	uint32_t	 generation;			/* elections won */
	/*
	 * A replica: it has synced with its current master (Berkeley DB's
	 * startup done), no longer copying its log or databases.
	 */
	int		 caught_up;
	uint32_t	 lsn_file, lsn_offset;		/* log's end here */
	struct store_repl_peer peers[STORE_REPL_PEERS];
	int		 npeers;
};
int		 store_repl_status(struct store *, struct store_repl_status *);
/*
 * Closes without writing the cache's pages to the files: they stay in the
 * shared environment, and the log has every change.  For a process that
 * leaves the store to others (a CGI request), never for one that reads
 * the files afterwards.
 */
void		 store_leave(struct store *);
const char	*store_strerror(int);
/*
 * 1 once the environment has panicked: Berkeley DB found it damaged, or
 * another process ran recovery under this one (it found that a process
 * died with the store open).  From then on every call fails with
 * STORE_RECOVER, for good: only closing the store and opening it again,
 * which runs recovery, heals it.  Cheap enough to ask per request.
 */
int		 store_panicked(struct store *);
/*
 * fn(arg) is called once, from whichever thread first sees the panic
 * (a failed call, Berkeley DB's own panic event, or store_panicked), so
 * that the program can stop and be restarted.  Set it right after
 * store_open; it must not call into the store.
 */
void		 store_on_panic(struct store *, void (*fn)(void *), void *arg);
/*
 * A sync: flushes the cache and writes a Berkeley DB checkpoint, bounding
 * recovery time.
 */
int		 store_sync(struct store *);
/*
 * A hot backup, taken while other processes keep writing: copies every
 * database, then the log, into target (an empty directory the caller
 * made and may write) and runs catastrophic recovery on the copy, so
 * that target is then a complete environment as it stood at one moment
 * of the call, ready to be opened as a data directory.  Only the store:
 * files of the data directory that are not Berkeley DB's are the
 * caller's to copy.  One backup at a time.
 */
int		 store_backup(struct store *, const char *target);

/* The environment's own figures, for GET /metrics. */
struct store_stats {
	uint64_t	cache_bytes;		/* the cache's size */
	uint64_t	cache_hits;		/* pages found in the cache */
	uint64_t	cache_misses;		/* pages read from disk */
	uint64_t	locks;			/* locks held now */
	uint64_t	locks_max;		/* the lock table's size */
	uint64_t	locks_peak;		/* most held at once */
	uint64_t	lock_objects;		/* objects locked now */
	uint64_t	lock_waits;		/* requests that had to wait */
	uint64_t	deadlocks;
	uint64_t	webhook_backlog;	/* events queued for delivery */
};
int		 store_stats(struct store *, struct store_stats *);

/*
 * Runs fn(txn, arg) in a transaction.  A callback result of STORE_OK
 * commits (store_write) or ends (store_read) it; any other result aborts
 * it and is returned as is.
 */
typedef int	(*store_txn_fn)(struct store_txn *, void *arg);
int		 store_write(struct store *, store_txn_fn, void *arg);
/*
 * Reads lock a record only while it is read (read-committed), so a long
 * reader never holds up the ledger.  That is safe for what Tally reads
 * together: committed deltas, tree nodes and heads never change, and a
 * head is committed with every node it needs.
 */
int		 store_read(struct store *, store_txn_fn, void *arg);
/*
 * store_write with store_read's locking of what it reads: for a writer
 * that reads the append-only log (the integrator) beside the ledger.
 */
int		 store_write_committed(struct store *, store_txn_fn,
		    void *arg);
/*
 * store_write without waiting for the disk: on STORE_OK the commit is in
 * the log buffer, its locks are released and other transactions see it,
 * but it is durable only when a store_flush() called after this returned
 * has returned.  For a writer that prepares its next transaction while
 * the last one is flushed (the ledger): nobody may be told of the write
 * before that flush.  A reader may see it a flush earlier, as in any
 * database that releases locks before the log is on disk.
 */
int		 store_write_deferred(struct store *, store_txn_fn,
		    void *arg);
/* Makes every commit so far durable (one fsync shared by all of them). */
int		 store_flush(struct store *);
/*
 * Runs fn in a transaction nested in parent: its writes join the parent
 * on STORE_OK and vanish otherwise, so one item of a group can fail
 * without undoing the rest.  Durable only when the parent commits.
 */
int		 store_nested(struct store_txn *parent, store_txn_fn,
		    void *arg);

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

/*
 * Deltas.  The log is one sequence over all tenants: logIndex from 0 in
 * commit order.  Each customer (tenant, env, customerId) has its own
 * sequence from 1 and running totals, kept in the transaction that
 * appends the delta.  Amounts are opaque here: exact decimal text, and
 * a 128-bit count of nano-units for the totals.
 */
#define STORE_ID_MAX		40	/* rec_..., rcpt_... */
#define STORE_DECIMAL_MAX	48
#define STORE_REASON_MAX	2048	/* 500 characters of UTF-8 */
#define STORE_REFERENCE_MAX	1024	/* 256 characters of UTF-8 */
#define STORE_HASH_LEN		32

enum store_delta_status {
	STORE_DELTA_QUEUED = 0,
	STORE_DELTA_VERIFIED = 1,
	STORE_DELTA_FAILED = 2
};

struct store_delta {
	uint64_t		log_index;
	char			record_id[STORE_ID_MAX + 1];
	char			receipt_id[STORE_ID_MAX + 1];
	char			tenant[STORE_TENANT_MAX + 1];
	enum store_env		env;
	char			customer_id[STORE_CUSTOMER_MAX + 1];
	uint64_t		seq;
	char			delta[STORE_DECIMAL_MAX];
	char			reason[STORE_REASON_MAX + 1];
	int			has_reference;
	char			reference_id[STORE_REFERENCE_MAX + 1];
	char			*metadata;	/* canonical JSON, or NULL */
	char			adjusts[STORE_ID_MAX + 1]; /* recordId or "" */
	int64_t			created_ms;
	enum store_delta_status	status;
	int64_t			verified_ms;
	uint8_t			salt[STORE_HASH_LEN];
	uint8_t			content_hash[STORE_HASH_LEN];
	uint8_t			leaf_hash[STORE_HASH_LEN];
	char			*leaf_data;	/* the canonical leaf bytes */
	size_t			leaf_len;
};

/* Frees what store_delta_get allocated (metadata, leaf_data). */
void	store_delta_free(struct store_delta *);
/* The log's size: the logIndex the next delta gets. */
int	store_log_size(struct store_txn *, uint64_t *size);
/*
 * Appends d at d->log_index, which must be the slot's (the log's size),
 * with seq one past its customer's last, indexes it by recordId, and
 * brings every total that counts it up to date: the customer's, its
 * month's, and its tenant's usage.  amount is d->delta in nano-units.
 * slot is store_delta_slot's for d's customer, in this transaction, with
 * nothing appended since.
 */
struct store_slot;
int	store_delta_append(struct store_txn *, const struct store_slot *,
	    const struct store_delta *d, __int128 amount);
int	store_delta_get(struct store_txn *, uint64_t log_index,
	    struct store_delta *);
/* The receiptId of the delta at log_index, from its record's first fields. */
int	store_delta_receipt(struct store_txn *, uint64_t log_index,
	    char receipt_id[STORE_ID_MAX + 1]);
/*
 * A run of deltas read together, in one transaction: a customer's page,
 * whose deltas lie close together in the log when they came in batches,
 * is read with one walk over their range rather than a get each.
 * store_delta_run_read reads the deltas at the n log indexes of index
 * (ascending) into r; STORE_NOTFOUND if one is missing.  Then
 * store_delta_run_get unpacks the i-th of them as store_delta_get does,
 * but its metadata and leaf data are the run's: they last until the next
 * store_delta_run_get, read or free of r, and the delta is not freed
 * (no store_delta_free).  A run is reused by each read.
 */
struct store_delta_run;
struct store_delta_run *store_delta_run_new(void);	/* NULL: no memory */
void	store_delta_run_free(struct store_delta_run *);
int	store_delta_run_read(struct store_txn *, struct store_delta_run *r,
	    const uint64_t *index, size_t n);
int	store_delta_run_get(struct store_delta_run *, size_t i,
	    struct store_delta *);
int	store_delta_find(struct store_txn *, const char *record_id,
	    uint64_t *log_index);
/*
 * Calls fn for every delta from log_index on, in log order, until fn
 * returns non-zero (which is returned).
 */
typedef int	(*store_delta_fn)(const struct store_delta *, void *arg);
int	store_delta_each(struct store_txn *, uint64_t from, store_delta_fn,
	    void *arg);
/*
 * The same walk for who a delta is of and its place in the customer's
 * history, with nothing more of the record decoded: the search index
 * reads every delta of the log's tail this way for the customers first
 * seen there.
 */
struct store_delta_head {
	uint64_t	 log_index;
	char		 tenant[STORE_TENANT_MAX + 1];
	enum store_env	 env;
	char		 customer_id[STORE_CUSTOMER_MAX + 1];
	uint64_t	 seq;
};
typedef int	(*store_delta_head_fn)(const struct store_delta_head *,
		    void *arg);
int	store_delta_heads(struct store_txn *, uint64_t from,
	    store_delta_head_fn, void *arg);

/* One customer's deltas in one UTC month (timefmt_month numbering). */
struct store_month {
	uint64_t	first_seq, last_seq;	/* a contiguous run */
	uint64_t	count;
	__int128	sum;
};

/*
 * Per-customer totals, all of recorded deltas (verified or not): the
 * reader subtracts what is not yet verified.  A customer's deltas are in
 * log order and never go back in time, so seq order is time order.
 */
struct store_customer {
	uint64_t	last_seq;
	uint64_t	count;
	__int128	sum;		/* nano-units */
	int64_t		first_ms, last_ms;
	/*
	 * The customer's latest month, kept in its record from data format
	 * 6 on (months.db holds the months before it): 0 in a record written
	 * before, whose months are all in months.db.  Read through
	 * store_month_get and store_month_each, which combine the two.
	 */
	int			latest_month;
	struct store_month	latest;
};
/* STORE_NOTFOUND (and a zeroed *c) for a customer with no delta yet. */
int	store_customer_get(struct store_txn *, const char *tenant,
	    enum store_env, const char *customer_id, struct store_customer *c);
/*
 * Where a customer's next delta goes: the log's size and the customer's
 * totals so far (zero for a new one), read once for the writer to number
 * the delta and for store_delta_append to update.
 */
struct store_slot {
	uint64_t		log_index;
	struct store_customer	cust;
};
int	store_delta_slot(struct store_txn *, const char *tenant,
	    enum store_env, const char *customer_id, struct store_slot *);
/* The same, for a caller that knows the log's size (a group commit). */
int	store_delta_slot_at(struct store_txn *, const char *tenant,
	    enum store_env, const char *customer_id, uint64_t log_size,
	    struct store_slot *);
/* Calls fn for each customer of tenant+env, by customerId, until non-zero. */
typedef int	(*store_customer_fn)(const char *customer_id,
		    const struct store_customer *, void *arg);
int	store_customer_each(struct store_txn *, const char *tenant,
	    enum store_env, store_customer_fn, void *arg);
/* The same from customerId from on (inclusive), for a reader that resumes. */
int	store_customer_each_from(struct store_txn *, const char *tenant,
	    enum store_env, const char *from, store_customer_fn, void *arg);

/*
 * Customer search (store/search.c): calls fn for each customer of
 * tenant+env whose customerId contains needle, ignoring ASCII case, by
 * customerId, until fn returns non-zero.  A needle of 3 or more
 * characters goes through the trigram index, and the customers first
 * seen in the log past the index's position; a shorter one walks the
 * tenant.
 */
typedef int	(*store_search_fn)(const char *customer_id, void *arg);
int	store_customer_search(struct store_txn *, const char *tenant,
	    enum store_env, const char *needle, store_search_fn, void *arg);
/* Whether id contains needle, ignoring ASCII case (search's match). */
int	store_search_match(const char *id, const char *needle);
/*
 * The distinct lower-cased trigrams of s, the keys it is indexed under,
 * STORE_SEARCH_GRAM bytes each, into grams (room for strlen(s) of them);
 * returns how many.
 */
#define STORE_SEARCH_GRAM	3
size_t	store_search_grams(const char *s, char grams[][STORE_SEARCH_GRAM]);
/*
 * The index is written behind the log (core/indexer.c): it holds the
 * customers whose first delta's logIndex is below its position.
 * store_search_position: that position (0 where none is recorded).
 */
int	store_search_position(struct store_txn *, uint64_t *covered);
/*
 * Calls fn for each customer of tenant+env whose first delta is at
 * logIndex from or later, in log order, until fn returns non-zero.
 */
int	store_search_pending(struct store_txn *, const char *tenant,
	    enum store_env, uint64_t from, store_search_fn, void *arg);
/*
 * The indexer's step: indexes the customers first seen in at most most
 * deltas from the position on, and moves the position past them, in the
 * caller's transaction.  *covered is the position after it, *size the
 * log's size.  Indexing a customer twice (two indexers at once) writes
 * the same entries.
 */
int	store_search_index(struct store_txn *, uint64_t most,
	    uint64_t *covered, uint64_t *size);
/*
 * For the audit: how many of the customer's trigrams lack it in the
 * index, the customer being first seen at logIndex first (below the
 * index's position).
 */
int	store_search_missing(struct store_txn *, const char *tenant,
	    enum store_env, const char *customer_id, uint64_t first,
	    size_t *missing);
/*
 * For the audit: every index entry of tenant+env (gram: 3 bytes, not
 * terminated), by trigram, then block (to: the position of the step that
 * wrote it), then id; from the block (from_gram, from_to) inclusive
 * (from_gram NULL: the first), until fn returns non-zero.
 */
typedef int	(*store_search_entry_fn)(const char *gram, uint64_t to,
		    const char *customer_id, void *arg);
int	store_search_each_from(struct store_txn *, const char *tenant,
	    enum store_env, const char *from_gram, uint64_t from_to,
	    store_search_entry_fn, void *arg);

/* One delta's place in its customer's sequence. */
struct store_custpos {
	uint64_t	log_index;
	int64_t		created_ms;
	__int128	sum;		/* of the customer's deltas 1..seq */
};
int	store_custpos_get(struct store_txn *, const char *tenant,
	    enum store_env, const char *customer_id, uint64_t seq,
	    struct store_custpos *);
/*
 * The positions of seq first .. first+n-1 into out[n], with one cursor:
 * STORE_NOTFOUND if the customer has fewer, STORE_CORRUPT if one is
 * missing in between.
 */
int	store_custpos_range(struct store_txn *, const char *tenant,
	    enum store_env, const char *customer_id, uint64_t first, size_t n,
	    struct store_custpos *out);

/* STORE_NOTFOUND (and a zeroed *m) for a month with no delta. */
int	store_month_get(struct store_txn *, const char *tenant,
	    enum store_env, const char *customer_id, int month,
	    struct store_month *m);
/* The same, for a caller holding the customer's record c, read in t. */
int	store_month_of(struct store_txn *, const char *tenant,
	    enum store_env, const char *customer_id,
	    const struct store_customer *c, int month, struct store_month *m);
/*
 * Calls fn for each of the months of the customer whose record is c
 * (read in the same transaction), in order, until fn returns non-zero.
 */
typedef int	(*store_month_fn)(int month, const struct store_month *,
		    void *arg);
int	store_month_each(struct store_txn *, const char *tenant,
	    enum store_env, const char *customer_id,
	    const struct store_customer *c, store_month_fn, void *arg);

/* Deltas a tenant recorded in a month, and its monthly quota. */
int	store_usage_get(struct store_txn *, const char *tenant,
	    enum store_env, int month, uint64_t *count);
/* STORE_NOTFOUND: no quota, unlimited. */
int	store_quota_get(struct store_txn *, const char *tenant,
	    enum store_env, uint64_t *limit);
int	store_quota_put(struct store_txn *, const char *tenant,
	    enum store_env, uint64_t limit);
int	store_quota_delete(struct store_txn *, const char *tenant,
	    enum store_env);

/*
 * Idempotency records: the answer first given to a deduplicated request,
 * kept forever under a key the caller builds.  Replays return it; an
 * empty body is one the caller rebuilds (the ledger: from record_id).
 */
struct store_idem {
	uint8_t		 fingerprint[STORE_HASH_LEN];
	int		 status;		/* HTTP status first sent */
	char		 record_id[STORE_ID_MAX + 1];
	char		*body;			/* owned; the data JSON */
	size_t		 body_len;
};
void	store_idem_free(struct store_idem *);
int	store_idem_get(struct store_txn *, const void *key, size_t klen,
	    struct store_idem *);
/* STORE_EXISTS if the key is taken. */
int	store_idem_add(struct store_txn *, const void *key, size_t klen,
	    const struct store_idem *);

/*
 * The verifiable log (SPEC 4): the Merkle tree as C2SP tlog-tiles
 * (core/tiles.h), each tile the hashes of one tree level 8L from index
 * 256N on, written once when full and rewritten as it grows before;
 * an index from leaf hash to logIndex; the signed tree heads by size;
 * and every signing key ever used, by its key ID.
 */
#define STORE_TILE_WIDTH	256	/* hashes in a full tile */
/*
 * A full tile is stored with the nodes inside it after its hashes, level
 * by level up to its root (merkle_levels), so that a proof reads a node
 * and hashes nothing: STORE_TILE_MAX hashes.
 */
#define STORE_TILE_MAX		(2 * STORE_TILE_WIDTH - 1)
/* Tile (level, index): n hashes, 1..STORE_TILE_MAX. */
int	store_tile_put(struct store_txn *, unsigned level, uint64_t index,
	    const uint8_t *hashes, unsigned n);
/*
 * The n hashes of tile (level, index) from the first on, into out;
 * STORE_NOTFOUND if the tile does not hold them all.
 */
int	store_tile_get(struct store_txn *, unsigned level, uint64_t index,
	    unsigned first, unsigned n, uint8_t *out);
/* The whole of tile (level, index), its n hashes into out. */
int	store_tile_read(struct store_txn *, unsigned level, uint64_t index,
	    uint8_t out[STORE_TILE_MAX * STORE_HASH_LEN], unsigned *n);
/*
 * The leaf hash index (leaves.c): each leaf's hash and log index, added
 * a step of the integrator at a time, in its transaction.
 */
struct store_leaf {
	uint8_t		hash[STORE_HASH_LEN];
	uint64_t	index;
};
/* By hash, then index: qsort's order. */
int	store_leaf_cmp(const void *, const void *);
/* Indexes a step's n leaves (and sorts them, in place). */
int	store_leaf_add(struct store_txn *, struct store_leaf *leaves,
	    size_t n);
int	store_leaf_find(struct store_txn *,
	    const uint8_t hash[STORE_HASH_LEN], uint64_t *log_index);
/*
 * Every entry of the index, each once, in no order that means anything;
 * STORE_CORRUPT if the index does not decode or is out of its order (a
 * lookup could miss an entry).  A non-zero result of fn stops the walk
 * and is returned.
 */
typedef int	(*store_leaf_fn)(const struct store_leaf *, void *);
int	store_leaf_each(struct store_txn *, store_leaf_fn, void *);

#define STORE_NOTE_MAX		2048
#define STORE_KEYID_MAX		8	/* hex of a 32-bit C2SP key ID */
struct store_sth {
	uint64_t	size;
	uint8_t		root[STORE_HASH_LEN];
	int64_t		signed_ms;
	char		key_id[STORE_KEYID_MAX + 1];
	char		note[STORE_NOTE_MAX];	/* the signed note, as served */
};
/* STORE_EXISTS if a head of that size was signed already. */
int	store_sth_add(struct store_txn *, const struct store_sth *);
int	store_sth_get(struct store_txn *, uint64_t size, struct store_sth *);
/* The newest head; STORE_NOTFOUND before the first is signed. */
int	store_sth_latest(struct store_txn *, struct store_sth *);
/* The oldest head that covers log_index (size > log_index). */
int	store_sth_covering(struct store_txn *, uint64_t log_index,
	    struct store_sth *);
/* Calls fn for every head of size >= from, by size, until non-zero. */
typedef int	(*store_sth_fn)(const struct store_sth *, void *arg);
int	store_sth_each(struct store_txn *, uint64_t from, store_sth_fn,
	    void *arg);

#define STORE_KEYNAME_MAX	255
#define STORE_ALG_MAX		15
#define STORE_PEM_MAX		1024
#define STORE_FILE_MAX		255
#define STORE_ENDORSEMENT_MAX	512	/* a signature, as STORE_SIG_MAX */
/* How a signing key came to sign (SPEC 4.5, crypto/endorse.h). */
enum store_rotation {
	STORE_ROTATION_UNRECORDED = 0,	/* recorded before endorsements */
	STORE_ROTATION_GENESIS,		/* the log's first key */
	STORE_ROTATION_ENDORSED,	/* endorsed by the key it replaced */
	STORE_ROTATION_UNENDORSED	/* rotated with --no-endorse */
};
struct store_signkey {
	char		key_id[STORE_KEYID_MAX + 1];
	char		name[STORE_KEYNAME_MAX + 1];	/* note key name */
	char		alg[STORE_ALG_MAX + 1];
	char		file[STORE_FILE_MAX + 1];  /* private key, in data dir */
	char		pem[STORE_PEM_MAX];	   /* public key */
	int64_t		valid_from_ms;
	int64_t		valid_to_ms;		/* 0 while it signs */
	enum store_rotation rotation;
	char		replaces[STORE_KEYID_MAX + 1];	/* "" if genesis */
	/* By the key it replaces, when ENDORSED; else endorsement_len 0. */
	uint8_t		endorsement[STORE_ENDORSEMENT_MAX];
	size_t		endorsement_len;
};
/* STORE_EXISTS if the key ID is taken. */
int	store_signkey_add(struct store_txn *, const struct store_signkey *);
int	store_signkey_update(struct store_txn *, const struct store_signkey *);
int	store_signkey_get(struct store_txn *, const char *key_id,
	    struct store_signkey *);
/* The key that signs now (valid_to_ms 0); STORE_NOTFOUND if none. */
int	store_signkey_active(struct store_txn *, struct store_signkey *);
typedef int	(*store_signkey_fn)(const struct store_signkey *, void *arg);
int	store_signkey_each(struct store_txn *, store_signkey_fn, void *arg);

/*
 * Recording cadence: the least time between two deltas of a customer, in
 * ms (0: unlimited), set for a tenant+env (customer_id "") and overridden
 * per customer.
 */
int	store_cadence_put(struct store_txn *, const char *tenant,
	    enum store_env, const char *customer_id, uint64_t interval_ms);
/* The customer's cadence, else the tenant's, else 0; *own if its own. */
int	store_cadence_get(struct store_txn *, const char *tenant,
	    enum store_env, const char *customer_id, uint64_t *interval_ms,
	    int *own);
/* Calls fn for each setting of tenant+env ("" first), until non-zero. */
typedef int	(*store_cadence_fn)(const char *customer_id,
		    uint64_t interval_ms, void *arg);
int	store_cadence_each(struct store_txn *, const char *tenant,
	    enum store_env, store_cadence_fn, void *arg);

/*
 * Checkpoints: signed locks of one customer's month (SPEC 3.6, 4.4).
 * Indexed by customer and month, by tenant, and by proof root, each
 * newest first; they are never changed once added.
 */
#define STORE_STATEMENT_MAX	2048
#define STORE_SIG_MAX		512
struct store_checkpoint {
	char		id[STORE_ID_MAX + 1];
	char		tenant[STORE_TENANT_MAX + 1];
	enum store_env	env;
	char		customer_id[STORE_CUSTOMER_MAX + 1];
	int		month;
	uint64_t	first_seq;	/* the covered run of seqs: */
	uint64_t	last_seq;	/* empty when last_seq < first_seq */
	uint64_t	through_seq;	/* every seq up to it is behind it */
	uint64_t	count;
	int		version;	/* of the statement: 1 month, 2 run */
	uint8_t		salt[STORE_HASH_LEN];	/* version 2: fresh, random */
	__int128	starting, net;	/* nano-units */
	uint8_t		proof_root[STORE_HASH_LEN];
	char		previous[STORE_ID_MAX + 1];	/* "" if none */
	uint64_t	tree_size;
	uint8_t		root_hash[STORE_HASH_LEN];
	char		key_id[STORE_KEYID_MAX + 1];
	char		alg[STORE_ALG_MAX + 1];
	int64_t		created_ms;
	char		statement[STORE_STATEMENT_MAX];	/* the signed bytes */
	uint8_t		sig[STORE_SIG_MAX];
	size_t		sig_len;
};
/* STORE_EXISTS if the id is taken. */
int	store_checkpoint_add(struct store_txn *, const struct store_checkpoint *);
int	store_checkpoint_get(struct store_txn *, const char *id,
	    struct store_checkpoint *);
/* The newest checkpoint with this proof root. */
int	store_checkpoint_by_root(struct store_txn *,
	    const uint8_t root[STORE_HASH_LEN], struct store_checkpoint *);
/* The customer's newest checkpoint of a month up to month (inclusive). */
int	store_checkpoint_latest(struct store_txn *, const char *tenant,
	    enum store_env, const char *customer_id, int month,
	    struct store_checkpoint *);
/*
 * Calls fn for the checkpoints of one customer (customer_id not NULL) or
 * of a whole tenant+env, newest first, until fn returns non-zero.
 */
typedef int	(*store_checkpoint_fn)(const struct store_checkpoint *,
		    void *arg);
int	store_checkpoint_each(struct store_txn *, const char *tenant,
	    enum store_env, const char *customer_id, store_checkpoint_fn,
	    void *arg);
/*
 * The checkpoints of tenant+env, newest first, from the one at position
 * from on (inclusive; 0: the newest), until fn returns non-zero.  fn is
 * told each one's position, for a reader that commits and opens its
 * read every chunk to resume at without listing again what it read.
 * Checkpoints added meanwhile come before every position already told.
 */
typedef int	(*store_checkpoint_at_fn)(const struct store_checkpoint *,
		    uint64_t at, void *arg);
int	store_checkpoint_each_from(struct store_txn *, const char *tenant,
	    enum store_env, uint64_t from, store_checkpoint_at_fn, void *arg);

/*
 * Webhooks (SPEC 5): endpoints per tenant+env, and the outbox.  An event
 * is written once per endpoint, in the transaction of the state change
 * it reports, with the exact body every attempt sends; it is kept with
 * its delivery state and listed newest first per tenant+env.
 */
#define STORE_URL_MAX		2048
#define STORE_WHSEC_MAX		80	/* "whsec_" and 64 hex digits */
#define STORE_EVENT_NAME_MAX	31
#define STORE_EVENT_ERROR_MAX	160
#define STORE_EVENT_BODY_MAX	(32 * 1024)

struct store_webhook {
	char		id[STORE_ID_MAX + 1];		/* whk_... */
	char		tenant[STORE_TENANT_MAX + 1];
	enum store_env	env;
	char		url[STORE_URL_MAX + 1];
	char		secret[STORE_WHSEC_MAX + 1];
	/* The secret before the last rotation, still signing until then. */
	char		old_secret[STORE_WHSEC_MAX + 1];
	int64_t		old_until_ms;
	int64_t		created_ms;
};
/* STORE_EXISTS if the id is taken. */
int	store_webhook_add(struct store_txn *, const struct store_webhook *);
int	store_webhook_update(struct store_txn *, const struct store_webhook *);
int	store_webhook_get(struct store_txn *, const char *id,
	    struct store_webhook *);
int	store_webhook_delete(struct store_txn *, const char *id);
/* Calls fn for every endpoint, by id, until fn returns non-zero. */
typedef int	(*store_webhook_fn)(const struct store_webhook *, void *arg);
int	store_webhook_each(struct store_txn *, store_webhook_fn, void *arg);

enum store_event_status {
	STORE_EVENT_QUEUED = 0,		/* waiting for its next attempt */
	STORE_EVENT_DELIVERED = 1,	/* the receiver answered 2xx */
	STORE_EVENT_FAILED = 2		/* every attempt failed */
};

struct store_event {
	char			 id[STORE_ID_MAX + 1];	/* evt_... */
	char			 tenant[STORE_TENANT_MAX + 1];
	enum store_env		 env;
	char			 webhook_id[STORE_ID_MAX + 1];
	char			 url[STORE_URL_MAX + 1];
	char			 name[STORE_EVENT_NAME_MAX + 1];
	enum store_event_status	 status;
	uint64_t		 attempts;	/* made in all */
	uint64_t		 retry_base;	/* attempts before a manual retry */
	int			 last_code;	/* HTTP status, 0: none */
	char			 last_error[STORE_EVENT_ERROR_MAX + 1];
	int64_t			 created_ms;
	int64_t			 next_ms;	/* next attempt, if QUEUED */
	int64_t			 done_ms;	/* delivered or given up */
	char			*body;		/* owned */
	size_t			 body_len;
};
void	store_event_free(struct store_event *);
/* STORE_EXISTS if the id is taken. */
int	store_event_add(struct store_txn *, const struct store_event *);
/* Rewrites the event's delivery state (and its place in the due queue). */
int	store_event_update(struct store_txn *, const struct store_event *);
int	store_event_get(struct store_txn *, const char *id,
	    struct store_event *);
/*
 * Calls fn for the queued events due by now_ms, soonest first, until fn
 * returns non-zero; fn gets each event's id.
 */
typedef int	(*store_event_id_fn)(const char *id, void *arg);
int	store_event_due(struct store_txn *, int64_t now_ms,
	    store_event_id_fn fn, void *arg);
/* The time of the soonest queued event; STORE_NOTFOUND if none. */
int	store_event_next(struct store_txn *, int64_t *next_ms);
/* Calls fn for tenant+env's events, newest first, until non-zero. */
typedef int	(*store_event_fn)(const struct store_event *, void *arg);
int	store_event_each(struct store_txn *, const char *tenant,
	    enum store_env, store_event_fn fn, void *arg);

/*
 * The Shared Record (SPEC 8): a share binds a customer to a link handle
 * and an access code, of which only an HMAC under a per-share key is
 * kept.  The store knows nothing of what a policy means; it keeps the
 * record, the count of wrong codes in a row and when the next try is
 * allowed, and an index from the customer to its live share.
 */
#define STORE_SHARE_HANDLE_MAX	31	/* "s" and 26 base32 digits */
#define STORE_SHARE_KEY_LEN	32
struct store_share {
	char		handle[STORE_SHARE_HANDLE_MAX + 1];
	char		tenant[STORE_TENANT_MAX + 1];
	enum store_env	env;
	char		customer_id[STORE_CUSTOMER_MAX + 1];
	uint8_t		policy;		/* core/share.h's enum share_policy */
	uint8_t		code_key[STORE_SHARE_KEY_LEN];	/* random, per share */
	uint8_t		code_mac[STORE_HASH_LEN];	/* HMAC of the code */
	int64_t		created_ms;
	int64_t		code_rotated_ms;
	int64_t		revoked_ms;	/* 0 while the link is live */
	uint64_t	wrong;		/* wrong codes in a row */
	int64_t		next_try_ms;	/* no code is checked before it */
};
/*
 * Adds a new share and makes it its customer's live share: STORE_EXISTS
 * if the handle is taken or the customer has a live share already.
 */
int	store_share_add(struct store_txn *, const struct store_share *);
/*
 * Rewrites an existing share; a revoked one (revoked_ms set) stops being
 * its customer's live share.
 */
int	store_share_update(struct store_txn *, const struct store_share *);
int	store_share_get(struct store_txn *, const char *handle,
	    struct store_share *);
/* The customer's live share; STORE_NOTFOUND if it has none. */
int	store_share_find(struct store_txn *, const char *tenant,
	    enum store_env, const char *customer_id, struct store_share *);

#endif
