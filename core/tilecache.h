/*
 * The nodes inside the partial tiles at the right edge of the tree,
 * remembered across requests.  Every proof of a tree of size n reads the
 * same partial tile of each tile level, and computing the nodes above
 * its W hashes costs up to W - 1 SHA-256; a full tile is stored with
 * them, a partial one never is, as the tiles the log serves are exactly
 * C2SP's.  The nodes above W hashes are a function of those hashes
 * alone, so an entry answers only a caller holding the very hashes it
 * was made from (compared, not trusted by name), or naming the signed
 * tree they were last met in by its size and root, which no other tree
 * has: it cannot be stale, whichever store, transaction or writer the
 * caller's tile came from.
 * Every request thread of a process shares it; it holds at most two
 * tiles per tile level, 16 KiB each.
 */
#ifndef TALLY_TILECACHE_H
#define TALLY_TILECACHE_H

#include <stdint.h>

#include "../crypto/merkle.h"
#include "../store/store.h"

/*
 * A signed tree, by its size and root: only one tree has both, so the
 * nodes at its edge may be found by them, without its hashes to compare.
 */
struct tilecache_tree {
	uint64_t	size;
	merkle_hash	root;
};

/*
 * node[0..width) holds the first width (1..256) hashes of tile (level,
 * index); fills in the nodes above them as a full tile stores its own
 * (merkle_levels_prefix over STORE_TILE_WIDTH).  With tree (else NULL),
 * those hashes are that tree's at its edge, read in the transaction that
 * read its head: the entry answers tilecache_tree_levels for it next.
 * Returns 0, or -1 if hashing failed.
 */
int	tilecache_levels(unsigned level, uint64_t index,
	    merkle_hash node[STORE_TILE_MAX], unsigned width,
	    const struct tilecache_tree *tree);
/*
 * The same without the hashes: node[0..width) and the nodes above them
 * from the entry tilecache_levels last met with tree, if one still holds
 * tile (level, index) cut to width.  Returns 0, or -1 if none.
 */
int	tilecache_tree_levels(unsigned level, uint64_t index, unsigned width,
	    const struct tilecache_tree *tree,
	    merkle_hash node[STORE_TILE_MAX]);

#endif
