#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tilecache.h"
#include "tiles.h"

/* Why the read below ends other than with a store code. */
enum tiles_stop {
	TILES_STOP_NO_HEAD = STORE_USER,
	TILES_STOP_BEYOND_HEAD
};

/* A decimal lo..hi of len digits without a leading zero; -1 if not. */
static int
tiles_decimal(const char *s, size_t len, unsigned lo, unsigned hi,
    unsigned *out)
{
	unsigned	v = 0;
	size_t		i;

	if (len == 0 || len > 3 || (s[0] == '0' && len > 1))
		return -1;
	for (i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (unsigned)(s[i] - '0');
	}
	if (v < lo || v > hi)
		return -1;
	*out = v;
	return 0;
}

/* Three digits, into *n * 1000 + them; -1 if not, or on overflow. */
static int
tiles_group(const char *s, uint64_t *n)
{
	uint64_t	d;

	if (s[0] < '0' || s[0] > '9' || s[1] < '0' || s[1] > '9' ||
	    s[2] < '0' || s[2] > '9')
		return -1;
	d = (uint64_t)(s[0] - '0') * 100 + (uint64_t)(s[1] - '0') * 10 +
	    (uint64_t)(s[2] - '0');
	if (*n > (UINT64_MAX - d) / 1000)
		return -1;
	*n = *n * 1000 + d;
	return 0;
}

int
tiles_path_parse(const char *path, struct tiles_ref *ref)
{
	const char	*p, *slash;
	int		 first = 1;

	memset(ref, 0, sizeof(*ref));
	if ((slash = strchr(path, '/')) == NULL ||
	    tiles_decimal(path, (size_t)(slash - path), 0, TILES_LEVEL_MAX,
	    &ref->level) < 0)
		return -1;
	/* "xDDD/" groups, then the last "DDD", alone or with ".p/<W>". */
	for (p = slash + 1; p[0] == 'x'; p += 5, first = 0) {
		if (tiles_group(p + 1, &ref->index) < 0 || p[4] != '/' ||
		    (first && ref->index == 0))
			return -1;
	}
	if (tiles_group(p, &ref->index) < 0)
		return -1;
	p += 3;
	ref->width = TILES_WIDTH;
	if (*p == '\0')
		return 0;
	if (strncmp(p, ".p/", 3) != 0)
		return -1;
	p += 3;
	return tiles_decimal(p, strlen(p), 1, TILES_WIDTH - 1, &ref->width);
}

struct tiles_read {
	const struct tiles_ref	*ref;
	uint8_t			*out;
};

static int
tiles_read_txn(struct store_txn *t, void *arg)
{
	struct tiles_read	*r = arg;
	const struct tiles_ref	*ref = r->ref;
	struct store_sth	 head;
	uint64_t		 nodes;
	unsigned		 shift = ref->level * TILES_HEIGHT;
	int			 rc;

	if ((rc = store_sth_latest(t, &head)) != STORE_OK)
		return rc == STORE_NOTFOUND ? TILES_STOP_NO_HEAD : rc;
	/* The complete subtrees of height 8·L in the signed tree. */
	nodes = shift >= 64 ? 0 : head.size >> shift;
	if (ref->index > nodes / TILES_WIDTH ||
	    ref->index * TILES_WIDTH + ref->width > nodes)
		return TILES_STOP_BEYOND_HEAD;
	rc = store_tile_get(t, ref->level, ref->index, 0, ref->width, r->out);
	/* The head says these hashes exist: one missing is damage. */
	return rc == STORE_NOTFOUND ? STORE_CORRUPT : rc;
}

enum tiles_result
tiles_read(struct store *st, const struct tiles_ref *ref,
    uint8_t out[TILES_FULL_LEN])
{
	struct tiles_read	r = { ref, out };

	switch (store_read(st, tiles_read_txn, &r)) {
	case STORE_OK:
		return TILES_OK;
	case TILES_STOP_NO_HEAD:
		return TILES_NO_HEAD;
	case TILES_STOP_BEYOND_HEAD:
		return TILES_BEYOND_HEAD;
	default:
		return TILES_FAILED;
	}
}

/* Where a full tile keeps its nodes of level r (merkle_levels). */
#define TILES_INNER(r)	(2 * TILES_WIDTH - (2 * TILES_WIDTH >> (r)))

/*
 * A node inside a full tile is stored there; inside the partial tile at
 * the right edge it is computed from the 2^r hashes below it.
 */
