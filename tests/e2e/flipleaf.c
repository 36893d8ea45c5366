/*
 * flipleaf DATA_DIR INDEX: corrupts the store on purpose, for the test
 * that `tallyctl verify` finds it.  It opens the Berkeley DB environment
 * directly, past every Tally API, and flips one byte inside the leaf
 * data of the delta at INDEX: the first digit of its createdAt year.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <db.h>

static const char marker[] = "{\"createdAt\":\"";

static void
die(const char *what, int rc)
{
	fprintf(stderr, "flipleaf: %s: %s\n", what, db_strerror(rc));
	exit(1);
}

int
main(int argc, char *argv[])
{
	DB_ENV		*env;
	DB		*db;
	DB_TXN		*txn;
	DBT		 k, v;
	unsigned char	 key[8], *p, *hit = NULL;
	unsigned long long index;
	int		 i, rc;

	if (argc != 3) {
		fprintf(stderr, "usage: flipleaf DATA_DIR INDEX\n");
		return 2;
	}
	index = strtoull(argv[2], NULL, 10);
	for (i = 7; i >= 0; i--, index >>= 8)
		key[i] = (unsigned char)index;
	if ((rc = db_env_create(&env, 0)) != 0 ||
	    (rc = env->open(env, argv[1], DB_INIT_LOCK | DB_INIT_LOG |
	    DB_INIT_MPOOL | DB_INIT_TXN | DB_RECOVER | DB_REGISTER |
	    DB_CREATE, 0600)) != 0)
		die("open environment", rc);
	if ((rc = db_create(&db, env, 0)) != 0 ||
	    (rc = db->open(db, NULL, "deltas.db", NULL, DB_BTREE,
	    DB_AUTO_COMMIT, 0)) != 0)
		die("open deltas.db", rc);
	if ((rc = env->txn_begin(env, NULL, &txn, 0)) != 0)
		die("begin", rc);
	memset(&k, 0, sizeof(k));
	memset(&v, 0, sizeof(v));
	k.data = key;
	k.size = sizeof(key);
	v.flags = DB_DBT_MALLOC;
	if ((rc = db->get(db, txn, &k, &v, DB_RMW)) != 0)
		die("get", rc);
	/* The leaf is the record's last field: take the last marker. */
	for (p = v.data; p + sizeof(marker) <= (unsigned char *)v.data +
	    v.size; p++)
		if (memcmp(p, marker, sizeof(marker) - 1) == 0)
			hit = p + sizeof(marker) - 1;
	if (hit == NULL) {
		fprintf(stderr, "flipleaf: no leaf data in that record\n");
		return 1;
	}
	*hit ^= 0x01;
	if ((rc = db->put(db, txn, &k, &v, 0)) != 0)
		die("put", rc);
	if ((rc = txn->commit(txn, 0)) != 0)
		die("commit", rc);
	free(v.data);
	db->close(db, 0);
	env->close(env, 0);
	printf("flipped one byte of leaf %s\n", argv[2]);
	return 0;
}
