#include <sys/file.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../common/log.h"
#include "internal.h"
#include "pack.h"

#define STORE_RETRIES	16	/* deadlock retries before STORE_CONFLICT */
#define STORE_LOCKS	100000	/* locks and locked objects, at most */
#define STORE_LOCKS_INIT 10000	/* ... made at start; more as needed */
#define STORE_LOCK_HASH	16384	/* buckets of the locked objects */
#define STORE_ENV_LOCK	"env.lock"	/* see store_env_lock */
#define STORE_BOOT_ID	"/proc/sys/kernel/random/boot_id"
#define STORE_BOOT_LEN	36		/* a UUID, as the kernel writes it */

static const char *const store_files[STORE_DB_COUNT] = {
	"tenants.db",
	"keys.db",
	"meta.db",
	"deltas.db",
	"records.db",
	"customers.db",
	"custlog.db",
	"idempotency.db",
	"tree.db",
	"leaves.db",
	"sth.db",
	"signkeys.db",
	"months.db",
	"usage.db",
	"quotas.db",
	"checkpoints.db",
	"chkcust.db",
	"chktenant.db",
	"chkroot.db",
	"cadence.db",
	"webhooks.db",
	"events.db",
	"evdue.db",
	"evlist.db",
	"custgrams.db",
	"shares.db",
	"sharecust.db",
	"tiles.db",
	"leafruns.db",
};

const char *
store_strerror(int rc)
{
	switch (rc) {
	case STORE_OK:		return "ok";
	case STORE_NOTFOUND:	return "not found";
	case STORE_EXISTS:	return "already exists";
	case STORE_CONFLICT:	return "too many conflicting transactions";
	case STORE_NOMEM:	return "out of memory";
	case STORE_CORRUPT:	return "stored record is corrupt";
	case STORE_IO:		return "storage failure";
	case STORE_RECOVER:	return "storage needs recovery";
	case STORE_NOTINIT:	return "data directory not initialised "
				    "(run tallyctl init)";
	case STORE_NEWER:	return "data directory written by a newer "
				    "Tally: install that version or later";
	case STORE_NOTMASTER:	return "this node is a replica (or its "
				    "tallyd is not running): writes go to "
				    "the master";
	case STORE_UNACKED:	return "the replication group did not "
				    "acknowledge the write";
	default:		return "unknown store error";
	}
}

int
store_rc(int dbrc)
{
	switch (dbrc) {
	case 0:			return STORE_OK;
	case DB_NOTFOUND:
	case DB_KEYEMPTY:	return STORE_NOTFOUND;
	case DB_KEYEXIST:	return STORE_EXISTS;
	case DB_LOCK_DEADLOCK:
	case DB_LOCK_NOTGRANTED: return STORE_CONFLICT;
	case ENOMEM:		return STORE_NOMEM;
	case DB_RUNRECOVERY:
	case DB_REP_HANDLE_DEAD: return STORE_RECOVER;
	case EACCES:		/* a put on a replica */
	case DB_REP_LOCKOUT:
	case DB_REP_UNAVAIL:
	case DB_REP_LEASE_EXPIRED: return STORE_NOTMASTER;
	default:		return STORE_IO;
	}
}

void
store_errcall(const DB_ENV *env, const char *prefix, const char *msg)
{
	const struct store	*st = env->app_private;

	(void)prefix;
	/*
	 * A master sending a new replica the databases tries every file
	 * of the data directory, Tally's own lock files too, and says so.
	 */
	if (strstr(msg, "fop_read_meta") != NULL &&
	    strstr(msg, ".lock: unexpected file type") != NULL)
		return;
	/* Expected, and said as such: store_env_create_repl. */
	if (st != NULL && st->joining && strstr(msg, "BDB1540") != NULL)
		return;
	log_error("store: %s", msg);
}

/*
 * Marks the store panicked; the first to see it runs the hook, so the
 * program acts on a panic once however many threads fail at once.
 */
static void
store_panic_note(struct store *st)
{
	if (__atomic_exchange_n(&st->panicked, 1, __ATOMIC_ACQ_REL) == 0 &&
	    st->panic_fn != NULL)
		st->panic_fn(st->panic_arg);
}

/* rc as is, noting a panic it reports. */
static int
store_seen(struct store *st, int rc)
{
	if (rc == STORE_RECOVER)
		store_panic_note(st);
	return rc;
}

/*
 * Berkeley DB's events: a panic (DB_EVENT_REG_PANIC when DB_REGISTER
 * found a dead process and recovery runs under this one) is reported to
 * the thread whose call first met it; replication's go to store/repl.c.
 */
static void
store_event(DB_ENV *env, u_int32_t event, void *info)
{
	(void)info;
	if (event == DB_EVENT_PANIC || event == DB_EVENT_REG_PANIC)
		store_panic_note(env->app_private);
	else
		store_repl_event(env->app_private, event);
}

int
store_panicked(struct store *st)
{
	u_int32_t	flags = 0;
	int		dbrc;

	if (__atomic_load_n(&st->panicked, __ATOMIC_ACQUIRE))
		return 1;
	/*
	 * Another process's recovery marks the shared region before any
	 * call of ours fails: an idle process learns of it here.  The call
	 * checks the region, fails with DB_RUNRECOVERY and raises the
	 * panic event (store_event) when it is marked.
	 */
	dbrc = st->env->get_flags(st->env, &flags);
	if (dbrc == DB_RUNRECOVERY || (dbrc == 0 &&
	    (flags & DB_PANIC_ENVIRONMENT)))
		store_panic_note(st);
	return __atomic_load_n(&st->panicked, __ATOMIC_ACQUIRE);
}

void
store_on_panic(struct store *st, void (*fn)(void *), void *arg)
{
	st->panic_fn = fn;
	st->panic_arg = arg;
	if (__atomic_load_n(&st->panicked, __ATOMIC_ACQUIRE))
		fn(arg);
}

/*
 * The page size a database is made with; Berkeley DB keeps it for the
 * life of the file, so a data directory made before keeps its own.
 *
 * The log's databases take every delta at once: the deltas and their
 * recordIds appended, a new customer's totals, position, month and
 * referenceId put at random places, and behind them the search index's
 * trigrams and the leaf hashes.  On 4 KiB pages (the file system's, the
 * default) a page holds few deltas, so every few appends split a page
 * and allocated another, and the random trees had a level more.  On 16
 * KiB pages tallyd spent 113 µs of CPU per delta of a batch, all threads
 * with the indexer caught up, against 144 on 4 KiB (four runs each,
 * alternated); 64 KiB measured between the two.  Every step of make
 * bench took less CPU (emit, derive, proofs, verify too).  The other
 * databases are small or rarely written: they keep the default.
 *
 * A full tile, 511 hashes (16,352 bytes), fills one overflow page of
 * 16 KiB (16,358 bytes after its header), and the leaf pages keep only
 * keys and page numbers: a proof reads a tile's 16 KiB, where on 64 KiB
 * pages, two or three tiles a page, it read the whole page, rarely in
 * the cache at 1M leaves.  On 4 KiB pages a tile would be a chain of
 * five.  A tiles.db made on 64 KiB pages (format 3 before 2026-12-05)
 * reads the same.
 */
