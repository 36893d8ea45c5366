/*
 * Checkpoints and receipts (SPEC 3.6-3.8): locking a month, reading
 * checkpoints, the receipt bundle a customer verifies offline, the
 * invoice proof, and the public verify endpoint.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <json-c/json.h>

#include "../common/hex.h"
#include "../common/jcs.h"
#include "../common/log.h"
#include "../common/sbuf.h"
#include "../core/balance.h"
#include "../core/checkpoint.h"
#include "../core/ids.h"
#include "../core/tlog.h"
#include "../core/view.h"
#include "../crypto/hash.h"
#include "../crypto/sigkey.h"
#include "api.h"

#define LIST_LIMIT_MAX		1000
#define LIST_LIMIT_DEFAULT	100
#define RECEIPT_DELTAS_MAX	100000
#define COVER_WAIT_MS		2000	/* for a head over recent deltas */

/* The UTC month a scope names; -1 after answering 400. */
static int
api_month(struct ctx *c, const struct balance_scope *s, int *month)
{
	int	now = timefmt_month(timefmt_now_ms());

	switch (s->kind) {
	case BALANCE_ALL:
		*month = now;
		break;
	case BALANCE_PERIOD:
	case BALANCE_CURRENT_MONTH:
		*month = s->month;
		break;
	case BALANCE_CUSTOM:
		*month = timefmt_month(s->start_ms);
		if (s->start_ms == timefmt_month_start(*month) &&
		    s->end_ms == timefmt_month_start(*month + 1))
			break;
		/* FALLTHROUGH */
	default:
		response_error(c->resp, API_VALIDATION_ERROR, "period", NULL,
		    "a checkpoint locks one UTC month: give period=YYYY-MM, "
		    "or startDate and endDate at its bounds");
		return -1;
	}
	if (*month > now) {
		response_error(c->resp, API_VALIDATION_ERROR, "period", NULL,
		    "period is in the future");
		return -1;
	}
	return 0;
}

static int
api_sign(void *arg, const void *msg, size_t len, uint8_t *sig, size_t *siglen,
    char key_id[STORE_KEYID_MAX + 1], char alg[STORE_ALG_MAX + 1])
{
	struct integrator	*ig = arg;

	return ig == NULL ? -1 : integrator_sign_statement(ig, msg, len, sig,
	    siglen, key_id, alg);
}

static void
api_checkpoint_failed(struct ctx *c, const struct checkpoint_job *job,
    enum checkpoint_result res)
{
	switch (res) {
	case CHECKPOINT_NO_DELTAS:
		response_error(c->resp, API_CUSTOMER_NOT_FOUND, "customerId",
		    NULL, "no deltas recorded for customer %s",
		    job->customer_id);
		break;
	case CHECKPOINT_LATER:
		response_error(c->resp, API_VALIDATION_ERROR, "period", NULL,
		    "customer %s has a checkpoint of a later period; periods "
		    "are locked in order", job->later);
		break;
	default:
		api_unavailable(c);
	}
}

/*
 * Checkpoint-all answers at most this many checkpoints, by customerId:
 * 1,000 of them are ~3 MB of JSON, and a million would not fit in
 * memory.  Past them "next" names the last listed customer, and the same
 * request with "after" set to it pages on (SPEC 3.6, README).
 */
#define CHECKPOINT_PAGE		1000

/* The optional customer id field name of the body; -1 after a 400. */
static int
api_body_customer(struct ctx *c, const char *name, const char **out)
{
	struct json_object	*id;

	if (!json_object_object_get_ex(c->body, name, &id) || id == NULL)
		return 0;
	if (!json_object_is_type(id, json_type_string) ||
	    !ids_customer_valid(json_object_get_string(id))) {
		response_error(c->resp, API_VALIDATION_ERROR, name, NULL,
		    "%s must be 1 to 128 of A-Z a-z 0-9 _ . : -", name);
		return -1;
	}
	*out = json_object_get_string(id);
	return 0;
}

