/* The verifiable log: tiles, leaf index, signed tree heads, keys. */
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "pack.h"

#define STH_VERSION	1
/* 2 added how the key came to sign; 1 (without) is still read. */
#define SIGNKEY_VERSION		2
#define SIGNKEY_VERSION_1	1

/* Level, then index, big-endian: a level's records sort by index. */
static void
tree_key(uint8_t key[9], unsigned level, uint64_t index)
{
	key[0] = (uint8_t)level;
	be64_put(key + 1, index);
}

int
store_tile_put(struct store_txn *t, unsigned level, uint64_t index,
    const uint8_t *hashes, unsigned n)
{
	uint8_t	key[9];

	if (n == 0 || n > STORE_TILE_MAX)
		return STORE_CORRUPT;
	tree_key(key, level, index);
	return store_kv_put(t, STORE_DB_TILES, key, sizeof(key), hashes,
	    (size_t)n * STORE_HASH_LEN, 0);
}

/* Gets tile (level, index) into v, which says where and how much. */
static int
tree_tile_fetch(struct store_txn *t, unsigned level, uint64_t index, DBT *v)
{
	DB	*db = t->st->db[STORE_DB_TILES];
	DBT	 k;
	uint8_t	 key[9];

	tree_key(key, level, index);
	memset(&k, 0, sizeof(k));
	k.data = key;
	k.size = sizeof(key);
	return store_rc(db->get(db, t->txn, &k, v, t->get_flags |
	    t->read_flags));
}

/*
 * A partial read: a proof needs a few hashes of a tile, and an 8 KiB
 * tile spans overflow pages that need not all be read.
 */
int
store_tile_get(struct store_txn *t, unsigned level, uint64_t index,
    unsigned first, unsigned n, uint8_t *out)
{
	DBT	v;
	int	rc;

	if (n == 0 || first + n > STORE_TILE_MAX)
		return STORE_NOTFOUND;
	memset(&v, 0, sizeof(v));
	v.data = out;
	v.ulen = v.dlen = n * STORE_HASH_LEN;
	v.doff = first * STORE_HASH_LEN;
	v.flags = DB_DBT_USERMEM | DB_DBT_PARTIAL;
	if ((rc = tree_tile_fetch(t, level, index, &v)) != STORE_OK)
		return rc;
	/* A tile narrower than asked returns what it has, or nothing. */
	return v.size == v.dlen ? STORE_OK : STORE_NOTFOUND;
}

int
store_tile_read(struct store_txn *t, unsigned level, uint64_t index,
    uint8_t out[STORE_TILE_MAX * STORE_HASH_LEN], unsigned *n)
{
	DBT	v;
	int	rc;

	memset(&v, 0, sizeof(v));
	v.data = out;
	v.ulen = STORE_TILE_MAX * STORE_HASH_LEN;
	v.flags = DB_DBT_USERMEM;
	if ((rc = tree_tile_fetch(t, level, index, &v)) != STORE_OK)
		return rc;
	if (v.size == 0 || v.size % STORE_HASH_LEN != 0)
		return STORE_CORRUPT;
	*n = v.size / STORE_HASH_LEN;
	return STORE_OK;
}

struct tree_range {
	unsigned	 level;
	uint64_t	 next, end;
	uint8_t		*out;
};

static int
tree_range_record(const void *key, size_t klen, const void *val, size_t vlen,
    void *arg)
{
	struct tree_range	*r = arg;
	uint8_t			 want[9];

	/* Nodes of a complete subtree are never missing: a gap is damage. */
	tree_key(want, r->level, r->next);
	if (klen != sizeof(want) || memcmp(key, want, klen) != 0 ||
	    vlen != STORE_HASH_LEN)
		return STORE_CORRUPT;
	memcpy(r->out, val, STORE_HASH_LEN);
	r->out += STORE_HASH_LEN;
	return ++r->next == r->end ? STORE_STOP : STORE_OK;
}