static uint32_t
store_page_size(int which)
{
	switch (which) {
	case STORE_DB_DELTAS:
	case STORE_DB_RECORDS:
	case STORE_DB_CUSTOMERS:
	case STORE_DB_CUSTLOG:
	case STORE_DB_IDEMPOTENCY:
	case STORE_DB_LEAVES:
	case STORE_DB_MONTHS:
	case STORE_DB_CUSTGRAMS:
	case STORE_DB_TILES:
	case STORE_DB_LEAFRUNS:
		return 16384;
	default:
		return 0;	/* the file system's block size */
	}
}

/*
 * The customer search index (search.c) is made from the log, and a store
 * of its own keeps it out of the log: search.db, written without log
 * records (DB_TXN_NOT_DURABLE).  Their puts, checksums and the log's
 * lock, shared with the writer, were 40% of the indexer's time under a
 * load of new customers.  Recovery cannot mend a file it has no records
 * of, so after any recovery search.db is removed (store_env_made) and
 * made again by the indexer (core/indexer.c).  In a group only the log
 * reaches the replicas: there it stays custgrams.db, logged.
 */
static int
store_search_unlogged(const struct store *st, int which)
{
	return which == STORE_DB_CUSTGRAMS && st->repl == NULL;
}

int
store_search_remove(const char *dir, int *removed)
{
	char	path[1024];

	snprintf(path, sizeof(path), "%s/%s", dir, STORE_SEARCH_FILE);
	*removed = unlink(path) == 0;
	if (*removed || errno == ENOENT)
		return STORE_OK;
	log_error("store: %s: %s", path, strerror(errno));
	return STORE_IO;
}

static const char *
store_file(const struct store *st, int which)
{
	return store_search_unlogged(st, which) ? STORE_SEARCH_FILE :
	    store_files[which];
}

/*
 * What a group still forming answers an open (store_repl_start tries
 * again): the master's reads fail until a majority grants it leases, a
 * replica caught up with the log can be ahead of the master's creating a
 * database, and either may meet the other's handle locks.
 */
static int
store_open_early(const struct store *st, int dbrc, int create)
{
	if (st->repl == NULL)
		return 0;
	return dbrc == DB_REP_LEASE_EXPIRED || dbrc == DB_REP_LOCKOUT ||
	    dbrc == DB_LOCK_DEADLOCK || (dbrc == ENOENT && !create);
}

/* A replica opens what the master made: create is for the master. */
int
store_open_dbs(struct store *st, int create)
{
	int	i, rc;

	for (i = 0; i < STORE_DB_COUNT; i++) {
		if ((rc = db_create(&st->db[i], st->env, 0)) != 0)
			return store_rc(rc);
		if (store_page_size(i) != 0 && (rc = st->db[i]->set_pagesize(
		    st->db[i], store_page_size(i))) != 0)
			return store_rc(rc);
		if (store_search_unlogged(st, i) && (rc = st->db[i]->set_flags(
		    st->db[i], DB_TXN_NOT_DURABLE)) != 0)
			return store_rc(rc);
		rc = st->db[i]->open(st->db[i], NULL, store_file(st, i), NULL,
		    DB_BTREE, (create ? DB_CREATE : 0) | DB_AUTO_COMMIT |
		    DB_THREAD, 0600);
		if (rc != 0 && store_open_early(st, rc, create))
			return STORE_EARLY;
		if (rc != 0) {
			log_error("store: open %s: %s", store_file(st, i),
			    db_strerror(rc));
			return store_rc(rc);
		}
	}
	return STORE_OK;
}

void
store_close_dbs(struct store *st, u_int32_t flags)
{
	int	i;

	for (i = 0; i < STORE_DB_COUNT; i++)
		if (st->db[i] != NULL) {
			st->db[i]->close(st->db[i], flags);
			st->db[i] = NULL;
		}
}

/*
 * DB_REGISTER has a race of its own: an opener reads a process's slot in
 * __db.register, then tries the slot's lock; a process closing between
 * the two empties its slot and lets go of the lock, and the opener takes
 * it for a process that died: it runs recovery, which panics every live
 * process of the environment.  Six tallyctl run in loops at once met it
 * within seconds, as did CGI processes under concurrent writes.  So an
 * open of the environment holds STORE_ENV_LOCK exclusively and a close
 * holds it shared: nobody reads the register while anyone leaves it.  A
 * process killed holding it lets go (flock), and its slot still says it
 * died.
 */
/* flock(2), again when a signal interrupted it. */
static int
store_flock(int fd, int how)
{
	int	rc;

	while ((rc = flock(fd, how)) < 0 && errno == EINTR)
		continue;
	return rc;
}

static int
store_env_lock(struct store *st, const char *dir, int how)
{
	char	path[1024];

	if (st->envlock < 0) {
		snprintf(path, sizeof(path), "%s/%s", dir, STORE_ENV_LOCK);
		st->envlock = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
		if (st->envlock < 0) {
			log_error("store: %s: %s", path, strerror(errno));
			return STORE_IO;
		}
	}
	if (store_flock(st->envlock, how) < 0) {
		log_error("store: %s/%s: %s", dir, STORE_ENV_LOCK,
		    strerror(errno));
		return STORE_IO;
	}
	return STORE_OK;
}

/* Berkeley DB's word, during an open, that it recovers the environment. */
static void
store_feedback(DB_ENV *env, int opcode, int percent)
{
	struct store	*st = env->app_private;

	(void)percent;
	if (opcode == DB_RECOVER)
		st->recovered = 1;
}

/*
 * A handle on the environment in dir, as every Tally process sets it up;
 * under STORE_ENV_LOCK (store_env_open).
 */