void
api_checkpoint_create(struct ctx *c)
{
	struct checkpoint_job	 job;
	struct balance_scope	 scope;
	struct json_object	*data, *list;
	size_t			 i;
	enum checkpoint_result	 res;

	if (!api_vendor_only(c))
		return;
	memset(&job, 0, sizeof(job));
	job.tenant = c->who.tenant;
	job.env = c->who.env;
	job.sign = api_sign;
	job.sign_arg = c->app->integrator;
	job.keep = CHECKPOINT_PAGE;
	if (api_body_customer(c, "customerId", &job.customer_id) < 0 ||
	    api_body_customer(c, "after", &job.after) < 0)
		return;
	if (job.customer_id != NULL && job.after != NULL) {
		response_error(c->resp, API_INVALID_SCOPE_COMBINATION, "after",
		    NULL, "after pages checkpoint-all: it combines with no "
		    "customerId");
		return;
	}
	/* A later page only reads on from where the first call locked. */
	job.page = job.after != NULL;
	if (api_scope(c, api_body_field, &scope) < 0 ||
	    api_month(c, &scope, &job.month) < 0)
		return;
	/* A checkpoint made right after emits includes them. */
	(void)integrator_wait_covered(c->app->integrator, COVER_WAIT_MS);
	if ((res = checkpoint_make(c->app->store, &job)) != CHECKPOINT_OK) {
		api_checkpoint_failed(c, &job, res);
		goto out;
	}
	if (job.customer_id != NULL) {
		response_success(c->resp, 201, view_checkpoint(&job.list[0]));
		goto out;
	}
	list = json_object_new_array();
	for (i = 0; i < job.n; i++)
		json_object_array_add(list, view_checkpoint(&job.list[i]));
	data = json_object_new_object();
	json_object_object_add(data, "checkpoints", list);
	/* A page's count is its own: the rest was not walked. */
	json_object_object_add(data, "count",
	    json_object_new_uint64(job.page ? job.n : job.count));
	json_object_object_add(data, "next", job.count > job.n ?
	    json_object_new_string(job.list[job.n - 1].customer_id) : NULL);
	response_success(c->resp, 201, data);
out:
	checkpoint_job_free(&job);
}

/* A checkpoint of this key's tenant+env that this key may read. */
static int
api_checkpoint_visible(struct ctx *c, const struct store_checkpoint *cp)
{
	return strcmp(cp->tenant, c->who.tenant) == 0 &&
	    cp->env == c->who.env;
}

struct api_checkpoint_listing {
	struct ctx		*c;
	const char		*customer;	/* NULL: the whole tenant */
	int			 month;		/* -1: any */
	struct api_page		 page;
};

static int
api_listed(const struct store_checkpoint *cp, void *arg)
{
	struct api_checkpoint_listing *l = arg;

	if ((l->month < 0 || cp->month == l->month) &&
	    api_page_wants(&l->page))
		json_object_array_add(l->page.list, view_checkpoint(cp));
	return STORE_OK;
}

static int
api_list_txn(struct store_txn *t, void *arg)
{
	struct api_checkpoint_listing *l = arg;
	int		 rc;

	if ((rc = api_page_start(&l->page)) != STORE_OK)
		return rc;
	return store_checkpoint_each(t, l->c->who.tenant, l->c->who.env,
	    l->customer, api_listed, l);
}

void
api_checkpoints(struct ctx *c)
{
	struct api_checkpoint_listing l;
	char			 customer[STORE_CUSTOMER_MAX + 1];
	int			 rc;

	memset(&l, 0, sizeof(l));
	l.c = c;
	rc = api_query_field(c, "customerId", customer, sizeof(customer));
	if (rc > 0)
		l.customer = customer;
	else if (c->who.kind == STORE_KEY_CUSTOMER)
		l.customer = c->who.customer_id;	/* only its own */
	if (rc < 0 || (l.customer != NULL &&
	    !api_customer_access(c, l.customer)) ||
	    api_query_period(c, &l.month) < 0 ||
	    api_page_query(c, &l.page, LIST_LIMIT_DEFAULT, LIST_LIMIT_MAX) < 0) {
		if (rc < 0)
			response_error(c->resp, API_VALIDATION_ERROR,
			    "customerId", NULL, "customerId is too long");
		return;
	}
	if (store_read(c->app->store, api_list_txn, &l) != STORE_OK) {
		json_object_put(l.page.list);
		api_unavailable(c);
		return;
	}
	api_page_answer(c, &l.page, "checkpoints");
}

