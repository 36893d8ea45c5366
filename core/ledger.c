#include <sys/prctl.h>

#include <pthread.h>
#include <stdio.h>
#include <time.h>
#include <stdlib.h>
#include <string.h>

#include "../common/log.h"
#include "../common/sbuf.h"
#include "../common/timefmt.h"
#include "../crypto/hash.h"
#include "../crypto/merkle.h"
#include "ledger.h"
#include "metrics.h"
#include "webhook.h"

/* Bounds on one group commit: enough to share a flush widely. */
#define GROUP_REQUESTS	512
#define GROUP_ITEMS	8192

struct ledger {
	struct store		*st;
	pthread_t		 writer, flusher;
	pthread_mutex_t		 lock;
	pthread_cond_t		 work;		/* the queue is not empty */
	pthread_cond_t		 flush;		/* written is not empty */
	struct ledger_request	*head, *tail;	/* submitted */
	struct ledger_request	*written, *written_tail; /* to flush */
	int			 stop;
	int			 writer_done;
};

/* Dedup keys: 'K' for Idempotency-Key, 'R' for a customer's referenceId. */
static size_t
ledger_key(char *buf, size_t size, char kind, const char *tenant,
    enum store_env env, const char *customer, const char *value)
{
	struct sbuf	sb = { 0 };
	size_t		len;

	sbuf_addc(&sb, kind);
	sbuf_add(&sb, "", 1);
	sbuf_add(&sb, tenant, strlen(tenant) + 1);
	sbuf_addc(&sb, (char)('0' + env));
	sbuf_add(&sb, "", 1);
	if (customer != NULL)
		sbuf_add(&sb, customer, strlen(customer) + 1);
	sbuf_adds(&sb, value);
	len = sb.oom || sb.len > size ? 0 : sb.len;
	if (len > 0)
		memcpy(buf, sb.buf, len);
	sbuf_free(&sb);
	return len;
}

#define KEY_MAX	(2 * STORE_REFERENCE_MAX + STORE_TENANT_MAX + 16)

/*
 * One dedup key of a request (SPEC 3.1), looked up: free, bound to the
 * same request (same fingerprint), or bound to another one.
 */
enum ledger_bound {
	LEDGER_FREE,
	LEDGER_SAME,
	LEDGER_OTHER
};

struct ledger_dedup {
	const char		*field;		/* which key, as the API says */
	char			 key[KEY_MAX];
	size_t			 klen;		/* 0: the request has none */
	enum ledger_bound	 bound;
	struct store_idem	 idem;		/* when bound; caller frees */
};

/*
 * The log's size as a group's transaction knows it, read once per group
 * rather than by a cursor per delta.  Once read, the group holds the lock
 * on the log's last page, so no other writer can append behind it, and
 * every append is the group's own: each one counts.  A request undone
 * takes its appends with it, and the lock too if it read the size first:
 * the size is then read again (ledger_group_run).
 */
struct ledger_log {
	uint64_t	size;
	int		known;
};

struct ledger_rec {
	const struct principal	*who;
	struct ledger_item	*item;
	const struct ledger_dedup *ref;		/* its referenceId's key */
	struct ledger_request	*answer;	/* a single emit, to answer */
	struct ledger_log	*log;
};

/* One request of a group and what the group knows of the log. */
struct ledger_run {
	struct ledger_request	*req;
	struct ledger_log	*log;
};

int
ledger_reference_owner(struct store_txn *t, const char *tenant,
    enum store_env env, const char *customer_id, const char *reference_id,
    char record_id[STORE_ID_MAX + 1])
{
	struct store_idem	idem;
	char			key[KEY_MAX];
	size_t			klen;
	int			r;

	klen = ledger_key(key, sizeof(key), 'R', tenant, env, customer_id,
	    reference_id);
	if (klen == 0)
		return STORE_NOTFOUND;
	if ((r = store_idem_get(t, key, klen, &idem)) != STORE_OK)
		return r;
	snprintf(record_id, STORE_ID_MAX + 1, "%s", idem.record_id);
	store_idem_free(&idem);
	return STORE_OK;
}

/* The delta recordId names; *d is the caller's to free on STORE_OK. */
static int
ledger_delta_by_id(struct store_txn *t, const char *record_id,
    struct store_delta *d)
{
	uint64_t	index;
	int		r;

	if ((r = store_delta_find(t, record_id, &index)) != STORE_OK)
		return r;
	return store_delta_get(t, index, d);
}