int
tiles_node(void *txn, unsigned level, uint64_t index, merkle_hash out)
{
	merkle_hash	*below;
	unsigned	 r = level % TILES_HEIGHT, tl = level / TILES_HEIGHT;
	uint64_t	 first, tile;
	unsigned	 at;
	int		 rc;

	if (level >= 64 || index >= UINT64_MAX >> level)
		return -1;
	/* The node's 2^r hashes are aligned, so they share one tile. */
	first = index << r;
	tile = first / TILES_WIDTH;
	at = (unsigned)(first % TILES_WIDTH);
	rc = store_tile_get(txn, tl, tile, TILES_INNER(r) + (at >> r), 1, out);
	if (rc != STORE_NOTFOUND || r == 0)
		return rc;
	if ((below = malloc(((size_t)2 << r) * MERKLE_HASH_LEN)) == NULL)
		return STORE_NOMEM;
	rc = store_tile_get(txn, tl, tile, at, 1u << r, (uint8_t *)below);
	if (rc == STORE_OK && (rc = merkle_levels(below, (size_t)1 << r)) == 0)
		memcpy(out, below[((size_t)2 << r) - 2], MERKLE_HASH_LEN);
	free(below);
	return rc;
}

/* A tile as a reader holds it: a full one, or the tree's part of one. */
struct tiles_slot {
	int		held;		/* 0 until read */
	uint64_t	index;
	merkle_hash	node[STORE_TILE_MAX];
};

struct tiles_reader {
	struct store_txn	*txn;
	uint64_t		 size;
	struct tilecache_tree	 tree;	/* size 0 unless signed */
	/* Made as a level is first read: a proof reads two or three. */
	struct tiles_slot	*slot[TILES_LEVELS];
};

struct tiles_reader *
tiles_reader_new(struct store_txn *t, uint64_t size)
{
	struct tiles_reader	*rd;

	if ((rd = calloc(1, sizeof(*rd))) != NULL) {
		rd->txn = t;
		rd->size = size;
	}
	return rd;
}

void
tiles_reader_signed(struct tiles_reader *rd, const merkle_hash root)
{
	rd->tree.size = rd->size;
	memcpy(rd->tree.root, root, MERKLE_HASH_LEN);
}

void
tiles_reader_free(struct tiles_reader *rd)
{
	unsigned	tl;

	if (rd == NULL)
		return;
	for (tl = 0; tl < TILES_LEVELS; tl++)
		free(rd->slot[tl]);
	free(rd);
}

/*
 * Tile (tl, index) into its level's slot.  A partial tile is cut to the
 * hashes the tree of rd->size has (the integrator may have stored more
 * since), so that every proof of that size asks tilecache for the same
 * hashes and finds the nodes above them computed; for a signed tree,
 * tilecache has them by its root, and the tile is not read.
 */
static int
tiles_reader_load(struct tiles_reader *rd, unsigned tl, uint64_t index)
{
	struct tiles_slot	*s = rd->slot[tl];
	uint64_t		 have;
	unsigned		 n;
	int			 rc;

	if (s != NULL && s->held && s->index == index)
		return STORE_OK;
	if (s == NULL && (s = rd->slot[tl] = malloc(sizeof(*s))) == NULL)
		return STORE_NOMEM;
	s->held = 0;
	/* The tree's hashes at tile level tl from the tile's first on. */
	have = (rd->size >> tl * TILES_HEIGHT) - index * TILES_WIDTH;
	if (have < TILES_WIDTH && tilecache_tree_levels(tl, index,
	    (unsigned)have, &rd->tree, s->node) == 0)
		goto held;
	rc = store_tile_read(rd->txn, tl, index, (uint8_t *)s->node, &n);
	/* The tree has a node of this tile, so the tile exists. */
	if (rc != STORE_OK)
		return rc == STORE_NOTFOUND ? STORE_CORRUPT : rc;
	if (n != STORE_TILE_MAX) {
		if (have > TILES_WIDTH)
			have = TILES_WIDTH;
		if (n > TILES_WIDTH || n < have)
			return STORE_CORRUPT;
		if (tilecache_levels(tl, index, s->node, (unsigned)have,
		    rd->tree.size != 0 ? &rd->tree : NULL) != 0)
			return STORE_NOMEM;
	}
held:
	s->index = index;
	s->held = 1;
	return STORE_OK;
}

