/*
 * The verifiable log over a real store: tree records, the integrator
 * (heads, restarts, rotation), signing keys, and the audit.
 */
#include <sys/stat.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../core/audit.h"
#include "../core/integrator.h"
#include "../core/ledger.h"
#include "../core/tilecache.h"
#include "../core/tiles.h"
#include "../core/tlog.h"
#include "../crypto/hash.h"
#include "../crypto/note.h"
#include "../store/internal.h"	/* to write a version 1 key record */
#include "../store/pack.h"
#include "check.h"

#define ORIGIN	"tally.test/log"

static char		 dir[256];
static struct store	*st;
static struct ledger	*led;
static struct principal	 who;

static void
setup(void)
{
	unit_ledger_setup(dir, sizeof(dir), &st, &led, &who);
}

static void
teardown(void)
{
	unit_ledger_teardown(dir, st, led);
}

static void
emit_n(int n)
{
	char	json[128];
	int	i;

	for (i = 0; i < n; i++) {
		snprintf(json, sizeof(json), "{\"customerId\":\"c%d\","
		    "\"delta\":%d,\"reason\":\"r\"}", i % 3, i + 1);
		ck_assert_int_eq(unit_emit(led, &who, json), STORE_OK);
	}
}

static void
key_new(enum sigkey_alg alg, int rotate, struct store_signkey *rec)
{
	char	err[256];

	ck_assert_msg(tlog_key_generate(st, dir, ORIGIN, alg, rotate, rec,
	    err, sizeof(err)) == TLOG_KEY_OK, "%s", err);
}

static struct integrator *
integrator(void)
{
	struct integrator	*ig;
	char			 err[256];

	ck_assert_msg(integrator_open(&ig, st, dir, ORIGIN, err,
	    sizeof(err)) == 0, "%s", err);
	return ig;
}

/* What a test reads back in one transaction. */
struct view {
	struct store_sth	 latest;
	uint64_t		 size;		/* log size */
	merkle_hash		*leaves;	/* every leaf hash, malloc'd */
	uint64_t		 heads;
};

static int
view_leaf(const struct store_delta *d, void *arg)
{
	struct view	*v = arg;

	memcpy(v->leaves[d->log_index], d->leaf_hash, MERKLE_HASH_LEN);
	return 0;
}

static int
view_head(const struct store_sth *h, void *arg)
{
	(void)h;
	((struct view *)arg)->heads++;
	return 0;
}

static int
view_txn(struct store_txn *t, void *arg)
{
	struct view	*v = arg;
	int		 rc;

	v->heads = 0;
	if ((rc = store_sth_latest(t, &v->latest)) != STORE_OK ||
	    (rc = store_log_size(t, &v->size)) != STORE_OK ||
	    (rc = store_sth_each(t, 0, view_head, v)) != STORE_OK)
		return rc;
	free(v->leaves);
	if ((v->leaves = calloc(v->size + 1, MERKLE_HASH_LEN)) == NULL)
		return STORE_NOMEM;
	return store_delta_each(t, 0, view_leaf, v);
}

static void
view(struct view *v)
{
	ck_assert_int_eq(store_read(st, view_txn, v), STORE_OK);
}

/* The head's note verifies with the key record's public key. */
static void
assert_head_signed(const struct store_sth *h, const struct store_signkey *k)
{
	struct sigkey		*pub = NULL;
	struct note_head	 cp;

	ck_assert_str_eq(h->key_id, k->key_id);
	ck_assert_int_eq(sigkey_from_public_pem(k->pem, strlen(k->pem), &pub),
	    0);
	ck_assert_int_eq(note_open(h->note, strlen(h->note), pub, k->name,
	    &cp), NOTE_OK);
	ck_assert_str_eq(cp.origin, ORIGIN);
	ck_assert_int_eq(cp.size, h->size);
	ck_assert_mem_eq(cp.root, h->root, MERKLE_HASH_LEN);
	sigkey_free(pub);
}

struct proofs {
	uint64_t	size;
	struct merkle_array arr;
	int		mismatches;
};

/* Every proof from the stored tree equals the one from the leaves. */
static int
proofs_txn(struct store_txn *t, void *arg)
{
	struct proofs	*p = arg;
	merkle_hash	 a[MERKLE_PROOF_MAX], b[MERKLE_PROOF_MAX];
	size_t		 alen, blen;
	uint64_t	 i;

	p->mismatches = 0;
	for (i = 0; i < p->size; i++) {
		if (tlog_proof(t, i, p->size, a, &alen) != STORE_OK ||
		    merkle_inclusion_proof(merkle_array_node,
		    &p->arr, i, p->size, b, &blen) != 0 || alen != blen ||
		    memcmp(a, b, alen * MERKLE_HASH_LEN) != 0)
			p->mismatches++;
		if (i == 0)
			continue;
		if (merkle_consistency_proof(tiles_node, t, i, p->size, a,
		    &alen) != 0 || merkle_consistency_proof(merkle_array_node,
		    &p->arr, i, p->size, b, &blen) != 0 || alen != blen ||
		    memcmp(a, b, alen * MERKLE_HASH_LEN) != 0)
			p->mismatches++;
	}
	return STORE_OK;
}