/* Finds what an "adjusts" names; it must be a delta of this customer. */
static int
ledger_adjusts(struct store_txn *t, struct ledger_rec *rec, char *record_id)
{
	const struct emit_input	*in = &rec->item->in;
	struct store_delta	 d;
	int			 r;

	if (in->adjusts == EMIT_ADJUSTS_REFERENCE)
		return ledger_reference_owner(t, rec->who->tenant,
		    rec->who->env, in->customer_id, in->adjusts_id, record_id);
	if (strlen(in->adjusts_id) > STORE_ID_MAX)
		return STORE_NOTFOUND;
	if ((r = ledger_delta_by_id(t, in->adjusts_id, &d)) != STORE_OK)
		return r;
	r = strcmp(d.tenant, rec->who->tenant) == 0 && d.env == rec->who->env &&
	    strcmp(d.customer_id, in->customer_id) == 0 ? STORE_OK :
	    STORE_NOTFOUND;
	store_delta_free(&d);
	if (r == STORE_OK)
		memcpy(record_id, in->adjusts_id, strlen(in->adjusts_id) + 1);
	return r;
}

static void
ledger_fill(struct store_delta *d, const struct principal *who,
    const struct emit_input *in)
{
	memset(d, 0, sizeof(*d));
	snprintf(d->record_id, sizeof(d->record_id), "%s", in->record_id);
	snprintf(d->receipt_id, sizeof(d->receipt_id), "%s", in->receipt_id);
	snprintf(d->tenant, sizeof(d->tenant), "%s", who->tenant);
	d->env = who->env;
	snprintf(d->customer_id, sizeof(d->customer_id), "%s",
	    in->customer_id);
	snprintf(d->delta, sizeof(d->delta), "%s", in->delta);
	snprintf(d->reason, sizeof(d->reason), "%s", in->reason);
	d->has_reference = in->has_reference;
	snprintf(d->reference_id, sizeof(d->reference_id), "%s",
	    in->has_reference ? in->reference_id : "");
	d->metadata = in->metadata;		/* borrowed */
	memcpy(d->salt, in->salt, sizeof(d->salt));
	d->status = STORE_DELTA_QUEUED;
}

/* Computes the leaf (SPEC 4.2) and its two hashes into d. */
static int
ledger_leaf(struct store_delta *d, struct sbuf *leaf)
{
	if (emit_leaf(d, leaf) < 0 || hash_sha256(leaf->buf, leaf->len,
	    d->content_hash) < 0)
		return STORE_NOMEM;
	/* leafHash = SHA256(0x00 || leafData), RFC 9162 section 2.1.1. */
	if (merkle_leaf_hash(leaf->buf, leaf->len, d->leaf_hash) < 0)
		return STORE_NOMEM;
	d->leaf_data = leaf->buf;
	d->leaf_len = leaf->len;
	return STORE_OK;
}

/*
 * The slot of a customer's next delta: its index, the log's size as the
 * group knows it, and the customer's totals (zero for a new one).
 */
static int
ledger_slot(struct store_txn *t, const struct ledger_rec *rec,
    struct store_slot *slot)
{
	int	r;

	if (!rec->log->known) {
		if ((r = store_log_size(t, &rec->log->size)) != STORE_OK)
			return r;
		rec->log->known = 1;
	}
	return store_delta_slot_at(t, rec->who->tenant, rec->who->env,
	    rec->item->in.customer_id, rec->log->size, slot);
}

/*
 * Why recording an item stops short, which ends the request's nested
 * transaction: the item refused (its outcome says why), or the whole
 * request over quota.
 */
enum ledger_stop {
	LEDGER_STOP_REFUSED = STORE_USER + 1,
	LEDGER_STOP_QUOTA,
	LEDGER_STOP_NEST	/* the group: run it again, nested (below) */
};

/*
 * The status an idempotency record naming its delta, with no body, has
 * always been written with: that of the answer first sent.  Existing
 * data directories hold it; a replay renders the answer anew from the
 * delta (req->answer), so the ledger only ever writes it.
 */
#define LEDGER_IDEM_DELTA	201

/* The time of the customer's last delta that is not a correction, or -1. */
static int
ledger_last_regular(struct store_txn *t, const struct principal *who,
    const char *customer, uint64_t seq, int64_t *when)
{
	struct store_custpos	p;
	struct store_delta	d;
	int			r, correction;

	for (*when = -1; seq > 0; seq--) {
		if ((r = store_custpos_get(t, who->tenant, who->env, customer,
		    seq, &p)) != STORE_OK ||
		    (r = store_delta_get(t, p.log_index, &d)) != STORE_OK)
			return r;
		correction = d.adjusts[0] != '\0';
		store_delta_free(&d);
		if (!correction) {
			*when = p.created_ms;
			break;
		}
	}
	return STORE_OK;
}

/*
 * LEDGER_STOP_REFUSED, the item LEDGER_CADENCE, if the customer's cadence
 * does not allow another delta yet.  Corrections are exempt and do not move the
 * window: they fix a delta, they are not the next one.
 */
