/*
 * Hot backups, made the way db_hotbackup makes them: a sync (a Berkeley DB
 * checkpoint), a copy of every database, then of every log file, then
 * catastrophic recovery of the copy.  The databases are copied page by
 * page while writers go on, so the copy holds pages of different moments;
 * recovery replays the copied log over them up to its end, which makes
 * them one moment again.
 */
#include "internal.h"

/*
 * Replays every log file of the copy over its databases, then drops the
 * log files it no longer needs.  DB_PRIVATE: no region files are left in
 * the copy, and no other process can join this environment.
 */
static int
store_backup_recover(const char *target)
{
	DB_ENV	*env = NULL;
	int	 rc;

	if ((rc = db_env_create(&env, 0)) != 0)
		return store_rc(rc);
	env->set_errcall(env, store_errcall);
	rc = env->open(env, target, DB_CREATE | DB_INIT_LOCK | DB_INIT_LOG |
	    DB_INIT_MPOOL | DB_INIT_TXN | DB_PRIVATE | DB_RECOVER_FATAL, 0600);
	if (rc == 0)
		rc = env->log_archive(env, NULL, DB_ARCH_REMOVE);
	/* Needed after a failed open too, to free the handle. */
	env->close(env, 0);
	return store_rc(rc);
}

int
store_backup(struct store *st, const char *target)
{
	DB_ENV	*env = st->env;
	int	 rc, removed;

	/*
	 * Recovery of the copy needs the log from the sync below on, but a
	 * log switch in any process removes the files from before its last
	 * sync (DB_LOG_AUTO_REMOVE), and tallyd syncs every 30 s.  The
	 * setting is the shared environment's: turned off here, every
	 * process keeps its log files until it is on again (or, should this
	 * process die first, until the next recovery).
	 */
	if ((rc = env->log_set_config(env, DB_LOG_AUTO_REMOVE, 0)) != 0)
		return store_rc(rc);
	if ((rc = env->txn_checkpoint(env, 0, 0, DB_FORCE)) == 0)
		rc = env->backup(env, target, DB_EXCL);
	env->log_set_config(env, DB_LOG_AUTO_REMOVE, 1);
	if (rc != 0)
		return store_rc(rc);
	/*
	 * The copy's search.db, copied page by page while the indexer
	 * wrote it, has no log records to be made one moment again
	 * (store.c, store_search_unlogged): it is left out, and the
	 * indexer of the copy, once restored, builds its own.
	 */
	if ((rc = store_search_remove(target, &removed)) != STORE_OK)
		return rc;
	return store_backup_recover(target);
}
