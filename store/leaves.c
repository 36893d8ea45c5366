/*
 * The leaf hash index: leaf hash -> log index, for inclusion proofs asked
 * by leafHash (SPEC 4) and for the audit.
 *
 * Leaf hashes are random.  Format 6 kept the index as a B-tree keyed by
 * them (leaves.db), so every leaf went to a random page: at a million
 * leaves the tree is far larger than the cache, and each put read a page
 * and wrote another out; three quarters of the integrator's time.  Here
 * the index is sorted runs, as in a log-structured merge tree.  Each
 * integrator step writes its leaves, sorted, as a run (level 0), in
 * blocks of BLOCK_ENTRIES under keys that follow the last run's; when a
 * level has RUN_FANOUT runs they are merged into one run of the next
 * level, a piece at each step, and the runs merged are deleted after.
 * A leaf is written once a level, always in order and many to a record;
 * a lookup searches leaves.db, which a directory made before format 7
 * keeps as it was, read only, then each live run (a few tens).
 *
 * leafruns.db holds the runs' blocks, keyed by the run (its first leaf's
 * index, its level) and the block's first hash.  Which runs are live,
 * which are merged and wait to be deleted, and the merge under way, is
 * the directory: one record in meta.db.  All of it changes in the
 * integrator's transaction, with the tiles of the leaves it adds.
 */
#include <stdlib.h>
#include <string.h>

#include "../common/grow.h"
#include "internal.h"
#include "pack.h"

#define RUN_FANOUT	8	/* runs of a level merged into one */
#define ENTRY_LEN	(STORE_HASH_LEN + 8)	/* hash, index */
#define BLOCK_ENTRIES	80	/* 3,200 bytes: no overflow page */
#define RUN_KEY_LEN	9	/* first leaf index, level */
#define BLOCK_KEY_LEN	(RUN_KEY_LEN + STORE_HASH_LEN)
/*
 * Entries of each run read a piece: the windows and the merged order,
 * 80 KiB, stay under malloc's mmap threshold.  A larger buffer, mapped
 * and unmapped, raises glibc's threshold for every thread, and the
 * request threads' arenas then keep their large buffers: tallyd's RSS
 * after the bench grew 4-5 MiB with windows of 2,048.
 */
#define MERGE_LOAD	128
/*
 * Merged a step at least, and per leaf it adds: a leaf is merged once a
 * level, ~log8 of the log's size times, so the merges keep up.
 */
#define MERGE_WORK	4096
#define MERGE_WORK_LEAF	8
#define DIR_VERSION	1
#define NOT_MERGING	0xff

static const char	dir_key[] = "leafruns";

struct leaf_run {
	uint64_t	first;		/* its first leaf's log index */
	uint8_t		level;
	uint64_t	count;		/* entries */
};

struct leaf_dir {
	struct leaf_run	*live;		/* in the order they were made */
	size_t		 nlive, live_cap;
	struct leaf_run	*dead;		/* merged: their blocks go */
	size_t		 ndead, dead_cap;
	int		 merging;	/* the level being merged, or -1 */
};

int
store_leaf_cmp(const void *a, const void *b)
{
	const struct store_leaf	*x = a, *y = b;
	int			 c;

	if ((c = memcmp(x->hash, y->hash, STORE_HASH_LEN)) != 0)
		return c;
	return (x->index > y->index) - (x->index < y->index);
}

static void
entry_put(uint8_t *out, const struct store_leaf *l)
{
	memcpy(out, l->hash, STORE_HASH_LEN);
	be64_put(out + STORE_HASH_LEN, l->index);
}

static void
entry_get(struct store_leaf *l, const uint8_t *in)
{
	memcpy(l->hash, in, STORE_HASH_LEN);
	l->index = be64_get(in + STORE_HASH_LEN);
}

static void
run_key(uint8_t key[RUN_KEY_LEN], const struct leaf_run *r)
{
	be64_put(key, r->first);
	key[8] = r->level;
}

static void
block_key(uint8_t key[BLOCK_KEY_LEN], const struct leaf_run *r,
    const uint8_t hash[STORE_HASH_LEN])
{
	run_key(key, r);
	memcpy(key + RUN_KEY_LEN, hash, STORE_HASH_LEN);
}