static int
store_env_create(struct store *st, const char *dir, int cache_mb)
{
	int	rc;

	if ((rc = db_env_create(&st->env, 0)) != 0)
		return store_rc(rc);
	if (st->repl != NULL && (rc = store_repl_configure(st, st->env)) !=
	    STORE_OK)
		return rc;
	st->env->app_private = st;
	st->env->set_errcall(st->env, store_errcall);
	st->env->set_event_notify(st->env, store_event);
	st->env->set_feedback(st->env, store_feedback);
	st->env->set_cachesize(st->env, 0, (u_int32_t)cache_mb << 20, 1);
	st->env->set_lk_detect(st->env, DB_LOCK_DEFAULT);
	/*
	 * A group commit of 8192 deltas, or an integration of as many
	 * leaves, locks a few thousand pages in one transaction; the
	 * defaults (1000) are far too small for that.  Only the initial
	 * locks are made, and so resident, at start: the whole table is
	 * ~18 MiB, and the bench's peak is ~5,000.
	 */
	st->env->set_lk_max_locks(st->env, STORE_LOCKS);
	st->env->set_lk_max_objects(st->env, STORE_LOCKS);
	st->env->set_memory_init(st->env, DB_MEM_LOCK, STORE_LOCKS_INIT);
	st->env->set_memory_init(st->env, DB_MEM_LOCKOBJECT, STORE_LOCKS_INIT);
	st->env->set_lk_tablesize(st->env, STORE_LOCK_HASH);
	/*
	 * A commit larger than the log buffer writes it out early (write,
	 * not fsync): 1 MiB holds a group of ~500 deltas.
	 */
	st->env->set_lg_bsize(st->env, 1 << 20);
	st->env->log_set_config(st->env, DB_LOG_AUTO_REMOVE, 1);
	/*
	 * DB_REGISTER with DB_RECOVER runs recovery exactly when a process
	 * that had the environment open died without closing it, so tallyd
	 * and tallyctl can share it and a kill -9 heals at the next open.
	 * Commits are synchronous, or flushed by store_flush before anyone
	 * is told of them (store_write_deferred).
	 */
	rc = st->env->open(st->env, dir, DB_CREATE | DB_INIT_LOCK |
	    DB_INIT_LOG | DB_INIT_MPOOL | DB_INIT_TXN | DB_THREAD |
	    DB_RECOVER | DB_REGISTER | (st->repl != NULL ? DB_INIT_REP : 0),
	    0600);
	if (rc == EINVAL && st->joining)
		return STORE_INVAL;
	if (rc != 0) {
		log_error("store: open environment %s: %s", dir,
		    db_strerror(rc));
		return rc == EINVAL ? STORE_INVAL : store_rc(rc);
	}
	return STORE_OK;
}

/*
 * The first start of a node of a group finds the regions that tallyctl
 * made while it set the node up, without replication: Berkeley DB
 * refuses to join them with it (EINVAL), so they are made again, as
 * store_env_renew does, if nobody has them open.  That first refusal is
 * expected, and not logged as an error (st->joining); the second open's
 * is.
 */
static int
store_env_create_repl(struct store *st, const char *dir, int cache_mb)
{
	DB_ENV	*env = NULL;
	int	 rc;

	st->joining = st->repl != NULL;
	rc = store_env_create(st, dir, cache_mb);
	st->joining = 0;
	if (rc != STORE_INVAL || st->repl == NULL)
		return rc == STORE_INVAL ? STORE_IO : rc;
	st->env->close(st->env, 0);
	st->env = NULL;
	if (db_env_create(&env, 0) != 0 || env->remove(env, dir, 0) != 0) {
		log_error("store: %s: close every tallyctl using the data "
		    "directory, then start tallyd again", dir);
		return STORE_IO;
	}
	log_info("store: %s: environment made again for replication", dir);
	return store_env_create(st, dir, cache_mb);
}

/* This boot's id, or "" where the kernel does not say. */
static void
store_boot_id(char id[STORE_BOOT_LEN + 1])
{
	FILE	*fp;

	id[0] = '\0';
	if ((fp = fopen(STORE_BOOT_ID, "re")) == NULL)
		return;
	if (fread(id, 1, STORE_BOOT_LEN, fp) == STORE_BOOT_LEN)
		id[STORE_BOOT_LEN] = '\0';
	else
		id[0] = '\0';
	fclose(fp);
}

/*
 * The regions (__db.0*) are files in the data directory, and a process
 * that leaves without a flush (store_leave) leaves its changes to the
 * cache's pages there only; the log has every change, flushed at commit.
 * After the machine stopped (a power loss), those files hold whatever
 * the kernel had written of them, and if no process was inside at that
 * moment the register says nobody died: Berkeley DB would go on with
 * them as they are.  So STORE_ENV_LOCK keeps the boot in which the
 * environment was last opened, and the first open in another boot
 * removes the register, which makes Berkeley DB run recovery (it does
 * whenever it makes the register).  Called under the lock, exclusive:
 * nobody else is opening, and nobody of this boot is inside yet.
 */
static int
store_boot_check(struct store *st, const char *dir, const char *boot,
    int *new_boot)
{
	char	seen[STORE_BOOT_LEN], path[1024];

	*new_boot = 0;
	if (boot[0] == '\0' || (pread(st->envlock, seen, STORE_BOOT_LEN, 0) ==
	    STORE_BOOT_LEN && memcmp(seen, boot, STORE_BOOT_LEN) == 0))
		return STORE_OK;
	*new_boot = 1;
	snprintf(path, sizeof(path), "%s/__db.register", dir);
	if (unlink(path) < 0 && errno != ENOENT) {
		log_error("store: %s: %s", path, strerror(errno));
		return STORE_IO;
	}
	return STORE_OK;
}

/*
 * After the environment is made or joined, and before any database is
 * opened: search.db has no log records (store_search_unlogged), so a
 * recovery, which undid or redid every other file up to the log's end,
 * left it as the pages on disk were: a half-written step, or a page of
 * one step and its sibling of another.  It goes, to be made again.  A
 * group's node has no use for it.  Under STORE_ENV_LOCK, exclusive:
 * after a recovery, no live process has the file open in this region.
 */
static int
store_env_made(struct store *st, const char *dir)
{
	int	rc, removed;

	if (st->repl == NULL && !st->recovered)
		return STORE_OK;
	if ((rc = store_search_remove(dir, &removed)) == STORE_OK &&
	    removed && st->repl == NULL)
		log_info("store: %s: recovered; the customer search index is "
		    "made again", dir);
	return rc;
}

static int
store_env_open(struct store *st, const char *dir, int cache_mb)
{
	char	boot[STORE_BOOT_LEN + 1];
	int	rc, new_boot;

	store_boot_id(boot);
	if ((rc = store_env_lock(st, dir, LOCK_EX)) != STORE_OK)
		return rc;
	if ((rc = store_boot_check(st, dir, boot, &new_boot)) == STORE_OK &&
	    (rc = store_env_create_repl(st, dir, cache_mb)) == STORE_OK &&
	    (rc = store_env_made(st, dir)) == STORE_OK &&
	    new_boot && pwrite(st->envlock, boot, STORE_BOOT_LEN, 0) !=
	    STORE_BOOT_LEN) {
		log_error("store: %s/%s: %s", dir, STORE_ENV_LOCK,
		    strerror(errno));
		rc = STORE_IO;
	}
	(void)flock(st->envlock, LOCK_UN);
	return rc;
}