static int
ledger_cadence(struct store_txn *t, const struct principal *who,
    struct ledger_item *it, uint64_t last_seq, int64_t now)
{
	uint64_t	interval;
	int64_t		last;
	int		r, own;

	if (it->in.adjusts != EMIT_ADJUSTS_NONE)
		return STORE_OK;
	if ((r = store_cadence_get(t, who->tenant, who->env,
	    it->in.customer_id, &interval, &own)) != STORE_OK ||
	    interval == 0 ||
	    (r = ledger_last_regular(t, who, it->in.customer_id, last_seq,
	    &last)) != STORE_OK || last < 0 || now - last >= (int64_t)interval)
		return r;
	it->outcome = LEDGER_CADENCE;
	it->err.field = NULL;
	it->retry_after = (last + (int64_t)interval - now + 999) / 1000;
	snprintf(it->err.message, sizeof(it->err.message), "this customer's "
	    "cadence is one delta per %llu s: the next is allowed in %lld s",
	    (unsigned long long)(interval / 1000), it->retry_after);
	return LEDGER_STOP_REFUSED;
}

/* LEDGER_STOP_QUOTA if one more delta this month exceeds the quota. */
static int
ledger_quota(struct store_txn *t, const struct principal *who, int64_t now)
{
	uint64_t	limit, used;
	int		r;

	r = store_quota_get(t, who->tenant, who->env, &limit);
	if (r == STORE_NOTFOUND)
		return STORE_OK;
	if (r != STORE_OK || (r = store_usage_get(t, who->tenant, who->env,
	    timefmt_month(now), &used)) != STORE_OK)
		return r;
	return used < limit ? STORE_OK : LEDGER_STOP_QUOTA;
}

/*
 * The idempotency record of a delta: no body, only the recordId.  The
 * answer is the delta's as first sent, rendered again from the stored
 * delta on a replay (ledger_replay_body), which keeps the record small.
 */
static void
ledger_idem_created(struct store_idem *idem, const uint8_t *fingerprint,
    const char *record_id)
{
	memset(idem, 0, sizeof(*idem));
	memcpy(idem->fingerprint, fingerprint, STORE_HASH_LEN);
	idem->status = LEDGER_IDEM_DELTA;
	snprintf(idem->record_id, sizeof(idem->record_id), "%s", record_id);
}

/* Binds a free dedup key to the delta that answers its request. */
static int
ledger_dedup_bind(struct store_txn *t, const struct ledger_dedup *dk,
    const uint8_t *fingerprint, const char *record_id)
{
	struct store_idem	idem;

	ledger_idem_created(&idem, fingerprint, record_id);
	return store_idem_add(t, dk->key, dk->klen, &idem);
}

/*
 * Has the caller render req's answer: d's, or a batch's (d NULL).  No
 * answer wanted leaves none.
 */
static int
ledger_answer(struct ledger_request *req, const struct store_delta *d)
{
	free(req->body);
	req->body = NULL;
	req->body_len = 0;
	if (req->answer == NULL)
		return STORE_OK;
	return req->answer(req, d) < 0 ? STORE_NOMEM : STORE_OK;
}

/*
 * Records one delta.  Every rejection (LEDGER_STOP_*) comes
 * before its first write, so a rejected item leaves nothing to undo and
 * needs no nested transaction of its own; an error fails the request,
 * whose transaction is undone whole.
 */
static int
ledger_record(struct store_txn *t, struct ledger_rec *rec)
{
	struct ledger_item	*it = rec->item;
	const struct emit_input	*in = &it->in;
	struct store_slot	 slot;
	struct store_delta	 d;
	struct sbuf		 leaf = { 0 };
	int			 r;

	ledger_fill(&d, rec->who, in);
	if (in->adjusts != EMIT_ADJUSTS_NONE) {
		r = ledger_adjusts(t, rec, d.adjusts);
		if (r == STORE_NOTFOUND) {
			it->outcome = LEDGER_INVALID;
			it->err.field = "adjusts";
			snprintf(it->err.message, sizeof(it->err.message),
			    "adjusts names no delta of customer %s",
			    in->customer_id);
			return LEDGER_STOP_REFUSED;
		} else if (r != STORE_OK)
			return r;
	}
	if ((r = ledger_slot(t, rec, &slot)) != STORE_OK)
		return r;
	d.log_index = slot.log_index;
	d.seq = slot.cust.last_seq + 1;
	/* Never before the customer's last delta, even if the clock is. */
	d.created_ms = timefmt_now_ms();
	if (d.created_ms < slot.cust.last_ms)
		d.created_ms = slot.cust.last_ms;
	if ((r = ledger_cadence(t, rec->who, it, slot.cust.last_seq,
	    d.created_ms)) != STORE_OK ||
	    (r = ledger_quota(t, rec->who, d.created_ms)) != STORE_OK)
		return r;
	if ((r = ledger_leaf(&d, &leaf)) != STORE_OK)
		goto out;
	if ((r = store_delta_append(t, &slot, &d, in->amount)) != STORE_OK)
		goto out;
	rec->log->size++;

	if (rec->answer != NULL &&
	    (r = ledger_answer(rec->answer, &d)) != STORE_OK)
		goto out;
	/*
	 * The referenceId was found free in this transaction: it names this
	 * delta from now on, whatever else the request carried.
	 */
	if (rec->ref->klen > 0 && (r = ledger_dedup_bind(t, rec->ref,
	    in->fingerprint, d.record_id)) != STORE_OK)
		goto out;
	it->outcome = LEDGER_RECORDED;
	snprintf(it->record_id, sizeof(it->record_id), "%s", d.record_id);
	snprintf(it->receipt_id, sizeof(it->receipt_id), "%s", d.receipt_id);
	it->status = d.status;
out:
	sbuf_free(&leaf);
	return r;
}

