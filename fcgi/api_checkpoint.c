/*
 * Checkpoints and receipts (SPEC 3.6-3.8): locking a month, reading
 * checkpoints, the receipt bundle a customer verifies offline, the
 * invoice proof, and the public verify endpoint.
 */
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "../common/log.h"
#include "../common/sbuf.h"
#include "../core/balance.h"
#include "../core/checkpoint.h"
#include "../core/ids.h"
#include "../core/receipt.h"
#include "../core/share.h"
#include "../core/view.h"
#include "api.h"

#define LIST_LIMIT_MAX		1000
#define LIST_LIMIT_DEFAULT	100
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
	response_success(c->resp, 201, job.customer_id != NULL ?
	    view_checkpoint(&job.list[0]) : view_checkpoint_page(&job));
out:
	checkpoint_job_free(&job);
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
		view_push(l->page.list, view_checkpoint(cp));
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

void
api_checkpoint_get(struct ctx *c)
{
	struct store_checkpoint	*cp;
	const char		*id = c->match.params[0];

	if ((cp = calloc(1, sizeof(*cp))) == NULL) {
		api_unavailable(c);
		return;
	}
	switch (checkpoint_get(c->app->store, c->who.tenant, c->who.env, id,
	    cp)) {
	case CHECKPOINT_OK:
		if (api_customer_access(c, cp->customer_id))
			response_success(c->resp, 200, view_checkpoint(cp));
		break;
	case CHECKPOINT_NOT_FOUND:
		response_error(c->resp, API_CHECKPOINT_NOT_FOUND,
		    "checkpointId", NULL, "no checkpoint %.64s", id);
		break;
	default:
		api_unavailable(c);
	}
	free(cp);
}

/*
 * A receipt bundle is streamed (SPEC 3.7): the envelope's head, then each
 * delta's JSON as it is read, then the tail, so that tallyd holds one
 * chunk of rendered deltas at a time (RECEIPT_CHUNK), whatever the
 * number of deltas.  core/receipt.c reads it in short transactions, a
 * chunk per transaction; a chunk is written out only once its
 * transaction ended, so a retried chunk sends nothing twice.
 */
#define RECEIPT_CHUNK		(32 * 1024)	/* bytes of deltas per read */

/* A receipt's failure before its first byte; -1 after answering. */
static int
api_receipt_failed(struct ctx *c, const struct receipt *r,
    enum receipt_result res)
{
	switch (res) {
	case RECEIPT_OK:
		return 0;
	case RECEIPT_NOT_FOUND:
		if (r->id[0] != '\0')
			response_error(c->resp, API_CHECKPOINT_NOT_FOUND,
			    "checkpointId", NULL, "no checkpoint %s of "
			    "customer %s", r->id, r->customer);
		else
			response_error(c->resp, API_CHECKPOINT_NOT_FOUND,
			    "period", NULL, "no checkpoint of customer %s%s",
			    r->customer, r->month < 0 ? "" :
			    " for that period");
		break;
	case RECEIPT_TOO_WIDE:
		response_error(c->resp, API_SCOPE_TOO_WIDE, "period", NULL,
		    "a receipt holds at most %d deltas", RECEIPT_DELTAS_MAX);
		break;
	default:
		api_unavailable(c);
	}
	return -1;
}

/* The receipt of the request's customer; its tenant and env the key's. */
static struct receipt *
api_receipt_new(struct ctx *c)
{
	struct receipt	*r;

	if ((r = calloc(1, sizeof(*r))) == NULL) {
		api_unavailable(c);
		return NULL;
	}
	r->tenant = c->who.tenant;
	r->env = c->who.env;
	r->customer = c->match.params[0];
	return r;
}

/*
 * ?checkpointId=: that checkpoint exactly, a predecessor a re-lock
 * replaced included; it combines with no period.  0, or -1 after a 400.
 */
static int
api_query_checkpoint(struct ctx *c, struct receipt *r)
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

/* Renders one delta into the chunk; a full chunk ends the read. */
static int
api_receipt_delta(const struct receipt_delta *rd, void *arg)
{
	struct sbuf	*chunk = arg;

	if (rd->chunk_start)
		sbuf_reset(chunk);	/* a retried chunk starts again */
	if (view_receipt_delta(rd, chunk) < 0)
		return STORE_NOMEM;
	return chunk->len < RECEIPT_CHUNK ? STORE_OK : STORE_STOP;
}

