#include <sys/wait.h>

#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../common/timefmt.h"
#include "../crypto/merkle.h"
#include "../store/internal.h"	/* to write format 2's tree nodes */
#include "../store/pack.h"
#include "check.h"

static char		 dir[256];
static struct store	*st;

static void
setup(void)
{
	tmpdir_make(dir, sizeof(dir));
	ck_assert_int_eq(store_open(&st, dir, 4, STORE_CREATE), STORE_OK);
}

static void
teardown(void)
{
	store_close(st);
	st = NULL;
	tmpdir_remove(dir);
}

struct got_tenant {
	const char		*name;
	struct store_tenant	 tn;
};

static int
get_tenant(struct store_txn *t, void *arg)
{
	struct got_tenant	*g = arg;

	return store_tenant_get(t, g->name, &g->tn);
}

/*
 * A format 2 directory's tree: one node record per complete subtree,
 * under format 2's key, and the head of its size.  Its leaf hashes are
 * made up; no delta needs them.
 */
#define MIGRATE_LEAVES	20000	/* 79 level 0 tiles: two transactions */

struct v2tree {
	struct store_txn	*txn;
	merkle_hash		*leaves;
};

static int
v2_node(void *arg, unsigned level, uint64_t index, const merkle_hash hash)
{
	struct v2tree	*v = arg;
	uint8_t		 key[9];

	key[0] = (uint8_t)level;
	be64_put(key + 1, index);
	return store_kv_put(v->txn, STORE_DB_TREE, key, sizeof(key), hash,
	    MERKLE_HASH_LEN, 0);
}

static int
v2_write(struct store_txn *t, void *arg)
{
	struct v2tree		*v = arg;
	struct merkle_edge	 edge;
	struct store_sth	 head;
	merkle_hash		 junk;
	uint64_t		 i;
	int			 rc;

	v->txn = t;
	memset(&edge, 0, sizeof(edge));
	for (i = 0; i < MIGRATE_LEAVES; i++)
		if ((rc = merkle_edge_append(&edge, v->leaves[i], v2_node,
		    v)) != 0)
			return rc;
	memset(&head, 0, sizeof(head));
	head.size = MIGRATE_LEAVES;
	if (merkle_edge_root(&edge, head.root) != 0)
		return STORE_NOMEM;
	/* A tile of a migration a crash cut short, made again from 0. */
	memset(junk, 0xab, sizeof(junk));
	if ((rc = store_sth_add(t, &head)) != STORE_OK ||
	    (rc = store_tile_put(t, 0, 5, junk, 1)) != STORE_OK)
		return rc;
	return store_kv_put_u64(t, STORE_DB_META, "format", 6, 2, 0);
}

struct v3check {
	struct merkle_array	arr;
	int			mismatches, nodes_left;
};

static int
v3_node_left(const void *key, size_t klen, const void *val, size_t vlen,
    void *arg)
{
	(void)key;
	(void)klen;
	(void)val;
	(void)vlen;
	((struct v3check *)arg)->nodes_left++;
	return STORE_OK;
}

/* Every tile holds the nodes of level 8L the leaves make. */
static int
v3_read(struct store_txn *t, void *arg)
{
	struct v3check	*c = arg;
	merkle_hash	 got, want;
	uint64_t	 nodes, i;
	unsigned	 tl;
	int		 rc;

	c->mismatches = c->nodes_left = 0;
	for (tl = 0; tl < 3; tl++) {
		nodes = (uint64_t)MIGRATE_LEAVES >> (8 * tl);
		for (i = 0; i < nodes; i++) {
			if ((rc = store_tile_get(t, tl, i / 256, i % 256, 1,
			    got)) != STORE_OK)
				return rc;
			if (merkle_array_node(&c->arr, 8 * tl, i, want) != 0 ||
			    memcmp(got, want, sizeof(got)) != 0)
				c->mismatches++;
		}
		/* A full tile has its nodes up to its root, which is last. */
		if (nodes >= 256 && (store_tile_get(t, tl, 0, 510, 1, got) !=
		    STORE_OK || merkle_array_node(&c->arr, 8 * tl + 8, 0,
		    want) != 0 || memcmp(got, want, sizeof(got)) != 0 ||
		    store_tile_get(t, tl, 0, 300, 1, got) != STORE_OK ||
		    merkle_array_node(&c->arr, 8 * tl + 1, 300 - 256, want) !=
		    0 || memcmp(got, want, sizeof(got)) != 0))
			c->mismatches++;
		/* The partial tile at the edge holds no more than the tree. */
		if (store_tile_get(t, tl, nodes / 256, nodes % 256, 1, got) !=
		    STORE_NOTFOUND)
			c->mismatches++;
	}
	return store_kv_each(t, STORE_DB_TREE, NULL, 0, v3_node_left, c);
}

static int
format_read(struct store_txn *t, void *arg)
{
	return store_kv_get_u64(t, STORE_DB_META, "format", 6, arg);
}

START_TEST(format_2_tree_migrates_to_tiles)
{
	struct v2tree	v;
	struct v3check	c;
	uint64_t	i, format;

	ck_assert_ptr_nonnull(v.leaves = calloc(MIGRATE_LEAVES,
	    MERKLE_HASH_LEN));
	for (i = 0; i < MIGRATE_LEAVES; i++)
		be64_put(v.leaves[i], i * 2654435761u);
	ck_assert_int_eq(store_write(st, v2_write, &v), STORE_OK);
	store_close(st);
	ck_assert_int_eq(store_open(&st, dir, 4, 0), STORE_OK);
	ck_assert_int_eq(store_read(st, format_read, &format), STORE_OK);
	ck_assert_int_eq(format, STORE_FORMAT);
	c.arr.leaves = (const merkle_hash *)v.leaves;
	c.arr.size = MIGRATE_LEAVES;
	ck_assert_int_eq(store_read(st, v3_read, &c), STORE_OK);
	ck_assert_int_eq(c.mismatches, 0);
	ck_assert_int_eq(c.nodes_left, 0);
	free(v.leaves);
}
END_TEST

/*
 * Tiles on 16 KiB pages, one overflow page a full tile, read as those of
 * a directory whose tiles.db was made on 64 KiB pages (format 3 up to
 * 2026-12-05): whole or in parts, full or partial, at a page's edges.
 */
struct tiles_pages {
	/* Tile (0, i) holds the hashes from put's i-th on. */
	uint8_t		put[(STORE_TILE_MAX + 4) * STORE_HASH_LEN];
	uint8_t		got[STORE_TILE_MAX * STORE_HASH_LEN];
	int		mismatches;
};

/* Tile (0, i) holds the widths below; (1, 0) is a partial one. */
static const unsigned	tiles_pages_width[] = { STORE_TILE_MAX,
			    STORE_TILE_MAX, 255, 128, 1 };

static int
tiles_pages_write(struct store_txn *t, void *arg)
{
	struct tiles_pages	*tp = arg;
	unsigned		 i;
	int			 rc;

	for (i = 0; i < sizeof(tiles_pages_width) / sizeof(unsigned); i++)
		if ((rc = store_tile_put(t, 0, i, tp->put + i * STORE_HASH_LEN,
		    tiles_pages_width[i])) != STORE_OK)
			return rc;
	return store_tile_put(t, 1, 0, tp->put, 3);
}

static int
tiles_pages_read(struct store_txn *t, void *arg)
{
	struct tiles_pages	*tp = arg;
	const uint8_t		*want;
	unsigned		 i, at, w, n;
	int			 rc;

	tp->mismatches = 0;
	for (i = 0; i < sizeof(tiles_pages_width) / sizeof(unsigned); i++) {
		w = tiles_pages_width[i];
		want = tp->put + i * STORE_HASH_LEN;
		if ((rc = store_tile_read(t, 0, i, tp->got, &n)) != STORE_OK)
			return rc;
		if (n != w || memcmp(tp->got, want, (size_t)w *
		    STORE_HASH_LEN) != 0)
			tp->mismatches++;
		for (at = 0; at < w; at++)
			if (store_tile_get(t, 0, i, at, 1, tp->got) !=
			    STORE_OK || memcmp(tp->got, want + (size_t)at *
			    STORE_HASH_LEN, STORE_HASH_LEN) != 0)
				tp->mismatches++;
		/* Past its width a tile holds nothing. */
		if (store_tile_get(t, 0, i, w - 1, 2, tp->got) !=
		    STORE_NOTFOUND)
			tp->mismatches++;
	}
	if (store_tile_get(t, 1, 0, 1, 2, tp->got) != STORE_OK ||
	    memcmp(tp->got, tp->put + STORE_HASH_LEN, 2 * STORE_HASH_LEN) != 0)
		tp->mismatches++;
	return STORE_OK;
}

/* The tiles written and read in store s; its tiles' page size. */
static u_int32_t
tiles_pages_check(struct store *s, struct tiles_pages *tp)
{
	DB		*tiles = s->db[STORE_DB_TILES];
	u_int32_t	 page = 0;

	ck_assert_int_eq(tiles->get_pagesize(tiles, &page), 0);
	ck_assert_int_eq(store_write(s, tiles_pages_write, tp), STORE_OK);
	ck_assert_int_eq(store_read(s, tiles_pages_read, tp), STORE_OK);
	ck_assert_int_eq(tp->mismatches, 0);
	return page;
}