/* The current status of an earlier delta, for a batch's duplicates. */
static int
ledger_original(struct store_txn *t, struct ledger_item *it,
    const char *record_id)
{
	struct store_delta	d;
	int			r;

	if ((r = ledger_delta_by_id(t, record_id, &d)) != STORE_OK)
		return r;
	snprintf(it->record_id, sizeof(it->record_id), "%s", d.record_id);
	snprintf(it->receipt_id, sizeof(it->receipt_id), "%s", d.receipt_id);
	it->status = d.status;
	store_delta_free(&d);
	return STORE_OK;
}

/*
 * Looks dk's key up for a request of that fingerprint.  On STORE_OK,
 * dk->bound says what it found and dk->idem holds the binding.
 */
static int
ledger_dedup_find(struct store_txn *t, struct ledger_dedup *dk,
    const uint8_t *fingerprint)
{
	int	r;

	dk->bound = LEDGER_FREE;
	if (dk->klen == 0)
		return STORE_CORRUPT;
	r = store_idem_get(t, dk->key, dk->klen, &dk->idem);
	if (r == STORE_NOTFOUND)
		return STORE_OK;
	if (r != STORE_OK)
		return r;
	dk->bound = hash_equal(dk->idem.fingerprint, fingerprint,
	    STORE_HASH_LEN) ? LEDGER_SAME : LEDGER_OTHER;
	return STORE_OK;
}

/* The request's Idempotency-Key (tenant + env), looked up. */
static int
ledger_dedup_header(struct store_txn *t, const struct ledger_request *req,
    const uint8_t *fingerprint, struct ledger_dedup *dk)
{
	dk->field = "Idempotency-Key";
	dk->klen = ledger_key(dk->key, sizeof(dk->key), 'K', req->who->tenant,
	    req->who->env, NULL, req->idem_key);
	return ledger_dedup_find(t, dk, fingerprint);
}

/*
 * The item's referenceId (tenant + env + customer), looked up.  Only a
 * delta recorded binds a referenceId (ledger_record), in the transaction
 * that makes its customer: a customer not yet recorded has none bound,
 * and its first delta skips the search of the dedup records, a page
 * rarely in the cache.  The customer's record, read here, is read again
 * by ledger_slot from the group's cache.
 */
static int
ledger_dedup_reference(struct store_txn *t, const struct principal *who,
    const struct ledger_item *it, struct ledger_dedup *dk)
{
	struct store_customer	c;
	int			r;

	dk->field = "referenceId";
	dk->klen = ledger_key(dk->key, sizeof(dk->key), 'R', who->tenant,
	    who->env, it->in.customer_id, it->in.reference_id);
	dk->bound = LEDGER_FREE;
	r = store_customer_get(t, who->tenant, who->env, it->in.customer_id,
	    &c);
	if (r == STORE_NOTFOUND && dk->klen > 0)
		return STORE_OK;
	if (r != STORE_OK && r != STORE_NOTFOUND)
		return r;
	return ledger_dedup_find(t, dk, it->in.fingerprint);
}

/*
 * A batch item whose referenceId names another delta: refused, naming
 * that delta as the original.  Its own ids stay empty: nothing of it
 * was recorded.
 */
static void
ledger_item_conflict(struct ledger_item *it, const char *original)
{
	it->outcome = LEDGER_CONFLICT;
	it->err.field = "referenceId";
	snprintf(it->conflict_record, sizeof(it->conflict_record), "%s",
	    original);
	snprintf(it->err.message, sizeof(it->err.message), "referenceId "
	    "already used by %s with different content", original);
}

/*
 * The answer of a compact idempotency record: the stored delta, which
 * never changes (its status there stays QUEUED: heads that cover it are
 * looked up apart), renders byte for byte as it was first answered.
 */