/*
 * Every node of the trees of size 1 to p->size, each size through its
 * own tiles_reader, is the node of the leaves, and none past the size
 * is read: tiles wider than the tree (the log's own size) are cut.
 */
static int
reader_txn(struct store_txn *t, void *arg)
{
	struct proofs		*p = arg;
	struct tiles_reader	*rd;
	merkle_hash		 got, want;
	uint64_t		 size, i;
	unsigned		 level;

	for (size = 1; size <= p->size; size++) {
		if ((rd = tiles_reader_new(t, size)) == NULL)
			return STORE_NOMEM;
		for (level = 0; size >> level != 0; level++) {
			for (i = 0; i < size >> level; i++)
				if (tiles_reader_node(rd, level, i, got) != 0 ||
				    merkle_array_node(&p->arr, level, i,
				    want) != 0 || memcmp(got, want,
				    sizeof(got)) != 0)
					p->mismatches++;
			if (tiles_reader_node(rd, level, i, got) != -1)
				p->mismatches++;
		}
		tiles_reader_free(rd);
	}
	return STORE_OK;
}

static void
assert_proof_eq(const merkle_hash *got, size_t len, const merkle_hash *want,
    size_t wlen)
{
	ck_assert_uint_eq(len, wlen);
	ck_assert_mem_eq(got, want, len * MERKLE_HASH_LEN);
}

/* Proofs through tlog's readers equal those from the leaves. */
static void
assert_tlog_proofs(struct proofs *p)
{
	struct tlog_inclusion	in;
	struct tlog_consistency	cs;
	merkle_hash		b[MERKLE_PROOF_MAX], root;
	size_t			blen;
	uint64_t		i;

	for (i = 0; i < p->size; i++) {
		memset(&in, 0, sizeof(in));
		in.index = i;
		ck_assert_int_eq(tlog_inclusion(st, &in), TLOG_OK);
		ck_assert_int_eq(merkle_inclusion_proof(merkle_array_node,
		    &p->arr, i, p->size, b, &blen), 0);
		assert_proof_eq(in.proof, in.len, b, blen);
		ck_assert_mem_eq(in.leaf, p->arr.leaves[i], MERKLE_HASH_LEN);
		if (i == 0)
			continue;
		memset(&cs, 0, sizeof(cs));
		cs.from = i;
		ck_assert_int_eq(tlog_consistency(st, &cs), TLOG_OK);
		ck_assert_int_eq(merkle_consistency_proof(merkle_array_node,
		    &p->arr, i, p->size, b, &blen), 0);
		assert_proof_eq(cs.proof, cs.len, b, blen);
		/* Most sizes have no head: their roots come from tiles. */
		ck_assert_int_eq(merkle_root(merkle_array_node, &p->arr, i,
		    root), 0);
		ck_assert_mem_eq(cs.from_root, root, MERKLE_HASH_LEN);
	}
}

/*
 * Proofs for a tree size given, as a client asks for a signed head's:
 * a size with a head of its own (its head comes along, the root is the
 * one it signed), one without (no head, the root from tiles), and one
 * past the newest head (refused).
 */
static void
assert_tlog_sized(struct proofs *p, uint64_t size, int signed_size)
{
	struct tlog_inclusion	in;
	struct tlog_consistency	cs;
	merkle_hash		b[MERKLE_PROOF_MAX], root;
	size_t			blen;
	uint64_t		picks[3] = { 0, size / 2, size - 1 };
	int			i;

	ck_assert_int_eq(merkle_root(merkle_array_node, &p->arr, size, root),
	    0);
	for (i = 0; i < 3; i++) {
		memset(&in, 0, sizeof(in));
		in.index = picks[i];
		in.size_given = 1;
		in.size = size;
		ck_assert_int_eq(tlog_inclusion(st, &in), TLOG_OK);
		ck_assert_int_eq(merkle_inclusion_proof(merkle_array_node,
		    &p->arr, picks[i], size, b, &blen), 0);
		assert_proof_eq(in.proof, in.len, b, blen);
		ck_assert_mem_eq(in.root, root, MERKLE_HASH_LEN);
		ck_assert_int_eq(in.head.note[0] != '\0', signed_size);
		if (signed_size) {
			ck_assert_uint_eq(in.head.size, size);
			ck_assert_mem_eq(in.head.root, root, MERKLE_HASH_LEN);
		}
	}
	memset(&cs, 0, sizeof(cs));
	cs.from = size / 2 + 1;
	cs.to_given = 1;
	cs.to = size;
	ck_assert_int_eq(tlog_consistency(st, &cs), TLOG_OK);
	ck_assert_int_eq(merkle_consistency_proof(merkle_array_node, &p->arr,
	    size / 2 + 1, size, b, &blen), 0);
	assert_proof_eq(cs.proof, cs.len, b, blen);
	ck_assert_mem_eq(cs.to_root, root, MERKLE_HASH_LEN);
	ck_assert_int_eq(cs.head.note[0] != '\0', signed_size);
}