struct lookup {
	const char		*id;
	struct store_checkpoint	 cp;
};

static int
api_lookup_txn(struct store_txn *t, void *arg)
{
	struct lookup	*lk = arg;

	return store_checkpoint_get(t, lk->id, &lk->cp);
}

void
api_checkpoint_get(struct ctx *c)
{
	struct lookup	*lk;
	int		 rc;

	if ((lk = calloc(1, sizeof(*lk))) == NULL) {
		api_unavailable(c);
		return;
	}
	lk->id = c->match.params[0];
	rc = store_read(c->app->store, api_lookup_txn, lk);
	if (rc == STORE_NOTFOUND || (rc == STORE_OK &&
	    !api_checkpoint_visible(c, &lk->cp)))
		response_error(c->resp, API_CHECKPOINT_NOT_FOUND,
		    "checkpointId", NULL, "no checkpoint %.64s", lk->id);
	else if (rc != STORE_OK)
		api_unavailable(c);
	else if (api_customer_access(c, lk->cp.customer_id))
		response_success(c->resp, 200, view_checkpoint(&lk->cp));
	free(lk);
}

/*
 * A receipt bundle is streamed (SPEC 3.7): the envelope's head, then each
 * delta's JSON as it is read, then the tail, so that tallyd holds one
 * chunk of rendered deltas at a time (RECEIPT_CHUNK), whatever the
 * number of deltas.
 *
 * Consistency.  It is read in short read transactions, not one: the head
 * (the checkpoint, the signed head at its treeSize, the keys), then one
 * per chunk of deltas.  One transaction over the whole stream would not
 * hold up writers (reads are read-committed: no lock is kept between two
 * reads), but it would stay open for as long as a slow client takes to
 * drain the answer, and a deadlock retry restarts its callback, which
 * would send bytes twice.  A chunk is written out only once its
 * transaction ended, so a retried chunk sends nothing twice.  And the
 * chunks are one snapshot by construction: once written, a checkpoint's
 * run firstSequence..lastSequence and its treeSize never change, nor do
 * a customer's sequence number -> logIndex, a committed delta, the
 * signed head at treeSize, or any tree node below treeSize; writes made
 * meanwhile land beyond all of them.  Only the keys grow (a rotation):
 * they are read once, with the checkpoint.
 */
#define RECEIPT_CHUNK		(32 * 1024)	/* bytes of deltas per read */

struct api_checkpoint_receipt {
	struct ctx		*c;
	const char		*customer;
	int			 month;		/* -1: the newest */
	char			 id[STORE_ID_MAX + 1];	/* "": by month */
	struct store_checkpoint	 cp;
	struct store_sth	 head;
	struct json_object	*keys;		/* GET /keys' data.keys */
	uint64_t		 next, end;	/* the chunk's sequence numbers */
	struct sbuf		 chunk;		/* its deltas' JSON text */
};

/* The checkpoint a receipt or invoice proof is about. */
static int
api_receipt_checkpoint(struct store_txn *t, struct api_checkpoint_receipt *r)
{
	int	rc;

	if (r->id[0] != '\0') {
		rc = store_checkpoint_get(t, r->id, &r->cp);
		/* Another customer's is as unknown as none. */
		if (rc == STORE_OK && (strcmp(r->cp.tenant,
		    r->c->who.tenant) != 0 || r->cp.env != r->c->who.env ||
		    strcmp(r->cp.customer_id, r->customer) != 0))
			rc = STORE_NOTFOUND;
		return rc;
	}
	rc = store_checkpoint_latest(t, r->c->who.tenant, r->c->who.env,
	    r->customer, r->month < 0 ? INT_MAX : r->month, &r->cp);
	if (rc == STORE_OK && r->month >= 0 && r->cp.month != r->month)
		rc = STORE_NOTFOUND;
	return rc;
}