/* A cache's size as a handle reports it: set or, once open, the region's. */
static uint64_t
store_env_cache(DB_ENV *env)
{
	u_int32_t	gbytes = 0, bytes = 0;
	int		ncache = 0;

	if (env->get_cachesize(env, &gbytes, &bytes, &ncache) != 0)
		return 0;
	return (uint64_t)gbytes * (1ULL << 30) + bytes;
}

/*
 * Whether the open environment's regions were made with other settings
 * than ours.  Berkeley DB adds its overhead to a cache size as it is
 * set (a quarter, and more), so the size asked for is read back from a
 * handle of our own, never computed here; the region rounds that up a
 * little more (by pages), which a 1/64 margin leaves alone while a
 * change of cache_mb by 1 MiB (1.25 MiB asked) is still seen.
 */
static int
store_env_stale(struct store *st, int cache_mb)
{
	DB_ENV		*want = NULL;
	uint64_t	 cache, have;
	u_int32_t	 locks = 0;

	if (db_env_create(&want, 0) != 0)
		return 0;
	want->set_cachesize(want, 0, (u_int32_t)cache_mb << 20, 1);
	cache = store_env_cache(want);
	want->close(want, 0);
	if (st->env->get_lk_max_locks(st->env, &locks) != 0)
		return 0;
	have = store_env_cache(st->env);
	return have < cache || have > cache + cache / 64 ||
	    locks != STORE_LOCKS;
}

/*
 * Makes the environment's regions again, with the current settings: the
 * regions (__db.0*) are removed, never a database or a log file, and
 * only if no other process has them open, which DB_ENV->remove checks
 * (without DB_FORCE it refuses a region in use).  The environment was
 * opened, and so recovered, just before.
 */
static int
store_env_renew(struct store *st, const char *dir, int cache_mb)
{
	DB_ENV	*env = NULL;
	int	 rc;

	if ((rc = store_env_lock(st, dir, LOCK_EX)) != STORE_OK)
		return rc;
	/*
	 * A process that left without a flush (store_leave) left changed
	 * pages in the cache only, and no recovery follows a remove: they
	 * are written first.  For search.db, which has no log to be
	 * recovered from, they are the only copy.
	 */
	(void)st->env->txn_checkpoint(st->env, 0, 0, DB_FORCE);
	st->env->close(st->env, 0);
	st->env = NULL;
	if ((rc = db_env_create(&env, 0)) == 0) {
		/* remove frees the handle, whatever it returns. */
		rc = env->remove(env, dir, 0);
		if (rc == 0)
			log_info("store: %s: environment made again for "
			    "cache_mb = %d", dir, cache_mb);
		else
			log_warn("store: %s: cache_mb = %d applies at a start "
			    "with no other process using the data directory "
			    "(%s)", dir, cache_mb, db_strerror(rc));
	}
	if ((rc = store_env_create(st, dir, cache_mb)) == STORE_OK)
		rc = store_env_made(st, dir);
	(void)flock(st->envlock, LOCK_UN);
	return rc;
}

static const char	store_format_key[] = "format";

struct store_migration {
	const char			*dir;
	uint64_t			 format;	/* as last read */
	struct store_tree_migration	 tree;
};

static int
store_format_read(struct store_txn *t, uint64_t *format)
{
	int	rc;

	rc = store_kv_get_u64(t, STORE_DB_META, store_format_key,
	    sizeof(store_format_key) - 1, format);
	if (rc == STORE_NOTFOUND)
		*format = 1;
	return rc == STORE_NOTFOUND ? STORE_OK : rc;
}

static int
store_format_write(struct store_txn *t, struct store_migration *m,
    uint64_t format)
{
	log_info("store: %s: data format %llu -> %llu", m->dir,
	    (unsigned long long)m->format, (unsigned long long)format);
	m->format = format;
	return store_kv_put_u64(t, STORE_DB_META, store_format_key,
	    sizeof(store_format_key) - 1, format, 0);
}

/*
 * Refuses a newer directory.  1 -> 2: the Shared Record's databases are
 * made by store_open_dbs (DB_CREATE), as any database a format adds; the
 * record is all that is left to write.  Concurrent openers write the
 * same value.
 */
static int
store_migrate_txn(struct store_txn *t, void *arg)
{
	struct store_migration	*m = arg;
	int			 rc;

	if ((rc = store_format_read(t, &m->format)) != STORE_OK)
		return rc;
	if (m->format > STORE_FORMAT) {
		log_error("store: %s is in data format %llu, written by a "
		    "newer Tally; this one knows formats up to %d and will "
		    "not touch it", m->dir, (unsigned long long)m->format,
		    STORE_FORMAT);
		return STORE_NEWER;
	}
	return m->format == 1 ? store_format_write(t, m, 2) : STORE_OK;
}

/*
 * 2 -> 3, one transaction of it: the next STORE_MIGRATE_TILES tiles of
 * the signed tree, and after the last the record.  Until then format 2
 * stands and its node records with it, so a crash leaves a directory
 * that opens and migrates again; a head signed meanwhile (by a format 2
 * tallyd still running) starts the tiles over.
 */
static int
store_migrate_tiles_txn(struct store_txn *t, void *arg)
{
	struct store_migration	*m = arg;
	struct store_sth	 head;
	int			 rc;

	if ((rc = store_format_read(t, &m->format)) != STORE_OK ||
	    m->format >= 3)
		return rc;
	rc = store_sth_latest(t, &head);
	if (rc == STORE_NOTFOUND)
		head.size = 0;
	else if (rc != STORE_OK)
		return rc;
	if (head.size != m->tree.size) {
		memset(&m->tree, 0, sizeof(m->tree));
		m->tree.size = head.size;
	}
	if ((rc = store_tree_migrate(t, &m->tree)) != STORE_OK ||
	    m->tree.next_level < 8)
		return rc;
	return store_format_write(t, m, 3);
}

/* Format 3 on: what is left of format 2's nodes, a batch a call. */
static int
store_drop_nodes_txn(struct store_txn *t, void *arg)
{
	return store_tree_drop(t, arg);
}

/*
 * Format 3 on: what is left of format 2's nodes, in batches, and then
 * the emptied file's pages are given back to the file system.
 */
static int
store_drop_nodes(struct store *st)
{
	DB		*db = st->db[STORE_DB_TREE];
	unsigned	 dropped = STORE_DROP_NODES;
	uint64_t	 total = 0;
	int		 rc;

	while (dropped == STORE_DROP_NODES) {
		if ((rc = store_write(st, store_drop_nodes_txn, &dropped)) !=
		    STORE_OK)
			return rc;
		total += dropped;
	}
	if (total == 0)
		return STORE_OK;
	return store_seen(st, store_rc(db->compact(db, NULL, NULL, NULL, NULL,
	    DB_FREE_SPACE, NULL)));
}