static void
assert_tlog_beyond(uint64_t size)
{
	struct tlog_inclusion	in;
	struct tlog_consistency	cs;

	memset(&in, 0, sizeof(in));
	in.size_given = 1;
	in.size = size;
	ck_assert_int_eq(tlog_inclusion(st, &in), TLOG_BEYOND_HEAD);
	memset(&cs, 0, sizeof(cs));
	cs.from = 1;
	cs.to_given = 1;
	cs.to = size;
	ck_assert_int_eq(tlog_consistency(st, &cs), TLOG_BEYOND_HEAD);
}

/*
 * An entry answers only the hashes it was made from: the same tile and
 * width with other hashes (another store's, say) are computed afresh.
 */
START_TEST(tilecache_answers_only_its_hashes)
{
	static merkle_hash	a[STORE_TILE_MAX], b[STORE_TILE_MAX];
	static merkle_hash	want[STORE_TILE_MAX];
	unsigned		i, round;

	for (round = 0; round < 3; round++) {
		for (i = 0; i < 200; i++) {
			memset(a[i], (int)(i + round), MERKLE_HASH_LEN);
			memset(b[i], (int)(i + round + 1), MERKLE_HASH_LEN);
		}
		ck_assert_int_eq(tilecache_levels(0, 7, a, 200, NULL), 0);
		ck_assert_int_eq(tilecache_levels(0, 7, b, 200, NULL), 0);
		/* Both are kept now: asked again, they answer from memory. */
		ck_assert_int_eq(tilecache_levels(0, 7, a, 200, NULL), 0);
		memcpy(want, b, sizeof(b));
		ck_assert_int_eq(merkle_levels_prefix(want, TILES_WIDTH, 200),
		    0);
		/* What the answer holds comes from the entry, not from b. */
		memset(b[TILES_WIDTH], 0, (STORE_TILE_MAX - TILES_WIDTH) *
		    MERKLE_HASH_LEN);
		ck_assert_int_eq(tilecache_levels(0, 7, b, 200, NULL), 0);
		for (i = 0; i < 8; i++)
			ck_assert_mem_eq(b[2 * TILES_WIDTH -
			    (2 * TILES_WIDTH >> i)],
			    want[2 * TILES_WIDTH - (2 * TILES_WIDTH >> i)],
			    (200u >> i) * MERKLE_HASH_LEN);
	}
	ck_assert_int_eq(tilecache_levels(0, 7, a, 0, NULL), -1);
	ck_assert_int_eq(tilecache_levels(0, 7, a, 257, NULL), -1);
	ck_assert_int_eq(tilecache_levels(TILES_LEVELS, 7, a, 1, NULL), -1);
}
END_TEST

/*
 * By a signed tree's size and root, an entry answers only that tree's
 * tile at the width it was met with, until other hashes take its place.
 */