/*
 * Streams the bundle of r, opened already: {members..., "deltas":
 * [chunk, chunk, ...], "keys": [...]}.  Before the first byte a failure
 * is an ordinary error answer; after it, the answer is cut short
 * (response_stream_fail) and the cause logged.
 */
static void
api_receipt_stream(struct ctx *c, const struct receipt *r)
{
	struct sbuf	 out = { 0 };
	uint64_t	 next;
	int		 rc;

	if (view_receipt_head(r, &out) < 0) {
		api_unavailable(c);
		goto out;
	}
	if (response_stream_begin(c->resp, 200) < 0 ||
	    response_stream_write(c->resp, out.buf, out.len) < 0)
		goto cut;
	for (next = r->cp.first_seq; next <= r->cp.last_seq; ) {
		if ((rc = receipt_deltas(c->app->store, r, &next,
		    api_receipt_delta, &out)) != STORE_OK) {
			log_msg(LOG_LEVEL_ERROR, c->req->id, "receipt %s: %s "
			    "at sequence %llu of %llu..%llu: answer cut short",
			    r->cp.id, store_strerror(rc),
			    (unsigned long long)next,
			    (unsigned long long)r->cp.first_seq,
			    (unsigned long long)r->cp.last_seq);
			goto cut;
		}
		if (response_stream_write(c->resp, out.buf, out.len) < 0)
			goto cut;	/* the client went away */
	}
	sbuf_reset(&out);
	if (view_receipt_tail(r, &out) < 0 ||
	    response_stream_write(c->resp, out.buf, out.len) < 0 ||
	    response_stream_end(c->resp) < 0)
		goto cut;
	goto out;
cut:
	response_stream_fail(c->resp);
out:
	sbuf_free(&out);
}

void
api_receipt(struct ctx *c)
{
	struct receipt	*r;

	if ((r = api_receipt_new(c)) == NULL)
		return;
	if (api_customer_access(c, r->customer) &&
	    api_query_period(c, &r->month) == 0 &&
	    api_query_checkpoint(c, r) == 0)
		api_receipt_send(c, r);
	free(r);
}

void
api_receipt_send(struct ctx *c, struct receipt *r)
{
	if (api_receipt_failed(c, r, receipt_open(c->app->store, r)) == 0)
		api_receipt_stream(c, r);
	receipt_close(r);
}

/* The base of every link, from tally.conf (SPEC 7); "" gives paths. */
static const char *
api_base_url(struct ctx *c)
{
	/*
	 * tally.conf's public_url, never the request's Host header: the
	 * links say where a customer sends its key, and Host is whatever
	 * the client (or whoever sends the vendor a crafted request) wrote.
	 */
	return c->app->public_url != NULL ? c->app->public_url : "";
}

void
api_invoice_proof(struct ctx *c)
{
	struct receipt		*r;
	struct balance_scope	 scope;
	struct share_invoice	 share;

	if ((r = api_receipt_new(c)) == NULL)
		return;
	r->month = -1;
	if (!api_customer_access(c, r->customer) ||
	    api_scope(c, api_query_field, &scope) < 0 ||
	    (scope.kind != BALANCE_ALL && api_month(c, &scope,
	    &r->month) < 0) ||
	    api_receipt_failed(c, r, receipt_find(c->app->store, r)) < 0)
		goto out;
	if (share_invoice(c->app->store, r->tenant, r->env, r->customer,
	    api_base_url(c), &share) != SHARE_OK) {
		api_unavailable(c);
		goto out;
	}
	response_success(c->resp, 200, view_invoice_proof(&r->cp,
	    api_base_url(c), &share));
out:
	free(r);
}

/*
 * Public: anyone holding a proof root or checkpoint id learns that Tally
 * signed it, and when, and over which log head; never an amount, reason,
 * metadata or customer id, so the statement itself is only hashed.
 */
void
api_verify(struct ctx *c)
{
	struct receipt_check	*ck;

	if ((ck = calloc(1, sizeof(*ck))) == NULL) {
		api_unavailable(c);
		return;
	}
	switch (receipt_check(c->app->store, c->match.params[0], ck)) {
	case RECEIPT_OK:
		response_success(c->resp, 200, view_verify(ck));
		break;
	case RECEIPT_NOT_FOUND:
		response_error(c->resp, API_CHECKPOINT_NOT_FOUND, NULL,
		    view_verify_unknown(), "no checkpoint with that proof "
		    "root or id");
		break;
	default:
		api_unavailable(c);
	}
	free(ck);
}
