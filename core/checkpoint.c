#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/grow.h"
#include "../common/hex.h"
#include "../common/jcs.h"
#include "../common/sbuf.h"
#include "../common/timefmt.h"
#include "../crypto/merkle.h"
#include "../crypto/random.h"
#include "apikey.h"
#include "balance.h"
#include "checkpoint.h"
#include "webhook.h"

static void
checkpoint_add_string(struct sbuf *sb, const char *name, const char *value)
{
	sbuf_addf(sb, ",\"%s\":", name);
	jcs_string(value, strlen(value), sb);
}

static void
checkpoint_add_time(struct sbuf *sb, const char *name, int64_t ms)
{
	char	when[TIMEFMT_LEN];

	timefmt_rfc3339(ms, when);
	checkpoint_add_string(sb, name, when);
}

static void
checkpoint_add_amount(struct sbuf *sb, const char *name, decimal_t v)
{
	char	text[DECIMAL_MAX];

	decimal_format(v, text);
	checkpoint_add_string(sb, name, text);
}

static void
checkpoint_add_hash(struct sbuf *sb, const char *name,
    const uint8_t h[STORE_HASH_LEN])
{
	char	hex[HEX_0X_SIZE(STORE_HASH_LEN)];

	hex_encode_0x(h, STORE_HASH_LEN, hex);
	checkpoint_add_string(sb, name, hex);
}

static void
checkpoint_add_seq(struct sbuf *sb, const char *name, uint64_t seq)
{
	sbuf_addf(sb, ",\"%s\":%llu", name, (unsigned long long)seq);
}

/*
 * Version 1 covered the month's deltas; version 2 names the run of seqs
 * it covers and carries a fresh salt, so that nothing public (the
 * statement's hash, its signature) confirms a guessed customer or amount.
 */
int
checkpoint_statement(struct store_checkpoint *c)
{
	struct sbuf	sb = { 0 };
	char		period[TIMEFMT_PERIOD_LEN];
	char		salt[2 * STORE_HASH_LEN + 1];
	int		rc = -1;

	timefmt_period(c->month, period);
	/* Members in JCS order; amounts as strings, so none is rounded. */
	sbuf_adds(&sb, "{\"checkpointId\":");
	jcs_string(c->id, strlen(c->id), &sb);
	checkpoint_add_time(&sb, "createdAt", c->created_ms);
	checkpoint_add_string(&sb, "customerId", c->customer_id);
	checkpoint_add_seq(&sb, "deltasCount", c->count);
	checkpoint_add_time(&sb, "endDate", timefmt_month_start(c->month + 1));
	checkpoint_add_amount(&sb, "endingBalance", c->starting + c->net);
	checkpoint_add_string(&sb, "env", apikey_env_name(c->env));
	if (c->version >= 2)
		checkpoint_add_seq(&sb, "firstSequence", c->first_seq);
	if (c->version >= 2)
		checkpoint_add_seq(&sb, "lastSequence", c->last_seq);
	checkpoint_add_amount(&sb, "netChange", c->net);
	checkpoint_add_string(&sb, "period", period);
	if (c->previous[0] != '\0')
		checkpoint_add_string(&sb, "previousCheckpointId", c->previous);
	else
		sbuf_adds(&sb, ",\"previousCheckpointId\":null");
	checkpoint_add_hash(&sb, "proofRoot", c->proof_root);
	checkpoint_add_hash(&sb, "rootHash", c->root_hash);
	if (c->version >= 2) {
		hex_encode(c->salt, STORE_HASH_LEN, salt);
		checkpoint_add_string(&sb, "salt", salt);
	}
	checkpoint_add_time(&sb, "startDate", timefmt_month_start(c->month));
	checkpoint_add_amount(&sb, "startingBalance", c->starting);
	checkpoint_add_string(&sb, "tenant", c->tenant);
	checkpoint_add_seq(&sb, "treeSize", c->tree_size);
	sbuf_addf(&sb, ",\"version\":%d}", c->version);
	if (!sb.oom && sb.len < sizeof(c->statement)) {
		memcpy(c->statement, sb.buf, sb.len);
		c->statement[sb.len] = '\0';
		rc = 0;
	}
	sbuf_free(&sb);
	return rc;
}

void
checkpoint_job_free(struct checkpoint_job *job)
{
	free(job->list);
	job->list = NULL;
	job->n = job->cap = 0;
}

/*
 * Why a transaction below ends other than with a store code: the first
 * three become checkpoint_make's answer, the last two are checkpoint-all's
 * walk committing a chunk.
 */