START_TEST(tiles_read_alike_on_any_page_size)
{
	struct tiles_pages	*tp;
	struct store		*other = NULL;
	char			 old[256], path[300];
	DB			*db = NULL;
	size_t			 i;

	ck_assert_ptr_nonnull(tp = calloc(1, sizeof(*tp)));
	for (i = 0; i < sizeof(tp->put); i++)
		tp->put[i] = (uint8_t)(i * 7 + i / 251);
	ck_assert_uint_eq(tiles_pages_check(st, tp), 16384);
	/* The tiles.db of an older directory, made before the store. */
	tmpdir_make(old, sizeof(old));
	snprintf(path, sizeof(path), "%s/tiles.db", old);
	ck_assert_int_eq(db_create(&db, NULL, 0), 0);
	ck_assert_int_eq(db->set_pagesize(db, 65536), 0);
	ck_assert_int_eq(db->open(db, NULL, path, NULL, DB_BTREE, DB_CREATE,
	    0600), 0);
	ck_assert_int_eq(db->close(db, 0), 0);
	ck_assert_int_eq(store_open(&other, old, 4, STORE_CREATE), STORE_OK);
	ck_assert_uint_eq(tiles_pages_check(other, tp), 65536);
	store_close(other);
	tmpdir_remove(old);
	free(tp);
}
END_TEST

/*
 * The log's databases are made on 16 KiB pages (store_page_size): on
 * the file system's 4 KiB they took a quarter more CPU per delta.
 */
START_TEST(log_databases_on_16k_pages)
{
	static const enum store_db log_dbs[] = {
		STORE_DB_DELTAS, STORE_DB_RECORDS, STORE_DB_CUSTOMERS,
		STORE_DB_CUSTLOG, STORE_DB_IDEMPOTENCY, STORE_DB_LEAVES,
		STORE_DB_MONTHS, STORE_DB_CUSTGRAMS, STORE_DB_TILES,
		STORE_DB_LEAFRUNS
	};
	u_int32_t	page;
	size_t		i;

	for (i = 0; i < sizeof(log_dbs) / sizeof(log_dbs[0]); i++) {
		page = 0;
		ck_assert_int_eq(st->db[log_dbs[i]]->get_pagesize(
		    st->db[log_dbs[i]], &page), 0);
		ck_assert_uint_eq(page, 16384);
	}
}
END_TEST

START_TEST(open_requires_init)
{
	struct store	*other = NULL;
	char		 empty[256];

	tmpdir_make(empty, sizeof(empty));
	ck_assert_int_eq(store_open(&other, empty, 4, 0), STORE_NOTINIT);
	ck_assert_ptr_null(other);
	tmpdir_remove(empty);
}
END_TEST

/*
 * Processes opening and closing the store at once, beside one that keeps
 * it open (tallyctl beside tallyd, or CGI processes): none may take
 * another for dead, which would run recovery and panic them all
 * (DB_REGISTER's race, store_env_lock).  A stress check: the race's
 * window is a few instructions wide, and without the lock tallyctl in
 * loops met it about once in a few thousand opens; this also shows the
 * lock's exclusive opens and shared closes never wait on each other for
 * ever.
 */
#define OPENERS		6
#define OPENS_EACH	60

static int
open_close_often(void)
{
	struct store		*mine = NULL;
	struct got_tenant	 g = { .name = "acme" };
	int			 i;

	for (i = 0; i < OPENS_EACH; i++) {
		if (store_open(&mine, dir, 4, 0) != STORE_OK)
			return 1;
		if (store_read(mine, get_tenant, &g) != STORE_OK ||
		    store_panicked(mine)) {
			store_close(mine);
			return 1;
		}
		store_close(mine);
	}
	return 0;
}

START_TEST(concurrent_opens_run_no_recovery)
{
	struct got_tenant	g = { .name = "acme" };
	pid_t			pid[OPENERS];
	int			i, status, failed = 0;

	ck_assert_int_eq(store_write(st, tenant_add_named, "acme"), STORE_OK);
	for (i = 0; i < OPENERS; i++) {
		ck_assert_int_ge(pid[i] = fork(), 0);
		if (pid[i] == 0)
			_exit(open_close_often());
	}
	for (i = 0; i < OPENERS; i++) {
		ck_assert_int_eq(waitpid(pid[i], &status, 0), pid[i]);
		failed += !WIFEXITED(status) || WEXITSTATUS(status) != 0;
	}
	ck_assert_int_eq(failed, 0);
	ck_assert_int_eq(store_panicked(st), 0);
	ck_assert_int_eq(store_read(st, get_tenant, &g), STORE_OK);
}
END_TEST

/* Copies the region files (__db.0*) of dir to or from dir/saved-*. */
static void
regions_copy(int save)
{
	char	from[512], to[512], buf[8192];
	FILE	*in, *out;
	size_t	 n;
	int	 i;

	for (i = 1; i <= 9; i++) {
		snprintf(from, sizeof(from), "%s/%s__db.%03d", dir,
		    save ? "" : "saved-", i);
		snprintf(to, sizeof(to), "%s/%s__db.%03d", dir,
		    save ? "saved-" : "", i);
		if ((in = fopen(from, "r")) == NULL)
			continue;
		ck_assert_ptr_nonnull(out = fopen(to, "w"));
		while ((n = fread(buf, 1, sizeof(buf), in)) > 0)
			ck_assert_uint_eq(fwrite(buf, 1, n, out), n);
		fclose(in);
		ck_assert_int_eq(fclose(out), 0);
	}
}

/*
 * A power loss after a process left without a flush (store_leave, as a
 * CGI process does): the region files keep what the kernel had written
 * of them, here as they were before the last write, and no process was
 * inside, so the register says nobody died.  The first open in the new
 * boot must run recovery all the same (store_boot_check), and find the
 * write in the log.
 */
START_TEST(first_open_after_a_boot_recovers)
{
	struct got_tenant	g = { .name = "bravo" };
	char			path[512];
	FILE			*fp;

	ck_assert_int_eq(store_write(st, tenant_add_named, "acme"), STORE_OK);
	store_close(st);
	regions_copy(1);
	ck_assert_int_eq(store_open(&st, dir, 4, 0), STORE_OK);
	ck_assert_int_eq(store_write(st, tenant_add_named, "bravo"),
	    STORE_OK);
	store_leave(st);
	st = NULL;
	regions_copy(0);
	/* The boot it was last opened in: another one. */
	snprintf(path, sizeof(path), "%s/env.lock", dir);
	ck_assert_ptr_nonnull(fp = fopen(path, "w"));
	fputs("00000000-0000-0000-0000-000000000000", fp);
	ck_assert_int_eq(fclose(fp), 0);

	ck_assert_int_eq(store_open(&st, dir, 4, 0), STORE_OK);
	ck_assert_int_eq(store_read(st, get_tenant, &g), STORE_OK);
	g.name = "acme";
	ck_assert_int_eq(store_read(st, get_tenant, &g), STORE_OK);
	ck_assert_int_eq(store_panicked(st), 0);
}
END_TEST

START_TEST(tenant_add_get_persist)
{
	struct got_tenant	g = { .name = "acme" };
	int64_t			before = timefmt_now_ms();

	ck_assert_int_eq(store_write(st, tenant_add_named, "acme"), STORE_OK);
	ck_assert_int_eq(store_write(st, tenant_add_named, "acme"), STORE_EXISTS);
	ck_assert_int_eq(store_read(st, get_tenant, &g), STORE_OK);
	ck_assert_str_eq(g.tn.name, "acme");
	ck_assert_int_ge(g.tn.created_ms, before);
	ck_assert_int_le(g.tn.created_ms, timefmt_now_ms());
	g.name = "nobody";
	ck_assert_int_eq(store_read(st, get_tenant, &g), STORE_NOTFOUND);

	/* Committed means durable: still there after close and reopen. */
	store_close(st);
	ck_assert_int_eq(store_open(&st, dir, 4, 0), STORE_OK);
	g.name = "acme";
	ck_assert_int_eq(store_read(st, get_tenant, &g), STORE_OK);
}
END_TEST

static int
add_then_fail(struct store_txn *t, void *arg)
{
	int	rc;

	if ((rc = tenant_add_named(t, arg)) != STORE_OK)
		return rc;
	return STORE_USER + 1;
}

START_TEST(callback_error_aborts)
{
	struct got_tenant	g = { .name = "ghost" };

	ck_assert_int_eq(store_write(st, add_then_fail, "ghost"),
	    STORE_USER + 1);
	ck_assert_int_eq(store_read(st, get_tenant, &g), STORE_NOTFOUND);
}
END_TEST

static int
add_key(struct store_txn *t, void *arg)
{
	return store_key_add(t, arg);
}

struct got_key {
	const char		*id;
	struct store_key	 k;
};

static int
get_key(struct store_txn *t, void *arg)
{
	struct got_key	*g = arg;

	return store_key_get(t, g->id, &g->k);
}

static int
update_key(struct store_txn *t, void *arg)
{
	return store_key_update(t, arg);
}

static int
count_key(const struct store_key *k, void *arg)
{
	(void)k;
	(*(int *)arg)++;
	return 0;
}

static int
count_keys(struct store_txn *t, void *arg)
{
	return store_key_each(t, count_key, arg);
}

static void
fill_key(struct store_key *k, const char *id)
{
	memset(k, 0, sizeof(*k));
	snprintf(k->public_id, sizeof(k->public_id), "%s", id);
	snprintf(k->tenant, sizeof(k->tenant), "acme");
	snprintf(k->customer_id, sizeof(k->customer_id), "cust_1");
	k->env = STORE_ENV_LIVE;
	k->kind = STORE_KEY_CUSTOMER;
	memset(k->secret_hash, 0xab, sizeof(k->secret_hash));
	k->created_ms = 1000;
}