int
tiles_reader_node(void *arg, unsigned level, uint64_t index, merkle_hash out)
{
	struct tiles_reader	*rd = arg;
	struct tiles_slot	*s;
	unsigned		 r = level % TILES_HEIGHT;
	unsigned		 tl = level / TILES_HEIGHT;
	uint64_t		 first;
	unsigned		 at;
	int			 rc;

	/* Inside the tree of rd->size, so inside what the slot holds. */
	if (level >= 64 || index >= UINT64_MAX >> level ||
	    (index + 1) << level > rd->size)
		return -1;
	first = index << r;
	if ((rc = tiles_reader_load(rd, tl, first / TILES_WIDTH)) != STORE_OK)
		return rc;
	s = rd->slot[tl];
	at = (unsigned)(first % TILES_WIDTH);
	memcpy(out, s->node[TILES_INNER(r) + (at >> r)], MERKLE_HASH_LEN);
	return 0;
}

/* A tile level's right-edge tile, as the writer holds it. */
struct tiles_edge {
	int		dirty;
	uint64_t	index;
	unsigned	width;
	merkle_hash	hash[STORE_TILE_MAX];	/* and a full one's nodes */
};

struct tiles_writer {
	struct store_txn	*txn;
	/* Made as a level is first touched: most steps touch one or two. */
	struct tiles_edge	*edge[TILES_LEVELS];
};

struct tiles_writer *
tiles_writer_new(struct store_txn *t)
{
	struct tiles_writer	*w;

	if ((w = calloc(1, sizeof(*w))) != NULL)
		w->txn = t;
	return w;
}

void
tiles_writer_free(struct tiles_writer *w)
{
	unsigned	tl;

	if (w == NULL)
		return;
	for (tl = 0; tl < TILES_LEVELS; tl++)
		free(w->edge[tl]);
	free(w);
}

/* The hashes the tile of the first node written holds before it. */
static int
tiles_edge_load(struct tiles_writer *w, unsigned tl, uint64_t index)
{
	struct tiles_edge	*e;
	int			 rc;

	if ((e = w->edge[tl] = malloc(sizeof(*e))) == NULL)
		return STORE_NOMEM;
	e->index = index / TILES_WIDTH;
	e->width = (unsigned)(index % TILES_WIDTH);
	e->dirty = 0;
	if (e->width == 0)
		return STORE_OK;
	rc = store_tile_get(w->txn, tl, e->index, 0, e->width,
	    (uint8_t *)e->hash);
	/* The tree has these nodes, so the tile has their hashes. */
	return rc == STORE_NOTFOUND ? STORE_CORRUPT : rc;
}

int
tiles_writer_node(void *arg, unsigned level, uint64_t index,
    const merkle_hash hash)
{
	struct tiles_writer	*w = arg;
	struct tiles_edge	*e;
	unsigned		 tl = level / TILES_HEIGHT;
	int			 rc;

	if (level % TILES_HEIGHT != 0 || tl >= TILES_LEVELS)
		return STORE_OK;	/* computed from a tile when read */
	if (w->edge[tl] == NULL && (rc = tiles_edge_load(w, tl, index)) !=
	    STORE_OK)
		return rc;
	e = w->edge[tl];
	if (index != e->index * TILES_WIDTH + e->width)
		return STORE_CORRUPT;	/* not the next node of its level */
	memcpy(e->hash[e->width++], hash, MERKLE_HASH_LEN);
	e->dirty = 1;
	if (e->width < TILES_WIDTH)
		return STORE_OK;
	/* Full: written this once, with its nodes, never again. */
	if (merkle_levels(e->hash, TILES_WIDTH) != 0)
		return STORE_NOMEM;
	if ((rc = store_tile_put(w->txn, tl, e->index, (uint8_t *)e->hash,
	    STORE_TILE_MAX)) != STORE_OK)
		return rc;
	e->index++;
	e->width = 0;
	e->dirty = 0;
	return STORE_OK;
}

int
tiles_writer_flush(struct tiles_writer *w)
{
	struct tiles_edge	*e;
	unsigned		 tl;
	int			 rc;

	for (tl = 0; tl < TILES_LEVELS; tl++) {
		if ((e = w->edge[tl]) == NULL || !e->dirty)
			continue;
		if ((rc = store_tile_put(w->txn, tl, e->index,
		    (uint8_t *)e->hash, e->width)) != STORE_OK)
			return rc;
		e->dirty = 0;
	}
	return STORE_OK;
}