enum checkpoint_stop {
	STOP_LATER = STORE_USER,	/* CHECKPOINT_LATER */
	STOP_NO_HEAD,			/* CHECKPOINT_NO_HEAD */
	STOP_NO_SIGNER,			/* CHECKPOINT_NO_SIGNER */
	STOP_CHUNK_FULL,		/* commit, then walk on */
	STOP_PAGE_FULL			/* commit, and stop */
};

/*
 * Counts c and lists it while the job keeps that many; past them a job
 * that pages stops (STOP_PAGE_FULL), having found that there is more.
 */
static int
checkpoint_job_add(struct checkpoint_job *job, const struct store_checkpoint *c)
{
	if (job->keep != 0 && job->n >= job->keep) {
		job->count++;
		return job->page ? STOP_PAGE_FULL : STORE_OK;
	}
	if (grow(&job->list, &job->cap, job->n + 1, sizeof(*job->list)) < 0)
		return STORE_NOMEM;
	job->list[job->n++] = *c;
	job->count++;
	return STORE_OK;
}

/* The Merkle root over the leaf hashes of the customer's seqs c covers. */
static int
checkpoint_proof_root(struct store_txn *t, struct store_checkpoint *c)
{
	struct merkle_array	 arr = { NULL, 0 };
	merkle_hash		*leaves = NULL;
	struct store_custpos	 p;
	struct store_delta	 d;
	uint64_t		 seq;
	int			 rc = STORE_OK;

	if (c->count > 0 &&
	    (leaves = calloc(c->count, sizeof(*leaves))) == NULL)
		return STORE_NOMEM;
	for (seq = c->first_seq; seq <= c->last_seq; seq++) {
		if ((rc = store_custpos_get(t, c->tenant, c->env,
		    c->customer_id, seq, &p)) != STORE_OK ||
		    (rc = store_delta_get(t, p.log_index, &d)) != STORE_OK)
			goto out;
		memcpy(leaves[seq - c->first_seq], d.leaf_hash, STORE_HASH_LEN);
		store_delta_free(&d);
	}
	arr.leaves = (const merkle_hash *)leaves;
	arr.size = c->count;
	rc = merkle_root(merkle_array_node, &arr, c->count, c->proof_root) ==
	    0 ? STORE_OK : STORE_CORRUPT;
out:
	free(leaves);
	return rc == STORE_NOTFOUND ? STORE_CORRUPT : rc;
}

/*
 * The customer's newest checkpoint, if any (*has_prev).  A later month
 * than the job's is STOP_LATER: months are locked in order.
 */
static int
checkpoint_predecessor(struct store_txn *t, struct checkpoint_job *job,
    const char *customer, struct store_checkpoint *prev, int *has_prev)
{
	int	rc;

	*has_prev = 0;
	rc = store_checkpoint_latest(t, job->tenant, job->env, customer,
	    INT_MAX, prev);
	if (rc == STORE_NOTFOUND)
		return STORE_OK;
	if (rc == STORE_OK && prev->month > job->month) {
		snprintf(job->later, sizeof(job->later), "%s", customer);
		return STOP_LATER;
	}
	*has_prev = rc == STORE_OK;
	return rc;
}

/*
 * The last seq recorded before the month ends that a signed head covers,
 * and that head's size.  Seqs are in time and log order, so every seq up
 * to it is recorded before the month's end and verified.
 */
static int
checkpoint_through(struct store_txn *t, const struct checkpoint_job *job,
    const char *customer, uint64_t *seq, uint64_t *tree_size)
{
	struct balance_scope	upto = { .kind = BALANCE_CUSTOM };
	struct balance		b;
	int			rc;

	upto.start_ms = INT64_MIN;
	upto.end_ms = timefmt_month_start(job->month + 1);
	if ((rc = balance_derive(t, job->tenant, job->env, customer, &upto,
	    &b)) == STORE_OK) {
		*seq = b.last_seq;
		*tree_size = b.tree_size;
	}
	return rc;
}

uint64_t
checkpoint_run_start(const struct store_checkpoint *prev, int month)
{
	if (prev == NULL)
		return 1;
	if (prev->month == month && (prev->version >= 2 || prev->count > 0))
		return prev->first_seq;
	return prev->through_seq + 1;
}

/* A fresh checkpoint of the run first..last, its head and balances. */
static int
checkpoint_new(struct store_txn *t, struct checkpoint_job *job,
    const char *customer, const struct store_checkpoint *prev, int has_prev,
    uint64_t first, uint64_t last, uint64_t tree_size,
    struct store_checkpoint *c)
{
	struct store_sth	head;
	char			hex[33];
	int			rc;