START_TEST(key_round_trip)
{
	struct store_key	k;
	struct got_key		g = { .id = "k1" };
	int			n = 0;

	fill_key(&k, "k1");
	ck_assert_int_eq(store_write(st, add_key, &k), STORE_OK);
	ck_assert_int_eq(store_write(st, add_key, &k), STORE_EXISTS);
	ck_assert_int_eq(store_read(st, get_key, &g), STORE_OK);
	ck_assert_mem_eq(&g.k, &k, sizeof(k));

	k.revoked_ms = 2000;
	ck_assert_int_eq(store_write(st, update_key, &k), STORE_OK);
	ck_assert_int_eq(store_read(st, get_key, &g), STORE_OK);
	ck_assert_int_eq(g.k.revoked_ms, 2000);

	fill_key(&k, "k2");
	ck_assert_int_eq(store_write(st, update_key, &k), STORE_NOTFOUND);
	ck_assert_int_eq(store_write(st, add_key, &k), STORE_OK);
	ck_assert_int_eq(store_read(st, count_keys, &n), STORE_OK);
	ck_assert_int_eq(n, 2);
}
END_TEST

/* Concurrent read-modify-write of one record: deadlocks are retried and
 * no update is lost. */
#define BUMP_THREADS	8
#define BUMP_EACH	40

static int
bump(struct store_txn *t, void *arg)
{
	struct store_key	k;
	int			rc;

	(void)arg;
	if ((rc = store_key_get(t, "hot", &k)) != STORE_OK)
		return rc;
	k.created_ms++;
	return store_key_update(t, &k);
}

static void *
bumper(void *arg)
{
	int	i;

	(void)arg;
	for (i = 0; i < BUMP_EACH; i++)
		if (store_write(st, bump, NULL) != STORE_OK)
			return (void *)1;
	return NULL;
}

START_TEST(concurrent_updates_not_lost)
{
	struct store_key	 k;
	struct got_key		 g = { .id = "hot" };
	pthread_t		 th[BUMP_THREADS];
	void			*res;
	int			 i, failures = 0;

	fill_key(&k, "hot");
	k.created_ms = 0;
	ck_assert_int_eq(store_write(st, add_key, &k), STORE_OK);
	for (i = 0; i < BUMP_THREADS; i++)
		ck_assert_int_eq(pthread_create(&th[i], NULL, bumper, NULL), 0);
	for (i = 0; i < BUMP_THREADS; i++) {
		pthread_join(th[i], &res);
		failures += res != NULL;
	}
	ck_assert_int_eq(failures, 0);
	ck_assert_int_eq(store_read(st, get_key, &g), STORE_OK);
	ck_assert_int_eq(g.k.created_ms, BUMP_THREADS * BUMP_EACH);
}
END_TEST

struct cadence {
	const char	*customer;
	uint64_t	 ms;
	int		 own;
};

static int
cadence_set(struct store_txn *t, void *arg)
{
	struct cadence	*c = arg;

	return store_cadence_put(t, "acme", STORE_ENV_LIVE, c->customer,
	    c->ms);
}

static int
cadence_get(struct store_txn *t, void *arg)
{
	struct cadence	*c = arg;

	return store_cadence_get(t, "acme", STORE_ENV_LIVE, c->customer,
	    &c->ms, &c->own);
}

/* A customer's own setting, else the tenant's, else unlimited (0). */
START_TEST(cadence_default_and_override)
{
	struct cadence	c = { "cust", 0, 0 };
	struct cadence	set_default = { "", 86400000, 0 };
	struct cadence	set_own = { "cust", 0, 0 };

	ck_assert_int_eq(store_read(st, cadence_get, &c), STORE_OK);
	ck_assert(c.ms == 0 && !c.own);
	ck_assert_int_eq(store_write(st, cadence_set, &set_default), STORE_OK);
	ck_assert_int_eq(store_read(st, cadence_get, &c), STORE_OK);
	ck_assert(c.ms == 86400000 && !c.own);
	/* An override of "unlimited" is the customer's own, not absent. */
	ck_assert_int_eq(store_write(st, cadence_set, &set_own), STORE_OK);
	ck_assert_int_eq(store_read(st, cadence_get, &c), STORE_OK);
	ck_assert(c.ms == 0 && c.own);
	c.customer = "other";
	ck_assert_int_eq(store_read(st, cadence_get, &c), STORE_OK);
	ck_assert(c.ms == 86400000 && !c.own);
}
END_TEST

/* Checkpoints listed a chunk to a read, each read resuming the last. */
struct chk_walk {
	const char	*id;		/* to add */
	char		 seen[8][STORE_ID_MAX + 1];
	uint64_t	 at[8];
	int		 n, max;
	uint64_t	 from;
};

static int
chk_add(struct store_txn *t, void *arg)
{
	struct chk_walk		*w = arg;
	struct store_checkpoint	 c;

	memset(&c, 0, sizeof(c));
	snprintf(c.id, sizeof(c.id), "%s", w->id);
	snprintf(c.tenant, sizeof(c.tenant), "acme");
	c.env = STORE_ENV_LIVE;
	snprintf(c.customer_id, sizeof(c.customer_id), "cust");
	c.month = 2026 * 12;
	c.version = 2;
	c.sig_len = 1;
	return store_checkpoint_add(t, &c);
}

static int
chk_seen(const struct store_checkpoint *c, uint64_t at, void *arg)
{
	struct chk_walk	*w = arg;

	if (w->n == w->max)
		return STORE_STOP;
	snprintf(w->seen[w->n], sizeof(w->seen[0]), "%s", c->id);
	w->at[w->n++] = at;
	return STORE_OK;
}

static int
chk_list(struct store_txn *t, void *arg)
{
	struct chk_walk	*w = arg;

	w->n = 0;
	return store_checkpoint_each_from(t, "acme", STORE_ENV_LIVE, w->from,
	    chk_seen, w);
}

START_TEST(checkpoint_each_resumes)
{
	static const char	*ids[] = { "chk_a", "chk_b", "chk_c" };
	struct chk_walk		 w = { .max = 2 };
	size_t			 i;

	for (i = 0; i < 3; i++) {
		w.id = ids[i];
		ck_assert_int_eq(store_write(st, chk_add, &w), STORE_OK);
	}
	/* Newest first; STORE_STOP comes back as it is. */
	ck_assert_int_eq(store_read(st, chk_list, &w), STORE_STOP);
	ck_assert_str_eq(w.seen[0], "chk_c");
	ck_assert_str_eq(w.seen[1], "chk_b");
	/* One made meanwhile comes before: the resumed read never sees it. */
	w.id = "chk_d";
	ck_assert_int_eq(store_write(st, chk_add, &w), STORE_OK);
	w.from = w.at[1];
	ck_assert_int_eq(store_read(st, chk_list, &w), STORE_OK);
	ck_assert_int_eq(w.n, 2);
	ck_assert_str_eq(w.seen[0], "chk_b");
	ck_assert_str_eq(w.seen[1], "chk_a");
	w.from = 0;
	w.max = 8;
	ck_assert_int_eq(store_read(st, chk_list, &w), STORE_OK);
	ck_assert_int_eq(w.n, 4);
	ck_assert_str_eq(w.seen[0], "chk_d");
}
END_TEST

/*
 * --- The group commit's cache of aggregates (issue 22) ---------------
 * store_write_deferred keeps customer totals, months and monthly usage
 * in memory for the group, each request's own until its nested
 * transaction commits.
 */

#define GC_TENANT	"acme"
#define GC_JAN		1767225600000LL	/* 2026-01-01T00:00:00Z */
#define GC_FEB		1769904000000LL	/* 2026-02-01T00:00:00Z */

/* One delta of a request: who, when, how much. */
struct gc_delta {
	const char	*customer;
	int64_t		 ms;
	__int128	 amount;
};

/* Requests of one group; a request with fail set is undone at its end. */
struct gc_request {
	const struct gc_delta	*deltas;
	size_t			 ndeltas;
	int			 fail;
};

struct gc_group {
	const struct gc_request	*req;
	size_t			 nreq;
	size_t			 at;		/* the request running */
	/* Seen in the group right after its third request (if any). */
	struct store_customer	 a_after;
	int			 b_after;	/* rc of customer b */
};

/* Appends a delta of the customer ("1", counted as amount), made at ms. */
static int
append_delta(struct store_txn *t, const char *tenant, enum store_env env,
    const char *customer, int64_t ms, __int128 amount)
{
	struct store_slot	slot;
	struct store_delta	d;
	char			leaf[32];
	int			rc;

	if ((rc = store_delta_slot(t, tenant, env, customer, &slot)) !=
	    STORE_OK)
		return rc;
	memset(&d, 0, sizeof(d));
	d.log_index = slot.log_index;
	d.seq = slot.cust.last_seq + 1;
	snprintf(d.record_id, sizeof(d.record_id), "rec_%" PRIu64,
	    d.log_index);
	snprintf(d.receipt_id, sizeof(d.receipt_id), "rcpt_%" PRIu64,
	    d.log_index);
	snprintf(d.tenant, sizeof(d.tenant), "%s", tenant);
	d.env = env;
	snprintf(d.customer_id, sizeof(d.customer_id), "%s", customer);
	snprintf(d.delta, sizeof(d.delta), "1");
	d.created_ms = ms;
	snprintf(leaf, sizeof(leaf), "leaf %" PRIu64, d.log_index);
	d.leaf_data = leaf;
	d.leaf_len = strlen(leaf);
	return store_delta_append(t, &slot, &d, amount);
}

static int
gc_append(struct store_txn *t, const struct gc_delta *g)
{
	return append_delta(t, GC_TENANT, STORE_ENV_LIVE, g->customer, g->ms,
	    g->amount);
}

static int
gc_request_run(struct store_txn *t, void *arg)
{
	const struct gc_request	*r = arg;
	size_t			 i;
	int			 rc;

	for (i = 0; i < r->ndeltas; i++)
		if ((rc = gc_append(t, &r->deltas[i])) != STORE_OK)
			return rc;
	return r->fail ? STORE_USER + 1 : STORE_OK;
}