static struct json_object *
api_receipt_delta(struct store_txn *t, const struct api_checkpoint_receipt *r,
    const struct store_delta *d, int *rc)
{
	struct json_object	*o;
	merkle_hash		 proof[MERKLE_PROOF_MAX];
	size_t			 len;

	if (merkle_inclusion_proof(tlog_node, t, d->log_index,
	    r->cp.tree_size, proof, &len) != 0) {
		*rc = STORE_CORRUPT;
		return NULL;
	}
	o = json_object_new_object();
	json_object_object_add(o, "recordId",
	    json_object_new_string(d->record_id));
	json_object_object_add(o, "logIndex",
	    json_object_new_uint64(d->log_index));
	json_object_object_add(o, "leafHash", view_hash(d->leaf_hash));
	json_object_object_add(o, "contentHash",
	    view_hash(d->content_hash));
	json_object_object_add(o, "leaf", json_tokener_parse(d->leaf_data));
	json_object_object_add(o, "inclusionProof",
	    view_hashes(proof, len));
	/* Recorded before its month: carried in from an earlier one. */
	if (d->created_ms < timefmt_month_start(r->cp.month))
		json_object_object_add(o, "carriedIn",
		    json_object_new_boolean(1));
	return o;
}

/* The checkpoint, its signed head and the keys: what the stream needs. */
static int
api_receipt_head_txn(struct store_txn *t, void *arg)
{
	struct api_checkpoint_receipt *r = arg;
	int			 rc;

	json_object_put(r->keys);	/* a retried transaction starts again */
	r->keys = NULL;
	if ((rc = api_receipt_checkpoint(t, r)) != STORE_OK)
		return rc;
	if (r->cp.count > RECEIPT_DELTAS_MAX)
		return STORE_USER;
	if ((rc = store_sth_get(t, r->cp.tree_size, &r->head)) != STORE_OK)
		return rc == STORE_NOTFOUND ? STORE_CORRUPT : rc;
	/* Every key with its endorsement: tally-verify follows rotations. */
	return api_keys_array(t, &r->keys);
}

/*
 * Renders the deltas from r->next on into r->chunk, until it holds
 * RECEIPT_CHUNK bytes or the run ends; r->end is the first not rendered.
 * Each delta's JSON object is freed as soon as it is text.
 */
static int
api_receipt_chunk_txn(struct store_txn *t, void *arg)
{
	struct api_checkpoint_receipt *r = arg;
	struct store_custpos	 p;
	struct store_delta	 d;
	struct json_object	*o;
	const char		*text;
	size_t			 len;
	uint64_t		 seq;
	int			 rc = STORE_OK;

	sbuf_reset(&r->chunk);		/* a retried chunk starts again */
	for (seq = r->next; seq <= r->cp.last_seq &&
	    r->chunk.len < RECEIPT_CHUNK; seq++) {
		if ((rc = store_custpos_get(t, r->cp.tenant, r->cp.env,
		    r->customer, seq, &p)) != STORE_OK ||
		    (rc = store_delta_get(t, p.log_index, &d)) != STORE_OK)
			return rc == STORE_NOTFOUND ? STORE_CORRUPT : rc;
		o = api_receipt_delta(t, r, &d, &rc);
		store_delta_free(&d);
		if (o == NULL)
			return rc;
		text = json_object_to_json_string_length(o,
		    JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE,
		    &len);
		if (seq != r->cp.first_seq)
			sbuf_addc(&r->chunk, ',');
		if (text != NULL)
			sbuf_add(&r->chunk, text, len);
		json_object_put(o);
		if (text == NULL || r->chunk.oom)
			return STORE_NOMEM;
	}
	r->end = seq;
	return STORE_OK;
}

/* Reads r's checkpoint (and what txn adds); 0, or -1 after 4xx/5xx. */
static int
api_receipt_read(struct api_checkpoint_receipt *r, store_txn_fn txn)
{
	int	rc;

	rc = store_read(r->c->app->store, txn, r);
	if (rc == STORE_OK)
		return 0;
	if (rc == STORE_NOTFOUND && r->id[0] != '\0')
		response_error(r->c->resp, API_CHECKPOINT_NOT_FOUND,
		    "checkpointId", NULL, "no checkpoint %s of customer %s",
		    r->id, r->customer);
	else if (rc == STORE_NOTFOUND)
		response_error(r->c->resp, API_CHECKPOINT_NOT_FOUND, "period",
		    NULL, "no checkpoint of customer %s%s", r->customer,
		    r->month < 0 ? "" : " for that period");
	else if (rc == STORE_USER)
		response_error(r->c->resp, API_SCOPE_TOO_WIDE, "period", NULL,
		    "a receipt holds at most %d deltas", RECEIPT_DELTAS_MAX);
	else
		api_unavailable(r->c);
	return -1;
}