START_TEST(tilecache_answers_a_tree_by_its_root)
{
	static merkle_hash	a[STORE_TILE_MAX], got[STORE_TILE_MAX];
	static merkle_hash	want[STORE_TILE_MAX];
	struct tilecache_tree	tree = { 1000, { 1 } }, other = tree;
	unsigned		i;

	for (i = 0; i < 100; i++)
		memset(a[i], (int)(i + 40), MERKLE_HASH_LEN);
	memcpy(want, a, sizeof(a));
	ck_assert_int_eq(merkle_levels_prefix(want, TILES_WIDTH, 100), 0);
	ck_assert_int_eq(tilecache_tree_levels(1, 3, 100, &tree, got), -1);
	ck_assert_int_eq(tilecache_levels(1, 3, a, 100, &tree), 0);
	ck_assert_int_eq(tilecache_tree_levels(1, 3, 100, &tree, got), 0);
	for (i = 0; i < 8; i++)
		ck_assert_mem_eq(got[2 * TILES_WIDTH - (2 * TILES_WIDTH >> i)],
		    want[2 * TILES_WIDTH - (2 * TILES_WIDTH >> i)],
		    (100u >> i) * MERKLE_HASH_LEN);
	/* Another root, size, width or tile is another tree's. */
	other.root[31] = 1;
	ck_assert_int_eq(tilecache_tree_levels(1, 3, 100, &other, got), -1);
	other = tree;
	other.size++;
	ck_assert_int_eq(tilecache_tree_levels(1, 3, 100, &other, got), -1);
	ck_assert_int_eq(tilecache_tree_levels(1, 3, 99, &tree, got), -1);
	ck_assert_int_eq(tilecache_tree_levels(1, 4, 100, &tree, got), -1);
	ck_assert_int_eq(tilecache_tree_levels(2, 3, 100, &tree, got), -1);
	/* Two other tiles of the level take both entries. */
	for (i = 0; i < 2; i++) {
		memset(a[0], (int)i, MERKLE_HASH_LEN);
		ck_assert_int_eq(tilecache_levels(1, 3, a, 100, NULL), 0);
	}
	ck_assert_int_eq(tilecache_tree_levels(1, 3, 100, &tree, got), -1);
}
END_TEST

START_TEST(integrator_signs_heads)
{
	struct store_signkey	 k;
	struct integrator	*ig;
	struct view		 v = { 0 };
	struct proofs		 p;
	merkle_hash		 root;
	uint64_t		 size;

	key_new(SIGKEY_ECDSA_P256, 0, &k);
	ig = integrator();
	ck_assert(integrator_ready(ig));

	/* The empty log gets a head too, so a checkpoint always exists. */
	ck_assert_int_eq(integrator_step(ig, &size), STORE_OK);
	ck_assert_int_eq(size, 0);
	view(&v);
	ck_assert_int_eq(v.latest.size, 0);
	ck_assert_int_eq(hash_sha256("", 0, root), 0);
	ck_assert_mem_eq(v.latest.root, root, MERKLE_HASH_LEN);
	assert_head_signed(&v.latest, &k);

	emit_n(37);
	ck_assert_int_eq(integrator_step(ig, &size), STORE_OK);
	ck_assert_int_eq(size, 37);
	view(&v);
	ck_assert_int_eq(v.latest.size, 37);
	ck_assert_int_eq(v.heads, 2);
	p.arr.leaves = (const merkle_hash *)v.leaves;
	p.arr.size = v.size;
	ck_assert_int_eq(merkle_root(merkle_array_node, &p.arr, 37, root), 0);
	ck_assert_mem_eq(v.latest.root, root, MERKLE_HASH_LEN);
	assert_head_signed(&v.latest, &k);
	p.size = 37;
	ck_assert_int_eq(store_read(st, proofs_txn, &p), STORE_OK);
	ck_assert_int_eq(p.mismatches, 0);

	/* Nothing new: no new head. */
	ck_assert_int_eq(integrator_step(ig, &size), STORE_OK);
	ck_assert_int_eq(size, 37);
	view(&v);
	ck_assert_int_eq(v.heads, 2);
	integrator_close(ig);
	free(v.leaves);
}
END_TEST

struct tiles_check {
	struct merkle_array	arr;
	int			mismatches;
};

/* Each tile is the level 8L nodes of the tree, no more, no fewer. */
static int
tiles_txn(struct store_txn *t, void *arg)
{
	struct tiles_check	*c = arg;
	merkle_hash		 tile[STORE_TILE_MAX], want;
	uint64_t		 nodes, n, i;
	unsigned		 tl, w, r;

	c->mismatches = 0;
	for (tl = 0; tl < 2; tl++) {
		nodes = c->arr.size >> (8 * tl);
		for (n = 0; n * 256 < nodes; n++) {
			w = nodes - n * 256 > 256 ? 256 :
			    (unsigned)(nodes - n * 256);
			if (store_tile_get(t, tl, n, 0, w < 256 ? w :
			    STORE_TILE_MAX, (uint8_t *)tile) != STORE_OK)
				c->mismatches++;
			/* A full one has its nodes, level r from 512 - (512 >> r). */
			for (r = 1; w == 256 && r <= 8; r++)
				for (i = 0; i < 256u >> r; i++)
					if (merkle_array_node(&c->arr, 8 * tl + r,
					    (n * 256 >> r) + i, want) != 0 ||
					    memcmp(tile[512 - (512 >> r) + i], want,
					    sizeof(want)) != 0)
						c->mismatches++;
			for (i = 0; i < w; i++)
				if (merkle_array_node(&c->arr, 8 * tl,
				    n * 256 + i, want) != 0 ||
				    memcmp(tile[i], want, sizeof(want)) != 0)
					c->mismatches++;
			if (w < 256 && store_tile_get(t, tl, n, w, 1,
			    (uint8_t *)tile) != STORE_NOTFOUND)
				c->mismatches++;
		}
	}
	return STORE_OK;
}