	if ((rc = store_sth_get(t, tree_size, &head)) != STORE_OK)
		return rc == STORE_NOTFOUND ? STOP_NO_HEAD : rc;
	if (random_hex(hex, 16) < 0 ||
	    random_bytes(c->salt, sizeof(c->salt)) < 0)
		return STORE_IO;
	snprintf(c->id, sizeof(c->id), "chk_%s", hex);
	snprintf(c->tenant, sizeof(c->tenant), "%s", job->tenant);
	c->env = job->env;
	snprintf(c->customer_id, sizeof(c->customer_id), "%s", customer);
	c->version = 2;
	c->month = job->month;
	c->first_seq = first;
	c->last_seq = c->through_seq = last;
	c->count = last + 1 - first;
	if (has_prev) {
		snprintf(c->previous, sizeof(c->previous), "%s", prev->id);
		c->starting = prev->month == job->month ? prev->starting :
		    prev->starting + prev->net;
	}
	c->tree_size = head.size;
	memcpy(c->root_hash, head.root, STORE_HASH_LEN);
	c->created_ms = timefmt_now_ms();
	if ((rc = balance_run_sum(t, job->tenant, job->env, customer, first,
	    last, &c->net)) != STORE_OK)
		return rc;
	return checkpoint_proof_root(t, c);
}

/*
 * Locks the job's month for one customer: the same checkpoint again if
 * nothing was recorded before the month's end since it was made, else a
 * new one.  With only_if_due, a customer whose chain already covers
 * every such delta is passed over (checkpoint-all, no delta that month).
 * Adds the deltas a new checkpoint covers to *covered.
 */
static int
checkpoint_lock_customer(struct store_txn *t, struct checkpoint_job *job,
    const struct webhook_targets *tg, const char *customer, int only_if_due,
    uint64_t *covered)
{
	struct store_checkpoint	*c = NULL, prev;
	uint64_t		 first, last, tree_size;
	int			 rc, has_prev;

	if ((rc = checkpoint_predecessor(t, job, customer, &prev, &has_prev)) !=
	    STORE_OK ||
	    (rc = checkpoint_through(t, job, customer, &last, &tree_size)) !=
	    STORE_OK)
		return only_if_due && rc == STOP_LATER ? STORE_OK : rc;
	if (has_prev && prev.month == job->month && prev.through_seq == last)
		return checkpoint_job_add(job, &prev);	/* nothing new: as is */
	first = checkpoint_run_start(has_prev ? &prev : NULL, job->month);
	if (last + 1 < first)
		last = first - 1;	/* nothing verified past its start yet */
	if (only_if_due && last + 1 == first)
		return STORE_OK;

	if ((c = calloc(1, sizeof(*c))) == NULL)
		return STORE_NOMEM;
	*covered += last + 1 - first;
	if ((rc = checkpoint_new(t, job, customer, &prev, has_prev, first,
	    last, tree_size, c)) != STORE_OK)
		goto out;
	if (checkpoint_statement(c) < 0) {
		rc = STORE_NOMEM;
		goto out;
	}
	if (job->sign(job->sign_arg, c->statement, strlen(c->statement),
	    c->sig, &c->sig_len, c->key_id, c->alg) < 0) {
		rc = STOP_NO_SIGNER;
		goto out;
	}
	if ((rc = store_checkpoint_add(t, c)) == STORE_OK &&
	    (rc = webhook_checkpoint_verified(t, tg, c)) == STORE_OK)
		rc = checkpoint_job_add(job, c);
out:
	free(c);
	return rc;
}

/* One transaction of checkpoint-all: chunk customers from resume on. */
struct checkpoint_chunk {
	struct store_txn		*t;
	struct checkpoint_job		*job;
	const struct webhook_targets	*tg;
	size_t				 walked;
	uint64_t			 covered;	/* deltas, so far */
	size_t				 n0;		/* job->n before it */
	uint64_t			 count0;	/* job->count before */
	char				 resume[STORE_CUSTOMER_MAX + 1];
	char				 last[STORE_CUSTOMER_MAX + 1];
	int				 end;	/* STORE_OK: all walked */
};

/*
 * Every customer with deltas in the month gets a checkpoint, and so does
 * one with none that month whose chain leaves earlier deltas uncovered.
 * The walk starts at the resume key itself, which the chunk before took.
 */
static int
checkpoint_lock_listed(const char *customer, const struct store_customer *sc,
    void *arg)
{
	struct checkpoint_chunk		*ch = arg;
	struct store_month	 m;
	int			 rc;

	if (strcmp(customer, ch->resume) == 0)
		return STORE_OK;
	if (ch->walked == (ch->job->chunk ? ch->job->chunk : CHECKPOINT_CHUNK) ||
	    ch->covered >= (ch->job->chunk_deltas ? ch->job->chunk_deltas :
	    CHECKPOINT_CHUNK_DELTAS))
		return STOP_CHUNK_FULL;
	rc = store_month_of(ch->t, ch->job->tenant, ch->job->env, customer,
	    sc, ch->job->month, &m);
	if (rc != STORE_OK && rc != STORE_NOTFOUND)
		return rc;
	rc = checkpoint_lock_customer(ch->t, ch->job, ch->tg, customer,
	    rc == STORE_NOTFOUND, &ch->covered);
	if (rc == STORE_OK || rc == STOP_PAGE_FULL) {
		ch->walked++;
		snprintf(ch->last, sizeof(ch->last), "%s", customer);
	}
	return rc;
}