/*
 * 3 -> 4, and at every open alone after: alone, the customer search index
 * is search.db, unlogged (store_search_unlogged), and its position alone
 * says what it covers.  A logged custgrams.db left by format 3, or by a
 * group the directory was a node of, goes: should the directory join a
 * group again, it would claim customers made since were indexed.  In the
 * transaction that records format 4, so that a release before, which
 * would take an empty custgrams.db for a built one, never opens the
 * directory without it.  A group's master keeps custgrams.db, its index
 * (open, so a remove would wait on itself).
 */
static int
store_logged_search_left(const struct store *st, const char *dir)
{
	char		path[1024];
	struct stat	sb;

	if (!store_search_unlogged(st, STORE_DB_CUSTGRAMS))
		return 0;
	snprintf(path, sizeof(path), "%s/%s", dir,
	    store_files[STORE_DB_CUSTGRAMS]);
	return stat(path, &sb) == 0;
}

static int
store_unlog_search_txn(struct store_txn *t, void *arg)
{
	struct store_migration	*m = arg;
	int			 rc;

	if ((rc = store_format_read(t, &m->format)) != STORE_OK)
		return rc;
	if (store_logged_search_left(t->st, m->dir) &&
	    (rc = t->st->env->dbremove(t->st->env, t->txn,
	    store_files[STORE_DB_CUSTGRAMS], NULL, 0)) != 0) {
		log_error("store: %s: remove %s: %s", m->dir,
		    store_files[STORE_DB_CUSTGRAMS], db_strerror(rc));
		return store_rc(rc);
	}
	return m->format < 4 ? store_format_write(t, m, 4) : STORE_OK;
}

/*
 * 4 -> 5: the index's records are blocks, one a trigram and indexer step
 * (search.c), no longer one a trigram and customer.  Format 4's entries
 * go, with the position, in the transaction that records 5 (truncate,
 * not a remove: a group's master has its index open), and the indexer
 * builds the index again from the log's start.
 */
static int
store_search_blocks_txn(struct store_txn *t, void *arg)
{
	struct store_migration	*m = arg;
	DB			*db = t->st->db[STORE_DB_CUSTGRAMS];
	u_int32_t		 count;
	int			 rc;

	if ((rc = store_format_read(t, &m->format)) != STORE_OK ||
	    m->format >= 5)
		return rc;
	if ((rc = db->truncate(db, t->txn, &count, 0)) != 0) {
		log_error("store: %s: empty the search index: %s", m->dir,
		    db_strerror(rc));
		return store_rc(rc);
	}
	return store_format_write(t, m, 5);
}

/*
 * 5 -> 6: a customer's record keeps its latest month (customers.c).  A
 * record written before reads as it is and becomes the new one at its
 * customer's next delta, so there is nothing to convert: the format is
 * recorded for a release before, which would take the new records for
 * corrupt, to refuse the directory.
 */
static int
store_latest_month_txn(struct store_txn *t, void *arg)
{
	struct store_migration	*m = arg;
	int			 rc;

	if ((rc = store_format_read(t, &m->format)) != STORE_OK ||
	    m->format >= 6)
		return rc;
	return store_format_write(t, m, 6);
}

/*
 * 6 -> 7: the leaf hash index is sorted runs (leaves.c), from the next
 * leaf integrated on.  leaves.db keeps the leaves before, read as it is:
 * nothing to convert.  The format is recorded for a release before, which
 * would index new leaves in leaves.db alone and miss those in the runs,
 * to refuse the directory.
 */
static int
store_leaf_runs_txn(struct store_txn *t, void *arg)
{
	struct store_migration	*m = arg;
	int			 rc;

	if ((rc = store_format_read(t, &m->format)) != STORE_OK ||
	    m->format >= 7)
		return rc;
	return store_format_write(t, m, 7);
}

/* Brings an older directory to STORE_FORMAT, or refuses a newer one. */
static int
store_migrate(struct store *st, const char *dir)
{
	struct store_migration	m;
	int			rc;

	memset(&m, 0, sizeof(m));
	m.dir = dir;
	if ((rc = store_write(st, store_migrate_txn, &m)) != STORE_OK)
		return rc;
	while (m.format < 3) {
		if ((rc = store_write(st, store_migrate_tiles_txn, &m)) !=
		    STORE_OK)
			return rc;
		m.tree.level = m.tree.next_level;
		m.tree.index = m.tree.next_index;
	}
	if ((rc = store_drop_nodes(st)) != STORE_OK)
		return rc;
	if ((m.format < 4 || store_logged_search_left(st, dir)) &&
	    (rc = store_write(st, store_unlog_search_txn, &m)) != STORE_OK)
		return rc;
	if (m.format < 5 &&
	    (rc = store_write(st, store_search_blocks_txn, &m)) != STORE_OK)
		return rc;
	if (m.format < 6 &&
	    (rc = store_write(st, store_latest_month_txn, &m)) != STORE_OK)
		return rc;
	return m.format < 7 ? store_write(st, store_leaf_runs_txn, &m) :
	    STORE_OK;
}

/*
 * The databases, and for a process that may write them, what the
 * format asks for (a migration).
 */
int
store_open_finish(struct store *st, const char *dir, int writer)
{
	int	rc;

	if ((rc = store_open_dbs(st, writer)) != STORE_OK || !writer)
		return rc;
	return store_migrate(st, dir);
}

static int
store_open_with(struct store **out, const char *dir, int cache_mb,
    int flags, const struct conf_repl *repl)
{
	struct store	*st = NULL;
	char		 probe[1024];
	struct stat	 sb;
	int		 rc;

	*out = NULL;
	if (flags & (STORE_CREATE | STORE_SERVE)) {
		if (mkdir(dir, 0700) < 0 && errno != EEXIST) {
			log_error("store: mkdir %s: %s", dir, strerror(errno));
			return STORE_IO;
		}
	} else {
		snprintf(probe, sizeof(probe), "%s/%s", dir, store_files[0]);
		if (stat(probe, &sb) < 0)
			return STORE_NOTINIT;
	}

	if ((st = calloc(1, sizeof(*st))) == NULL)
		return STORE_NOMEM;
	st->envlock = -1;
	if (repl != NULL && (rc = store_repl_new(st, repl)) != STORE_OK)
		goto err;
	if ((rc = store_env_open(st, dir, cache_mb)) != STORE_OK)
		goto err;
	if (store_env_stale(st, cache_mb) &&
	    (rc = store_env_renew(st, dir, cache_mb)) != STORE_OK)
		goto err;
	if (repl == NULL)
		rc = store_open_finish(st, dir, 1);
	else if (!(flags & STORE_SERVE) &&
	    (rc = store_repl_probe(st, dir)) == STORE_OK &&
	    !(flags & STORE_ENV_ONLY) &&
	    (rc = store_open_finish(st, dir, 0)) == STORE_EARLY) {
		log_error("store: %s: the group is still forming: a database "
		    "is not there, or not readable, yet", dir);
		rc = STORE_IO;
	}
	if (rc != STORE_OK)
		goto err;
	*out = st;
	return STORE_OK;
err:
	store_close(st);
	return rc;
}