static int
gc_group_run(struct store_txn *t, void *arg)
{
	struct gc_group	*g = arg;
	int		 rc;

	for (g->at = 0; g->at < g->nreq; g->at++) {
		rc = store_nested(t, gc_request_run, (void *)&g->req[g->at]);
		if (rc != STORE_OK && !(g->req[g->at].fail &&
		    rc == STORE_USER + 1))
			return rc;
		if (g->at == 1) {
			struct store_customer	b;

			if ((rc = store_customer_get(t, GC_TENANT,
			    STORE_ENV_LIVE, "a", &g->a_after)) != STORE_OK)
				return rc;
			g->b_after = store_customer_get(t, GC_TENANT,
			    STORE_ENV_LIVE, "b", &b);
		}
	}
	return STORE_OK;
}

/* What a group left, read after its commit. */
struct gc_seen {
	const char		*customer;
	int			 month;
	int			 cust_rc, month_rc;
	struct store_customer	 c;
	struct store_month	 m;
	uint64_t		 usage, size;
};

static int
gc_read(struct store_txn *t, void *arg)
{
	struct gc_seen	*s = arg;
	int		 rc;

	s->cust_rc = store_customer_get(t, GC_TENANT, STORE_ENV_LIVE,
	    s->customer, &s->c);
	s->month_rc = store_month_get(t, GC_TENANT, STORE_ENV_LIVE,
	    s->customer, s->month, &s->m);
	if ((rc = store_usage_get(t, GC_TENANT, STORE_ENV_LIVE, s->month,
	    &s->usage)) != STORE_OK)
		return rc;
	return store_log_size(t, &s->size);
}

static struct gc_seen
gc_seen(const char *customer, int64_t ms)
{
	struct gc_seen	s;

	memset(&s, 0, sizeof(s));
	s.customer = customer;
	s.month = timefmt_month(ms);
	ck_assert_int_eq(store_read(st, gc_read, &s), STORE_OK);
	return s;
}

static void
gc_run(const struct gc_request *req, size_t nreq, struct gc_group *g)
{
	memset(g, 0, sizeof(*g));
	g->req = req;
	g->nreq = nreq;
	ck_assert_int_eq(store_write_deferred(st, gc_group_run, g), STORE_OK);
	ck_assert_int_eq(store_flush(st), STORE_OK);
}

START_TEST(group_cache_undone_request)
{
	static const struct gc_delta	a1[] = { { "a", GC_JAN + 10, 5 } };
	/* Undone: a second delta of a, and b's first. */
	static const struct gc_delta	ab[] = { { "a", GC_JAN + 20, 7 },
					    { "b", GC_JAN + 20, 100 } };
	static const struct gc_delta	a2[] = { { "a", GC_JAN + 30, 11 } };
	const struct gc_request		req[] = { { a1, 1, 0 }, { ab, 2, 1 },
					    { a2, 1, 0 } };
	struct gc_group			g;
	struct gc_seen			s;

	gc_run(req, 3, &g);
	/* Inside the group, right after the undone request. */
	ck_assert_uint_eq(g.a_after.count, 1);
	ck_assert(g.a_after.sum == 5);
	ck_assert_int_eq(g.b_after, STORE_NOTFOUND);

	s = gc_seen("a", GC_JAN);
	ck_assert_int_eq(s.cust_rc, STORE_OK);
	ck_assert_uint_eq(s.c.last_seq, 2);
	ck_assert_uint_eq(s.c.count, 2);
	ck_assert(s.c.sum == 16);
	ck_assert_int_eq(s.c.first_ms, GC_JAN + 10);
	ck_assert_int_eq(s.c.last_ms, GC_JAN + 30);
	ck_assert_int_eq(s.month_rc, STORE_OK);
	ck_assert_uint_eq(s.m.first_seq, 1);
	ck_assert_uint_eq(s.m.last_seq, 2);
	ck_assert_uint_eq(s.m.count, 2);
	ck_assert(s.m.sum == 16);
	ck_assert_uint_eq(s.usage, 2);
	ck_assert_uint_eq(s.size, 2);
	s = gc_seen("b", GC_JAN);
	ck_assert_int_eq(s.cust_rc, STORE_NOTFOUND);
	ck_assert_int_eq(s.month_rc, STORE_NOTFOUND);
}
END_TEST

START_TEST(group_cache_one_customer_twice)
{
	static const struct gc_delta	a1[] = { { "a", GC_JAN + 1, 1 } };
	static const struct gc_delta	a2[] = { { "a", GC_JAN + 2, 2 },
					    { "a", GC_JAN + 3, 4 } };
	static const struct gc_delta	a3[] = { { "a", GC_JAN + 4, 8 } };
	const struct gc_request		first[] = { { a1, 1, 0 } };
	const struct gc_request		req[] = { { a2, 2, 0 }, { a3, 1, 0 } };
	struct gc_group			g;
	struct gc_seen			s;

	/* A customer the database already holds, then two requests. */
	gc_run(first, 1, &g);
	gc_run(req, 2, &g);
	ck_assert_uint_eq(g.a_after.count, 4);
	s = gc_seen("a", GC_JAN);
	ck_assert_uint_eq(s.c.last_seq, 4);
	ck_assert_uint_eq(s.c.count, 4);
	ck_assert(s.c.sum == 15);
	ck_assert_int_eq(s.c.first_ms, GC_JAN + 1);
	ck_assert_uint_eq(s.m.first_seq, 1);
	ck_assert_uint_eq(s.m.last_seq, 4);
	ck_assert(s.m.sum == 15);
	ck_assert_uint_eq(s.usage, 4);
	ck_assert_uint_eq(s.size, 4);
}
END_TEST

START_TEST(group_cache_month_rollover)
{
	static const struct gc_delta	jan[] = { { "a", GC_FEB - 1, 1 } };
	static const struct gc_delta	feb[] = { { "a", GC_FEB, 2 },
					    { "c", GC_FEB + 5, 4 } };
	const struct gc_request		req[] = { { jan, 1, 0 },
					    { feb, 2, 0 } };
	struct gc_group			g;
	struct gc_seen			s;

	gc_run(req, 2, &g);
	s = gc_seen("a", GC_JAN);
	ck_assert_int_eq(s.month_rc, STORE_OK);
	ck_assert_uint_eq(s.m.first_seq, 1);
	ck_assert_uint_eq(s.m.last_seq, 1);
	ck_assert_uint_eq(s.m.count, 1);
	ck_assert(s.m.sum == 1);
	ck_assert_uint_eq(s.usage, 1);
	s = gc_seen("a", GC_FEB);
	ck_assert_int_eq(s.month_rc, STORE_OK);
	ck_assert_uint_eq(s.m.first_seq, 2);
	ck_assert_uint_eq(s.m.last_seq, 2);
	ck_assert_uint_eq(s.m.count, 1);
	ck_assert(s.m.sum == 2);
	ck_assert_uint_eq(s.usage, 2);
	ck_assert_uint_eq(s.c.count, 2);
	ck_assert(s.c.sum == 3);
	s = gc_seen("c", GC_FEB);
	ck_assert_uint_eq(s.c.count, 1);
	ck_assert(s.m.sum == 4);
}
END_TEST

/*
 * The search index's steps (store_search_index) put a block of ids per
 * trigram and step, through one cursor (store_kv_put_each): read as
 * entries ("tenant\0env\0gram" and an id each), the index must hold
 * exactly those of each customer first seen in the log, one per distinct
 * lower-cased trigram, whatever the steps' sizes.
 */
#define SX_KEY_MAX	(STORE_TENANT_MAX + STORE_CUSTOMER_MAX + 8)

struct sx_key {
	uint8_t	b[SX_KEY_MAX];
	size_t	len;
};

/* A set of keys: added in any order, sorted and made unique by sx_sort. */
struct sx_keys {
	struct sx_key	*k;
	size_t		 n, cap;
};

static void
sx_add(struct sx_keys *s, const void *key, size_t len)
{
	if (s->n == s->cap) {
		s->cap = s->cap ? 2 * s->cap : 256;
		ck_assert_ptr_nonnull(s->k = realloc(s->k, s->cap *
		    sizeof(*s->k)));
	}
	ck_assert_uint_le(len, SX_KEY_MAX);
	memcpy(s->k[s->n].b, key, len);
	s->k[s->n++].len = len;
}

/* Berkeley DB's default order: bytes, then a prefix first. */
static int
sx_cmp(const void *a, const void *b)
{
	const struct sx_key	*x = a, *y = b;
	int			 c;

	c = memcmp(x->b, y->b, x->len < y->len ? x->len : y->len);
	return c != 0 ? c : (x->len > y->len) - (x->len < y->len);
}

static void
sx_sort(struct sx_keys *s)
{
	size_t	i, n = 0;

	if (s->n > 1)
		qsort(s->k, s->n, sizeof(*s->k), sx_cmp);
	for (i = 0; i < s->n; i++)
		if (n == 0 || sx_cmp(&s->k[n - 1], &s->k[i]) != 0)
			s->k[n++] = s->k[i];
	s->n = n;
}

/* What indexing the customer one entry at a time puts, from the spec. */
static void
sx_expect(struct sx_keys *s, const char *tenant, enum store_env env,
    const char *id)
{
	uint8_t	key[SX_KEY_MAX];
	size_t	plen, n = strlen(id), i, j;

	ck_assert_uint_gt(plen = store_tenant_key(key, sizeof(key), tenant,
	    env), 0);
	for (i = 0; i + 3 <= n; i++) {
		for (j = 0; j < 3; j++)
			key[plen + j] = (uint8_t)(id[i + j] >= 'A' &&
			    id[i + j] <= 'Z' ? id[i + j] - 'A' + 'a' :
			    id[i + j]);
		memcpy(key + plen + 3, id, n);
		sx_add(s, key, plen + 3 + n);
	}
}

