/*
 * The audit of the log (SPEC 4): each leaf from its delta's fields, its
 * hashes from the leaf, the tree from the leaf hashes, and every signed
 * tree head's root from the tree and its signature from the key it
 * names; with each delta's place among its customer's totals and its
 * referenceId's binding, and its count in its tenant's usage (handed to
 * audit_usage.c).  The log is read AUDIT_CHUNK leaves to a read, the
 * tree rebuilt as it goes, as it was when the audit began.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/sbuf.h"
#include "../crypto/hash.h"
#include "../crypto/merkle.h"
#include "../crypto/note.h"
#include "audit_internal.h"
#include "emit.h"
#include "ledger.h"
#include "tiles.h"

/* The log has a gap: told, and the walk ends there. */
enum { AUDIT_HOLE = STORE_USER };

/* Tile levels of a tree below 2^64 leaves. */
#define AUDIT_TILE_LEVELS	(64 / TILES_HEIGHT)

/* The stored tile of one tile level the rebuilt tree is in. */
struct audit_tile {
	int		read, found;
	uint64_t	index;
	merkle_hash	hash[STORE_TILE_MAX];	/* and a full one's nodes */
};

/*
 * The pairs (leaf hash, log index) of some leaves, as one number: the
 * sum, mod 2^256, of each pair's SHA-256, and their count.  The leaf
 * hash index must hold exactly the tree's leaves: the sums of both sides
 * check it in one pass over each, in any order, in memory that does not
 * grow with the log.
 */
struct audit_leafsum {
	uint64_t	count;
	uint64_t	sum[4];
};

struct audit_logpass {
	struct audit		*a;
	struct audit_result	*res;
	struct audit_usage	*usage;		/* counts each delta read */
	struct store_txn	*txn;		/* the read under way */
	/* What the audit covers: the log and its tree as they were. */
	uint64_t		 log_size, tree_size;
	/* The tree rebuilt from recomputed leaf hashes. */
	struct merkle_edge	 edge, saved;
	/* The tree's leaves, as read; and the index's, at the end. */
	struct audit_leafsum	 leaves, leaves_saved, index;
	uint64_t		 chunk_end;
	struct sbuf		 leaf;
	/* Each tile read once: its hashes, as the tree of tree_size has. */
	struct audit_tile	 tile[AUDIT_TILE_LEVELS];
	merkle_hash		 inner[STORE_TILE_MAX];
};

/* A head against the rebuilt tree of its size, and its signature. */
static void
audit_head(struct audit_logpass *x, const struct store_sth *h)
{
	const struct audit_key	*k;
	struct note_head	 cp;
	merkle_hash		 root;
	int			 rc;

	x->res->heads++;
	if (merkle_edge_root(&x->edge, root) != 0 ||
	    !hash_equal(root, h->root, sizeof(root)))
		audit_problem(x->a, "tree head %llu: its root is not the root "
		    "of the log's first %llu leaves",
		    (unsigned long long)h->size, (unsigned long long)h->size);
	if ((k = audit_find_key(x->a, h->key_id)) == NULL || k->key == NULL) {
		audit_problem(x->a, "tree head %llu: signed by unknown key %s",
		    (unsigned long long)h->size, h->key_id);
		return;
	}
	rc = note_open(h->note, strlen(h->note), k->key, k->rec.name, &cp);
	if (rc != NOTE_OK)
		audit_problem(x->a, "tree head %llu: signature by key %s: %s",
		    (unsigned long long)h->size, h->key_id, note_strerror(rc));
	else if (cp.size != h->size || !hash_equal(cp.root, h->root,
	    sizeof(cp.root)))
		audit_problem(x->a, "tree head %llu: the signed note is not "
		    "this head", (unsigned long long)h->size);
}

/*
 * A full tile's nodes, which proofs read, against those its hashes make;
 * its hashes are checked one by one against the rebuilt tree.
 */