/*
 * ?checkpointId=: that checkpoint exactly, a predecessor a re-lock
 * replaced included; it combines with no period.  0, or -1 after a 400.
 */
static int
api_query_checkpoint(struct ctx *c, struct api_checkpoint_receipt *r)
{
	int	rc;

	rc = api_query_field(c, "checkpointId", r->id, sizeof(r->id));
	if (rc < 0 || (rc > 0 && strncmp(r->id, "chk_", 4) != 0)) {
		response_error(c->resp, API_VALIDATION_ERROR, "checkpointId",
		    NULL, "checkpointId must be a chk_ id");
		return -1;
	}
	if (rc > 0 && r->month >= 0) {
		response_error(c->resp, API_INVALID_SCOPE_COMBINATION,
		    "checkpointId", NULL, "checkpointId combines with no "
		    "period");
		return -1;
	}
	return 0;
}

/* The bundle's members before "deltas", as JSON (NULL: out of memory). */
static struct json_object *
api_receipt_members(const struct api_checkpoint_receipt *r)
{
	struct json_object	*data;

	if ((data = json_object_new_object()) == NULL)
		return NULL;
	/* The format is the statement's version (docs/receipt.md). */
	json_object_object_add(data, "version",
	    json_object_new_int(r->cp.version));
	json_object_object_add(data, "checkpointId",
	    json_object_new_string(r->cp.id));
	json_object_object_add(data, "statement", view_base64(
	    r->cp.statement, strlen(r->cp.statement)));
	json_object_object_add(data, "signature",
	    view_base64(r->cp.sig, r->cp.sig_len));
	json_object_object_add(data, "keyId",
	    json_object_new_string(r->cp.key_id));
	json_object_object_add(data, "alg", json_object_new_string(r->cp.alg));
	json_object_object_add(data, "checkpoint", view_checkpoint(&r->cp));
	json_object_object_add(data, "treeHead",
	    json_object_new_string(r->head.note));
	return data;
}

/*
 * Streams the bundle of r's checkpoint, read already (see struct
 * receipt): {members..., "deltas": [chunk, chunk, ...], "keys": [...]}.
 * Before the first byte a failure is an ordinary error answer; after it,
 * the answer is cut short (response_stream_fail) and the cause logged.
 */
static void
api_receipt_stream(struct ctx *c, struct api_checkpoint_receipt *r)
{
	static const char	 deltas_open[] = ",\"deltas\":[";
	static const char	 keys_open[] = "],\"keys\":";
	struct json_object	*members;
	const char		*text, *keys;
	size_t			 len, keys_len;
	int			 rc;

	members = api_receipt_members(r);
	text = members != NULL ? json_object_to_json_string_length(members,
	    JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE, &len) :
	    NULL;
	keys = json_object_to_json_string_length(r->keys,
	    JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE,
	    &keys_len);
	if (text == NULL || len < 2 || keys == NULL) {
		api_unavailable(c);
		goto out;
	}
	/* members without its closing brace, then the deltas. */
	if (response_stream_begin(c->resp, 200) < 0 ||
	    response_stream_write(c->resp, text, len - 1) < 0 ||
	    response_stream_write(c->resp, deltas_open,
	    sizeof(deltas_open) - 1) < 0)
		goto cut;
	for (r->next = r->cp.first_seq; r->next <= r->cp.last_seq;
	    r->next = r->end) {
		if ((rc = store_read(c->app->store, api_receipt_chunk_txn,
		    r)) != STORE_OK) {
			log_msg(LOG_LEVEL_ERROR, c->req->id, "receipt %s: %s "
			    "at sequence %llu of %llu..%llu: answer cut short",
			    r->cp.id, store_strerror(rc),
			    (unsigned long long)r->next,
			    (unsigned long long)r->cp.first_seq,
			    (unsigned long long)r->cp.last_seq);
			goto cut;
		}
		if (response_stream_write(c->resp, r->chunk.buf,
		    r->chunk.len) < 0)
			goto cut;	/* the client went away */
	}
	if (response_stream_write(c->resp, keys_open,
	    sizeof(keys_open) - 1) < 0 ||
	    response_stream_write(c->resp, keys, keys_len) < 0 ||
	    response_stream_write(c->resp, "}", 1) < 0 ||
	    response_stream_end(c->resp) < 0)
		goto cut;
	goto out;
cut:
	response_stream_fail(c->resp);
out:
	json_object_put(members);
}