/* Each block, checked to be one, as the entries it holds. */
static int
sx_entry(const void *key, size_t klen, const void *val, size_t vlen,
    void *arg)
{
	const uint8_t	*k = key, *tenant_end, *env_end;
	const char	*id, *prev = NULL, *end = (const char *)val + vlen;
	uint8_t		 entry[SX_KEY_MAX];
	size_t		 glen, ilen;

	/* The position's key, "\0search.position", is no tenant's. */
	if (klen > 0 && *k == '\0')
		return STORE_OK;
	/* "tenant\0env\0gram" and the step's position, 8 bytes. */
	ck_assert_ptr_nonnull(tenant_end = memchr(k, '\0', klen));
	ck_assert_ptr_nonnull(env_end = memchr(tenant_end + 1, '\0',
	    klen - (size_t)(tenant_end + 1 - k)));
	glen = (size_t)(env_end + 1 - k) + 3;
	ck_assert_uint_eq(klen, glen + 8);
	ck_assert_uint_gt(vlen, 0);
	ck_assert_int_eq(end[-1], '\0');
	memcpy(entry, k, glen);
	for (id = val; id < end; prev = id, id += ilen + 1) {
		ilen = strlen(id);
		ck_assert_uint_gt(ilen, 0);
		if (prev != NULL)
			ck_assert_int_lt(strcmp(prev, id), 0);
		memcpy(entry + glen, id, ilen);
		sx_add(arg, entry, glen + ilen);
	}
	return STORE_OK;
}

static int
sx_walk_txn(struct store_txn *t, void *arg)
{
	return store_kv_each(t, STORE_DB_CUSTGRAMS, NULL, 0, sx_entry, arg);
}

/* The index holds exactly want's entries (sorted), each once or more. */
static void
sx_check(const struct sx_keys *want)
{
	struct sx_keys	got = { NULL, 0, 0 };
	size_t		i;

	ck_assert_int_eq(store_read(st, sx_walk_txn, &got), STORE_OK);
	sx_sort(&got);
	ck_assert_uint_eq(got.n, want->n);
	for (i = 0; i < got.n; i++)
		ck_assert_msg(sx_cmp(&got.k[i], &want->k[i]) == 0,
		    "entry %zu: got \"%.*s\", want \"%.*s\"", i,
		    (int)got.k[i].len, got.k[i].b, (int)want->k[i].len,
		    want->k[i].b);
	free(got.k);
}

struct sx_delta {
	const char	*tenant;
	enum store_env	 env;
	const char	*customer;
};

static int
sx_append_txn(struct store_txn *t, void *arg)
{
	const struct sx_delta	*x = arg;

	return append_delta(t, x->tenant, x->env, x->customer, GC_JAN, 1);
}

/* Appends a delta of the customer, and expects its entries if new. */
static void
sx_append(struct sx_keys *want, const char *tenant, enum store_env env,
    const char *customer)
{
	struct sx_delta	x = { tenant, env, customer };

	ck_assert_int_eq(store_write(st, sx_append_txn, &x), STORE_OK);
	sx_expect(want, tenant, env, customer);
}

struct sx_step {
	uint64_t	most, covered, size;
	int		fail;		/* then abort, as a crash after it */
};

static int
sx_step_txn(struct store_txn *t, void *arg)
{
	struct sx_step	*s = arg;
	int		 rc;

	rc = store_search_index(t, s->most, &s->covered, &s->size);
	return rc == STORE_OK && s->fail ? STORE_USER + 1 : rc;
}

static int
sx_position_txn(struct store_txn *t, void *arg)
{
	return store_search_position(t, arg);
}

static uint64_t
sx_position(void)
{
	uint64_t	covered;

	ck_assert_int_eq(store_read(st, sx_position_txn, &covered),
	    STORE_OK);
	return covered;
}

/* Steps of most deltas until the index covers the log. */
static void
sx_index(uint64_t most)
{
	struct sx_step	s = { most, 0, 0, 0 };
	uint64_t	before;

	do {
		before = sx_position();
		ck_assert_int_eq(store_write(st, sx_step_txn, &s), STORE_OK);
		ck_assert_uint_eq(s.covered, before + most < s.size ?
		    before + most : s.size);
	} while (s.covered < s.size);
}

static int
sx_rewind_txn(struct store_txn *t, void *arg)
{
	(void)arg;
	return store_kv_put_u64(t, STORE_DB_CUSTGRAMS, "\0search.position",
	    16, 0, 0);
}

/*
 * Customers whose ids share trigrams (also across case, tenants and
 * envs), ids that are prefixes of others, with a trigram twice, with
 * none, and later deltas of customers already seen; indexed in steps of
 * one delta, of seven, of all; a step that aborts adds nothing; the
 * position moved back to the start, every customer indexed again adds
 * blocks of entries already there: the entries are the same.
 */
START_TEST(search_steps_index_exact_entries)
{
	static const struct sx_delta	 first[] = {
		{ "acme", STORE_ENV_LIVE, "Big-Acme" },
		{ "acme", STORE_ENV_LIVE, "big-acme" },
		{ "acme", STORE_ENV_TEST, "big-acme" },
		{ "acme2", STORE_ENV_LIVE, "big-acme" },
		{ "acme", STORE_ENV_LIVE, "acme" },
		{ "acme", STORE_ENV_LIVE, "aaaa" },
		{ "acme", STORE_ENV_LIVE, "ab" },
		{ "acme", STORE_ENV_LIVE, "abc" },
		{ "acme", STORE_ENV_LIVE, "abcd" },
		{ "acme", STORE_ENV_LIVE, "ABCABC" },
	};
	static const char *const	 again[] = { "big-acme", "abc", "acme" };
	struct sx_keys			 want = { NULL, 0, 0 };
	struct sx_step			 failing = { 1000, 0, 0, 1 };
	struct sx_delta			 x = { "acme", STORE_ENV_LIVE, NULL };
	char				 id[32];
	size_t				 i;
	uint64_t			 before;

	for (i = 0; i < sizeof(first) / sizeof(first[0]); i++)
		sx_append(&want, first[i].tenant, first[i].env,
		    first[i].customer);
	sx_index(1);
	sx_sort(&want);
	sx_check(&want);

	for (i = 0; i < 30; i++) {
		snprintf(id, sizeof(id), "%s-%zu", i % 2 ? "BIG-acme" : "cust",
		    i);
		sx_append(&want, "acme", i % 3 ? STORE_ENV_LIVE :
		    STORE_ENV_TEST, id);
		sx_append(&want, "acme", STORE_ENV_LIVE, again[i % 3]);
	}
	sx_index(7);
	sx_sort(&want);
	sx_check(&want);

	/* Aborted: neither the entries nor the position move. */
	before = sx_position();
	for (i = 0; i < 5; i++) {
		snprintf(id, sizeof(id), "late-%zu", i);
		x.customer = id;
		ck_assert_int_eq(store_write(st, sx_append_txn, &x), STORE_OK);
	}
	ck_assert_int_eq(store_write(st, sx_step_txn, &failing),
	    STORE_USER + 1);
	ck_assert_uint_eq(sx_position(), before);
	sx_check(&want);
	for (i = 0; i < 5; i++) {
		snprintf(id, sizeof(id), "late-%zu", i);
		sx_expect(&want, "acme", STORE_ENV_LIVE, id);
	}
	sx_index(1000);
	sx_sort(&want);
	sx_check(&want);

	ck_assert_int_eq(store_write(st, sx_rewind_txn, NULL), STORE_OK);
	ck_assert_uint_eq(sx_position(), 0);
	sx_index(5);
	sx_check(&want);
	free(want.k);
}
END_TEST

/*
 * Customers of 128-character ids, ~126 trigrams each, in one step:
 * ~12,600 entries, nearly as many blocks of one id.
 */
START_TEST(search_step_of_long_ids)
{
	static const char	 alphabet[] = "abcdefghijklmnopqrstuvwxyz0123456789";
	struct sx_keys		 want = { NULL, 0, 0 };
	char			 id[STORE_CUSTOMER_MAX + 1];
	uint32_t		 r = 31;
	size_t			 i, j;

	for (i = 0; i < 100; i++) {
		for (j = 0; j < STORE_CUSTOMER_MAX; j++) {
			r = r * 1103515245 + 12345;
			id[j] = alphabet[(r >> 16) % (sizeof(alphabet) - 1)];
		}
		id[j] = '\0';
		sx_append(&want, "acme", STORE_ENV_LIVE, id);
	}
	sx_sort(&want);
	ck_assert_uint_gt(want.n, 100 * 120);
	sx_index(1000);
	sx_check(&want);
	free(want.k);
}
END_TEST

/* The index's records as they are, the position left out. */
struct sx_record {
	uint8_t	key[64];
	char	val[64];
	size_t	klen, vlen;
};

struct sx_records {
	struct sx_record	r[16];
	size_t			n;
};

static int
sx_record(const void *key, size_t klen, const void *val, size_t vlen,
    void *arg)
{
	struct sx_records	*rs = arg;
	struct sx_record	*r = &rs->r[rs->n];

	if (klen > 0 && *(const uint8_t *)key == '\0')
		return STORE_OK;
	ck_assert_uint_lt(rs->n, 16);
	ck_assert_uint_le(klen, sizeof(r->key));
	ck_assert_uint_le(vlen, sizeof(r->val));
	memcpy(r->key, key, r->klen = klen);
	memcpy(r->val, val, r->vlen = vlen);
	rs->n++;
	return STORE_OK;
}

static int
sx_records_txn(struct store_txn *t, void *arg)
{
	((struct sx_records *)arg)->n = 0;
	return store_kv_each(t, STORE_DB_CUSTGRAMS, NULL, 0, sx_record, arg);
}