static int
audit_tile_nodes(struct audit_logpass *x, unsigned tl, struct audit_tile *at)
{
	memcpy(x->inner, at->hash, TILES_WIDTH * MERKLE_HASH_LEN);
	if (merkle_levels(x->inner, TILES_WIDTH) != 0)
		return STORE_NOMEM;
	if (memcmp(x->inner[TILES_WIDTH], at->hash[TILES_WIDTH],
	    (STORE_TILE_MAX - TILES_WIDTH) * MERKLE_HASH_LEN) != 0)
		audit_problem(x->a, "tile %u/%llu: the nodes stored inside it "
		    "do not match its hashes", tl,
		    (unsigned long long)at->index);
	return STORE_OK;
}

/*
 * The stored hash of node index of tree level 8 * tl, from its tile, read
 * once; NULL (a missing tile told once) if the tile does not hold it.
 */
static int
audit_stored(struct audit_logpass *x, unsigned tl, uint64_t index,
    const uint8_t **stored)
{
	struct audit_tile	*at = &x->tile[tl];
	uint64_t		 nodes = x->tree_size >> (tl * TILES_HEIGHT);
	unsigned		 width;
	int			 rc;

	*stored = NULL;
	if (!at->read || at->index != index / TILES_WIDTH) {
		at->index = index / TILES_WIDTH;
		width = nodes - at->index * TILES_WIDTH >= TILES_WIDTH ?
		    STORE_TILE_MAX : (unsigned)(nodes - at->index * TILES_WIDTH);
		rc = store_tile_get(x->txn, tl, at->index, 0, width,
		    (uint8_t *)at->hash);
		if (rc != STORE_OK && rc != STORE_NOTFOUND)
			return rc;
		at->read = 1;
		at->found = rc == STORE_OK;
		if (!at->found)
			audit_problem(x->a, "tile %u/%llu is missing or holds "
			    "fewer than its %u hashes", tl,
			    (unsigned long long)at->index, width);
		else if (width == STORE_TILE_MAX &&
		    (rc = audit_tile_nodes(x, tl, at)) != STORE_OK)
			return rc;
	}
	if (at->found)
		*stored = at->hash[index % TILES_WIDTH];
	return STORE_OK;
}

/*
 * Each node the rebuilt tree completes, against the stored one: the
 * nodes of levels 8L are stored in tiles, the others computed from them.
 */
static int
audit_node(void *arg, unsigned level, uint64_t index, const merkle_hash hash)
{
	struct audit_logpass	*x = arg;
	const uint8_t		*stored;
	int			 rc;

	if (((index + 1) << level) > x->tree_size)
		return 0;	/* not integrated when the audit began */
	x->res->nodes++;
	if (level == 0 || level % TILES_HEIGHT != 0)
		return 0;	/* the leaf itself: audit_leaf_hashes did it */
	if ((rc = audit_stored(x, level / TILES_HEIGHT, index, &stored)) !=
	    STORE_OK)
		return rc;
	if (stored != NULL && !hash_equal(stored, hash, MERKLE_HASH_LEN))
		audit_problem(x->a, "tree node (level %u, index %llu) does not "
		    "match the leaves below it", level,
		    (unsigned long long)index);
	return 0;
}

static int
audit_leafsum_add(struct audit_leafsum *s, const uint8_t hash[HASH_LEN],
    uint64_t index)
{
	uint8_t			pair[HASH_LEN + 8], h[HASH_LEN];
	uint64_t		limb, carry = 0;
	unsigned __int128	v;
	int			i, j;

	memcpy(pair, hash, HASH_LEN);
	for (i = 0; i < 8; i++)
		pair[HASH_LEN + i] = (uint8_t)(index >> (56 - 8 * i));
	if (hash_sha256(pair, sizeof(pair), h) < 0)
		return STORE_NOMEM;
	for (i = 0; i < 4; i++) {
		for (limb = 0, j = 0; j < 8; j++)
			limb = limb << 8 | h[8 * i + j];
		v = (unsigned __int128)s->sum[i] + limb + carry;
		s->sum[i] = (uint64_t)v;
		carry = (uint64_t)(v >> 64);
	}
	s->count++;
	return STORE_OK;
}