void
api_receipt(struct ctx *c)
{
	struct api_checkpoint_receipt *r;

	if ((r = calloc(1, sizeof(*r))) == NULL) {
		api_unavailable(c);
		return;
	}
	r->c = c;
	r->customer = c->match.params[0];
	if (api_customer_access(c, r->customer) &&
	    api_query_period(c, &r->month) == 0 &&
	    api_query_checkpoint(c, r) == 0 &&
	    api_receipt_read(r, api_receipt_head_txn) == 0)
		api_receipt_stream(c, r);
	json_object_put(r->keys);
	sbuf_free(&r->chunk);
	free(r);
}

static int
api_invoice_txn(struct store_txn *t, void *arg)
{
	return api_receipt_checkpoint(t, arg);
}

/* The base of every link, from tally.conf (SPEC 7); "" gives paths. */
static void
api_base_url(struct ctx *c, char *out, size_t len)
{
	/*
	 * tally.conf's public_url, never the request's Host header: the
	 * links say where a customer sends its key, and Host is whatever
	 * the client (or whoever sends the vendor a crafted request) wrote.
	 */
	snprintf(out, len, "%s", c->app->public_url != NULL ?
	    c->app->public_url : "");
}

void
api_invoice_proof(struct ctx *c)
{
	struct api_checkpoint_receipt *r;
	struct balance_scope	 scope;
	struct json_object	*data;
	char			 base[300], url[800], root[HEX_0X_SIZE(STORE_HASH_LEN)];
	char			 period[TIMEFMT_PERIOD_LEN];

	if ((r = calloc(1, sizeof(*r))) == NULL) {
		api_unavailable(c);
		return;
	}
	r->c = c;
	r->customer = c->match.params[0];
	r->month = -1;
	if (!api_customer_access(c, r->customer) ||
	    api_scope(c, api_query_field, &scope) < 0 ||
	    (scope.kind != BALANCE_ALL && api_month(c, &scope,
	    &r->month) < 0) ||
	    api_receipt_read(r, api_invoice_txn) < 0)
		goto out;
	api_base_url(c, base, sizeof(base));
	hex_encode_0x(r->cp.proof_root, STORE_HASH_LEN, root);
	timefmt_period(r->cp.month, period);
	data = json_object_new_object();
	json_object_object_add(data, "customerId",
	    json_object_new_string(r->customer));
	json_object_object_add(data, "period", json_object_new_string(period));
	json_object_object_add(data, "checkpointId",
	    json_object_new_string(r->cp.id));
	json_object_object_add(data, "proofRoot", json_object_new_string(root));
	snprintf(url, sizeof(url), "%s/api/v1/verify/%s", base, root);
	json_object_object_add(data, "verifyUrl", json_object_new_string(url));
	json_object_object_add(data, "verificationApiUrl",
	    json_object_new_string(url));
	snprintf(url, sizeof(url), "%s/api/v1/balance/receipt/%s"
	    "?checkpointId=%s", base, r->customer, r->cp.id);
	json_object_object_add(data, "receiptUrl", json_object_new_string(url));
	json_object_object_add(data, "accessHint", json_object_new_string(
	    "fetch receiptUrl with a read-only key for this customer "
	    "(X-Api-Key) and check it offline with tally-verify"));
	json_object_object_add(data, "customerLinkUrl", NULL);
	json_object_object_add(data, "customerLinkHost", NULL);
	response_success(c->resp, 200, data);
out:
	free(r);
}

