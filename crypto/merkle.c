#include <string.h>

#include <openssl/evp.h>

#include "hash.h"
#include "merkle.h"

/*
 * Every range the RFC's recursion visits, [start, start + n), has start
 * a multiple of the smallest power of two >= n: the tree starts at 0, a
 * left half [start, start + k) keeps its parent's start, and a right half
 * starts at start + k, a multiple of k, with n - k <= k leaves.  Such a
 * range is the complete subtrees of the bits of n, largest first, so it
 * costs one node per bit; merkle_range relies on that alignment.
 */

/* The level of the largest power of two strictly less than n (n >= 2). */
static unsigned
merkle_split(uint64_t n)
{
	unsigned	level = 0;

	/* 2k < n, written so that it cannot overflow. */
	while (((uint64_t)1 << level) < n - ((uint64_t)1 << level))
		level++;
	return level;
}

/* Reverses proof[0..len): the descents find the hashes root first. */
static void
merkle_reverse(merkle_hash *proof, size_t len)
{
	merkle_hash	tmp;
	size_t		i;

	for (i = 0; i < len / 2; i++) {
		memcpy(tmp, proof[i], MERKLE_HASH_LEN);
		memcpy(proof[i], proof[len - 1 - i], MERKLE_HASH_LEN);
		memcpy(proof[len - 1 - i], tmp, MERKLE_HASH_LEN);
	}
}

/*
 * MTH of the aligned range [start, start + n), n >= 1: its subtrees
 * folded right to left, the way RFC 9162 splits a range whose size is
 * not a power of two.
 */
static int
merkle_range(merkle_node_fn fn, void *arg, uint64_t start, uint64_t n,
    merkle_hash out)
{
	merkle_hash	node;
	uint64_t	end = start + n;
	unsigned	level;
	int		first = 1, rc;

	for (level = 0; level < 64; level++) {
		if ((n >> level & 1) == 0)
			continue;
		end -= (uint64_t)1 << level;
		if ((rc = fn(arg, level, end >> level, first ? out : node)) !=
		    0)
			return rc;
		if (!first && merkle_node_hash(node, out, out) != 0)
			return -1;
		first = 0;
	}
	return 0;
}

int
merkle_array_node(void *arg, unsigned level, uint64_t index,
    merkle_hash out)
{
	const struct merkle_array	*a = arg;
	merkle_hash			 left, right;

	/* The test also keeps (index + 1) << level from overflowing. */
	if (level >= 64 || index >= a->size >> level)
		return -1;
	if (level == 0) {
		memcpy(out, a->leaves[index], MERKLE_HASH_LEN);
		return 0;
	}
	if (merkle_array_node(arg, level - 1, 2 * index, left) != 0 ||
	    merkle_array_node(arg, level - 1, 2 * index + 1, right) != 0)
		return -1;
	return merkle_node_hash(left, right, out);
}

int
merkle_leaf_hash(const void *data, size_t len, merkle_hash out)
{
	static const uint8_t	 prefix = 0x00;
	EVP_MD_CTX		*ctx = NULL;
	unsigned int		 outlen = 0;
	int			 rc = -1;

	/* A context, not a copy: leaf data has no bound here. */
	if ((ctx = EVP_MD_CTX_new()) == NULL)
		goto out;
	if (EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) != 1 ||
	    EVP_DigestUpdate(ctx, &prefix, 1) != 1 ||
	    EVP_DigestUpdate(ctx, data, len) != 1 ||
	    EVP_DigestFinal_ex(ctx, out, &outlen) != 1 ||
	    outlen != MERKLE_HASH_LEN)
		goto out;
	rc = 0;
out:
	EVP_MD_CTX_free(ctx);
	return rc;
}

/* out may be left or right: both are copied before it is written. */
int
merkle_node_hash(const merkle_hash left, const merkle_hash right,
    merkle_hash out)
{
	uint8_t	buf[1 + 2 * MERKLE_HASH_LEN];

	buf[0] = 0x01;
	memcpy(buf + 1, left, MERKLE_HASH_LEN);
	memcpy(buf + 1 + MERKLE_HASH_LEN, right, MERKLE_HASH_LEN);
	return hash_sha256(buf, sizeof(buf), out);
}

/*
 * One context for every node: a tile's 255 nodes are most of a proof's
 * work, and a context per hash (EVP_Digest) costs more than the hash.
 */