/* Steps that end inside a tile, on its edge, and across several. */
START_TEST(tiles_grow_across_steps)
{
	static const int	 steps[] = { 1, 254, 1, 1, 300, 43, 212 };
	struct store_signkey	 k;
	struct integrator	*ig;
	struct view		 v = { 0 };
	struct proofs		 p;
	struct tiles_check	 c;
	uint64_t		 size, total = 0;
	uint64_t		 heads[sizeof(steps) / sizeof(steps[0])];
	size_t			 i, j;

	key_new(SIGKEY_ECDSA_P256, 0, &k);
	ig = integrator();
	for (i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
		emit_n(steps[i]);
		total += (uint64_t)steps[i];
		ck_assert_int_eq(integrator_step(ig, &size), STORE_OK);
		ck_assert_int_eq(size, total);
		view(&v);
		c.arr.leaves = p.arr.leaves = (const merkle_hash *)v.leaves;
		c.arr.size = p.arr.size = p.size = v.size;
		ck_assert_int_eq(store_read(st, tiles_txn, &c), STORE_OK);
		ck_assert_int_eq(c.mismatches, 0);
		ck_assert_int_eq(store_read(st, proofs_txn, &p), STORE_OK);
		ck_assert_int_eq(store_read(st, reader_txn, &p), STORE_OK);
		ck_assert_int_eq(p.mismatches, 0);
		assert_tlog_proofs(&p);
		/* Every step signed its size; the sizes between, none. */
		heads[i] = total;
		for (j = 0; j <= i; j++)
			assert_tlog_sized(&p, heads[j], 1);
		if (total - 1 > (i > 0 ? heads[i - 1] : 0))
			assert_tlog_sized(&p, total - 1, 0);
		assert_tlog_beyond(total + 1);
	}
	integrator_close(ig);
	free(v.leaves);
}
END_TEST

static int
covering_txn(struct store_txn *t, void *arg)
{
	uint64_t		*sizes = arg, i;
	struct store_sth	 h;
	int			 rc;

	for (i = 0; i < 12; i++) {
		if ((rc = store_sth_covering(t, i, &h)) != STORE_OK)
			return rc;
		sizes[i] = h.size;
	}
	return store_sth_covering(t, 12, &h);
}

START_TEST(heads_say_when_a_leaf_was_verified)
{
	struct store_signkey	 k;
	struct integrator	*ig;
	uint64_t		 sizes[12], size, i;

	key_new(SIGKEY_ECDSA_P256, 0, &k);
	ig = integrator();
	emit_n(5);
	ck_assert_int_eq(integrator_step(ig, &size), STORE_OK);
	emit_n(7);
	ck_assert_int_eq(integrator_step(ig, &size), STORE_OK);
	ck_assert_int_eq(size, 12);
	/* Leaf 12 does not exist yet: no head covers it. */
	ck_assert_int_eq(store_read(st, covering_txn, sizes), STORE_NOTFOUND);
	for (i = 0; i < 12; i++)
		ck_assert_int_eq(sizes[i], i < 5 ? 5 : 12);
	integrator_close(ig);
}
END_TEST

/* A checkpoint waits for a head over what was just recorded. */
START_TEST(waits_until_a_head_covers_the_log)
{
	struct store_signkey	 k;
	struct integrator	*ig;
	uint64_t		 size;

	key_new(SIGKEY_ECDSA_P256, 0, &k);
	ig = integrator();
	ck_assert_int_eq(integrator_wait_covered(NULL, 10), -1);
	ck_assert_int_eq(integrator_step(ig, &size), STORE_OK);
	ck_assert_int_eq(integrator_wait_covered(ig, 10), 0);
	emit_n(3);
	/* No step runs: the wait ends at its timeout, uncovered. */
	ck_assert_int_eq(integrator_wait_covered(ig, 50), -1);
	/* The thread's next step wakes the waiter, well before 10 s. */
	ck_assert_int_eq(integrator_start(ig, 20), 0);
	ck_assert_int_eq(integrator_wait_covered(ig, 10000), 0);
	integrator_close(ig);
}
END_TEST