struct public_check {
	const char		*ref;
	struct store_checkpoint	 cp;
	int			 verified;
};

/* Whether the stored signature holds, with the key it names. */
static int
api_signature_holds(struct store_txn *t, const struct store_checkpoint *cp)
{
	struct store_signkey	 rec;
	struct sigkey		*key = NULL;
	int			 ok;

	if (store_signkey_get(t, cp->key_id, &rec) != STORE_OK ||
	    sigkey_from_public_pem(rec.pem, strlen(rec.pem), &key) < 0)
		return 0;
	ok = sigkey_verify(key, cp->statement, strlen(cp->statement),
	    cp->sig, cp->sig_len) == 0;
	sigkey_free(key);
	return ok;
}

static int
api_public_txn(struct store_txn *t, void *arg)
{
	struct public_check	*pc = arg;
	uint8_t			 root[STORE_HASH_LEN];
	int			 rc;

	if (strncmp(pc->ref, "chk_", 4) == 0)
		rc = store_checkpoint_get(t, pc->ref, &pc->cp);
	else {
		if (hex_decode_0x(pc->ref, root, sizeof(root),
		    HEX_0X_OPTIONAL | HEX_ANY_CASE) < 0)
			return STORE_NOTFOUND;
		rc = store_checkpoint_by_root(t, root, &pc->cp);
	}
	if (rc == STORE_OK)
		pc->verified = api_signature_holds(t, &pc->cp);
	return rc;
}

/*
 * Public: anyone holding a proof root or checkpoint id learns that Tally
 * signed it, and when, and over which log head; never an amount, reason,
 * metadata or customer id, so the statement itself is only hashed.
 */
void
api_verify(struct ctx *c)
{
	struct public_check	*pc;
	struct json_object	*data, *extra;
	uint8_t			 digest[STORE_HASH_LEN];
	char			 period[TIMEFMT_PERIOD_LEN];
	int			 rc;

	if ((pc = calloc(1, sizeof(*pc))) == NULL) {
		api_unavailable(c);
		return;
	}
	pc->ref = c->match.params[0];
	rc = store_read(c->app->store, api_public_txn, pc);
	if (rc == STORE_NOTFOUND) {
		extra = json_object_new_object();
		json_object_object_add(extra, "verified",
		    json_object_new_boolean(0));
		response_error(c->resp, API_CHECKPOINT_NOT_FOUND, NULL, extra,
		    "no checkpoint with that proof root or id");
		goto out;
	} else if (rc != STORE_OK ||
	    hash_sha256(pc->cp.statement, strlen(pc->cp.statement),
	    digest) < 0) {
		api_unavailable(c);
		goto out;
	}
	timefmt_period(pc->cp.month, period);
	data = json_object_new_object();
	json_object_object_add(data, "verified",
	    json_object_new_boolean(pc->verified));
	json_object_object_add(data, "proofRoot",
	    view_hash(pc->cp.proof_root));
	json_object_object_add(data, "checkpointId",
	    json_object_new_string(pc->cp.id));
	json_object_object_add(data, "period", json_object_new_string(period));
	json_object_object_add(data, "recordedAt",
	    view_time(pc->cp.created_ms));
	json_object_object_add(data, "treeSize",
	    json_object_new_uint64(pc->cp.tree_size));
	json_object_object_add(data, "rootHash",
	    view_hash(pc->cp.root_hash));
	json_object_object_add(data, "keyId",
	    json_object_new_string(pc->cp.key_id));
	json_object_object_add(data, "alg", json_object_new_string(pc->cp.alg));
	/*
	 * A version 1 statement has no salt: its hash and signature would
	 * confirm a guessed customer and amount, so they stay private.
	 */
	json_object_object_add(data, "signature", pc->cp.version >= 2 ?
	    view_base64(pc->cp.sig, pc->cp.sig_len) : NULL);
	json_object_object_add(data, "statement", NULL);
	json_object_object_add(data, "statementHash", pc->cp.version >= 2 ?
	    view_hash(digest) : NULL);
	response_success(c->resp, 200, data);
out:
	free(pc);
}