int
merkle_levels_prefix(merkle_hash *nodes, size_t n, size_t width)
{
	static const uint8_t	 prefix = 0x01;
	EVP_MD_CTX		*ctx = NULL;
	merkle_hash		*below = nodes, *above = nodes + n;
	unsigned int		 outlen;
	size_t			 i;
	int			 rc = -1;

	if (n == 0 || (n & (n - 1)) != 0 || width > n)
		return -1;
	if (width > 1 && ((ctx = EVP_MD_CTX_new()) == NULL ||
	    EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) != 1))
		goto out;
	/* n halves with the level, width too: its odd node has no pair. */
	for (; n > 1; n /= 2, width /= 2) {
		for (i = 0; i < width / 2; i++)
			if (EVP_DigestInit_ex2(ctx, NULL, NULL) != 1 ||
			    EVP_DigestUpdate(ctx, &prefix, 1) != 1 ||
			    EVP_DigestUpdate(ctx, below[2 * i],
			    2 * MERKLE_HASH_LEN) != 1 ||
			    EVP_DigestFinal_ex(ctx, above[i], &outlen) != 1 ||
			    outlen != MERKLE_HASH_LEN)
				goto out;
		below = above;
		above += n / 2;
	}
	rc = 0;
out:
	EVP_MD_CTX_free(ctx);
	return rc;
}

int
merkle_levels(merkle_hash *nodes, size_t n)
{
	return merkle_levels_prefix(nodes, n, n);
}

int
merkle_root(merkle_node_fn fn, void *arg, uint64_t size, merkle_hash out)
{
	if (size == 0)
		return hash_sha256("", 0, out);
	return merkle_range(fn, arg, 0, size, out);
}

/*
 * PATH(m, D[n]) descended from the root: at each split the sibling of
 * the half holding the leaf is one hash of the path.  A left sibling is
 * a complete subtree; a right one is read as a range, which happens at
 * most once before the rest of the descent is inside a complete subtree,
 * so the whole costs O(log n) nodes.
 */
int
merkle_inclusion_proof(merkle_node_fn fn, void *arg, uint64_t index,
    uint64_t size, merkle_hash proof[MERKLE_PROOF_MAX], size_t *len)
{
	uint64_t	start = 0, n = size, k;
	unsigned	level;
	size_t		count = 0;
	int		rc;

	*len = 0;
	if (index >= size)
		return -1;
	while (n > 1) {
		/* Each split at least halves n: 64 hashes at most. */
		if (count == MERKLE_PROOF_MAX)
			return -1;
		level = merkle_split(n);
		k = (uint64_t)1 << level;
		if (index - start < k) {
			rc = merkle_range(fn, arg, start + k, n - k,
			    proof[count]);
			n = k;
		} else {
			rc = fn(arg, level, start >> level, proof[count]);
			start += k;
			n -= k;
		}
		if (rc != 0)
			return rc;
		count++;
	}
	merkle_reverse(proof, count);
	*len = count;
	return 0;
}

/*
 * SUBPROOF(m, D[n], b) descended the same way; m is kept relative to
 * start.  When the descent ends on the old tree's last subtree, that
 * subtree is the first hash of the proof unless it is the old tree
 * itself (b still true), which the verifier already holds.
 */
int
merkle_consistency_proof(merkle_node_fn fn, void *arg, uint64_t from,
    uint64_t to, merkle_hash proof[MERKLE_PROOF_MAX], size_t *len)
{
	uint64_t	start = 0, m = from, n = to, k;
	unsigned	level;
	size_t		count = 0;
	int		whole = 1, rc;

	*len = 0;
	if (from == 0 || from > to)
		return -1;
	while (m != n) {
		/* 64 splits and the last subtree: 65 hashes at most. */
		if (count == MERKLE_PROOF_MAX)
			return -1;
		level = merkle_split(n);
		k = (uint64_t)1 << level;
		if (m <= k) {
			rc = merkle_range(fn, arg, start + k, n - k,
			    proof[count]);
			n = k;
		} else {
			rc = fn(arg, level, start >> level, proof[count]);
			start += k;
			n -= k;
			m -= k;
			whole = 0;
		}
		if (rc != 0)
			return rc;
		count++;
	}
	if (!whole) {
		if (count == MERKLE_PROOF_MAX)
			return -1;
		if ((rc = merkle_range(fn, arg, start, n, proof[count])) != 0)
			return rc;
		count++;
	}
	merkle_reverse(proof, count);
	*len = count;
	return 0;
}

/*
 * RFC 9162 2.1.3.2.  fn and sn are the leaf's and the last leaf's
 * indices at the current level; where they meet on an even fn the leaf
 * is on the right edge and climbs levels that have no right sibling.
 */
int
merkle_verify_inclusion(const merkle_hash leaf, uint64_t index,
    uint64_t size, const merkle_hash *proof, size_t len,
    const merkle_hash root)
{
	merkle_hash	r;
	uint64_t	fn, sn;
	size_t		i;

	if (index >= size || len > MERKLE_PROOF_MAX)
		return -1;
	fn = index;
	sn = size - 1;
	memcpy(r, leaf, MERKLE_HASH_LEN);
	for (i = 0; i < len; i++) {
		if (sn == 0)
			return -1;
		if ((fn & 1) || fn == sn) {
			if (merkle_node_hash(proof[i], r, r) != 0)
				return -1;
			while ((fn & 1) == 0 && fn != 0) {
				fn >>= 1;
				sn >>= 1;
			}
		} else if (merkle_node_hash(r, proof[i], r) != 0)
			return -1;
		fn >>= 1;
		sn >>= 1;
	}
	return sn == 0 && hash_equal(r, root, MERKLE_HASH_LEN) ? 0 : -1;
}

