#include <pthread.h>
#include <string.h>

#include "tilecache.h"

/*
 * Entries per tile level: the newest head's tile and one other tree
 * size's, so that proofs of two sizes at once do not evict each other.
 */
/* Tile levels of a tree below 2^64 leaves, 8 levels each (tiles.h). */
#define TILECACHE_LEVELS	8
#define TILECACHE_WAYS		2

struct tilecache_entry {
	uint64_t		index;
	unsigned		width;	/* 0: empty */
	unsigned long		used;	/* the clock when last answered */
	/* The signed tree last met with these at its edge (size 0: none). */
	struct tilecache_tree	tree;
	merkle_hash		node[STORE_TILE_MAX];
};

/* One lock: held for a compare and a copy, never for hashing. */
static pthread_mutex_t	tilecache_lock = PTHREAD_MUTEX_INITIALIZER;
static unsigned long	tilecache_clock;
static struct tilecache_entry
			tilecache_entry[TILECACHE_LEVELS][TILECACHE_WAYS];

/* The entry made from exactly node[0..width), or NULL. */
static struct tilecache_entry *
tilecache_find(unsigned level, uint64_t index, const merkle_hash *node,
    unsigned width)
{
	struct tilecache_entry	*e;
	unsigned		 i;

	for (i = 0; i < TILECACHE_WAYS; i++) {
		e = &tilecache_entry[level][i];
		if (e->width == width && e->index == index &&
		    memcmp(e->node, node, (size_t)width * MERKLE_HASH_LEN) ==
		    0)
			return e;
	}
	return NULL;
}

/* Keeps node, just computed, in the level's least recently used entry. */
static struct tilecache_entry *
tilecache_keep(unsigned level, uint64_t index, const merkle_hash *node,
    unsigned width)
{
	struct tilecache_entry	*e, *old;
	unsigned		 i;

	/* Another thread may have computed the same meanwhile. */
	if ((e = tilecache_find(level, index, node, width)) != NULL)
		return e;
	e = &tilecache_entry[level][0];
	for (i = 1; i < TILECACHE_WAYS; i++) {
		old = &tilecache_entry[level][i];
		if (old->used < e->used)
			e = old;
	}
	e->index = index;
	e->width = width;
	e->tree.size = 0;
	memcpy(e->node, node, sizeof(e->node));
	return e;
}

/* e answered, for tree if not NULL. */
static void
tilecache_use(struct tilecache_entry *e, const struct tilecache_tree *tree)
{
	e->used = ++tilecache_clock;
	if (tree != NULL)
		e->tree = *tree;
}

/*
 * The nodes above the first width hashes from one tile's nodes into
 * another's: width >> r of level r (merkle_levels_prefix), fewer than
 * width in all, where a tile has 255.
 */
static void
tilecache_copy_above(merkle_hash *to, const merkle_hash *from,
    unsigned width)
{
	unsigned	at = STORE_TILE_WIDTH, n = STORE_TILE_WIDTH / 2;

	for (width /= 2; width > 0; at += n, n /= 2, width /= 2)
		memcpy(to[at], from[at], (size_t)width * MERKLE_HASH_LEN);
}

int
tilecache_levels(unsigned level, uint64_t index,
    merkle_hash node[STORE_TILE_MAX], unsigned width,
    const struct tilecache_tree *tree)
{
	struct tilecache_entry	*e;

	if (level >= TILECACHE_LEVELS || width == 0 || width > STORE_TILE_WIDTH)
		return -1;
	pthread_mutex_lock(&tilecache_lock);
	if ((e = tilecache_find(level, index, node, width)) != NULL) {
		tilecache_copy_above(node, e->node, width);
		tilecache_use(e, tree);
	}
	pthread_mutex_unlock(&tilecache_lock);
	if (e != NULL)
		return 0;
	if (merkle_levels_prefix(node, STORE_TILE_WIDTH, width) != 0)
		return -1;
	pthread_mutex_lock(&tilecache_lock);
	tilecache_use(tilecache_keep(level, index, node, width), tree);
	pthread_mutex_unlock(&tilecache_lock);
	return 0;
}

int
tilecache_tree_levels(unsigned level, uint64_t index, unsigned width,
    const struct tilecache_tree *tree, merkle_hash node[STORE_TILE_MAX])
{
	struct tilecache_entry	*e;
	unsigned		 i;
	int			 rc = -1;

	if (level >= TILECACHE_LEVELS || width == 0 || tree->size == 0)
		return -1;
	pthread_mutex_lock(&tilecache_lock);
	for (i = 0; i < TILECACHE_WAYS && rc != 0; i++) {
		e = &tilecache_entry[level][i];
		if (e->width != width || e->index != index ||
		    e->tree.size != tree->size ||
		    memcmp(e->tree.root, tree->root, MERKLE_HASH_LEN) != 0)
			continue;
		memcpy(node, e->node, (size_t)width * MERKLE_HASH_LEN);
		tilecache_copy_above(node, e->node, width);
		tilecache_use(e, NULL);
		rc = 0;
	}
	pthread_mutex_unlock(&tilecache_lock);
	return rc;
}