static int
ledger_replay_body(struct store_txn *t, struct ledger_request *req,
    const char *record_id)
{
	struct store_delta	d;
	int			r;

	if ((r = ledger_delta_by_id(t, record_id, &d)) != STORE_OK)
		return r == STORE_NOTFOUND ? STORE_CORRUPT : r;
	r = ledger_answer(req, &d);
	store_delta_free(&d);
	return r;
}

/*
 * Answers a request from the binding of dk: the original answer again,
 * or (conflict) the original delta named.
 */
static int
ledger_answer_idem(struct store_txn *t, struct ledger_request *req,
    struct ledger_dedup *dk, int conflict)
{
	if (conflict) {
		req->outcome = LEDGER_CONFLICT;
		req->conflict_field = dk->field;
		snprintf(req->conflict_record, sizeof(req->conflict_record),
		    "%s", dk->idem.record_id);
		return STORE_OK;
	}
	req->outcome = LEDGER_REPLAYED;
	if (dk->idem.body_len == 0)
		return ledger_replay_body(t, req, dk->idem.record_id);
	req->status = dk->idem.status;
	req->body = dk->idem.body;
	req->body_len = dk->idem.body_len;
	dk->idem.body = NULL;
	return STORE_OK;
}

/* One batch item: dedup by referenceId, else record it. */
static int
ledger_batch_item(struct store_txn *t, const struct principal *who,
    struct ledger_item *it, struct ledger_log *log)
{
	struct ledger_dedup	rk;
	struct ledger_rec	rec = { who, it, &rk, NULL, log };
	int			r = STORE_OK;

	if (!it->valid) {
		it->outcome = LEDGER_INVALID;
		return STORE_OK;
	}
	memset(&rk, 0, sizeof(rk));
	if (it->in.has_reference &&
	    (r = ledger_dedup_reference(t, who, it, &rk)) != STORE_OK)
		goto out;
	if (rk.bound == LEDGER_SAME) {
		it->outcome = LEDGER_REPLAYED;
		r = ledger_original(t, it, rk.idem.record_id);
	} else if (rk.bound == LEDGER_OTHER)
		ledger_item_conflict(it, rk.idem.record_id);
	else if ((r = ledger_record(t, &rec)) == LEDGER_STOP_REFUSED)
		r = STORE_OK;		/* the item's outcome says why */
out:
	store_idem_free(&rk.idem);
	return r;
}

/* delta.failed for each item refused, in the batch's own transaction. */
static int
ledger_batch_events(struct store_txn *t, const struct ledger_request *req)
{
	struct webhook_targets	 *tg = NULL;
	struct webhook_failure	  f;
	const struct ledger_item *it;
	size_t			  i;
	int			  rc = STORE_OK;

	for (i = 0; i < req->nitems && rc == STORE_OK; i++) {
		it = &req->items[i];
		if (it->outcome == LEDGER_RECORDED ||
		    it->outcome == LEDGER_REPLAYED)
			continue;
		if (tg == NULL &&
		    (rc = webhook_targets_load(t, &tg)) != STORE_OK)
			break;
		f.tenant = req->who->tenant;
		f.env = req->who->env;
		f.index = i;
		f.item = it;
		rc = webhook_delta_failed(t, tg, &f);
	}
	webhook_targets_free(tg);
	return rc;
}

/*
 * Which binding answers a single emit, from what its two keys say (SPEC
 * 3.1): NULL for a new request, else the key whose binding answers, with
 * *conflict set when the answer is a conflict naming that binding's delta.
 */
static struct ledger_dedup *
ledger_single_match(struct ledger_dedup *hk, struct ledger_dedup *rk,
    int *conflict)
{
	*conflict = 1;
	if (hk->bound == LEDGER_OTHER)
		return hk;
	if (rk->bound == LEDGER_OTHER)
		return rk;
	/*
	 * Both bound to this request, but to two deltas: only data recorded
	 * before both keys were always checked holds that (a retry with a
	 * header of a delta first sent without it).  Answering either would
	 * hide the other; the referenceId names one delta forever, so that
	 * is the original the conflict names.
	 */
	if (hk->bound == LEDGER_SAME && rk->bound == LEDGER_SAME &&
	    strcmp(hk->idem.record_id, rk->idem.record_id) != 0)
		return rk;
	*conflict = 0;
	if (hk->bound == LEDGER_SAME)
		return hk;
	return rk->bound == LEDGER_SAME ? rk : NULL;
}

/* A new single emit: records it and binds both its keys to it. */
static int
ledger_single_record(struct store_txn *t, struct ledger_request *req,
    const struct ledger_dedup *hk, const struct ledger_dedup *rk,
    struct ledger_log *log)
{
	struct ledger_item	*it = &req->items[0];
	struct ledger_rec	 rec = { req->who, it, rk, req, log };
	int			 r;