/* The n format 2 node records of level from index first on. */
static int
tree_node_range(struct store_txn *t, unsigned level, uint64_t first,
    unsigned n, uint8_t *out)
{
	struct tree_range	r = { level, first, first + n, out };
	uint8_t			key[9];
	int			rc;

	tree_key(key, level, first);
	rc = store_kv_each(t, STORE_DB_TREE, key, sizeof(key),
	    tree_range_record, &r);
	if (rc == STORE_STOP)
		return STORE_OK;
	return rc == STORE_OK ? STORE_CORRUPT : rc;	/* ended early */
}

/*
 * Tile (level, index) of width hashes from format 2's nodes; a full one
 * with its inner nodes, level 8 * level + r from 256 >> r on for r 1..8
 * (the layout of merkle_levels).
 */
static int
tree_tile_migrate(struct store_txn *t, unsigned level, uint64_t index,
    unsigned width, uint8_t *buf)
{
	unsigned	r, n = 0;
	int		rc;

	for (r = 0; r <= (width == STORE_TILE_WIDTH ? 8u : 0u); r++) {
		if ((rc = tree_node_range(t, 8 * level + r,
		    (index * STORE_TILE_WIDTH) >> r, width >> r,
		    buf + (size_t)n * STORE_HASH_LEN)) != STORE_OK)
			return rc;
		n += width >> r;
	}
	return store_tile_put(t, level, index, buf, n);
}

int
store_tree_migrate(struct store_txn *t, struct store_tree_migration *m)
{
	uint8_t		*buf;
	uint64_t	 nodes;
	unsigned	 level = m->level, width, done = 0;
	uint64_t	 index = m->index;
	int		 rc = STORE_OK;

	if ((buf = malloc(STORE_TILE_MAX * STORE_HASH_LEN)) == NULL)
		return STORE_NOMEM;
	/* Tile level L holds tree level 8L; above 7 no level has a node. */
	for (; level < 8 && done < STORE_MIGRATE_TILES; level++, index = 0) {
		nodes = m->size >> (8 * level);
		for (; index * STORE_TILE_WIDTH < nodes &&
		    done < STORE_MIGRATE_TILES; index++, done++) {
			width = nodes - index * STORE_TILE_WIDTH >
			    STORE_TILE_WIDTH ? STORE_TILE_WIDTH :
			    (unsigned)(nodes - index * STORE_TILE_WIDTH);
			if ((rc = tree_tile_migrate(t, level, index, width,
			    buf)) != STORE_OK)
				goto out;
		}
		if (index * STORE_TILE_WIDTH < nodes)
			break;
	}
	m->next_level = level;
	m->next_index = index;
out:
	free(buf);
	return rc;
}

struct tree_drop {
	uint8_t		keys[STORE_DROP_NODES][9];
	unsigned	n;
};

static int
tree_drop_record(const void *key, size_t klen, const void *val, size_t vlen,
    void *arg)
{
	struct tree_drop	*d = arg;

	(void)val;
	(void)vlen;
	if (klen != sizeof(d->keys[0]))
		return STORE_CORRUPT;
	memcpy(d->keys[d->n], key, klen);
	return ++d->n == STORE_DROP_NODES ? STORE_STOP : STORE_OK;
}

int
store_tree_drop(struct store_txn *t, unsigned *dropped)
{
	struct tree_drop	*d;
	unsigned		 i;
	int			 rc;

	if ((d = calloc(1, sizeof(*d))) == NULL)
		return STORE_NOMEM;
	rc = store_kv_each(t, STORE_DB_TREE, NULL, 0, tree_drop_record, d);
	if (rc == STORE_OK || rc == STORE_STOP)
		rc = STORE_OK;
	for (i = 0; i < d->n && rc == STORE_OK; i++)
		rc = store_kv_del(t, STORE_DB_TREE, d->keys[i],
		    sizeof(d->keys[i]));
	*dropped = d->n;
	free(d);
	return rc;
}

static int
sth_unpack(const void *key, size_t klen, const void *val, size_t vlen,
    struct store_sth *h)
{
	struct unpack	u;