START_TEST(restart_and_rotation)
{
	struct store_signkey	 k1, k2;
	struct integrator	*ig;
	struct audit_result	 res;
	struct view		 v = { 0 };
	uint64_t		 size;
	char			 err[256];

	key_new(SIGKEY_ECDSA_P256, 0, &k1);
	/* A second generate is refused: that is what rotate is for. */
	ck_assert_int_eq(tlog_key_generate(st, dir, ORIGIN, SIGKEY_ECDSA_P256,
	    0, &k2, err, sizeof(err)), TLOG_KEY_EXISTS);
	ck_assert_ptr_nonnull(strstr(err, "rotate"));
	ig = integrator();
	emit_n(10);
	ck_assert_int_eq(integrator_step(ig, &size), STORE_OK);
	integrator_close(ig);

	/* A new process, after a rotation: it carries on, with the new key. */
	key_new(SIGKEY_RSA_3072, 1, &k2);
	ck_assert_str_ne(k1.key_id, k2.key_id);
	ck_assert_str_eq(k2.alg, "rsa-3072");
	ig = integrator();
	emit_n(5);
	ck_assert_int_eq(integrator_step(ig, &size), STORE_OK);
	ck_assert_int_eq(size, 15);
	view(&v);
	assert_head_signed(&v.latest, &k2);
	integrator_close(ig);

	/* Everything holds, including the head the retired key signed. */
	ck_assert_int_eq(audit_run(st, NULL, NULL, &res), STORE_OK);
	ck_assert_int_eq(res.problems, 0);
	ck_assert_int_eq(res.leaves, 15);
	ck_assert_int_eq(res.heads, 2);
	ck_assert_int_eq(res.keys, 2);
	free(v.leaves);
}
END_TEST

static char	reported[8][256];
static int	nreported;

static void
report(void *arg, enum audit_finding kind, const char *problem)
{
	(void)arg;
	(void)kind;
	if (nreported < 8)
		snprintf(reported[nreported], sizeof(reported[0]), "%s",
		    problem);
	nreported++;
}

/* Flips a byte of hash at of stored tile (level, index) of width. */
struct corrupt {
	unsigned	level, width, at;
	uint64_t	index;
};

static int
corrupt_tile(struct store_txn *t, void *arg)
{
	struct corrupt	*c = arg;
	merkle_hash	 h[STORE_TILE_MAX];
	int		 rc;

	if ((rc = store_tile_get(t, c->level, c->index, 0, c->width,
	    (uint8_t *)h)) != STORE_OK)
		return rc;
	h[c->at][0] ^= 0x01;
	return store_tile_put(t, c->level, c->index, (uint8_t *)h, c->width);
}

START_TEST(audit_names_a_corrupt_node)
{
	struct store_signkey	 k;
	struct integrator	*ig;
	struct audit_result	 res;
	struct corrupt		 node = { 1, 1, 0, 0 }, leaf = { 0, 44, 3, 1 };
	struct corrupt		 inner = { 0, STORE_TILE_MAX, 300, 0 };
	uint64_t		 size;

	key_new(SIGKEY_ECDSA_P256, 0, &k);
	ig = integrator();
	emit_n(300);
	ck_assert_int_eq(integrator_step(ig, &size), STORE_OK);
	integrator_close(ig);
	nreported = 0;
	ck_assert_int_eq(audit_run(st, report, NULL, &res), STORE_OK);
	ck_assert_int_eq(res.problems, 0);
	ck_assert_int_eq(nreported, 0);
	/* 300 leaves, 150 + 75 + 37 + 18 + 9 + 4 + 2 + 1 inner nodes. */
	ck_assert_int_eq(res.nodes, 596);

	/* Tile 1/0.p/1: the root of leaves 0..255, stored. */
	ck_assert_int_eq(store_write(st, corrupt_tile, &node), STORE_OK);
	ck_assert_int_eq(audit_run(st, report, NULL, &res), STORE_OK);
	ck_assert_int_eq(res.problems, 1);
	ck_assert_int_eq(nreported, 1);
	ck_assert_str_eq(reported[0], "tree node (level 8, index 0) does not "
	    "match the leaves below it");

	/* Tile 0/1.p/44: leaf 259's hash, which the head's root follows. */
	ck_assert_int_eq(store_write(st, corrupt_tile, &node), STORE_OK);
	ck_assert_int_eq(store_write(st, corrupt_tile, &leaf), STORE_OK);
	nreported = 0;
	ck_assert_int_eq(audit_run(st, report, NULL, &res), STORE_OK);
	ck_assert_int_eq(res.problems, 2);
	ck_assert_str_eq(reported[0], "leaf 259: the tree holds another leaf "
	    "hash");
	ck_assert_str_eq(reported[1], "tree head 300: its root is not the "
	    "root of the log's first 300 leaves");

	/* Tile 0/0's node of level 1 index 44, which proofs read. */
	ck_assert_int_eq(store_write(st, corrupt_tile, &leaf), STORE_OK);
	ck_assert_int_eq(store_write(st, corrupt_tile, &inner), STORE_OK);
	nreported = 0;
	ck_assert_int_eq(audit_run(st, report, NULL, &res), STORE_OK);
	ck_assert_int_eq(res.problems, 1);
	ck_assert_str_eq(reported[0], "tile 0/0: the nodes stored inside it "
	    "do not match its hashes");
}
END_TEST