/* The index caught up, then its n records. */
static void
sx_index_records(struct sx_records *rs, size_t n)
{
	sx_index(1000);
	ck_assert_int_eq(store_read(st, sx_records_txn, rs), STORE_OK);
	ck_assert_uint_eq(rs->n, n);
}

/* The record is the block of acme (live) and gram, of step to, of ids. */
static void
sx_is_block(const struct sx_record *r, const char *gram, uint64_t to,
    const char *ids, size_t len)
{
	uint8_t	key[64];
	size_t	plen;

	ck_assert_uint_gt(plen = store_tenant_key(key, sizeof(key), "acme",
	    STORE_ENV_LIVE), 0);
	memcpy(key + plen, gram, 3);
	be64_put(key + plen + 3, to);
	ck_assert_uint_eq(r->klen, plen + 3 + 8);
	ck_assert_mem_eq(r->key, key, r->klen);
	ck_assert_uint_eq(r->vlen, len);
	ck_assert_mem_eq(r->val, ids, len);
}

/*
 * The layout: a step writes one block per distinct trigram of its new
 * customers, keyed by the position it moves to, the ids in strcmp order;
 * a customer seen again adds nothing; a later step, blocks of its own.
 */
START_TEST(search_step_writes_a_block_a_trigram)
{
	static const char *const	 first[] = {
		"acme-2", "Acme-1", "acme-2", "xy"
	};
	struct sx_delta			 x = { "acme", STORE_ENV_LIVE, NULL };
	struct sx_records		 rs;
	size_t				 i;

	for (i = 0; i < 4; i++) {
		x.customer = first[i];
		ck_assert_int_eq(store_write(st, sx_append_txn, &x), STORE_OK);
	}
	sx_index_records(&rs, 5);
	sx_is_block(&rs.r[0], "acm", 4, "Acme-1\0acme-2", 14);
	sx_is_block(&rs.r[1], "cme", 4, "Acme-1\0acme-2", 14);
	sx_is_block(&rs.r[2], "e-1", 4, "Acme-1", 7);
	sx_is_block(&rs.r[3], "e-2", 4, "acme-2", 7);
	sx_is_block(&rs.r[4], "me-", 4, "Acme-1\0acme-2", 14);

	x.customer = "acme-3";
	ck_assert_int_eq(store_write(st, sx_append_txn, &x), STORE_OK);
	sx_index_records(&rs, 9);
	sx_is_block(&rs.r[1], "acm", 5, "acme-3", 7);
	sx_is_block(&rs.r[6], "e-3", 5, "acme-3", 7);
}
END_TEST

/* store_kv_put_each: records in any order, a key twice, one there. */
static const char *const	sx_put_first[] = { "b", "ab", "a", "c", "a" };
static const char *const	sx_put_second[] = { "d", "a" };

struct sx_puts {
	const char *const	*keys;
	size_t			 n, next;
	char			 val[8];
};

static int
sx_put_next(const void **key, size_t *klen, const void **val, size_t *vlen,
    void *arg)
{
	struct sx_puts	*p = arg;

	if (p->next == p->n)
		return STORE_STOP;
	*key = p->keys[p->next];
	*klen = strlen(p->keys[p->next]);
	snprintf(p->val, sizeof(p->val), "v%zu", p->next++);
	*val = p->val;
	*vlen = strlen(p->val);
	return STORE_OK;
}

static int
sx_put_each_txn(struct store_txn *t, void *arg)
{
	struct sx_puts	first = { sx_put_first, 5, 0, "" };
	struct sx_puts	second = { sx_put_second, 2, 0, "" };
	int		rc;

	(void)arg;
	if ((rc = store_kv_put_each(t, STORE_DB_CUSTGRAMS, sx_put_next,
	    &first)) != STORE_OK)
		return rc;
	return store_kv_put_each(t, STORE_DB_CUSTGRAMS, sx_put_next, &second);
}

/* Each key is there once, with the value it was last put with. */
START_TEST(kv_put_each_keeps_the_last_value)
{
	static const char *const	keys[] = { "a", "ab", "b", "c", "d" };
	static const char *const	vals[] = {
		"v1", "v1", "v0", "v3", "v0"
	};
	struct sx_records		rs;
	size_t				i;

	ck_assert_int_eq(store_write(st, sx_put_each_txn, NULL), STORE_OK);
	ck_assert_int_eq(store_read(st, sx_records_txn, &rs), STORE_OK);
	ck_assert_uint_eq(rs.n, 5);
	for (i = 0; i < 5; i++) {
		ck_assert_uint_eq(rs.r[i].klen, strlen(keys[i]));
		ck_assert_mem_eq(rs.r[i].key, keys[i], rs.r[i].klen);
		ck_assert_uint_eq(rs.r[i].vlen, 2);
		ck_assert_mem_eq(rs.r[i].val, vals[i], 2);
	}
}
END_TEST

/* Format 4's index: an entry a trigram and customer, and its position. */
static int
sx_format4_txn(struct store_txn *t, void *arg)
{
	uint8_t	key[64];
	size_t	plen;
	int	rc;

	(void)arg;
	plen = store_tenant_key(key, sizeof(key), "acme", STORE_ENV_LIVE);
	memcpy(key + plen, "acmacme-1", 9);
	if ((rc = store_kv_put(t, STORE_DB_CUSTGRAMS, key, plen + 9, "", 0,
	    0)) != STORE_OK ||
	    (rc = store_kv_put_u64(t, STORE_DB_CUSTGRAMS, "\0search.position",
	    16, 1, 0)) != STORE_OK)
		return rc;
	return store_kv_put_u64(t, STORE_DB_META, "format", 6, 4, 0);
}

/*
 * 4 -> 5: the index of format 4, whose records no block reader can read,
 * is emptied at the first open, position and all, with format 5; the
 * indexer then builds it again from the log's start.
 */
START_TEST(format_4_search_index_emptied)
{
	struct sx_delta		x = { "acme", STORE_ENV_LIVE, "acme-1" };
	struct sx_records	rs;
	uint64_t		format;

	ck_assert_int_eq(store_write(st, sx_append_txn, &x), STORE_OK);
	ck_assert_int_eq(store_write(st, sx_format4_txn, NULL), STORE_OK);
	store_close(st);
	ck_assert_int_eq(store_open(&st, dir, 4, 0), STORE_OK);
	ck_assert_int_eq(store_read(st, format_read, &format), STORE_OK);
	ck_assert_int_eq(format, STORE_FORMAT);
	ck_assert_uint_eq(sx_position(), 0);
	ck_assert_int_eq(store_read(st, sx_records_txn, &rs), STORE_OK);
	ck_assert_uint_eq(rs.n, 0);
	sx_index_records(&rs, 4);
	sx_is_block(&rs.r[0], "acm", 1, "acme-1", 7);
}
END_TEST

/*
 * A group of many new customers, the middle request undone: each one's
 * first delta writes its month without reading it (none can exist yet),
 * the flush writes every changed record of the entries' list, and the
 * undone request's customers, months and usage leave no trace.
 */
#define GC_MANY		300

START_TEST(group_cache_many_new_customers)
{
	static char		names[GC_MANY][16];
	struct gc_delta		d[GC_MANY];
	struct gc_request	req[3];
	struct gc_group		g;
	struct gc_seen		s;
	size_t			i;

	for (i = 0; i < GC_MANY; i++) {
		snprintf(names[i], sizeof(names[i]), "n%03zu", (i * 7) %
		    GC_MANY);
		d[i].customer = names[i];
		d[i].ms = GC_JAN + (int64_t)i;
		d[i].amount = (__int128)i + 1;
	}
	/* gc_group_run looks a up after the second request. */
	snprintf(names[0], sizeof(names[0]), "a");
	/* 0-149 kept, 150-199 undone, 200-299 kept. */
	req[0] = (struct gc_request){ d, 150, 0 };
	req[1] = (struct gc_request){ d + 150, 50, 1 };
	req[2] = (struct gc_request){ d + 200, 100, 0 };
	gc_run(req, 3, &g);
	for (i = 0; i < GC_MANY; i++) {
		s = gc_seen(names[i], GC_JAN);
		if (i >= 150 && i < 200) {
			ck_assert_int_eq(s.cust_rc, STORE_NOTFOUND);
			ck_assert_int_eq(s.month_rc, STORE_NOTFOUND);
			continue;
		}
		ck_assert_int_eq(s.cust_rc, STORE_OK);
		ck_assert_uint_eq(s.c.count, 1);
		ck_assert(s.c.sum == (__int128)i + 1);
		ck_assert_int_eq(s.month_rc, STORE_OK);
		ck_assert_uint_eq(s.m.first_seq, 1);
		ck_assert_uint_eq(s.m.count, 1);
		ck_assert(s.m.sum == (__int128)i + 1);
		ck_assert_uint_eq(s.usage, GC_MANY - 50);
		ck_assert_uint_eq(s.size, GC_MANY - 50);
	}
}
END_TEST

/*
 * Runs of deltas (store_delta_run_read): the log interleaves a dense
 * customer ("a": every index of 0..99, then every other), a sparse one
 * ("s", every tenth of the rest) and others, and one of a's deltas has
 * metadata larger than a bulk read's buffer.
 */
#define RUN_DELTAS	400
#define RUN_BIG_AT	150	/* a's delta with 40 KB of metadata */

static const char *
run_customer(uint64_t i)
{
	if (i < 100 || i % 2 == 0)
		return "a";
	return i % 10 == 1 ? "s" : "o";
}