	r = ledger_record(t, &rec);
	if (r == LEDGER_STOP_REFUSED) {
		req->outcome = it->outcome;
		return STORE_OK;
	}
	if (r == STORE_OK && hk->klen > 0)
		r = ledger_dedup_bind(t, hk, it->in.fingerprint,
		    it->record_id);
	if (r == STORE_OK)
		req->outcome = LEDGER_RECORDED;
	return r;
}

/*
 * A single emit: both keys it carries are looked up, whichever it
 * carries, and one answer follows from the two (ledger_single_match).
 * A replay also binds the other key when it is free, to the delta that
 * answered: the key has now been answered with that delta, so a later
 * request under it with another body must be a conflict, not a second
 * delta, and a retry is found by either key alone.
 */
static int
ledger_single(struct store_txn *t, struct ledger_request *req,
    struct ledger_log *log)
{
	struct ledger_item	*it = &req->items[0];
	const uint8_t		*fp = it->in.fingerprint;
	struct ledger_dedup	 hk, rk, *match, *other;
	int			 r = STORE_OK, conflict;

	memset(&hk, 0, sizeof(hk));
	memset(&rk, 0, sizeof(rk));
	if (req->idem_key != NULL &&
	    (r = ledger_dedup_header(t, req, fp, &hk)) != STORE_OK)
		goto out;
	if (it->in.has_reference &&
	    (r = ledger_dedup_reference(t, req->who, it, &rk)) != STORE_OK)
		goto out;
	if ((match = ledger_single_match(&hk, &rk, &conflict)) == NULL) {
		r = ledger_single_record(t, req, &hk, &rk, log);
		goto out;
	}
	other = match == &hk ? &rk : &hk;
	if (!conflict && other->klen > 0 && other->bound == LEDGER_FREE &&
	    (r = ledger_dedup_bind(t, other, fp, match->idem.record_id)) !=
	    STORE_OK)
		goto out;
	r = ledger_answer_idem(t, req, match, conflict);
out:
	store_idem_free(&hk.idem);
	store_idem_free(&rk.idem);
	return r;
}

/*
 * A batch: its Idempotency-Key replays the whole answer, which cannot be
 * rebuilt from one delta and so is kept; else each item on its own.
 */
static int
ledger_batch(struct store_txn *t, struct ledger_request *req,
    struct ledger_log *log)
{
	struct ledger_dedup	hk;
	struct store_idem	idem;
	size_t			i;
	int			r = STORE_OK;

	memset(&hk, 0, sizeof(hk));
	if (req->idem_key != NULL) {
		if (req->answer == NULL)
			return STORE_IO;	/* no answer to keep */
		if ((r = ledger_dedup_header(t, req, req->fingerprint, &hk)) !=
		    STORE_OK)
			goto out;
		/* Bound before batches were fingerprinted by meaning. */
		if (hk.bound == LEDGER_OTHER && hash_equal(hk.idem.fingerprint,
		    req->legacy_fingerprint, STORE_HASH_LEN))
			hk.bound = LEDGER_SAME;
		if (hk.bound != LEDGER_FREE) {
			r = ledger_answer_idem(t, req, &hk,
			    hk.bound == LEDGER_OTHER);
			goto out;
		}
	}
	for (i = 0; i < req->nitems; i++)
		if ((r = ledger_batch_item(t, req->who, &req->items[i],
		    log)) != STORE_OK)
			goto out;
	if ((r = ledger_batch_events(t, req)) != STORE_OK)
		goto out;
	req->outcome = LEDGER_RECORDED;
	if ((r = ledger_answer(req, NULL)) != STORE_OK)
		goto out;
	if (hk.klen > 0) {
		ledger_idem_created(&idem, req->fingerprint,
		    req->items[0].record_id);
		idem.status = req->status;
		idem.body = req->body;
		idem.body_len = req->body_len;
		r = store_idem_add(t, hk.key, hk.klen, &idem);
	}
out:
	store_idem_free(&hk.idem);
	return r;
}

/* Everything one request writes; runs nested in the group's commit. */
static int
ledger_request_run(struct store_txn *t, void *arg)
{
	struct ledger_run	*run = arg;

	return run->req->batch ? ledger_batch(t, run->req, run->log) :
	    ledger_single(t, run->req, run->log);
}

/* Forgets a request's results, for a first run or a retried commit. */
static void
ledger_request_reset(struct ledger_request *req)
{
	size_t	i;

	free(req->body);
	req->body = NULL;
	req->body_len = 0;
	req->status = 0;
	req->outcome = LEDGER_INVALID;
	req->conflict_record[0] = '\0';
	req->conflict_field = NULL;
	for (i = 0; i < req->nitems; i++) {
		req->items[i].outcome = LEDGER_INVALID;
		req->items[i].retry_after = 0;
		req->items[i].record_id[0] = '\0';
		req->items[i].receipt_id[0] = '\0';
		req->items[i].conflict_record[0] = '\0';
		if (req->items[i].valid)
			req->items[i].err.field = NULL;
	}
}

