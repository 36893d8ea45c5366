/*
 * The Merkle tree as C2SP tlog-tiles (c2sp.org/tlog-tiles): tiles of
 * height 8, the tile <L>/<N> holding the hashes of tree level 8·L from
 * index 256·N on, 256 of them (a full tile) or W of 1 to 255 (a partial
 * tile, .p/<W>).  Level 0 holds the leaf hashes.  The store keeps the
 * tiles as they are served (store_tile_put): a full tile is written
 * once, the partial tile at the right edge of each level rewritten as it
 * grows.  Any other node of the tree, at level 8L + r (r 1..7), is the
 * root of 2^r hashes of one tile of level L: a full tile is stored with
 * these nodes after its hashes, the partial one computes them.  Entry
 * bundles (tile/entries) do not exist here: leaf data is private (SPEC
 * 4.2).
 */
#ifndef TALLY_TILES_H
#define TALLY_TILES_H

#include <stdint.h>

#include "../crypto/merkle.h"
#include "../store/store.h"

#define TILES_HEIGHT	8
#define TILES_WIDTH	STORE_TILE_WIDTH	/* hashes in a full tile */
#define TILES_LEVEL_MAX	63
#define TILES_FULL_LEN	(TILES_WIDTH * STORE_HASH_LEN)	/* 8192 bytes */
/* Tile levels that hold a node of a tree below 2^64 leaves. */
#define TILES_LEVELS	(64 / TILES_HEIGHT)

struct tiles_ref {
	unsigned	level;
	uint64_t	index;
	unsigned	width;		/* 1..256: 256 is the full tile */
};

/*
 * Parses "<L>/<N>[.p/<W>]", the part of a tile's path after "tile/",
 * accepting only the spec's one spelling of each tile: L 0..63 and W
 * 1..255 in decimal without leading zeros, N in groups of three digits,
 * all but the last prefixed with "x", no leading "x000" group.  0, or
 * -1 for anything else ("entries/..." included).
 */
int	tiles_path_parse(const char *path, struct tiles_ref *);

enum tiles_result {
	TILES_OK = 0,
	TILES_NO_HEAD,		/* nothing signed yet */
	TILES_BEYOND_HEAD,	/* the newest head does not hold this tile */
	TILES_FAILED		/* the store failed or memory ran out */
};

/*
 * The tile's hashes, width * STORE_HASH_LEN bytes into out, if the tree
 * of the newest signed head holds all of them (tiles of older heads'
 * right edges included: they never change).
 */
enum tiles_result tiles_read(struct store *, const struct tiles_ref *,
	    uint8_t out[TILES_FULL_LEN]);

/*
 * A merkle node source over the stored tiles; arg is a struct store_txn
 * *.  It reads one hash, or inside the partial tile at the right edge
 * the 2^r hashes below a node at level 8L + r.
 */
int	tiles_node(void *txn, unsigned level, uint64_t index, merkle_hash out);

/*
 * A node source over the tree of size leaves in one transaction, for
 * the many nodes of a proof: it reads each tile whole, once, and keeps
 * the last one of each tile level, so a proof costs a read per tile it
 * touches rather than one per node; the nodes inside partial tiles come
 * from tilecache.h.  Asked for a node past size it returns -1.
 * tiles_reader_new returns NULL out of memory; tiles_reader_free.
 */
struct tiles_reader;
struct tiles_reader *tiles_reader_new(struct store_txn *, uint64_t size);
int	tiles_reader_node(void *reader, unsigned level, uint64_t index,
	    merkle_hash out);
/*
 * Says the tree is the one whose root a signed head gives, read in the
 * reader's transaction: its partial tiles come from tilecache by that
 * root, unread, once a proof of it has read them.
 */
void	tiles_reader_signed(struct tiles_reader *, const merkle_hash root);
void	tiles_reader_free(struct tiles_reader *);

/*
 * The tiles of a tree growing in one transaction: it is handed every
 * node merkle_edge_append completes (tiles_writer_node is a
 * merkle_emit_fn), keeps those of levels 8L in the right-edge tile of
 * each tile level, read from the store when first touched, and stores a
 * tile as it fills; tiles_writer_flush stores the partial ones left.
 * Appending n leaves so writes about n / 256 + 8 tiles.
 */
struct tiles_writer;
struct tiles_writer *tiles_writer_new(struct store_txn *);
int	tiles_writer_node(void *writer, unsigned level, uint64_t index,
	    const merkle_hash);
int	tiles_writer_flush(struct tiles_writer *);
void	tiles_writer_free(struct tiles_writer *);

#endif