static int
run_fill(struct store_txn *t, void *arg)
{
	struct store_slot	 slot;
	struct store_delta	 d;
	char			 leaf[32], *meta = arg;
	uint64_t		 i;
	int			 rc;

	for (i = 0; i < RUN_DELTAS; i++) {
		if ((rc = store_delta_slot(t, GC_TENANT, STORE_ENV_LIVE,
		    run_customer(i), &slot)) != STORE_OK)
			return rc;
		memset(&d, 0, sizeof(d));
		d.log_index = slot.log_index;
		d.seq = slot.cust.last_seq + 1;
		snprintf(d.record_id, sizeof(d.record_id), "rec_%" PRIu64, i);
		snprintf(d.receipt_id, sizeof(d.receipt_id), "rcpt_%" PRIu64,
		    i);
		snprintf(d.tenant, sizeof(d.tenant), GC_TENANT);
		d.env = STORE_ENV_LIVE;
		snprintf(d.customer_id, sizeof(d.customer_id), "%s",
		    run_customer(i));
		snprintf(d.delta, sizeof(d.delta), "1");
		snprintf(d.reason, sizeof(d.reason), "reason %" PRIu64, i);
		d.created_ms = GC_JAN + (int64_t)i;
		d.metadata = i == RUN_BIG_AT ? meta : NULL;
		snprintf(leaf, sizeof(leaf), "leaf %" PRIu64, i);
		d.leaf_data = leaf;
		d.leaf_len = strlen(leaf);
		if ((rc = store_delta_append(t, &slot, &d, 1)) != STORE_OK)
			return rc;
	}
	return STORE_OK;
}

static void
run_setup(void)
{
	char	*meta;

	setup();
	ck_assert_ptr_nonnull(meta = malloc(40 * 1024));
	memset(meta, 'm', 40 * 1024 - 1);
	meta[40 * 1024 - 1] = '\0';
	ck_assert_int_eq(store_write(st, run_fill, meta), STORE_OK);
	free(meta);
}

struct run_check {
	const char	*customer;	/* the run: this one's indexes */
	uint64_t	 from, n;	/* of its indexes, from the from-th */
	uint64_t	 extra;		/* an index added at the end, or 0 */
	int		 rc;		/* store_delta_run_read's */
	uint64_t	 index[RUN_DELTAS + 1];
	size_t		 count, same;	/* the run's, equal to the get's */
};

static int
run_read(struct store_txn *t, void *arg)
{
	struct run_check	*c = arg;
	struct store_delta_run	*run;
	struct store_delta	 got, want;
	uint64_t		 i, k = 0;
	int			 rc = STORE_OK;

	c->count = c->same = 0;
	for (i = 0; i < RUN_DELTAS && c->count < c->n; i++)
		if (strcmp(run_customer(i), c->customer) == 0 && k++ >= c->from)
			c->index[c->count++] = i;
	if (c->extra != 0)
		c->index[c->count++] = c->extra;
	if ((run = store_delta_run_new()) == NULL)
		return STORE_NOMEM;
	/* A run is reused: what an earlier read left must not show. */
	c->rc = store_delta_run_read(t, run, c->index + 1, 1);
	if (c->rc == STORE_OK)
		c->rc = store_delta_run_read(t, run, c->index, c->count);
	for (i = 0; c->rc == STORE_OK && i < c->count; i++) {
		if ((rc = store_delta_run_get(run, i, &got)) != STORE_OK)
			break;
		if ((rc = store_delta_get(t, c->index[i], &want)) != STORE_OK)
			break;
		c->same += got.log_index == want.log_index &&
		    strcmp(got.record_id, want.record_id) == 0 &&
		    strcmp(got.reason, want.reason) == 0 &&
		    (got.metadata == NULL) == (want.metadata == NULL) &&
		    (got.metadata == NULL ||
		    strcmp(got.metadata, want.metadata) == 0) &&
		    got.leaf_len == want.leaf_len &&
		    memcmp(got.leaf_data, want.leaf_data, got.leaf_len) == 0;
		store_delta_free(&want);	/* got's are the run's */
	}
	/* Past the run's end: nothing. */
	if (rc == STORE_OK && c->rc == STORE_OK &&
	    store_delta_run_get(run, c->count, &got) != STORE_NOTFOUND)
		rc = STORE_CORRUPT;
	store_delta_run_free(run);
	return rc;
}

static struct run_check
run_check(const char *customer, uint64_t from, uint64_t n, uint64_t extra)
{
	struct run_check	c;

	memset(&c, 0, sizeof(c));
	c.customer = customer;
	c.from = from;
	c.n = n;
	c.extra = extra;
	ck_assert_int_eq(store_read(st, run_read, &c), STORE_OK);
	return c;
}

START_TEST(delta_run_dense_sparse_and_big)
{
	struct run_check	c;

	/* Dense: 0..99 in one range, then every other, past the big one. */
	c = run_check("a", 0, 128, 0);
	ck_assert_int_eq(c.rc, STORE_OK);
	ck_assert_uint_eq(c.count, 128);
	ck_assert_uint_eq(c.same, 128);
	c = run_check("a", 100, 200, 0);
	ck_assert_int_eq(c.rc, STORE_OK);
	ck_assert_uint_eq(c.count, 150);
	ck_assert_uint_eq(c.same, 150);
	/* Sparse: one in ten, each by itself. */
	c = run_check("s", 0, 50, 0);
	ck_assert_int_eq(c.rc, STORE_OK);
	ck_assert_uint_eq(c.count, 30);
	ck_assert_uint_eq(c.same, 30);
	c = run_check("o", 3, 1, 0);
	ck_assert_int_eq(c.rc, STORE_OK);
	ck_assert_uint_eq(c.same, 1);
}
END_TEST

START_TEST(delta_run_missing_and_disordered)
{
	struct run_check	c;

	/* One past the log's end, in a dense run and in a sparse one. */
	c = run_check("a", 90, 10, RUN_DELTAS);
	ck_assert_int_eq(c.rc, STORE_NOTFOUND);
	c = run_check("s", 0, 5, RUN_DELTAS + 1000);
	ck_assert_int_eq(c.rc, STORE_NOTFOUND);
	/* Indexes must ascend. */
	c = run_check("a", 0, 10, 5);
	ck_assert_int_eq(c.rc, STORE_CORRUPT);
	c = run_check("a", 0, 0, 0);
	ck_assert_int_eq(c.rc, STORE_OK);
	ck_assert_uint_eq(c.count, 0);
}
END_TEST

struct run_pos {
	const char		*customer;
	uint64_t		first;
	size_t			n;
	int			rc;
	struct store_custpos	pos[RUN_DELTAS];
};

static int
run_pos_read(struct store_txn *t, void *arg)
{
	struct run_pos	*p = arg;

	p->rc = store_custpos_range(t, GC_TENANT, STORE_ENV_LIVE, p->customer,
	    p->first, p->n, p->pos);
	return STORE_OK;
}

/* Positions read in bulk: all of a run, and none past the customer's. */
START_TEST(custpos_range_bulk)
{
	struct run_pos	p;
	size_t		i;

	memset(&p, 0, sizeof(p));
	p.customer = "s";
	p.first = 1;
	p.n = 30;
	ck_assert_int_eq(store_read(st, run_pos_read, &p), STORE_OK);
	ck_assert_int_eq(p.rc, STORE_OK);
	for (i = 0; i < p.n; i++) {
		ck_assert_uint_eq(p.pos[i].log_index, 101 + 10 * i);
		ck_assert(p.pos[i].sum == (__int128)i + 1);
	}
	/* "s" has 30 deltas, the last customer's of the database. */
	p.first = 25;
	p.n = 7;
	ck_assert_int_eq(store_read(st, run_pos_read, &p), STORE_OK);
	ck_assert_int_eq(p.rc, STORE_NOTFOUND);
	/* "o" has 120: its walk ends at the next customer's, "s". */
	p.customer = "o";
	p.first = 118;
	p.n = 3;
	ck_assert_int_eq(store_read(st, run_pos_read, &p), STORE_OK);
	ck_assert_int_eq(p.rc, STORE_OK);
	p.n = 4;
	ck_assert_int_eq(store_read(st, run_pos_read, &p), STORE_OK);
	ck_assert_int_eq(p.rc, STORE_NOTFOUND);
}
END_TEST

/*
 * The leaf hash index (store/leaves.c): leaf i's hash made from i, so
 * that any leaf's can be made again.
 */
static void
leaf_of(struct store_leaf *l, uint64_t i)
{
	uint64_t	x = i * 0x9e3779b97f4a7c15ULL + 1;
	size_t		k;

	for (k = 0; k < STORE_HASH_LEN; k++) {
		x ^= x >> 31;
		x *= 0xbf58476d1ce4e5b9ULL;
		l->hash[k] = (uint8_t)(x >> 56);
	}
	l->index = i;
}

struct leaf_step {
	uint64_t	from, n;
};

static int
leaf_step_txn(struct store_txn *t, void *arg)
{
	struct leaf_step	*ls = arg;
	struct store_leaf	*l;
	uint64_t		 i;
	int			 rc;

	ck_assert_ptr_nonnull(l = calloc(ls->n + 1, sizeof(*l)));
	for (i = 0; i < ls->n; i++)
		leaf_of(&l[i], ls->from + i);
	rc = store_leaf_add(t, l, ls->n);
	free(l);
	return rc;
}

struct leaf_lookup {
	uint8_t		hash[STORE_HASH_LEN];
	uint64_t	index;
};

static int
leaf_find_txn(struct store_txn *t, void *arg)
{
	struct leaf_lookup	*lk = arg;

	return store_leaf_find(t, lk->hash, &lk->index);
}