static int
audit_leaf_hashes(struct audit_logpass *x, const struct store_delta *d,
    merkle_hash leaf)
{
	uint8_t			 content[HASH_LEN];
	const uint8_t		*stored;
	unsigned long long	 i = d->log_index;
	int			 rc;

	x->leaf.len = 0;
	if (emit_leaf(d, &x->leaf) < 0 || x->leaf.oom)
		return STORE_NOMEM;
	if (x->leaf.len != d->leaf_len ||
	    memcmp(x->leaf.buf, d->leaf_data, d->leaf_len) != 0)
		audit_problem(x->a, "leaf %llu: its leaf data does not match "
		    "the delta's fields", i);
	if (hash_sha256(d->leaf_data, d->leaf_len, content) < 0 ||
	    merkle_leaf_hash(d->leaf_data, d->leaf_len, leaf) < 0)
		return STORE_NOMEM;
	if (!hash_equal(content, d->content_hash, sizeof(content)))
		audit_problem(x->a, "leaf %llu: contentHash does not match its "
		    "leaf data", i);
	if (!hash_equal(leaf, d->leaf_hash, MERKLE_HASH_LEN))
		audit_problem(x->a, "leaf %llu: leafHash does not match its "
		    "leaf data", i);
	if (d->log_index >= x->tree_size)
		return STORE_OK;
	/*
	 * The index is checked against the leafHash the delta records, the
	 * one the integrator indexed and a client asks a proof by: a leaf
	 * or a tile altered since is told once, here, not again as the
	 * index's.
	 */
	if ((rc = audit_leafsum_add(&x->leaves, d->leaf_hash,
	    d->log_index)) != STORE_OK)
		return rc;
	/*
	 * The tree goes on from the leaf hash it committed to, so that one
	 * altered leaf is reported once, here, and not again in every node
	 * and head above it; those are checked against what they signed.
	 */
	if ((rc = audit_stored(x, 0, d->log_index, &stored)) != STORE_OK)
		return rc;
	if (stored == NULL)
		audit_problem(x->a, "leaf %llu: missing from the tree", i);
	else if (!hash_equal(stored, leaf, MERKLE_HASH_LEN)) {
		audit_problem(x->a, "leaf %llu: the tree holds another leaf "
		    "hash", i);
		memcpy(leaf, stored, MERKLE_HASH_LEN);
	}
	return STORE_OK;
}

/*
 * The delta's place among its customer's totals.  The walk over each
 * customer's seqs (audit_customer) checks every position it reaches;
 * this finds what that walk cannot: a delta whose customer has no
 * totals, or whose seq no position holds past the customer's last, or
 * whose seq another delta has too.
 */
static int
audit_leaf_totals(struct audit_logpass *x, const struct store_delta *d)
{
	struct store_customer	c;
	struct store_custpos	p;
	struct store_delta	other;
	char			name[AUDIT_NAME];
	unsigned long long	i = d->log_index, seq = d->seq;
	int			rc;

	audit_name(name, d->tenant, d->env, d->customer_id);
	rc = store_customer_get(x->txn, d->tenant, d->env, d->customer_id,
	    &c);
	if (rc == STORE_NOTFOUND || rc == STORE_CORRUPT) {
		audit_problem(x->a, "leaf %llu: customer %s: %s", i, name,
		    rc == STORE_NOTFOUND ? "no totals record" :
		    "its totals record does not decode");
		return STORE_OK;
	} else if (rc != STORE_OK)
		return rc;
	if (seq == 0) {
		audit_problem(x->a, "leaf %llu: customer %s: seq 0", i, name);
		return STORE_OK;
	}
	rc = store_custpos_get(x->txn, d->tenant, d->env, d->customer_id, seq,
	    &p);
	if (rc == STORE_NOTFOUND && seq > c.last_seq)
		audit_problem(x->a, "leaf %llu: customer %s seq %llu: no "
		    "position record, and its last seq is %llu", i, name, seq,
		    (unsigned long long)c.last_seq);
	if (rc == STORE_NOTFOUND || rc == STORE_CORRUPT ||
	    (rc == STORE_OK && p.log_index == d->log_index))
		return STORE_OK;
	else if (rc != STORE_OK)
		return rc;
	/* The position names another delta: is it of this seq too? */
	rc = store_delta_get(x->txn, p.log_index, &other);
	if (rc == STORE_NOTFOUND || rc == STORE_CORRUPT)
		return STORE_OK;
	else if (rc != STORE_OK)
		return rc;
	if (strcmp(other.tenant, d->tenant) == 0 && other.env == d->env &&
	    strcmp(other.customer_id, d->customer_id) == 0 &&
	    other.seq == d->seq)
		audit_problem(x->a, "leaf %llu: customer %s seq %llu: leaf "
		    "%llu has this seq too", i, name, seq,
		    (unsigned long long)p.log_index);
	store_delta_free(&other);
	return STORE_OK;
}