/*
 * A group's requests, and whether each must run in a nested transaction.
 * A batch always does: an item over quota stops it after its earlier
 * items wrote.  A single emit refuses before its first write, so it runs
 * in the group's own transaction, which saves a nested transaction's
 * begin and commit (some 4% of the writer's time per emit).  One that
 * fails cannot be undone alone there: the group stops (LEDGER_STOP_NEST),
 * is undone whole, and runs again with every request nested.
 */
struct ledger_group {
	struct ledger_request	*head;
	int			 nest;		/* every request, as after a failure */
};

static int
ledger_group_run(struct store_txn *t, void *arg)
{
	struct ledger_group	*g = arg;
	struct ledger_log	 log = { 0, 0 };
	struct ledger_run	 run = { NULL, &log };
	struct ledger_request	*req;

	for (req = g->head; req != NULL; req = req->next) {
		ledger_request_reset(req);
		run.req = req;
		if (g->nest || req->batch)
			req->rc = store_nested(t, ledger_request_run, &run);
		else if ((req->rc = ledger_request_run(t, &run)) != STORE_OK &&
		    req->rc != LEDGER_STOP_QUOTA && req->rc != STORE_CONFLICT &&
		    req->rc != STORE_RECOVER)
			return LEDGER_STOP_NEST;
		if (req->rc != STORE_OK) {	/* undone: none of it stands */
			ledger_request_reset(req);
			log.known = 0;
		}
		if (req->rc == LEDGER_STOP_QUOTA) {
			/* Refused whole, like any request that broke a rule. */
			req->rc = STORE_OK;
			req->outcome = LEDGER_QUOTA;
		}
		/* Losing a deadlock or the store fails the whole group. */
		if (req->rc == STORE_CONFLICT || req->rc == STORE_RECOVER)
			return req->rc;
	}
	return STORE_OK;
}

/*
 * Tells each request of a list, detached from the queues, that it is
 * finished.  Called without l->lock: the submitter wakes on its own
 * semaphore and needs no lock to return, so it never waits for the
 * flusher (or the writer) to finish waking the others.  A request is the
 * submitter's again once posted, so next is read before.
 */
static void
ledger_finish(struct ledger_request *list, int rc)
{
	struct ledger_request	*req, *next;

	for (req = list; req != NULL; req = next) {
		next = req->next;
		if (rc != STORE_OK) {
			ledger_request_reset(req);
			req->rc = rc;
		}
		sem_post(&req->done);
	}
}

/*
 * The writer: runs each group's transaction and commits it to the log
 * buffer, then hands the group to the flusher and goes on with the next
 * one while the disk works.  Committing without the flush releases the
 * group's locks at once, so the next group does not wait for the disk.
 */
static void *
ledger_writer(void *arg)
{
	struct ledger		*l = arg;
	struct ledger_group	 g;
	struct ledger_request	*group, *last;
	size_t			 nreq, nitems;
	int			 rc;

	prctl(PR_SET_NAME, "tally-writer");
	pthread_mutex_lock(&l->lock);
	for (;;) {
		while (l->head == NULL && !l->stop)
			pthread_cond_wait(&l->work, &l->lock);
		if (l->head == NULL)
			break;
		/* Take what is waiting, up to the group bounds. */
		group = last = l->head;
		nreq = 1;
		nitems = group->nitems;
		while (last->next != NULL && nreq < GROUP_REQUESTS &&
		    nitems + last->next->nitems <= GROUP_ITEMS) {
			last = last->next;
			nreq++;
			nitems += last->nitems;
		}
		l->head = last->next;
		if (l->head == NULL)
			l->tail = NULL;
		last->next = NULL;
		pthread_mutex_unlock(&l->lock);
		metrics_gauge_add(METRICS_QUEUE_DEPTH, -(int64_t)nreq);
		metrics_observe(METRICS_GROUP_SIZE, (double)nitems);

		g.head = group;
		g.nest = 0;
		rc = store_write_deferred(l->st, ledger_group_run, &g);
		if (rc == LEDGER_STOP_NEST) {
			g.nest = 1;
			rc = store_write_deferred(l->st, ledger_group_run, &g);
		}
		if (rc != STORE_OK)
			log_error("ledger: group of %zu requests failed: %s",
			    nreq, store_strerror(rc));

		if (rc != STORE_OK) {
			/* Nothing was committed: nothing to wait for. */
			ledger_finish(group, rc);
			pthread_mutex_lock(&l->lock);
			continue;
		}
		pthread_mutex_lock(&l->lock);
		if (l->written_tail != NULL)
			l->written_tail->next = group;
		else
			l->written = group;
		l->written_tail = last;
		pthread_cond_signal(&l->flush);
	}
	l->writer_done = 1;
	pthread_cond_signal(&l->flush);
	pthread_mutex_unlock(&l->lock);
	return NULL;
}