static void
dir_free(struct leaf_dir *d)
{
	free(d->live);
	free(d->dead);
	memset(d, 0, sizeof(*d));
	d->merging = -1;
}

static int
dir_add(struct leaf_run **runs, size_t *n, size_t *cap,
    const struct leaf_run *r)
{
	if (grow(runs, cap, *n + 1, sizeof(**runs)) < 0)
		return STORE_NOMEM;
	(*runs)[(*n)++] = *r;
	return STORE_OK;
}

static int
dir_unpack_runs(struct unpack *u, struct leaf_run **runs, size_t *n,
    size_t *cap)
{
	struct leaf_run	r;
	uint64_t	count, i;
	int		rc;

	count = unpack_u64(u);
	if (u->err || count > u->left / (8 + 1 + 8))
		return STORE_CORRUPT;
	for (i = 0; i < count; i++) {
		r.first = unpack_u64(u);
		r.level = unpack_u8(u);
		r.count = unpack_u64(u);
		if ((rc = dir_add(runs, n, cap, &r)) != STORE_OK)
			return rc;
	}
	return u->err ? STORE_CORRUPT : STORE_OK;
}

static void
dir_pack_runs(struct pack *pk, const struct leaf_run *runs, size_t n)
{
	size_t	i;

	pack_u64(pk, n);
	for (i = 0; i < n; i++) {
		pack_u64(pk, runs[i].first);
		pack_u8(pk, runs[i].level);
		pack_u64(pk, runs[i].count);
	}
}

/* The directory; an empty one before the first run. */
static int
dir_get(struct store_txn *t, struct leaf_dir *d)
{
	struct unpack	u;
	void		*val = NULL;
	size_t		 vlen;
	uint8_t		 merging;
	int		 rc;

	memset(d, 0, sizeof(*d));
	d->merging = -1;
	rc = store_kv_get(t, STORE_DB_META, dir_key, sizeof(dir_key) - 1,
	    &val, &vlen);
	if (rc == STORE_NOTFOUND)
		return STORE_OK;
	if (rc != STORE_OK)
		return rc;
	unpack_init(&u, val, vlen);
	if (unpack_u8(&u) != DIR_VERSION)
		u.err = 1;
	merging = unpack_u8(&u);
	d->merging = merging == NOT_MERGING ? -1 : merging;
	rc = u.err ? STORE_CORRUPT : dir_unpack_runs(&u, &d->live, &d->nlive,
	    &d->live_cap);
	if (rc == STORE_OK)
		rc = dir_unpack_runs(&u, &d->dead, &d->ndead, &d->dead_cap);
	if (rc == STORE_OK && u.left != 0)
		rc = STORE_CORRUPT;
	free(val);
	if (rc != STORE_OK)
		dir_free(d);
	return rc;
}

static int
dir_put(struct store_txn *t, const struct leaf_dir *d)
{
	struct pack	pk = { 0 };
	int		rc;

	pack_u8(&pk, DIR_VERSION);
	pack_u8(&pk, d->merging < 0 ? NOT_MERGING : (uint8_t)d->merging);
	dir_pack_runs(&pk, d->live, d->nlive);
	dir_pack_runs(&pk, d->dead, d->ndead);
	rc = pk.err ? STORE_NOMEM : store_kv_put(t, STORE_DB_META, dir_key,
	    sizeof(dir_key) - 1, pk.buf, pk.len, 0);
	pack_free(&pk);
	return rc;
}

/* Entries in order, as blocks of run r after those it has. */
static int
run_write(struct store_txn *t, const struct leaf_run *r,
    const struct store_leaf *e, size_t n)
{
	uint8_t	key[BLOCK_KEY_LEN], val[BLOCK_ENTRIES * ENTRY_LEN];
	size_t	i, j, k;
	int	rc;

	for (i = 0; i < n; i += k) {
		k = n - i < BLOCK_ENTRIES ? n - i : BLOCK_ENTRIES;
		for (j = 0; j < k; j++)
			entry_put(val + j * ENTRY_LEN, &e[i + j]);
		block_key(key, r, e[i].hash);
		if ((rc = store_kv_put(t, STORE_DB_LEAFRUNS, key, sizeof(key),
		    val, k * ENTRY_LEN, 1)) != STORE_OK)
			return rc;
	}
	return STORE_OK;
}