START_TEST(key_others_can_read_is_refused)
{
	struct store_signkey	 k;
	struct integrator	*ig = NULL;
	char			 path[512], err[256];

	key_new(SIGKEY_ECDSA_P256, 0, &k);
	snprintf(path, sizeof(path), "%s/%s", dir, k.file);
	ck_assert_int_eq(chmod(path, 0644), 0);
	ck_assert_int_eq(integrator_open(&ig, st, dir, ORIGIN, err,
	    sizeof(err)), -1);
	ck_assert_ptr_null(ig);
	ck_assert_msg(strstr(err, "600") != NULL, "%s", err);
	ck_assert_int_eq(chmod(path, 0600), 0);
	ig = integrator();
	integrator_close(ig);
}
END_TEST

START_TEST(no_key_no_start)
{
	struct integrator	*ig = NULL;
	char			 err[256];

	ck_assert_int_eq(integrator_open(&ig, st, dir, ORIGIN, err,
	    sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, "signing-key generate"));
}
END_TEST

struct reread {
	char			 id[STORE_KEYID_MAX + 1];
	struct store_signkey	*out;
};

static int
signkey_read(struct store_txn *t, void *arg)
{
	struct reread	*rr = arg;

	return store_signkey_get(t, rr->id, rr->out);
}

/* The record of k as the store holds it now (out may be k). */
static void
key_reread(const struct store_signkey *k, struct store_signkey *out)
{
	struct reread	rr;

	snprintf(rr.id, sizeof(rr.id), "%s", k->key_id);
	rr.out = out;
	ck_assert_int_eq(store_read(st, signkey_read, &rr), STORE_OK);
}

START_TEST(rotation_endorses_the_new_key)
{
	struct store_signkey	 k1, k2, k3, r;
	char			 err[600];

	key_new(SIGKEY_ECDSA_P256, 0, &k1);
	ck_assert_int_eq(k1.rotation, STORE_ROTATION_GENESIS);
	ck_assert_str_eq(k1.replaces, "");
	ck_assert_uint_eq(k1.endorsement_len, 0);

	/* Rotating, the old key signs the new one; the store keeps it. */
	key_new(SIGKEY_RSA_3072, TLOG_KEY_ROTATE, &k2);
	ck_assert_int_eq(k2.rotation, STORE_ROTATION_ENDORSED);
	ck_assert_str_eq(k2.replaces, k1.key_id);
	ck_assert_uint_gt(k2.endorsement_len, 0);
	key_reread(&k2, &r);
	ck_assert_int_eq(r.rotation, STORE_ROTATION_ENDORSED);
	ck_assert_str_eq(r.replaces, k1.key_id);
	ck_assert_uint_eq(r.endorsement_len, k2.endorsement_len);
	ck_assert_mem_eq(r.endorsement, k2.endorsement, k2.endorsement_len);
	key_reread(&k1, &k1);
	ck_assert_int_eq(tlog_key_endorsed(&r, &k1), 0);
	/* Only by the key it replaced, and only over what it says. */
	ck_assert_int_eq(tlog_key_endorsed(&r, &r), -1);
	r.endorsement[r.endorsement_len / 2] ^= 0x40;
	ck_assert_int_eq(tlog_key_endorsed(&r, &k1), -1);
	key_reread(&k2, &r);
	r.valid_from_ms++;
	ck_assert_int_eq(tlog_key_endorsed(&r, &k1), -1);

	/* RSA endorses too: the third key is k2's successor. */
	key_new(SIGKEY_ECDSA_P256, TLOG_KEY_ROTATE, &k3);
	key_reread(&k2, &k2);
	ck_assert_int_eq(tlog_key_endorsed(&k3, &k2), 0);
	ck_assert_int_eq(tlog_key_endorsed(&k3, &k1), -1);

	/* --no-endorse: recorded as such, with the key it replaced. */
	ck_assert_msg(tlog_key_generate(st, dir, ORIGIN, SIGKEY_ECDSA_P256,
	    TLOG_KEY_ROTATE | TLOG_KEY_NO_ENDORSE, &r, err, sizeof(err)) ==
	    TLOG_KEY_OK, "%s", err);
	key_reread(&r, &r);
	ck_assert_int_eq(r.rotation, STORE_ROTATION_UNENDORSED);
	ck_assert_str_eq(r.replaces, k3.key_id);
	ck_assert_uint_eq(r.endorsement_len, 0);
	key_reread(&k3, &k3);
	ck_assert_int_eq(tlog_key_endorsed(&r, &k3), -1);
}
END_TEST