static int
checkpoint_chunk_txn(struct store_txn *t, void *arg)
{
	struct checkpoint_chunk		*ch = arg;
	struct webhook_targets	*tg;
	int			 rc;

	/* A retried transaction starts the chunk again. */
	ch->job->n = ch->n0;
	ch->job->count = ch->count0;
	ch->job->later[0] = '\0';
	ch->t = t;
	ch->walked = 0;
	ch->covered = 0;
	snprintf(ch->last, sizeof(ch->last), "%s", ch->resume);
	if ((rc = webhook_targets_load(t, &tg)) != STORE_OK)
		return rc;
	ch->tg = tg;
	rc = store_customer_each_from(t, ch->job->tenant, ch->job->env,
	    ch->resume, checkpoint_lock_listed, ch);
	webhook_targets_free(tg);
	/* A full chunk or page commits what it did. */
	ch->end = rc;
	return rc == STOP_CHUNK_FULL || rc == STOP_PAGE_FULL ? STORE_OK : rc;
}

/* Checkpoint-all, a transaction per chunk, each committed before the next. */
static int
checkpoint_all(struct store *st, struct checkpoint_job *job)
{
	struct checkpoint_chunk	*ch;
	int		 rc;

	if ((ch = calloc(1, sizeof(*ch))) == NULL)
		return STORE_NOMEM;
	ch->job = job;
	snprintf(ch->resume, sizeof(ch->resume), "%s",
	    job->after != NULL ? job->after : "");
	do {
		if ((rc = store_write(st, checkpoint_chunk_txn, ch)) !=
		    STORE_OK)
			break;
		ch->n0 = job->n;
		ch->count0 = job->count;
		memcpy(ch->resume, ch->last, sizeof(ch->resume));
	} while (ch->end == STOP_CHUNK_FULL);
	free(ch);
	return rc;
}

static int
checkpoint_single_txn(struct store_txn *t, void *arg)
{
	struct checkpoint_job	*job = arg;
	struct webhook_targets	*tg;
	uint64_t		 covered = 0;
	int			 rc;

	job->n = 0;			/* a retried transaction starts again */
	job->count = 0;
	job->later[0] = '\0';
	if ((rc = webhook_targets_load(t, &tg)) != STORE_OK)
		return rc;
	rc = checkpoint_lock_customer(t, job, tg, job->customer_id, 0,
	    &covered);
	webhook_targets_free(tg);
	return rc;
}

enum checkpoint_result
checkpoint_make(struct store *st, struct checkpoint_job *job)
{
	int	rc;

	job->n = 0;
	job->count = 0;
	rc = job->customer_id != NULL ? store_write(st,
	    checkpoint_single_txn, job) : checkpoint_all(st, job);
	switch (rc) {
	case STORE_OK:
		return CHECKPOINT_OK;
	case STORE_NOTFOUND:
		return CHECKPOINT_NO_DELTAS;
	case STOP_LATER:
		return CHECKPOINT_LATER;
	case STOP_NO_HEAD:
		return CHECKPOINT_NO_HEAD;
	case STOP_NO_SIGNER:
		return CHECKPOINT_NO_SIGNER;
	default:
		return CHECKPOINT_FAILED;
	}
}

struct checkpoint_lookup {
	const char		*id;
	struct store_checkpoint	*cp;
};

static int
checkpoint_get_txn(struct store_txn *t, void *arg)
{
	struct checkpoint_lookup	*lk = arg;

	return store_checkpoint_get(t, lk->id, lk->cp);
}

enum checkpoint_result
checkpoint_get(struct store *st, const char *tenant, enum store_env env,
    const char *id, struct store_checkpoint *cp)
{
	struct checkpoint_lookup	lk = { id, cp };

	switch (store_read(st, checkpoint_get_txn, &lk)) {
	case STORE_OK:
		return strcmp(cp->tenant, tenant) == 0 && cp->env == env ?
		    CHECKPOINT_OK : CHECKPOINT_NOT_FOUND;
	case STORE_NOTFOUND:
		return CHECKPOINT_NOT_FOUND;
	default:
		return CHECKPOINT_FAILED;
	}
}