	memset(h, 0, sizeof(*h));
	if (klen != 8)
		return STORE_CORRUPT;
	h->size = be64_get(key);
	unpack_init(&u, val, vlen);
	if (unpack_u8(&u) != STH_VERSION)
		return STORE_CORRUPT;
	unpack_bytes(&u, h->root, STORE_HASH_LEN);
	h->signed_ms = (int64_t)unpack_u64(&u);
	unpack_str(&u, h->key_id, sizeof(h->key_id));
	unpack_str(&u, h->note, sizeof(h->note));
	return u.err || u.left ? STORE_CORRUPT : STORE_OK;
}

int
store_sth_add(struct store_txn *t, const struct store_sth *h)
{
	struct pack	pk = { 0 };
	uint8_t		key[8];
	int		rc;

	be64_put(key, h->size);
	pack_u8(&pk, STH_VERSION);
	pack_bytes(&pk, h->root, STORE_HASH_LEN);
	pack_u64(&pk, (uint64_t)h->signed_ms);
	pack_str(&pk, h->key_id);
	pack_str(&pk, h->note);
	rc = pk.err ? STORE_NOMEM : store_kv_put(t, STORE_DB_STH, key,
	    sizeof(key), pk.buf, pk.len, 1);
	pack_free(&pk);
	return rc;
}

int
store_sth_get(struct store_txn *t, uint64_t size, struct store_sth *h)
{
	uint8_t	 key[8];
	void	*val = NULL;
	size_t	 vlen;
	int	 rc;

	be64_put(key, size);
	if ((rc = store_kv_get(t, STORE_DB_STH, key, sizeof(key), &val,
	    &vlen)) != STORE_OK)
		return rc;
	rc = sth_unpack(key, sizeof(key), val, vlen, h);
	free(val);
	return rc;
}

/* The head at the least size >= size, or with from NULL the last. */
static int
sth_seek(struct store_txn *t, const uint8_t *from, struct store_sth *h)
{
	void	*k = NULL, *v = NULL;
	size_t	 klen, vlen;
	int	 rc;

	if ((rc = store_kv_seek(t, STORE_DB_STH, from, from ? 8 : 0, &k,
	    &klen, &v, &vlen)) != STORE_OK)
		return rc;
	rc = sth_unpack(k, klen, v, vlen, h);
	free(k);
	free(v);
	return rc;
}

int
store_sth_latest(struct store_txn *t, struct store_sth *h)
{
	return sth_seek(t, NULL, h);
}

int
store_sth_covering(struct store_txn *t, uint64_t log_index,
    struct store_sth *h)
{
	uint8_t	key[8];

	be64_put(key, log_index + 1);
	return sth_seek(t, key, h);
}

struct sth_each {
	store_sth_fn	 fn;
	void		*arg;
};

static int
sth_each_record(const void *key, size_t klen, const void *val, size_t vlen,
    void *arg)
{
	struct sth_each		*se = arg;
	struct store_sth	 h;
	int			 rc;

	if ((rc = sth_unpack(key, klen, val, vlen, &h)) != STORE_OK)
		return rc;
	return se->fn(&h, se->arg);
}

int
store_sth_each(struct store_txn *t, uint64_t from, store_sth_fn fn,
    void *arg)
{
	struct sth_each	se = { fn, arg };
	uint8_t		key[8];

	be64_put(key, from);
	return store_kv_each(t, STORE_DB_STH, key, sizeof(key),
	    sth_each_record, &se);
}

static int
signkey_unpack(const void *key, size_t klen, const void *val, size_t vlen,
    struct store_signkey *k)
{
	struct unpack	 u;
	uint8_t		 version, rotation;
	char		*sig;

