/*
 * Merkle trees of RFC 9162 section 2.1 over SHA-256: a leaf hashes as
 * SHA-256(0x00 || data), a node as SHA-256(0x01 || left || right), the
 * empty tree's root is SHA-256 of nothing, and a tree of n leaves splits
 * at the largest power of two below n.
 *
 * The algorithms read a tree through a node source: a function that
 * gives the hash of one complete subtree, the 2^level leaves starting at
 * leaf index << level.  Such subtrees never change once the log has
 * grown past them, so a source backed by the store is a single read per
 * node; every function here reads O(log n) nodes.  struct merkle_array
 * is the source over leaf hashes held in memory (tests, receipts).
 *
 * Functions return 0, -1 when the arguments name no such tree or proof
 * (index >= size, from > to, ...), or the non-zero value a node source
 * returned, unchanged.  Verifiers return 0 only when the proof holds.
 */
#ifndef TALLY_MERKLE_H
#define TALLY_MERKLE_H

#include <stddef.h>
#include <stdint.h>

#define MERKLE_HASH_LEN		32
#define MERKLE_PROOF_MAX	66	/* hashes in any proof, n < 2^64 */

typedef uint8_t	merkle_hash[MERKLE_HASH_LEN];

typedef int	(*merkle_node_fn)(void *arg, unsigned level, uint64_t index,
		    merkle_hash out);

/* A node source over size leaf hashes in memory; arg is the struct. */
struct merkle_array {
	const merkle_hash	*leaves;
	uint64_t		 size;
};
int	merkle_array_node(void *arg, unsigned level, uint64_t index,
	    merkle_hash out);

int	merkle_leaf_hash(const void *data, size_t len, merkle_hash out);
int	merkle_node_hash(const merkle_hash left, const merkle_hash right,
	    merkle_hash out);

/*
 * The complete subtree over n hashes of one level, n a power of two, in
 * nodes[0..n): writes the levels above them after them, level by level,
 * 2n - 1 hashes in all, the level r nodes from nodes[2n - (2n >> r)] on
 * and the root last.
 */
int	merkle_levels(merkle_hash *nodes, size_t n);
/*
 * The same over the first width (0..n) of those n hashes, the others
 * unknown: only the nodes above them alone, width >> r of level r, at
 * the same places; the rest of nodes[n..2n) is left as it was.
 */
int	merkle_levels_prefix(merkle_hash *nodes, size_t n, size_t width);
/* The root of the first size leaves (size 0: SHA-256 of nothing). */
int	merkle_root(merkle_node_fn, void *arg, uint64_t size,
	    merkle_hash out);
/* RFC 9162 2.1.3.1: the audit path of leaf index in a tree of size. */
int	merkle_inclusion_proof(merkle_node_fn, void *arg, uint64_t index,
	    uint64_t size, merkle_hash proof[MERKLE_PROOF_MAX], size_t *len);
/* RFC 9162 2.1.4.1: proof that tree from is a prefix of tree to (1<=from<=to). */
int	merkle_consistency_proof(merkle_node_fn, void *arg, uint64_t from,
	    uint64_t to, merkle_hash proof[MERKLE_PROOF_MAX], size_t *len);
/* RFC 9162 2.1.3.2. */
int	merkle_verify_inclusion(const merkle_hash leaf, uint64_t index,
	    uint64_t size, const merkle_hash *proof, size_t len,
	    const merkle_hash root);
/* RFC 9162 2.1.4.2. */
int	merkle_verify_consistency(uint64_t from, uint64_t to,
	    const merkle_hash *proof, size_t len, const merkle_hash from_root,
	    const merkle_hash to_root);

/*
 * The right edge of a growing tree: for each bit set in size, the root
 * of the complete subtree that bit stands for.  It is all an appender
 * needs to extend the tree and to know its root.
 */
struct merkle_edge {
	uint64_t	size;
	merkle_hash	node[64];	/* node[level] valid iff bit level set */
};
/* Called for each node an append completes: the leaf, then its parents. */
typedef int	(*merkle_emit_fn)(void *arg, unsigned level, uint64_t index,
		    const merkle_hash hash);
/* The edge of the tree of size leaves, read from a node source. */
int	merkle_edge_load(struct merkle_edge *, merkle_node_fn, void *arg,
	    uint64_t size);
/* Appends one leaf hash; emit (may be NULL) sees every completed node. */
int	merkle_edge_append(struct merkle_edge *, const merkle_hash leaf,
	    merkle_emit_fn emit, void *arg);
int	merkle_edge_root(const struct merkle_edge *, merkle_hash out);

#endif