/*
 * RFC 9162 2.1.4.2, which defines only 0 < from < to; the other cases
 * need no hashes: every tree extends the empty one, and a tree extends
 * itself when the roots are the same.
 */
int
merkle_verify_consistency(uint64_t from, uint64_t to,
    const merkle_hash *proof, size_t len, const merkle_hash from_root,
    const merkle_hash to_root)
{
	merkle_hash	fr, sr, empty;
	uint64_t	fn, sn;
	size_t		i = 0;

	if (from > to || len > MERKLE_PROOF_MAX)
		return -1;
	if (from == 0 && (len != 0 || hash_sha256("", 0, empty) != 0 ||
	    !hash_equal(from_root, empty, MERKLE_HASH_LEN)))
		return -1;
	if (from == to)
		return len == 0 && hash_equal(from_root, to_root,
		    MERKLE_HASH_LEN) ? 0 : -1;
	if (from == 0)
		return 0;
	if (len == 0)
		return -1;
	/* A power of two is a complete subtree the proof leaves out. */
	if ((from & (from - 1)) == 0)
		memcpy(fr, from_root, MERKLE_HASH_LEN);
	else
		memcpy(fr, proof[i++], MERKLE_HASH_LEN);
	memcpy(sr, fr, MERKLE_HASH_LEN);
	fn = from - 1;
	sn = to - 1;
	while (fn & 1) {
		fn >>= 1;
		sn >>= 1;
	}
	for (; i < len; i++) {
		if (sn == 0)
			return -1;
		if ((fn & 1) || fn == sn) {
			if (merkle_node_hash(proof[i], fr, fr) != 0 ||
			    merkle_node_hash(proof[i], sr, sr) != 0)
				return -1;
			while ((fn & 1) == 0 && fn != 0) {
				fn >>= 1;
				sn >>= 1;
			}
		} else if (merkle_node_hash(sr, proof[i], sr) != 0)
			return -1;
		fn >>= 1;
		sn >>= 1;
	}
	return sn == 0 && hash_equal(fr, from_root, MERKLE_HASH_LEN) &&
	    hash_equal(sr, to_root, MERKLE_HASH_LEN) ? 0 : -1;
}

/* The subtree for bit level of size is the last 2^level leaves of it. */
int
merkle_edge_load(struct merkle_edge *e, merkle_node_fn fn, void *arg,
    uint64_t size)
{
	struct merkle_edge	load;
	unsigned		level;
	int			rc;

	memset(&load, 0, sizeof(load));
	load.size = size;
	for (level = 0; level < 64; level++)
		if ((size >> level & 1) &&
		    (rc = fn(arg, level, (size >> level) - 1,
		    load.node[level])) != 0)
			return rc;
	*e = load;
	return 0;
}

/*
 * The new leaf merges with the subtree of each low set bit of size, as
 * a carry ripples through an increment.  The edge is written only once
 * every emit has succeeded, so a caller whose emit failed can retry.
 */
int
merkle_edge_append(struct merkle_edge *e, const merkle_hash leaf,
    merkle_emit_fn emit, void *arg)
{
	merkle_hash	h;
	uint64_t	after;
	unsigned	level = 0;
	int		rc;

	if (e->size == UINT64_MAX)
		return -1;
	after = e->size + 1;
	memcpy(h, leaf, MERKLE_HASH_LEN);
	if (emit != NULL && (rc = emit(arg, 0, e->size, h)) != 0)
		return rc;
	while (e->size >> level & 1) {
		if (merkle_node_hash(e->node[level], h, h) != 0)
			return -1;
		level++;
		if (emit != NULL &&
		    (rc = emit(arg, level, (after >> level) - 1, h)) != 0)
			return rc;
	}
	memcpy(e->node[level], h, MERKLE_HASH_LEN);
	e->size = after;
	return 0;
}

int
merkle_edge_root(const struct merkle_edge *e, merkle_hash out)
{
	unsigned	level;
	int		first = 1;

	if (e->size == 0)
		return hash_sha256("", 0, out);
	for (level = 0; level < 64; level++) {
		if ((e->size >> level & 1) == 0)
			continue;
		if (first)
			memcpy(out, e->node[level], MERKLE_HASH_LEN);
		else if (merkle_node_hash(e->node[level], out, out) != 0)
			return -1;
		first = 0;
	}
	return 0;
}