/*
 * The flusher: one fsync for every group committed since the last, then
 * the answers.  A failed flush fails its requests even though their
 * commits may reach the disk later: a retry then finds them (by
 * Idempotency-Key or referenceId), which is what an error invites.
 */
static void *
ledger_flusher(void *arg)
{
	struct ledger		*l = arg;
	struct ledger_request	*list;
	struct timespec		 t0, t1;
	int			 rc;

	prctl(PR_SET_NAME, "tally-flusher");
	pthread_mutex_lock(&l->lock);
	for (;;) {
		while (l->written == NULL && !l->writer_done)
			pthread_cond_wait(&l->flush, &l->lock);
		if (l->written == NULL)
			break;
		list = l->written;
		l->written = l->written_tail = NULL;
		pthread_mutex_unlock(&l->lock);

		clock_gettime(CLOCK_MONOTONIC, &t0);
		if ((rc = store_flush(l->st)) != STORE_OK)
			log_error("ledger: log flush failed: %s",
			    store_strerror(rc));
		clock_gettime(CLOCK_MONOTONIC, &t1);
		metrics_observe(METRICS_FLUSH_SECONDS,
		    (double)(t1.tv_sec - t0.tv_sec) +
		    (double)(t1.tv_nsec - t0.tv_nsec) / 1e9);

		ledger_finish(list, rc);
		pthread_mutex_lock(&l->lock);
	}
	pthread_mutex_unlock(&l->lock);
	return NULL;
}

int
ledger_open(struct ledger **out, struct store *st)
{
	struct ledger	*l;

	*out = NULL;
	if ((l = calloc(1, sizeof(*l))) == NULL)
		return STORE_NOMEM;
	l->st = st;
	pthread_mutex_init(&l->lock, NULL);
	pthread_cond_init(&l->work, NULL);
	pthread_cond_init(&l->flush, NULL);
	if (pthread_create(&l->flusher, NULL, ledger_flusher, l) != 0)
		goto err;
	if (pthread_create(&l->writer, NULL, ledger_writer, l) != 0) {
		pthread_mutex_lock(&l->lock);
		l->writer_done = 1;
		pthread_cond_signal(&l->flush);
		pthread_mutex_unlock(&l->lock);
		pthread_join(l->flusher, NULL);
		goto err;
	}
	*out = l;
	return STORE_OK;
err:
	pthread_mutex_destroy(&l->lock);
	pthread_cond_destroy(&l->work);
	pthread_cond_destroy(&l->flush);
	free(l);
	return STORE_NOMEM;
}

void
ledger_close(struct ledger *l)
{
	if (l == NULL)
		return;
	pthread_mutex_lock(&l->lock);
	l->stop = 1;
	pthread_cond_signal(&l->work);
	pthread_mutex_unlock(&l->lock);
	pthread_join(l->writer, NULL);
	pthread_join(l->flusher, NULL);
	pthread_mutex_destroy(&l->lock);
	pthread_cond_destroy(&l->work);
	pthread_cond_destroy(&l->flush);
	free(l);
}

/*
 * Each submitter waits on a semaphore of its own, so that a commit wakes
 * exactly the requests it finished, not also those queued behind them
 * only to find theirs not done, and wakes them without l->lock: each
 * needless wake-up, or wait for the lock on waking, is two context
 * switches, the largest cost of a request in a VM.
 */
int
ledger_submit(struct ledger *l, struct ledger_request *req)
{
	size_t	i;

	if (sem_init(&req->done, 0, 0) != 0)
		return STORE_IO;
	req->next = NULL;
	req->rc = STORE_IO;
	metrics_gauge_add(METRICS_QUEUE_DEPTH, 1);
	pthread_mutex_lock(&l->lock);
	if (l->tail != NULL)
		l->tail->next = req;
	else
		l->head = req;
	l->tail = req;
	pthread_mutex_unlock(&l->lock);
	pthread_cond_signal(&l->work);
	while (sem_wait(&req->done) != 0)
		;		/* EINTR: a signal, not the answer */
	sem_destroy(&req->done);
	for (i = 0; req->rc == STORE_OK && i < req->nitems; i++)
		if (req->items[i].outcome == LEDGER_CADENCE)
			metrics_count(METRICS_CADENCE_REFUSED, 1);
	return req->rc;
}

void
ledger_request_free(struct ledger_request *req)
{
	free(req->body);
	req->body = NULL;
}
