#include <sys/prctl.h>

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../common/clockwait.h"
#include "../common/grow.h"
#include "../common/log.h"
#include "../common/timefmt.h"
#include "../crypto/note.h"
#include "integrator.h"
#include "metrics.h"
#include "tiles.h"
#include "tlog.h"
#include "webhook.h"

/* Why a step's transaction or walk ends early. */
enum integrator_stop {
	STEP_NOTHING = STORE_USER,	/* no new leaf: sign nothing */
	STEP_STOP			/* batch full */
};

struct integrator {
	struct store		*store;
	char			 data_dir[1024];
	char			 origin[NOTE_ORIGIN_MAX + 1];
	/* The signing key; replaced when tallyctl rotates it. */
	struct sigkey		*key;
	struct store_signkey	 key_rec;
	pthread_mutex_t		 key_lock;	/* swap vs statement signing */
	atomic_int		 ready;

	pthread_t		 thread;
	int			 started;
	pthread_mutex_t		 lock;
	pthread_cond_t		 wake;
	atomic_int		 stop;
	int			 interval_ms;
	/* Broadcast after every step, under lock; rounds counts them. */
	pthread_cond_t		 stepped;
	uint64_t		 rounds;
	/* The right edge of the tree of the last head signed, under lock. */
	struct merkle_edge	 edge;
};

/* What one step's transaction works on; reset at every (re)try. */
struct step {
	struct integrator	*ig;
	struct store_txn	*txn;
	struct merkle_edge	 edge;
	struct tiles_writer	*tiles;
	struct store_leaf	*leaves;	/* the step's, to index */
	size_t			 nleaves, leaves_cap;
	uint64_t		 from, to;
	struct store_sth	 head;
	struct webhook_targets	*targets;
};

static int
integrator_load_key(struct integrator *ig, const struct store_signkey *rec)
{
	struct sigkey	*key = NULL;
	char		 err[256];

	if (tlog_key_load(ig->data_dir, rec, &key, err, sizeof(err)) < 0) {
		log_error("integrator: signing key %s: %s", rec->key_id, err);
		return -1;
	}
	pthread_mutex_lock(&ig->key_lock);
	sigkey_free(ig->key);
	ig->key = key;
	ig->key_rec = *rec;
	pthread_mutex_unlock(&ig->key_lock);
	log_info("integrator: signing with key %s (%s)", rec->key_id,
	    rec->alg);
	return 0;
}