/*
 * The delta's referenceId, which names one delta of its customer forever
 * (SPEC 3.1): the ledger binds it to the first delta recorded with it.
 * Bound to another delta, this one is a duplicate recorded before every
 * request's referenceId was checked.  It is on the signed log for good,
 * so it is a warning, naming both, never a repair.  One lookup a delta
 * keeps the audit linear in the log and its memory flat.
 */
static int
audit_leaf_reference(struct audit_logpass *x, const struct store_delta *d)
{
	char	owner[STORE_ID_MAX + 1], name[AUDIT_NAME];
	int	rc;

	if (!d->has_reference)
		return STORE_OK;
	rc = ledger_reference_owner(x->txn, d->tenant, d->env, d->customer_id,
	    d->reference_id, owner);
	if (rc == STORE_NOTFOUND)
		return STORE_OK;	/* not recorded through the ledger */
	audit_name(name, d->tenant, d->env, d->customer_id);
	if (rc == STORE_CORRUPT)
		audit_problem(x->a, "leaf %llu: customer %s: the binding of "
		    "its referenceId does not decode",
		    (unsigned long long)d->log_index, name);
	else if (rc != STORE_OK)
		return rc;
	else if (strcmp(owner, d->record_id) != 0)
		audit_warning(x->a, "leaf %llu: customer %s: referenceId "
		    "\"%s\" is on %s and on %s, recorded after it: two deltas "
		    "for one referenceId", (unsigned long long)d->log_index,
		    name, d->reference_id, owner, d->record_id);
	return STORE_OK;
}

static int
audit_delta(const struct store_delta *d, void *arg)
{
	struct audit_logpass	*x = arg;
	struct store_sth	 h;
	merkle_hash		 leaf;
	int			 rc;

	if (x->edge.size == x->chunk_end)
		return STORE_STOP;
	if (d->log_index != x->edge.size) {
		audit_problem(x->a, "leaf %llu: missing from the log",
		    (unsigned long long)x->edge.size);
		return AUDIT_HOLE;
	}
	x->res->leaves++;
	if ((rc = audit_leaf_hashes(x, d, leaf)) != STORE_OK ||
	    (rc = audit_leaf_totals(x, d)) != STORE_OK ||
	    (rc = audit_leaf_reference(x, d)) != STORE_OK)
		return rc;
	audit_usage_note(x->usage, d);
	if ((rc = merkle_edge_append(&x->edge, leaf, audit_node, x)) != 0)
		return rc < 0 ? STORE_NOMEM : rc;
	rc = store_sth_get(x->txn, x->edge.size, &h);
	if (rc == STORE_OK)
		audit_head(x, &h);
	return rc == STORE_NOTFOUND ? STORE_OK : rc;
}

static int
audit_chunk(struct store_txn *t, void *arg)
{
	struct audit_logpass	*x = arg;
	struct audit_result	 before = *x->res;
	int			 rc;

	x->txn = t;
	x->edge = x->saved;
	x->leaves = x->leaves_saved;
	audit_usage_forget(x->usage);
	rc = store_delta_each(t, x->edge.size, audit_delta, x);
	if (rc == STORE_OK || rc == STORE_STOP) {
		if (x->edge.size != x->chunk_end) {
			audit_problem(x->a, "leaf %llu: missing from the log",
			    (unsigned long long)x->edge.size);
			return AUDIT_HOLE;
		}
		x->saved = x->edge;
		x->leaves_saved = x->leaves;
		return STORE_OK;
	}
	if (rc == STORE_CONFLICT)
		*x->res = before;	/* it will be read again */
	return rc;
}