int
store_attach(struct store *st)
{
	return st->db[0] != NULL ? STORE_OK : store_open_dbs(st, 0);
}

int
store_open(struct store **out, const char *dir, int cache_mb, int flags)
{
	return store_open_with(out, dir, cache_mb, flags, NULL);
}

int
store_open_repl(struct store **out, const char *dir, int cache_mb,
    int flags, const struct conf_repl *repl)
{
	if (repl == NULL || repl->listen.port == 0 ||
	    (!(flags & STORE_SERVE) && !store_repl_joined(dir)))
		repl = NULL;
	return store_open_with(out, dir, cache_mb, flags, repl);
}

static void
store_close_with(struct store *st, u_int32_t flags)
{
	if (st == NULL)
		return;
	store_close_dbs(st, flags);
	if (st->env != NULL) {
		store_repl_close(st);
		/* Shared: see store_env_lock.  Closing the fd lets go. */
		if (st->envlock >= 0)
			(void)store_flock(st->envlock, LOCK_SH);
		st->env->close(st->env, 0);
	}
	if (st->envlock >= 0)
		close(st->envlock);
	store_repl_free(st);
	free(st);
}

void
store_close(struct store *st)
{
	store_close_with(st, 0);
}

/*
 * DB_NOSYNC: every change is in the log, flushed at its commit, so the
 * cache's dirty pages need not reach the files here; they stay in the
 * environment's region for the next process.  This saved a CGI process 29
 * fdatasyncs (issue 24).  Not for a process that goes on to read or move
 * the files outside the environment, as restore does.
 */
void
store_leave(struct store *st)
{
	store_close_with(st, DB_NOSYNC);
}

int
store_sync(struct store *st)
{
	return store_seen(st, store_rc(st->env->txn_checkpoint(st->env, 0, 0,
	    0)));
}

/* Sleeps a little longer after each lost deadlock, with jitter. */
static void
store_backoff(int attempt)
{
	struct timespec	ts;
	long		us;

	us = (long)(50 << (attempt < 8 ? attempt : 8));
	us += random() % (us + 1);
	ts.tv_sec = us / 1000000;
	ts.tv_nsec = (us % 1000000) * 1000;
	nanosleep(&ts, NULL);
}

/* How store_run ends a transaction whose callback succeeded. */
enum store_end {
	STORE_END_ABORT,	/* a reader: nothing to keep */
	STORE_END_SYNC,		/* commit; the log is on disk on return */
	STORE_END_DEFER		/* commit to the log buffer: store_flush */
};

static int
store_run(struct store *st, store_txn_fn fn, void *arg, enum store_end end,
    u_int32_t flags)
{
	struct store_txn	t;
	DB_TXN_TOKEN		token;
	int			attempt, rc = STORE_CONFLICT, dbrc;

	if (end != STORE_END_ABORT && (rc = store_repl_writable(st)) !=
	    STORE_OK)
		return rc;
	t.st = st;
	/*
	 * A writer that reads a record and then rewrites it must lock it
	 * for writing at the read, or two of them deadlock upgrading their
	 * read locks.  Read-committed writers only read what they never
	 * rewrite, and must not hold up others while they flush.
	 */
	t.get_flags = end != STORE_END_ABORT && !(flags & DB_READ_COMMITTED) ?
	    DB_RMW : 0;
	t.read_flags = st->repl != NULL ? DB_IGNORE_LEASE : 0;
	/* A group commit writes each aggregate once (store/cache.c). */
	t.cache = NULL;
	if (end == STORE_END_DEFER && (t.cache = store_cache_new()) == NULL)
		return STORE_NOMEM;
	for (attempt = 0; attempt < STORE_RETRIES; attempt++) {
		store_cache_reset(t.cache);
		if ((dbrc = st->env->txn_begin(st->env, NULL, &t.txn, flags)) !=
		    0) {
			rc = store_rc(dbrc);
			break;
		}
		rc = fn(&t, arg);
		if (rc == STORE_OK && t.cache != NULL)
			rc = store_cache_flush(&t);
		if (rc == STORE_OK && end != STORE_END_ABORT) {
			store_repl_before_commit(&t, &token);
			rc = store_rc(t.txn->commit(t.txn,
			    end == STORE_END_DEFER ? DB_TXN_NOSYNC : 0));
			if (rc == STORE_OK)
				rc = store_repl_after_commit(&t, &token);
		} else
			t.txn->abort(t.txn);
		if (rc != STORE_CONFLICT)
			break;
		store_backoff(attempt);
	}
	store_cache_free(t.cache);
	return store_seen(st, rc);
}

int
store_write(struct store *st, store_txn_fn fn, void *arg)
{
	return store_run(st, fn, arg, STORE_END_SYNC, 0);
}

int
store_write_deferred(struct store *st, store_txn_fn fn, void *arg)
{
	return store_run(st, fn, arg, STORE_END_DEFER, 0);
}

int
store_flush(struct store *st)
{
	return store_seen(st, store_rc(st->env->log_flush(st->env, NULL)));
}

int
store_read(struct store *st, store_txn_fn fn, void *arg)
{
	return store_run(st, fn, arg, STORE_END_ABORT, DB_READ_COMMITTED);
}

int
store_write_committed(struct store *st, store_txn_fn fn, void *arg)
{
	return store_run(st, fn, arg, STORE_END_SYNC, DB_READ_COMMITTED);
}

int
store_nested(struct store_txn *parent, store_txn_fn fn, void *arg)
{
	struct store_txn	child;
	int			rc, dbrc;

	child.st = parent->st;
	child.get_flags = parent->get_flags;
	child.read_flags = parent->read_flags;
	child.cache = parent->cache;
	if ((dbrc = parent->st->env->txn_begin(parent->st->env, parent->txn,
	    &child.txn, 0)) != 0)
		return store_rc(dbrc);
	if (child.cache != NULL)
		store_cache_begin(child.cache);
	if ((rc = fn(&child, arg)) == STORE_OK)
		rc = store_rc(child.txn->commit(child.txn, 0));
	else
		child.txn->abort(child.txn);
	if (child.cache != NULL)
		store_cache_end(child.cache, rc == STORE_OK);
	return rc;
}

static void
store_dbt(DBT *d, const void *data, size_t len)
{
	memset(d, 0, sizeof(*d));
	d->data = (void *)(uintptr_t)data;
	d->size = (u_int32_t)len;
}

int
store_put_packed(struct store_txn *t, enum store_db which, const char *key,
    struct pack *pk, int unique)
{
	int	rc;