START_TEST(rotation_without_the_old_key_is_refused)
{
	struct store_signkey	 k1, k2, r;
	char			 path[600], err[600];

	key_new(SIGKEY_ECDSA_P256, 0, &k1);
	snprintf(path, sizeof(path), "%s/%s", dir, k1.file);
	ck_assert_int_eq(unlink(path), 0);
	ck_assert_int_eq(tlog_key_generate(st, dir, ORIGIN, SIGKEY_ECDSA_P256,
	    TLOG_KEY_ROTATE, &k2, err, sizeof(err)), TLOG_NO_ENDORSER);
	ck_assert_msg(strstr(err, "--no-endorse") != NULL &&
	    strstr(err, k1.key_id) != NULL, "%s", err);
	/* Nothing changed: k1 still signs. */
	ck_assert_int_eq(tlog_key_active(st, &r), STORE_OK);
	ck_assert_str_eq(r.key_id, k1.key_id);
	ck_assert_msg(tlog_key_generate(st, dir, ORIGIN, SIGKEY_ECDSA_P256,
	    TLOG_KEY_ROTATE | TLOG_KEY_NO_ENDORSE, &k2, err, sizeof(err)) ==
	    TLOG_KEY_OK, "%s", err);
	ck_assert_int_eq(k2.rotation, STORE_ROTATION_UNENDORSED);
}
END_TEST

/* A key record as versions before endorsements wrote it. */
static int
signkey_put_v1(struct store_txn *t, void *arg)
{
	const struct store_signkey	*k = arg;
	struct pack			 pk = { 0 };
	int				 rc;

	pack_u8(&pk, 1);
	pack_str(&pk, k->name);
	pack_str(&pk, k->alg);
	pack_str(&pk, k->file);
	pack_str(&pk, k->pem);
	pack_u64(&pk, (uint64_t)k->valid_from_ms);
	pack_u64(&pk, (uint64_t)k->valid_to_ms);
	rc = pk.err ? STORE_NOMEM : store_kv_put(t, STORE_DB_SIGNKEYS,
	    k->key_id, strlen(k->key_id), pk.buf, pk.len, 0);
	pack_free(&pk);
	return rc;
}

START_TEST(key_record_version_1_still_reads)
{
	struct store_signkey	 k1, k2, r;

	key_new(SIGKEY_ECDSA_P256, 0, &k1);
	ck_assert_int_eq(store_write(st, signkey_put_v1, &k1), STORE_OK);
	key_reread(&k1, &r);
	ck_assert_int_eq(r.rotation, STORE_ROTATION_UNRECORDED);
	ck_assert_str_eq(r.pem, k1.pem);
	ck_assert_str_eq(r.name, k1.name);
	ck_assert_str_eq(r.file, k1.file);
	ck_assert_int_eq(r.valid_from_ms, k1.valid_from_ms);
	ck_assert_int_eq(r.valid_to_ms, 0);
	/* It still signs, and endorses its successor when it retires. */
	ck_assert_int_eq(tlog_key_active(st, &r), STORE_OK);
	ck_assert_str_eq(r.key_id, k1.key_id);
	key_new(SIGKEY_ECDSA_P256, TLOG_KEY_ROTATE, &k2);
	key_reread(&k1, &r);
	ck_assert_int_eq(r.rotation, STORE_ROTATION_UNRECORDED);
	ck_assert_int_ne(r.valid_to_ms, 0);
	ck_assert_int_eq(tlog_key_endorsed(&k2, &r), 0);
}
END_TEST

Suite *
tlog_suite(void)
{
	Suite	*s = suite_create("tlog");
	TCase	*tc = tcase_create("tlog");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, integrator_signs_heads);
	tcase_add_test(tc, heads_say_when_a_leaf_was_verified);
	tcase_add_test(tc, tiles_grow_across_steps);
	tcase_add_test(tc, tilecache_answers_only_its_hashes);
	tcase_add_test(tc, tilecache_answers_a_tree_by_its_root);
	tcase_add_test(tc, waits_until_a_head_covers_the_log);
	tcase_add_test(tc, restart_and_rotation);
	tcase_add_test(tc, audit_names_a_corrupt_node);
	tcase_add_test(tc, key_others_can_read_is_refused);
	tcase_add_test(tc, no_key_no_start);
	tcase_add_test(tc, rotation_endorses_the_new_key);
	tcase_add_test(tc, rotation_without_the_old_key_is_refused);
	tcase_add_test(tc, key_record_version_1_still_reads);
	suite_add_tcase(s, tc);
	return s;
}