static int
audit_index_entry(const struct store_leaf *l, void *arg)
{
	struct audit_logpass	*x = arg;

	if (l->index >= x->tree_size)
		return STORE_OK;	/* integrated since the audit began */
	return audit_leafsum_add(&x->index, l->hash, l->index);
}

/*
 * The leaf hash index against the leaves of the tree the audit read: a
 * lookup by any of their hashes must lead to the leaf, and to no other.
 * Entries of leaves integrated since the audit began are left out.
 */
static int
audit_leaf_index(struct store_txn *t, void *arg)
{
	struct audit_logpass	*x = arg;
	int			 rc;

	memset(&x->index, 0, sizeof(x->index));
	rc = store_leaf_each(t, audit_index_entry, x);
	if (rc == STORE_CORRUPT) {
		audit_problem(x->a, "the leaf hash index does not decode, or "
		    "is out of its order");
		return STORE_OK;
	} else if (rc != STORE_OK)
		return rc;
	if (x->index.count != x->leaves.count)
		audit_problem(x->a, "the leaf hash index holds %llu of the "
		    "tree's %llu leaves", (unsigned long long)x->index.count,
		    (unsigned long long)x->leaves.count);
	else if (memcmp(x->index.sum, x->leaves.sum, sizeof(x->index.sum)))
		audit_problem(x->a, "the leaf hash index holds a leaf hash or "
		    "log index that is not the tree's");
	return STORE_OK;
}

/* The empty tree's head, if one was signed, and heads past the log. */
static int
audit_ends(struct store_txn *t, void *arg)
{
	struct audit_logpass	*x = arg;
	struct store_sth	 h;
	uint64_t		 size;
	int			 rc;

	x->edge.size = 0;
	if ((rc = store_sth_get(t, 0, &h)) == STORE_OK)
		audit_head(x, &h);
	else if (rc != STORE_NOTFOUND)
		return rc;
	if ((rc = store_log_size(t, &size)) != STORE_OK)
		return rc;
	rc = store_sth_latest(t, &h);
	if (rc == STORE_OK && h.size > size)
		audit_problem(x->a, "tree head %llu: covers leaves the log "
		    "does not have (%llu)", (unsigned long long)h.size,
		    (unsigned long long)size);
	return rc == STORE_NOTFOUND ? STORE_OK : rc;
}

/* The log, leaf by leaf, AUDIT_CHUNK leaves to a read. */
static int
audit_log_walk(struct audit_logpass *x)
{
	int	rc = STORE_OK;

	memset(&x->saved, 0, sizeof(x->saved));
	while (x->saved.size < x->log_size) {
		x->chunk_end = x->log_size - x->saved.size > AUDIT_CHUNK ?
		    x->saved.size + AUDIT_CHUNK : x->log_size;
		if ((rc = audit_read_with(x->a, audit_chunk, x)) != STORE_OK ||
		    (rc = audit_usage_fold(x->usage)) != STORE_OK)
			break;
	}
	return rc;
}
int
audit_log(struct audit *a, struct audit_result *res,
    struct audit_usage *usage, uint64_t log_size, uint64_t tree_size,
    int *whole)
{
	struct audit_logpass	*x;
	int			 rc;

	*whole = 0;
	if ((x = calloc(1, sizeof(*x))) == NULL)
		return STORE_NOMEM;
	x->a = a;
	x->res = res;
	x->usage = usage;
	x->log_size = log_size;
	x->tree_size = tree_size;
	if ((rc = audit_read_with(a, audit_ends, x)) == STORE_OK &&
	    (rc = audit_log_walk(x)) == STORE_OK)
		rc = audit_read_with(a, audit_leaf_index, x);
	/* After a hole (told) the log cannot be counted, but the rest can. */
	*whole = rc == STORE_OK;
	if (rc == AUDIT_HOLE)
		rc = STORE_OK;
	sbuf_free(&x->leaf);
	free(x);
	return rc;
}