	rc = pk->err ? STORE_NOMEM : store_kv_put(t, which, key, strlen(key),
	    pk->buf, pk->len, unique);
	pack_free(pk);
	return rc;
}

int
store_db_put(struct store_txn *t, enum store_db which, const void *key,
    size_t klen, const void *val, size_t vlen)
{
	DB	*db = t->st->db[which];
	DBT	 k, v;

	store_dbt(&k, key, klen);
	store_dbt(&v, val, vlen);
	return store_rc(db->put(db, t->txn, &k, &v, 0));
}

int
store_kv_put(struct store_txn *t, enum store_db which, const void *key,
    size_t klen, const void *val, size_t vlen, int unique)
{
	DB	*db = t->st->db[which];
	DBT	 k, v;

	if (t->cache != NULL && store_cache_holds(which) && !unique)
		return store_cache_put(t, which, key, klen, val, vlen);
	store_dbt(&k, key, klen);
	store_dbt(&v, val, vlen);
	return store_rc(db->put(db, t->txn, &k, &v,
	    unique ? DB_NOOVERWRITE : 0));
}

int
store_kv_del(struct store_txn *t, enum store_db which, const void *key,
    size_t klen)
{
	DB	*db = t->st->db[which];
	DBT	 k;

	store_dbt(&k, key, klen);
	return store_rc(db->del(db, t->txn, &k, 0));
}

int
store_db_get(struct store_txn *t, enum store_db which, const void *key,
    size_t klen, void **val, size_t *vlen)
{
	DB	*db = t->st->db[which];
	DBT	 k, v;
	int	 rc;

	store_dbt(&k, key, klen);
	memset(&v, 0, sizeof(v));
	v.flags = DB_DBT_MALLOC;
	if ((rc = store_rc(db->get(db, t->txn, &k, &v, t->get_flags |
	    t->read_flags))) != STORE_OK)
		return rc;
	*val = v.data;
	*vlen = v.size;
	return STORE_OK;
}

int
store_kv_get(struct store_txn *t, enum store_db which, const void *key,
    size_t klen, void **val, size_t *vlen)
{
	if (t->cache != NULL && store_cache_holds(which))
		return store_cache_get(t, which, key, klen, val, vlen);
	return store_db_get(t, which, key, klen, val, vlen);
}

int
store_kv_get_u64(struct store_txn *t, enum store_db which, const void *key,
    size_t klen, uint64_t *out)
{
	void	*val = NULL;
	size_t	 vlen;
	int	 rc;

	*out = 0;
	if ((rc = store_kv_get(t, which, key, klen, &val, &vlen)) != STORE_OK)
		return rc;
	rc = vlen == 8 ? STORE_OK : STORE_CORRUPT;
	if (rc == STORE_OK)
		*out = be64_get(val);
	free(val);
	return rc;
}

int
store_kv_put_u64(struct store_txn *t, enum store_db which, const void *key,
    size_t klen, uint64_t v, int unique)
{
	uint8_t	buf[8];

	be64_put(buf, v);
	return store_kv_put(t, which, key, klen, buf, sizeof(buf), unique);
}

/*
 * A cursor's key DBT (DB_DBT_REALLOC) starting as a copy of key: the
 * cursor may grow it, so it cannot point at the caller's memory.
 */
static int
store_dbt_copy(DBT *k, const void *key, size_t klen)
{
	if ((k->data = malloc(klen ? klen : 1)) == NULL)
		return STORE_NOMEM;
	memcpy(k->data, key, klen);
	k->size = (u_int32_t)klen;
	return STORE_OK;
}

int
store_kv_each(struct store_txn *t, enum store_db which, const void *from,
    size_t fromlen, store_kv_fn fn, void *arg)
{
	DB	*db = t->st->db[which];
	DBC	*cur = NULL;
	DBT	 k, v;
	u_int32_t op;
	int	 rc, dbrc;

	if ((dbrc = db->cursor(db, t->txn, &cur, 0)) != 0)
		return store_rc(dbrc);
	/* Handles opened with DB_THREAD need memory the caller owns. */
	memset(&k, 0, sizeof(k));
	memset(&v, 0, sizeof(v));
	k.flags = v.flags = DB_DBT_REALLOC;
	op = DB_NEXT;
	if (from != NULL) {
		if ((rc = store_dbt_copy(&k, from, fromlen)) != STORE_OK)
			goto out;
		op = DB_SET_RANGE;
	}
	for (;; op = DB_NEXT) {
		if ((dbrc = cur->get(cur, &k, &v, op | t->read_flags)) != 0) {
			rc = dbrc == DB_NOTFOUND ? STORE_OK : store_rc(dbrc);
			break;
		}
		if ((rc = fn(k.data, k.size, v.data, v.size, arg)) != 0)
			break;
	}
out:
	cur->close(cur);
	free(k.data);
	free(v.data);
	return rc;
}

/*
 * v's buffer for a bulk read, of at least size bytes: Berkeley DB wants a
 * multiple of 1024, and at least a page.
 */
static int
store_bulk_buffer(DB *db, DBT *v, size_t size)
{
	u_int32_t	page;
	void		*p;
	int		dbrc;

	if ((dbrc = db->get_pagesize(db, &page)) != 0)
		return store_rc(dbrc);
	if (size < page)
		size = page;
	if (size > UINT32_MAX - 1024)
		return STORE_NOMEM;
	size = (size + 1023) & ~(size_t)1023;
	if ((p = realloc(v->data, size)) == NULL)
		return STORE_NOMEM;
	v->data = p;
	v->ulen = (u_int32_t)size;
	v->flags = DB_DBT_USERMEM;
	return STORE_OK;
}

int
store_kv_each_bulk(struct store_txn *t, enum store_db which,
    const void *from, size_t fromlen, size_t size, store_kv_fn fn, void *arg)
{
	DB		*db = t->st->db[which];
	DBC		*cur = NULL;
	DBT		 k, v;
	void		*p, *kp, *vp;
	u_int32_t	 op, kl, vl;
	int		 rc, dbrc;

	if ((dbrc = db->cursor(db, t->txn, &cur, 0)) != 0)
		return store_rc(dbrc);
	memset(&k, 0, sizeof(k));
	memset(&v, 0, sizeof(v));
	k.flags = DB_DBT_REALLOC;
	op = DB_FIRST;
	if (from != NULL) {
		if ((rc = store_dbt_copy(&k, from, fromlen)) != STORE_OK)
			goto out;
		op = DB_SET_RANGE;
	}
	if ((rc = store_bulk_buffer(db, &v, size)) != STORE_OK)
		goto out;
	for (;;) {
		dbrc = cur->get(cur, &k, &v, op | DB_MULTIPLE_KEY |
		    t->read_flags);
		/*
		 * A record larger than the buffer: the cursor stayed put,
		 * and v.size says what it needs.
		 */
		if (dbrc == DB_BUFFER_SMALL) {
			if ((rc = store_bulk_buffer(db, &v, v.size > v.ulen ?
			    v.size : 2 * (size_t)v.ulen)) != STORE_OK)
				break;
			continue;
		}
		if (dbrc != 0) {
			rc = dbrc == DB_NOTFOUND ? STORE_OK : store_rc(dbrc);
			break;
		}
		DB_MULTIPLE_INIT(p, &v);
		for (rc = STORE_OK; rc == STORE_OK;) {
			DB_MULTIPLE_KEY_NEXT(p, &v, kp, kl, vp, vl);
			if (p == NULL)
				break;
			rc = fn(kp, kl, vp, vl, arg);
		}
		if (rc != STORE_OK)
			break;
		op = DB_NEXT;
	}
out:
	cur->close(cur);
	free(k.data);
	free(v.data);
	return rc;
}