	memset(k, 0, sizeof(*k));
	if (klen == 0 || klen > STORE_KEYID_MAX)
		return STORE_CORRUPT;
	memcpy(k->key_id, key, klen);
	unpack_init(&u, val, vlen);
	version = unpack_u8(&u);
	if (version != SIGNKEY_VERSION && version != SIGNKEY_VERSION_1)
		return STORE_CORRUPT;
	unpack_str(&u, k->name, sizeof(k->name));
	unpack_str(&u, k->alg, sizeof(k->alg));
	unpack_str(&u, k->file, sizeof(k->file));
	unpack_str(&u, k->pem, sizeof(k->pem));
	k->valid_from_ms = (int64_t)unpack_u64(&u);
	k->valid_to_ms = (int64_t)unpack_u64(&u);
	if (version == SIGNKEY_VERSION_1)	/* STORE_ROTATION_UNRECORDED */
		return u.err || u.left ? STORE_CORRUPT : STORE_OK;
	rotation = unpack_u8(&u);
	unpack_str(&u, k->replaces, sizeof(k->replaces));
	sig = unpack_blob(&u, &k->endorsement_len);
	if (sig != NULL && k->endorsement_len <= sizeof(k->endorsement))
		memcpy(k->endorsement, sig, k->endorsement_len);
	else
		u.err = 1;
	free(sig);
	/* UNRECORDED too: a version 1 record rewritten when it retires. */
	if (u.err || u.left || rotation > STORE_ROTATION_UNENDORSED ||
	    (rotation == STORE_ROTATION_ENDORSED) !=
	    (k->endorsement_len != 0))
		return STORE_CORRUPT;
	k->rotation = (enum store_rotation)rotation;
	return STORE_OK;
}

static int
signkey_put(struct store_txn *t, const struct store_signkey *k, int unique)
{
	struct pack	pk = { 0 };
	int		rc;

	pack_u8(&pk, SIGNKEY_VERSION);
	pack_str(&pk, k->name);
	pack_str(&pk, k->alg);
	pack_str(&pk, k->file);
	pack_str(&pk, k->pem);
	pack_u64(&pk, (uint64_t)k->valid_from_ms);
	pack_u64(&pk, (uint64_t)k->valid_to_ms);
	pack_u8(&pk, (uint8_t)k->rotation);
	pack_str(&pk, k->replaces);
	pack_blob(&pk, k->endorsement, k->endorsement_len);
	rc = pk.err ? STORE_NOMEM : store_kv_put(t, STORE_DB_SIGNKEYS,
	    k->key_id, strlen(k->key_id), pk.buf, pk.len, unique);
	pack_free(&pk);
	return rc;
}

int
store_signkey_add(struct store_txn *t, const struct store_signkey *k)
{
	return signkey_put(t, k, 1);
}

int
store_signkey_update(struct store_txn *t, const struct store_signkey *k)
{
	struct store_signkey	old;
	int			rc;

	if ((rc = store_signkey_get(t, k->key_id, &old)) != STORE_OK)
		return rc;
	return signkey_put(t, k, 0);
}

int
store_signkey_get(struct store_txn *t, const char *key_id,
    struct store_signkey *k)
{
	void	*val = NULL;
	size_t	 vlen;
	int	 rc;

	if ((rc = store_kv_get(t, STORE_DB_SIGNKEYS, key_id, strlen(key_id),
	    &val, &vlen)) != STORE_OK)
		return rc;
	rc = signkey_unpack(key_id, strlen(key_id), val, vlen, k);
	free(val);
	return rc;
}

struct signkey_each {
	store_signkey_fn	 fn;
	void			*arg;
};

static int
signkey_each_record(const void *key, size_t klen, const void *val,
    size_t vlen, void *arg)
{
	struct signkey_each	*se = arg;
	struct store_signkey	 k;
	int			 rc;

	if ((rc = signkey_unpack(key, klen, val, vlen, &k)) != STORE_OK)
		return rc;
	return se->fn(&k, se->arg);
}

int
store_signkey_each(struct store_txn *t, store_signkey_fn fn, void *arg)
{
	struct signkey_each	se = { fn, arg };

	return store_kv_each(t, STORE_DB_SIGNKEYS, NULL, 0,
	    signkey_each_record, &se);
}

static int
signkey_if_active(const struct store_signkey *k, void *arg)
{
	if (k->valid_to_ms != 0)
		return 0;
	*(struct store_signkey *)arg = *k;
	return STORE_STOP;
}

int
store_signkey_active(struct store_txn *t, struct store_signkey *k)
{
	int	rc;

	/* A handful of keys over a log's life: a scan is the simple way. */
	rc = store_signkey_each(t, signkey_if_active, k);
	if (rc == STORE_STOP)
		return STORE_OK;
	return rc == STORE_OK ? STORE_NOTFOUND : rc;
}