int
integrator_open(struct integrator **out, struct store *st,
    const char *data_dir, const char *origin, char *err, size_t errlen)
{
	struct integrator	*ig;
	struct store_signkey	 rec;
	int			 rc;

	*out = NULL;
	if ((ig = calloc(1, sizeof(*ig))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	ig->store = st;
	snprintf(ig->data_dir, sizeof(ig->data_dir), "%s", data_dir);
	snprintf(ig->origin, sizeof(ig->origin), "%s", origin);
	pthread_mutex_init(&ig->lock, NULL);
	pthread_mutex_init(&ig->key_lock, NULL);
	clockwait_init(&ig->wake);
	clockwait_init(&ig->stepped);
	if ((rc = tlog_key_active(st, &rec)) != STORE_OK) {
		snprintf(err, errlen, "%s", rc == STORE_NOTFOUND ? "no signing "
		    "key: run tallyctl signing-key generate" :
		    store_strerror(rc));
		goto err;
	}
	if (tlog_key_load(data_dir, &rec, &ig->key, err, errlen) < 0)
		goto err;
	ig->key_rec = rec;
	ig->ready = 1;
	*out = ig;
	return 0;
err:
	integrator_close(ig);
	return -1;
}

/* Each completed subtree goes to the tiles; a leaf is also indexed. */
static int
integrator_node(void *arg, unsigned level, uint64_t index,
    const merkle_hash hash)
{
	struct step	*s = arg;

	if (level == 0) {
		if (grow(&s->leaves, &s->leaves_cap, s->nleaves + 1,
		    sizeof(*s->leaves)) < 0)
			return STORE_NOMEM;
		memcpy(s->leaves[s->nleaves].hash, hash, MERKLE_HASH_LEN);
		s->leaves[s->nleaves++].index = index;
	}
	return tiles_writer_node(s->tiles, level, index, hash);
}

static int
integrator_leaf(const struct store_delta *d, void *arg)
{
	struct step	*s = arg;

	if (s->edge.size == s->to)
		return STEP_STOP;
	if (d->log_index != s->edge.size)
		return STORE_CORRUPT;	/* the log has a hole */
	/* A round retried after a deadlock counts its leaves again: rare. */
	metrics_observe(METRICS_VERIFY_LAG_SECONDS,
	    (double)(timefmt_now_ms() - d->created_ms) / 1e3);
	return merkle_edge_append(&s->edge, d->leaf_hash, integrator_node, s);
}

static int
integrator_sign(struct step *s)
{
	struct integrator	*ig = s->ig;
	struct note_head	 nh;
	int			 rc;

	memset(&nh, 0, sizeof(nh));
	snprintf(nh.origin, sizeof(nh.origin), "%s", ig->origin);
	nh.size = s->to;
	if (merkle_edge_root(&s->edge, nh.root) != 0)
		return STORE_NOMEM;
	if ((rc = note_sign(&nh, ig->key, ig->key_rec.name, s->head.note,
	    sizeof(s->head.note))) != NOTE_OK) {
		log_error("integrator: cannot sign: %s", note_strerror(rc));
		return STORE_IO;
	}
	s->head.size = s->to;
	memcpy(s->head.root, nh.root, sizeof(nh.root));
	s->head.signed_ms = timefmt_now_ms();
	snprintf(s->head.key_id, sizeof(s->head.key_id), "%s",
	    ig->key_rec.key_id);
	return store_sth_add(s->txn, &s->head);
}

static int
integrator_event(const struct store_delta *d, void *arg)
{
	struct step	*s = arg;

	if (d->log_index >= s->to)
		return STEP_STOP;
	return webhook_delta_verified(s->txn, s->targets, d, &s->head);
}

/* delta.verified for each leaf the new head covers, if anyone listens. */
static int
integrator_events(struct step *s)
{
	int	rc;

	webhook_targets_free(s->targets);
	if ((rc = webhook_targets_load(s->txn, &s->targets)) != STORE_OK ||
	    webhook_targets_none(s->targets))
		return rc;
	rc = store_delta_each(s->txn, s->from, integrator_event, s);
	return rc == STEP_STOP ? STORE_OK : rc;
}

/*
 * The edge of the newest head's tree: the one the last step left if it
 * is that tree (same size, same root), else computed from the tiles.
 */
static int
integrator_edge(struct step *s, const struct store_sth *last)
{
	merkle_hash	root;
	int		rc;

	pthread_mutex_lock(&s->ig->lock);
	s->edge = s->ig->edge;
	pthread_mutex_unlock(&s->ig->lock);
	if (last != NULL && s->edge.size == last->size &&
	    merkle_edge_root(&s->edge, root) == 0 &&
	    memcmp(root, last->root, sizeof(root)) == 0)
		return STORE_OK;
	rc = merkle_edge_load(&s->edge, tiles_node, s->txn, s->from);
	return rc < 0 ? STORE_CORRUPT : rc;
}

static int
integrator_txn(struct store_txn *t, void *arg)
{
	struct step		*s = arg;
	struct store_sth	 last;
	struct store_signkey	 active;
	uint64_t		 logsize;
	int			 rc, have_head;

	s->txn = t;
	rc = store_sth_latest(t, &last);
	if (rc != STORE_OK && rc != STORE_NOTFOUND)
		return rc;
	have_head = rc == STORE_OK;
	s->from = have_head ? last.size : 0;
	if ((rc = store_log_size(t, &logsize)) != STORE_OK)
		return rc;
	if (logsize < s->from)
		return STORE_CORRUPT;
	if (logsize == s->from && have_head)
		return STEP_NOTHING;
	/* The key that signs is the one the store names active now. */
	if ((rc = store_signkey_active(t, &active)) != STORE_OK)
		return rc;
	if (strcmp(active.key_id, s->ig->key_rec.key_id) != 0 &&
	    integrator_load_key(s->ig, &active) < 0)
		return STORE_IO;
	s->to = logsize - s->from > INTEGRATOR_BATCH ?
	    s->from + INTEGRATOR_BATCH : logsize;
	if ((rc = integrator_edge(s, have_head ? &last : NULL)) != STORE_OK)
		return rc;
	tiles_writer_free(s->tiles);
	if ((s->tiles = tiles_writer_new(t)) == NULL)
		return STORE_NOMEM;
	s->nleaves = 0;
	rc = store_delta_each(t, s->from, integrator_leaf, s);
	if (rc != STORE_OK && rc != STEP_STOP)
		return rc < 0 ? STORE_CORRUPT : rc;
	if (s->edge.size != s->to)
		return STORE_CORRUPT;
	if ((rc = tiles_writer_flush(s->tiles)) != STORE_OK ||
	    (rc = store_leaf_add(t, s->leaves, s->nleaves)) != STORE_OK ||
	    (rc = integrator_sign(s)) != STORE_OK)
		return rc;
	return integrator_events(s);
}

/* One step; *added is how many leaves its head added. */
static int
integrator_round(struct integrator *ig, uint64_t *size, uint64_t *added)
{
	struct step	*s;
	int		 rc;

	/* The edge is 2 KiB: keep it off a thread's stack. */
	if ((s = calloc(1, sizeof(*s))) == NULL)
		return STORE_NOMEM;
	s->ig = ig;
	rc = store_write_committed(ig->store, integrator_txn, s);
	*added = 0;
	if (rc == STORE_OK) {
		*added = s->to - s->from;
		log_debug("integrator: signed tree head %llu",
		    (unsigned long long)s->to);
	} else if (rc == STEP_NOTHING)
		rc = STORE_OK;
	*size = s->from + *added;
	if (rc == STORE_OK)
		metrics_gauge_set(METRICS_TREE_SIZE, (int64_t)*size);
	atomic_store(&ig->ready, rc == STORE_OK);
	webhook_targets_free(s->targets);
	tiles_writer_free(s->tiles);
	free(s->leaves);
	pthread_mutex_lock(&ig->lock);
	if (rc == STORE_OK && *added != 0)
		ig->edge = s->edge;
	ig->rounds++;
	pthread_cond_broadcast(&ig->stepped);
	pthread_mutex_unlock(&ig->lock);
	free(s);
	return rc;
}

int
integrator_step(struct integrator *ig, uint64_t *size)
{
	uint64_t	added, dummy;

	return integrator_round(ig, size != NULL ? size : &dummy, &added);
}

int
integrator_ready(struct integrator *ig)
{
	return ig != NULL && atomic_load(&ig->ready);
}

/* Now on the monotonic clock, which clockwait measures by too. */
static int64_t
integrator_mono_ms(void)
{
	struct timespec	now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (int64_t)now.tv_sec * 1000 + now.tv_nsec / 1000000;
}

static void *
integrator_main(void *arg)
{
	struct integrator	*ig = arg;
	uint64_t		 size, added;
	int64_t			 began, rest;
	int			 rc;

	prctl(PR_SET_NAME, "tally-integrate");
	pthread_mutex_lock(&ig->lock);
	while (!ig->stop) {
		pthread_mutex_unlock(&ig->lock);
		began = integrator_mono_ms();
		/* A backlog (after a restart) is worked off without pause. */
		do {
			rc = integrator_round(ig, &size, &added);
			if (rc != STORE_OK)
				log_error("integrator: %s", store_strerror(rc));
		} while (rc == STORE_OK && added == INTEGRATOR_BATCH &&
		    !atomic_load(&ig->stop));
		pthread_mutex_lock(&ig->lock);
		/*
		 * A round every interval, counted from its start: a round that
		 * took long (under load, most of an interval) waits only what
		 * is left, so a delta's wait for its head does not grow by
		 * the length of a round.  A failed round waits a whole one.
		 */
		rest = ig->interval_ms;
		if (rc == STORE_OK)
			rest -= integrator_mono_ms() - began;
		if (!ig->stop && rest > 0)
			clockwait(&ig->wake, &ig->lock, (long)rest);
	}
	pthread_mutex_unlock(&ig->lock);
	return NULL;
}

int
integrator_start(struct integrator *ig, int interval_ms)
{
	ig->interval_ms = interval_ms;
	if (pthread_create(&ig->thread, NULL, integrator_main, ig) != 0)
		return -1;
	ig->started = 1;
	return 0;
}

void
integrator_close(struct integrator *ig)
{
	if (ig == NULL)
		return;
	if (ig->started) {
		pthread_mutex_lock(&ig->lock);
		ig->stop = 1;
		pthread_cond_signal(&ig->wake);
		pthread_mutex_unlock(&ig->lock);
		pthread_join(ig->thread, NULL);
	}
	sigkey_free(ig->key);
	pthread_mutex_destroy(&ig->lock);
	pthread_mutex_destroy(&ig->key_lock);
	pthread_cond_destroy(&ig->wake);
	pthread_cond_destroy(&ig->stepped);
	free(ig);
}

int
integrator_sign_statement(struct integrator *ig, const void *msg, size_t len,
    uint8_t *sig, size_t *siglen, char key_id[STORE_KEYID_MAX + 1],
    char alg[STORE_ALG_MAX + 1])
{
	int	rc = -1;

	pthread_mutex_lock(&ig->key_lock);
	if (ig->key != NULL &&
	    sigkey_sign(ig->key, msg, len, sig, siglen) == 0) {
		memcpy(key_id, ig->key_rec.key_id, STORE_KEYID_MAX + 1);
		memcpy(alg, ig->key_rec.alg, STORE_ALG_MAX + 1);
		rc = 0;
	}
	pthread_mutex_unlock(&ig->key_lock);
	return rc;
}

/* The log's size and the newest head's (0 before the first). */
static int
integrator_sizes_txn(struct store_txn *t, void *arg)
{
	uint64_t		*sizes = arg;
	struct store_sth	 head;
	int			 rc;

	if ((rc = store_log_size(t, &sizes[0])) != STORE_OK)
		return rc;
	rc = store_sth_latest(t, &head);
	sizes[1] = rc == STORE_OK ? head.size : 0;
	return rc == STORE_NOTFOUND ? STORE_OK : rc;
}

int
integrator_wait_covered(struct integrator *ig, int timeout_ms)
{
	uint64_t	sizes[2], want, seen;
	int64_t		deadline, left;
	int		stepped;

	if (ig == NULL)
		return -1;
	deadline = integrator_mono_ms() + timeout_ms;
	pthread_mutex_lock(&ig->lock);
	seen = ig->rounds;
	pthread_mutex_unlock(&ig->lock);
	if (store_read(ig->store, integrator_sizes_txn, sizes) != STORE_OK)
		return -1;
	want = sizes[0];
	/*
	 * The store is read again after each step, not told by the step:
	 * the stored head is the fact, whoever stored it.  A step that ends
	 * between a read and the wait has counted a round, so none is
	 * missed.
	 */
	while (sizes[1] < want) {
		pthread_mutex_lock(&ig->lock);
		while (ig->rounds == seen &&
		    (left = deadline - integrator_mono_ms()) > 0)
			clockwait(&ig->stepped, &ig->lock, (long)left);
		stepped = ig->rounds != seen;
		seen = ig->rounds;
		pthread_mutex_unlock(&ig->lock);
		if (!stepped || store_read(ig->store, integrator_sizes_txn,
		    sizes) != STORE_OK)
			return -1;
	}
	return 0;
}