/*
 * The walk is past the prefix.  Not STORE_STOP nor any callback's code,
 * which must come back to the caller as they are: one of the store's
 * own, between the two (store.h).
 */
enum { PREFIX_PAST = STORE_USER - 1 };

struct prefix_walk {
	const void	*prefix;
	size_t		 plen;
	store_kv_fn	 fn;
	void		*arg;
};

static int
store_prefix_record(const void *key, size_t klen, const void *val,
    size_t vlen, void *arg)
{
	struct prefix_walk	*pw = arg;

	if (klen < pw->plen || memcmp(key, pw->prefix, pw->plen) != 0)
		return PREFIX_PAST;
	return pw->fn(key, klen, val, vlen, pw->arg);
}

int
store_kv_each_prefix(struct store_txn *t, enum store_db which,
    const void *prefix, size_t plen, const void *from, size_t fromlen,
    store_kv_fn fn, void *arg)
{
	struct prefix_walk	pw = { prefix, plen, fn, arg };
	int			rc;

	if (from == NULL) {
		from = prefix;
		fromlen = plen;
	}
	rc = store_kv_each(t, which, from, fromlen, store_prefix_record, &pw);
	return rc == PREFIX_PAST ? STORE_OK : rc;
}

/*
 * What a cursor finds for key: with floor, the record with the greatest
 * key <= key; else the least key >= key, or with key NULL the last.
 */
static int
store_kv_find(struct store_txn *t, enum store_db which, const void *key,
    size_t klen, int floor, void **kout, size_t *klen_out, void **vout,
    size_t *vlen)
{
	DB	*db = t->st->db[which];
	DBC	*cur = NULL;
	DBT	 k, v;
	int	 rc, dbrc;

	*kout = *vout = NULL;
	if ((dbrc = db->cursor(db, t->txn, &cur, 0)) != 0)
		return store_rc(dbrc);
	memset(&k, 0, sizeof(k));
	memset(&v, 0, sizeof(v));
	k.flags = v.flags = DB_DBT_REALLOC;
	if (key != NULL && (rc = store_dbt_copy(&k, key, klen)) != STORE_OK)
		goto out;
	dbrc = cur->get(cur, &k, &v, (key ? DB_SET_RANGE : DB_LAST) |
	    t->read_flags);
	if (floor && dbrc == DB_NOTFOUND)
		dbrc = cur->get(cur, &k, &v, DB_LAST | t->read_flags);
	else if (floor && dbrc == 0 && (k.size != klen ||
	    memcmp(k.data, key, klen) != 0))
		dbrc = cur->get(cur, &k, &v, DB_PREV | t->read_flags);
	rc = store_rc(dbrc);
out:
	cur->close(cur);
	if (rc != STORE_OK) {
		free(k.data);
		free(v.data);
		return rc;
	}
	*kout = k.data;
	*klen_out = k.size;
	*vout = v.data;
	*vlen = v.size;
	return STORE_OK;
}

int
store_kv_seek(struct store_txn *t, enum store_db which, const void *key,
    size_t klen, void **kout, size_t *klen_out, void **vout, size_t *vlen)
{
	return store_kv_find(t, which, key, klen, 0, kout, klen_out, vout,
	    vlen);
}

int
store_kv_floor(struct store_txn *t, enum store_db which, const void *key,
    size_t klen, void **kout, size_t *klen_out, void **vout, size_t *vlen)
{
	return store_kv_find(t, which, key, klen, 1, kout, klen_out, vout,
	    vlen);
}

int
store_kv_less(struct store_txn *t, enum store_db which, const void *key,
    size_t klen, double *less)
{
	DB		*db = t->st->db[which];
	DB_KEY_RANGE	 kr;
	DBT		 k;
	int		 rc;

	store_dbt(&k, key, klen);
	if ((rc = store_rc(db->key_range(db, t->txn, &k, &kr, 0))) ==
	    STORE_OK)
		*less = kr.less;
	return rc;
}

int
store_kv_last_key(struct store_txn *t, enum store_db which, void *key,
    size_t size, size_t *klen)
{
	DB	*db = t->st->db[which];
	DBC	*cur = NULL;
	DBT	 k, v;
	int	 rc, dbrc;

	if ((dbrc = db->cursor(db, t->txn, &cur, 0)) != 0)
		return store_rc(dbrc);
	memset(&k, 0, sizeof(k));
	memset(&v, 0, sizeof(v));
	k.data = key;
	k.ulen = (u_int32_t)size;
	k.flags = DB_DBT_USERMEM;
	v.flags = DB_DBT_USERMEM | DB_DBT_PARTIAL;	/* 0 bytes of it */
	rc = store_rc(cur->get(cur, &k, &v, DB_LAST | t->get_flags |
	    t->read_flags));
	cur->close(cur);
	if (rc == STORE_OK)
		*klen = k.size;
	return rc;
}

int
store_kv_put_each(struct store_txn *t, enum store_db which,
    store_kv_next_fn next, void *arg)
{
	DB		*db = t->st->db[which];
	DBC		*cur = NULL;
	DBT		 k, v;
	const void	*key, *val;
	size_t		 klen, vlen;
	int		 rc, dbrc;

	if ((dbrc = db->cursor(db, t->txn, &cur, DB_CURSOR_BULK)) != 0)
		return store_rc(dbrc);
	while ((rc = next(&key, &klen, &val, &vlen, arg)) == STORE_OK) {
		store_dbt(&k, key, klen);
		store_dbt(&v, val, vlen);
		/* Without duplicates, DB_KEYLAST writes a key's value again. */
		if ((rc = store_rc(cur->put(cur, &k, &v, DB_KEYLAST))) !=
		    STORE_OK)
			break;
	}
	if (rc == STORE_STOP)
		rc = STORE_OK;
	if ((dbrc = cur->close(cur)) != 0 && rc == STORE_OK)
		rc = store_rc(dbrc);
	return rc;
}