/*
 * The block of run r that holds hash if any does: the last whose first
 * hash is at most hash.  *val is the caller's on STORE_OK.
 */
static int
run_block(struct store_txn *t, const struct leaf_run *r,
    const uint8_t hash[STORE_HASH_LEN], void **val, size_t *vlen)
{
	uint8_t	 key[BLOCK_KEY_LEN];
	void	*k = NULL;
	size_t	 klen;
	int	 rc;

	block_key(key, r, hash);
	if ((rc = store_kv_floor(t, STORE_DB_LEAFRUNS, key, sizeof(key), &k,
	    &klen, val, vlen)) != STORE_OK)
		return rc;
	if (klen != BLOCK_KEY_LEN || memcmp(k, key, RUN_KEY_LEN) != 0)
		rc = STORE_NOTFOUND;
	else if (*vlen == 0 || *vlen % ENTRY_LEN != 0)
		rc = STORE_CORRUPT;
	free(k);
	if (rc != STORE_OK) {
		free(*val);
		*val = NULL;
	}
	return rc;
}

static int
run_find(struct store_txn *t, const struct leaf_run *r,
    const uint8_t hash[STORE_HASH_LEN], uint64_t *index)
{
	uint8_t	*val = NULL;
	size_t	 vlen, lo, hi, mid;
	int	 rc, c;

	if ((rc = run_block(t, r, hash, (void **)&val, &vlen)) != STORE_OK)
		return rc;
	rc = STORE_NOTFOUND;
	for (lo = 0, hi = vlen / ENTRY_LEN; lo < hi;) {
		mid = lo + (hi - lo) / 2;
		c = memcmp(val + mid * ENTRY_LEN, hash, STORE_HASH_LEN);
		if (c == 0) {
			*index = be64_get(val + mid * ENTRY_LEN +
			    STORE_HASH_LEN);
			rc = STORE_OK;
			break;
		}
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	free(val);
	return rc;
}

int
store_leaf_find(struct store_txn *t, const uint8_t hash[STORE_HASH_LEN],
    uint64_t *log_index)
{
	struct leaf_dir	d;
	size_t		i;
	int		rc;

	rc = store_kv_get_u64(t, STORE_DB_LEAVES, hash, STORE_HASH_LEN,
	    log_index);
	if (rc != STORE_NOTFOUND)
		return rc;
	if ((rc = dir_get(t, &d)) != STORE_OK)
		return rc;
	rc = STORE_NOTFOUND;
	for (i = 0; i < d.nlive && rc == STORE_NOTFOUND; i++)
		rc = run_find(t, &d.live[i], hash, log_index);
	dir_free(&d);
	return rc;
}

/*
 * A walk of a run's entries in order, each checked: a block its key
 * misnames, or an entry not after the one before, is STORE_CORRUPT (a
 * lookup could miss it).  fn sees those after *after (NULL: all).
 */
struct run_walk {
	const struct store_leaf	*after;
	struct store_leaf	 last;
	uint64_t		 count;		/* entries walked */
	store_leaf_fn		 fn;
	void			*arg;
};

static int
run_walk_block(const void *key, size_t klen, const void *val, size_t vlen,
    void *arg)
{
	struct run_walk		*w = arg;
	const uint8_t		*p = val;
	struct store_leaf	 l;
	size_t			 i;
	int			 rc;

	if (klen != BLOCK_KEY_LEN || vlen == 0 || vlen % ENTRY_LEN != 0 ||
	    memcmp((const uint8_t *)key + RUN_KEY_LEN, p, STORE_HASH_LEN) != 0)
		return STORE_CORRUPT;
	for (i = 0; i < vlen / ENTRY_LEN; i++) {
		entry_get(&l, p + i * ENTRY_LEN);
		if (w->count > 0 && store_leaf_cmp(&w->last, &l) >= 0)
			return STORE_CORRUPT;
		w->last = l;
		w->count++;
		if (w->after != NULL && store_leaf_cmp(&l, w->after) <= 0)
			continue;
		if ((rc = w->fn(&l, w->arg)) != STORE_OK)
			return rc;
	}
	return STORE_OK;
}

/* From the block that holds w->after, or the run's first. */
static int
run_walk(struct store_txn *t, const struct leaf_run *r, struct run_walk *w)
{
	uint8_t	 prefix[RUN_KEY_LEN], key[BLOCK_KEY_LEN];
	void	*from = NULL, *val = NULL;
	size_t	 fromlen = 0, vlen;
	int	 rc = STORE_OK;

	run_key(prefix, r);
	if (w->after != NULL) {
		block_key(key, r, w->after->hash);
		rc = store_kv_floor(t, STORE_DB_LEAFRUNS, key, sizeof(key),
		    &from, &fromlen, &val, &vlen);
		free(val);
		if (rc == STORE_OK && (fromlen != BLOCK_KEY_LEN ||
		    memcmp(from, prefix, RUN_KEY_LEN) != 0))
			fromlen = 0;	/* before the run's first block */
		if (rc == STORE_NOTFOUND)
			rc = STORE_OK;
	}
	if (rc == STORE_OK)
		rc = store_kv_each_prefix(t, STORE_DB_LEAFRUNS, prefix,
		    sizeof(prefix), fromlen ? from : NULL, fromlen,
		    run_walk_block, w);
	free(from);
	return rc;
}

/* A merge's window of one input: its next entries, at most max. */
struct run_load {
	struct store_leaf	*e;
	size_t			 n, max;
	int			 more;	/* stopped at max, with more left */
};

static int
run_load_entry(const struct store_leaf *l, void *arg)
{
	struct run_load	*rl = arg;

	if (rl->n == rl->max) {
		rl->more = 1;
		return STORE_STOP;
	}
	rl->e[rl->n++] = *l;
	return STORE_OK;
}

static int
run_load(struct store_txn *t, const struct leaf_run *r,
    const struct store_leaf *after, struct run_load *rl)
{
	struct run_walk	w;
	int		rc;

	memset(&w, 0, sizeof(w));
	w.after = after;
	w.fn = run_load_entry;
	w.arg = rl;
	rc = run_walk(t, r, &w);
	return rc == STORE_STOP ? STORE_OK : rc;
}

/* The last entry of run r, in *last; *have 0 if it has none yet. */
static int
run_last(struct store_txn *t, const struct leaf_run *r,
    struct store_leaf *last, int *have)
{
	uint8_t	 end[STORE_HASH_LEN], *val = NULL;
	size_t	 vlen;
	int	 rc;

	memset(end, 0xff, sizeof(end));
	*have = 0;
	rc = run_block(t, r, end, (void **)&val, &vlen);
	if (rc == STORE_NOTFOUND)
		return STORE_OK;
	if (rc != STORE_OK)
		return rc;
	entry_get(last, val + vlen - ENTRY_LEN);
	*have = 1;
	free(val);
	return STORE_OK;
}

/* The lowest level with RUN_FANOUT live runs, or -1. */
static int
merge_level(const struct leaf_dir *d)
{
	size_t	count[256] = { 0 }, i;
	int	level;

	for (i = 0; i < d->nlive; i++)
		count[d->live[i].level]++;
	for (level = 0; level < 255; level++)
		if (count[level] >= RUN_FANOUT)
			return level;
	return -1;
}

/* The merge's inputs: the first RUN_FANOUT live runs of its level. */
static int
merge_inputs(const struct leaf_dir *d, size_t in[RUN_FANOUT],
    struct leaf_run *out)
{
	size_t	i, n = 0;

	for (i = 0; i < d->nlive && n < RUN_FANOUT; i++)
		if (d->live[i].level == d->merging)
			in[n++] = i;
	if (n < RUN_FANOUT)
		return STORE_CORRUPT;
	out->first = d->live[in[0]].first;
	out->level = (uint8_t)(d->merging + 1);
	out->count = 0;
	for (i = 0; i < RUN_FANOUT; i++)
		out->count += d->live[in[i]].count;
	return STORE_OK;
}

/*
 * The inputs' entries after the output's last, RUN_FANOUT ways, as far
 * as every input read holds them all: up to the least last entry of an
 * input read only in part.  *done when the inputs are spent.
 */
static size_t
merge_entries(struct run_load *rl, struct store_leaf *out, int *done)
{
	const struct store_leaf	*cut = NULL, *least;
	size_t			 pos[RUN_FANOUT] = { 0 }, i, n = 0, from;

	for (i = 0; i < RUN_FANOUT; i++)
		if (rl[i].more && (cut == NULL ||
		    store_leaf_cmp(&rl[i].e[rl[i].n - 1], cut) < 0))
			cut = &rl[i].e[rl[i].n - 1];
	for (;;) {
		least = NULL;
		from = 0;
		for (i = 0; i < RUN_FANOUT; i++)
			if (pos[i] < rl[i].n && (least == NULL ||
			    store_leaf_cmp(&rl[i].e[pos[i]], least) < 0)) {
				least = &rl[i].e[pos[i]];
				from = i;
			}
		if (least == NULL || (cut != NULL &&
		    store_leaf_cmp(least, cut) > 0))
			break;
		out[n++] = *least;
		pos[from]++;
	}
	*done = cut == NULL;
	return n;
}

/* The merge done: its inputs are dead, its output live. */
static int
merge_finish(struct leaf_dir *d, const size_t in[RUN_FANOUT],
    const struct leaf_run *out)
{
	size_t	i, j, k;
	int	rc;

	for (i = 0; i < RUN_FANOUT; i++)
		if ((rc = dir_add(&d->dead, &d->ndead, &d->dead_cap,
		    &d->live[in[i]])) != STORE_OK)
			return rc;
	for (i = j = k = 0; i < d->nlive; i++) {
		if (k < RUN_FANOUT && in[k] == i)
			k++;
		else
			d->live[j++] = d->live[i];
	}
	d->nlive = j;
	d->merging = -1;
	return dir_add(&d->live, &d->nlive, &d->live_cap, out);
}

/* One piece of the merge under way; *merged is how many it wrote. */
static int
merge_piece(struct store_txn *t, struct leaf_dir *d, size_t *merged)
{
	struct run_load		 rl[RUN_FANOUT];
	struct store_leaf	*buf, last;
	struct leaf_run		 out;
	size_t			 in[RUN_FANOUT], i, n;
	int			 have_last, done, rc;

	*merged = 0;
	if ((rc = merge_inputs(d, in, &out)) != STORE_OK ||
	    (rc = run_last(t, &out, &last, &have_last)) != STORE_OK)
		return rc;
	/* Each input's window, then the merged order, behind them. */
	if ((buf = calloc(2 * RUN_FANOUT * MERGE_LOAD, sizeof(*buf))) == NULL)
		return STORE_NOMEM;
	for (i = 0; i < RUN_FANOUT; i++) {
		memset(&rl[i], 0, sizeof(rl[i]));
		rl[i].e = buf + i * MERGE_LOAD;
		rl[i].max = MERGE_LOAD;
		if ((rc = run_load(t, &d->live[in[i]], have_last ? &last :
		    NULL, &rl[i])) != STORE_OK)
			goto out;
	}
	n = merge_entries(rl, buf + RUN_FANOUT * MERGE_LOAD, &done);
	if ((rc = run_write(t, &out, buf + RUN_FANOUT * MERGE_LOAD, n)) !=
	    STORE_OK)
		goto out;
	*merged = n;
	if (done)
		rc = merge_finish(d, in, &out);
out:
	free(buf);
	return rc;
}

/* Deletes up to max blocks of the dead runs, the oldest first. */
struct dead_keys {
	uint8_t	(*key)[BLOCK_KEY_LEN];
	size_t	 n, max;
};

static int
dead_key(const void *key, size_t klen, const void *val, size_t vlen,
    void *arg)
{
	struct dead_keys	*dk = arg;

	(void)val;
	(void)vlen;
	if (klen != BLOCK_KEY_LEN)
		return STORE_CORRUPT;
	if (dk->n == dk->max)
		return STORE_STOP;
	memcpy(dk->key[dk->n++], key, BLOCK_KEY_LEN);
	return STORE_OK;
}

static int
dead_delete(struct store_txn *t, struct leaf_dir *d, size_t max)
{
	struct dead_keys	dk;
	uint8_t			prefix[RUN_KEY_LEN];
	size_t			i;
	int			rc = STORE_OK;

	if (d->ndead == 0 || max == 0)
		return STORE_OK;
	if ((dk.key = calloc(max, BLOCK_KEY_LEN)) == NULL)
		return STORE_NOMEM;
	while (d->ndead > 0 && max > 0 && rc == STORE_OK) {
		dk.n = 0;
		dk.max = max;
		run_key(prefix, &d->dead[0]);
		rc = store_kv_each_prefix(t, STORE_DB_LEAFRUNS, prefix,
		    sizeof(prefix), NULL, 0, dead_key, &dk);
		if (rc != STORE_OK && rc != STORE_STOP)
			break;
		for (i = 0, rc = STORE_OK; i < dk.n && rc == STORE_OK; i++)
			rc = store_kv_del(t, STORE_DB_LEAFRUNS, dk.key[i],
			    BLOCK_KEY_LEN);
		max -= dk.n;
		if (dk.n < dk.max) {	/* the whole run is gone */
			memmove(d->dead, d->dead + 1,
			    (d->ndead - 1) * sizeof(*d->dead));
			d->ndead--;
		}
	}
	free(dk.key);
	return rc;
}

/* The merges and deletes owed, about work entries' worth. */
static int
leaf_upkeep(struct store_txn *t, struct leaf_dir *d, size_t work)
{
	size_t	done = 0, merged;
	int	rc;

	while (done < work) {
		if (d->merging < 0 && (d->merging = merge_level(d)) < 0)
			break;
		if ((rc = merge_piece(t, d, &merged)) != STORE_OK)
			return rc;
		done += merged;
	}
	return dead_delete(t, d, work / BLOCK_ENTRIES);
}

int
store_leaf_add(struct store_txn *t, struct store_leaf *leaves, size_t n)
{
	struct leaf_dir	d;
	struct leaf_run	r;
	size_t		i;
	int		rc;

	if (n == 0)
		return STORE_OK;
	r.first = leaves[0].index;
	for (i = 1; i < n; i++)
		if (leaves[i].index < r.first)
			r.first = leaves[i].index;
	r.level = 0;
	r.count = n;
	qsort(leaves, n, sizeof(*leaves), store_leaf_cmp);
	if ((rc = dir_get(t, &d)) != STORE_OK)
		return rc;
	if ((rc = run_write(t, &r, leaves, n)) == STORE_OK &&
	    (rc = dir_add(&d.live, &d.nlive, &d.live_cap, &r)) == STORE_OK &&
	    (rc = leaf_upkeep(t, &d, MERGE_WORK + MERGE_WORK_LEAF * n)) ==
	    STORE_OK)
		rc = dir_put(t, &d);
	dir_free(&d);
	return rc;
}

struct legacy_walk {
	store_leaf_fn	 fn;
	void		*arg;
};

static int
legacy_record(const void *key, size_t klen, const void *val, size_t vlen,
    void *arg)
{
	struct legacy_walk	*w = arg;
	struct store_leaf	 l;

	if (klen != STORE_HASH_LEN || vlen != 8)
		return STORE_CORRUPT;
	memcpy(l.hash, key, STORE_HASH_LEN);
	l.index = be64_get(val);
	return w->fn(&l, w->arg);
}

int
store_leaf_each(struct store_txn *t, store_leaf_fn fn, void *arg)
{
	struct legacy_walk	lw = { fn, arg };
	struct run_walk		w;
	struct leaf_dir		d;
	size_t			i;
	int			rc;

	if ((rc = store_kv_each(t, STORE_DB_LEAVES, NULL, 0, legacy_record,
	    &lw)) != STORE_OK || (rc = dir_get(t, &d)) != STORE_OK)
		return rc;
	for (i = 0; i < d.nlive && rc == STORE_OK; i++) {
		memset(&w, 0, sizeof(w));
		w.fn = fn;
		w.arg = arg;
		rc = run_walk(t, &d.live[i], &w);
		if (rc == STORE_OK && w.count != d.live[i].count)
			rc = STORE_CORRUPT;
	}
	dir_free(&d);
	return rc;
}