/* Leaf i is found at i. */
static void
leaf_found(uint64_t i)
{
	struct leaf_lookup	lk;
	struct store_leaf	l;

	leaf_of(&l, i);
	memcpy(lk.hash, l.hash, sizeof(lk.hash));
	lk.index = UINT64_MAX;
	ck_assert_int_eq(store_read(st, leaf_find_txn, &lk), STORE_OK);
	ck_assert_uint_eq(lk.index, i);
}

static void
leaf_not_found(uint64_t i)
{
	struct leaf_lookup	lk;
	struct store_leaf	l;

	leaf_of(&l, i);
	memcpy(lk.hash, l.hash, sizeof(lk.hash));
	ck_assert_int_eq(store_read(st, leaf_find_txn, &lk), STORE_NOTFOUND);
}

/* What store_leaf_each gives: each leaf below n once, with its hash. */
struct leaf_seen {
	uint8_t		*seen;
	uint64_t	 n, count;
};

static int
leaf_seen_one(const struct store_leaf *l, void *arg)
{
	struct leaf_seen	*ls = arg;
	struct store_leaf	 want;

	ck_assert_uint_lt(l->index, ls->n);
	ck_assert(!ls->seen[l->index]);
	leaf_of(&want, l->index);
	ck_assert_mem_eq(l->hash, want.hash, STORE_HASH_LEN);
	ls->seen[l->index] = 1;
	ls->count++;
	return STORE_OK;
}

static int
leaf_each_txn(struct store_txn *t, void *arg)
{
	return store_leaf_each(t, leaf_seen_one, arg);
}

static void
leaf_each_holds(uint64_t n)
{
	struct leaf_seen	ls = { NULL, n, 0 };

	ck_assert_ptr_nonnull(ls.seen = calloc(n + 1, 1));
	ck_assert_int_eq(store_read(st, leaf_each_txn, &ls), STORE_OK);
	ck_assert_uint_eq(ls.count, n);
	free(ls.seen);
}

static int
count_block(const void *key, size_t klen, const void *val, size_t vlen,
    void *arg)
{
	uint64_t	*entries = arg;

	(void)key;
	(void)klen;
	(void)val;
	*entries += vlen / (STORE_HASH_LEN + 8);
	return STORE_OK;
}

static int
leafruns_entries_txn(struct store_txn *t, void *arg)
{
	*(uint64_t *)arg = 0;
	return store_kv_each(t, STORE_DB_LEAFRUNS, NULL, 0, count_block, arg);
}

/*
 * Steps of 1 to 997 leaves, 60,000 in all: level 0 runs merged into
 * level 1, and those into level 2, a piece a step.  Every leaf is found
 * at its index after every step, and none yet to come; the walk gives
 * each once; the runs merged are deleted.
 */
START_TEST(leaf_index_through_merges)
{
	struct leaf_step	ls = { 0, 0 };
	uint64_t		total = 60000, stored, i, step = 0;

	while (ls.from < total) {
		ls.n = (step * 7919) % 997 + 1;
		if (ls.n > total - ls.from)
			ls.n = total - ls.from;
		ck_assert_int_eq(store_write(st, leaf_step_txn, &ls),
		    STORE_OK);
		ls.from += ls.n;
		step++;
		for (i = 0; i < ls.from; i += ls.from / 37 + 1)
			leaf_found(i);
		leaf_found(ls.from - 1);
		leaf_not_found(ls.from);
	}
	for (i = 0; i < total; i++)
		leaf_found(i);
	leaf_not_found(total);
	leaf_each_holds(total);
	/* What is merged goes: all that is left is under 2x the leaves. */
	ck_assert_int_eq(store_read(st, leafruns_entries_txn, &stored),
	    STORE_OK);
	ck_assert_uint_ge(stored, total);
	ck_assert_uint_lt(stored, 2 * total);
	/* Steps of one leaf merge and delete all that is left. */
	for (i = 0; i < 64; i++) {
		ls.n = 1;
		ck_assert_int_eq(store_write(st, leaf_step_txn, &ls),
		    STORE_OK);
		ls.from++;
	}
	ck_assert_int_eq(store_read(st, leafruns_entries_txn, &stored),
	    STORE_OK);
	ck_assert_uint_eq(stored, ls.from);
	leaf_each_holds(ls.from);
	leaf_found(ls.from - 1);
}
END_TEST

/* A step undone leaves the index as it was. */
static int
leaf_step_undone_txn(struct store_txn *t, void *arg)
{
	int	rc;

	if ((rc = leaf_step_txn(t, arg)) != STORE_OK)
		return rc;
	return STORE_USER;
}

START_TEST(leaf_index_step_undone)
{
	struct leaf_step	ls = { 0, 500 };

	ck_assert_int_eq(store_write(st, leaf_step_txn, &ls), STORE_OK);
	ls.from = 500;
	ck_assert_int_eq(store_write(st, leaf_step_undone_txn, &ls),
	    STORE_USER);
	leaf_found(499);
	leaf_not_found(500);
	leaf_each_holds(500);
	ck_assert_int_eq(store_write(st, leaf_step_txn, &ls), STORE_OK);
	leaf_found(999);
	leaf_each_holds(1000);
}
END_TEST

static int
legacy_leaf_txn(struct store_txn *t, void *arg)
{
	struct store_leaf	l;

	leaf_of(&l, *(uint64_t *)arg);
	return store_kv_put_u64(t, STORE_DB_LEAVES, l.hash, STORE_HASH_LEN,
	    l.index, 1);
}

/* Format 6's leaves.db, kept by an upgraded directory, is read too. */
START_TEST(leaf_index_reads_format_6)
{
	struct leaf_step	ls = { 3, 2000 };
	uint64_t		i;

	for (i = 0; i < 3; i++)
		ck_assert_int_eq(store_write(st, legacy_leaf_txn, &i),
		    STORE_OK);
	ck_assert_int_eq(store_write(st, leaf_step_txn, &ls), STORE_OK);
	for (i = 0; i < 2003; i++)
		leaf_found(i);
	leaf_each_holds(2003);
}
END_TEST

/* A run out of its order is told: a lookup could miss its entries. */
static int
leaf_disorder_txn(struct store_txn *t, void *arg)
{
	uint8_t	*key = NULL, *val = NULL, tmp[STORE_HASH_LEN + 8];
	size_t	 klen, vlen;
	int	 rc;

	(void)arg;
	if ((rc = store_kv_seek(t, STORE_DB_LEAFRUNS, NULL, 0,
	    (void **)&key, &klen, (void **)&val, &vlen)) != STORE_OK)
		return rc;
	ck_assert_uint_ge(vlen, 3 * sizeof(tmp));
	memcpy(tmp, val + sizeof(tmp), sizeof(tmp));
	memcpy(val + sizeof(tmp), val + 2 * sizeof(tmp), sizeof(tmp));
	memcpy(val + 2 * sizeof(tmp), tmp, sizeof(tmp));
	rc = store_kv_put(t, STORE_DB_LEAFRUNS, key, klen, val, vlen, 0);
	free(key);
	free(val);
	return rc;
}

START_TEST(leaf_index_disorder_found)
{
	struct leaf_seen	ls = { NULL, 100, 0 };
	struct leaf_step	step = { 0, 100 };

	ck_assert_int_eq(store_write(st, leaf_step_txn, &step), STORE_OK);
	ck_assert_int_eq(store_write(st, leaf_disorder_txn, NULL), STORE_OK);
	ck_assert_ptr_nonnull(ls.seen = calloc(100, 1));
	ck_assert_int_eq(store_read(st, leaf_each_txn, &ls), STORE_CORRUPT);
	free(ls.seen);
}
END_TEST

Suite *
store_suite(void)
{
	Suite	*s = suite_create("store");
	TCase	*tc = tcase_create("store");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, open_requires_init);
	tcase_add_test(tc, format_2_tree_migrates_to_tiles);
	tcase_add_test(tc, tiles_read_alike_on_any_page_size);
	tcase_add_test(tc, log_databases_on_16k_pages);
	tcase_add_test(tc, tenant_add_get_persist);
	tcase_add_test(tc, callback_error_aborts);
	tcase_add_test(tc, key_round_trip);
	tcase_add_test(tc, concurrent_updates_not_lost);
	tcase_add_test(tc, concurrent_opens_run_no_recovery);
	tcase_add_test(tc, first_open_after_a_boot_recovers);
	tcase_add_test(tc, cadence_default_and_override);
	tcase_add_test(tc, checkpoint_each_resumes);
	/* The group commit's cache of aggregates (issue 22). */
	tcase_add_test(tc, group_cache_undone_request);
	tcase_add_test(tc, group_cache_one_customer_twice);
	tcase_add_test(tc, group_cache_month_rollover);
	tcase_add_test(tc, group_cache_many_new_customers);
	suite_add_tcase(s, tc);
	/* The search index's steps, sorted through one cursor. */
	tc = tcase_create("search");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, search_steps_index_exact_entries);
	tcase_add_test(tc, search_step_of_long_ids);
	tcase_add_test(tc, search_step_writes_a_block_a_trigram);
	tcase_add_test(tc, kv_put_each_keeps_the_last_value);
	tcase_add_test(tc, format_4_search_index_emptied);
	suite_add_tcase(s, tc);
	/* The leaf hash index as sorted runs. */
	tc = tcase_create("leaves");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, leaf_index_through_merges);
	tcase_add_test(tc, leaf_index_step_undone);
	tcase_add_test(tc, leaf_index_reads_format_6);
	tcase_add_test(tc, leaf_index_disorder_found);
	suite_add_tcase(s, tc);
	/* Runs of deltas and positions read in bulk. */
	tc = tcase_create("run");
	tcase_add_checked_fixture(tc, run_setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, delta_run_dense_sparse_and_big);
	tcase_add_test(tc, delta_run_missing_and_disordered);
	tcase_add_test(tc, custpos_range_bulk);
	suite_add_tcase(s, tc);
	return s;
}
