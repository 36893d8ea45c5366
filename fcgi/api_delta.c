/* Recording deltas (SPEC 3.1-3.3): emit, batch emit, status. */
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "../common/timefmt.h"
#include "../core/tlog.h"
#include "../core/view.h"
#include "api.h"

/* The Idempotency-Key header, or NULL; -1 after answering 400. */
static int
api_idempotency_key(struct ctx *c, const char **key)
{
	*key = request_param(c->req, "HTTP_IDEMPOTENCY_KEY");
	if (*key == NULL || emit_idempotency_key_valid(*key))
		return 0;
	response_error(c->resp, API_VALIDATION_ERROR, "Idempotency-Key", NULL,
	    "Idempotency-Key must be 1 to 255 printable ASCII characters");
	return -1;
}

/*
 * The answer the ledger keeps and replays, rendered in its transaction:
 * a delta's (201), or a batch's (200).
 */
static int
api_delta_answer(struct ledger_request *req, const struct store_delta *d)
{
	req->status = d != NULL ? 201 : 200;
	req->body = view_text(d != NULL ? view_delta(d) : view_batch(req),
	    &req->body_len);
	return req->body != NULL ? 0 : -1;
}

/* Turns what the ledger did into the HTTP answer. */
static void
api_ledger_answer(struct ctx *c, const struct ledger_request *req, int rc)
{
	const struct ledger_item *it = &req->items[0];
	struct json_object	 *extra;

	if (rc != STORE_OK) {
		/* Nothing was recorded; a retry with the same key is safe. */
		response_error(c->resp, API_SERVICE_UNAVAILABLE, NULL, NULL,
		    "the record could not be written; retry with the same "
		    "Idempotency-Key");
		return;
	}
	switch (req->outcome) {
	case LEDGER_REPLAYED:
		response_header(c->resp, "Idempotent-Replayed", "true");
		/* FALLTHROUGH */
	case LEDGER_RECORDED:
		response_success_raw(c->resp, req->status, req->body,
		    req->body_len);
		break;
	case LEDGER_QUOTA:
		response_error(c->resp, API_QUOTA_EXCEEDED, NULL, NULL,
		    "this tenant's monthly quota of deltas is used up; "
		    "nothing was recorded (GET /api/v1/balance/usage)");
		break;
	case LEDGER_CONFLICT:
		/* A batch whose first item failed has no original delta. */
		extra = view_object();
		view_put_optional(extra, "recordId",
		    req->conflict_record[0] != '\0' ? req->conflict_record :
		    NULL);
		response_error(c->resp, API_IDEMPOTENCY_KEY_REUSED,
		    req->conflict_field, extra, "this %s was already used "
		    "for a different request (record %s)", req->conflict_field,
		    req->conflict_record[0] != '\0' ? req->conflict_record :
		    "none");
		break;
	case LEDGER_CADENCE:
		/* The shape PacSpace's SDKs map to their cadence error. */
		extra = view_object();
		view_put(extra, "retryAfterSeconds", view_i64(it->retry_after));
		view_put(extra, "customerId", view_string(it->in.customer_id));
		response_retry_after(c->resp, it->retry_after);
		response_error(c->resp, API_CADENCE_LIMIT, NULL, extra, "%s",
		    it->err.message);
		break;
	case LEDGER_INVALID:
		response_error(c->resp, API_VALIDATION_ERROR, it->err.field,
		    NULL, "%s", it->err.message);
		break;
	}
}

void
api_emit(struct ctx *c)
{
	struct ledger_request	req;
	struct ledger_item	item;
	const char		*key;
	int			 rc;

	if (!api_vendor_only(c) || api_idempotency_key(c, &key) < 0)
		return;
	memset(&req, 0, sizeof(req));
	memset(&item, 0, sizeof(item));
	if (emit_parse(c->body, &item.in, &item.err) < 0) {
		if (item.err.oom)
			response_out_of_memory(c->resp);
		else
			response_error(c->resp, API_VALIDATION_ERROR,
			    item.err.field, NULL, "%s", item.err.message);
		goto out;
	}
	item.valid = 1;
	req.who = &c->who;
	req.idem_key = key;
	req.items = &item;
	req.nitems = 1;
	req.answer = api_delta_answer;
	rc = ledger_submit(c->app->ledger, &req);
	api_ledger_answer(c, &req, rc);
out:
	emit_input_free(&item.in);
	ledger_request_free(&req);
}

void
api_emit_batch(struct ctx *c)
{
	struct ledger_request	 req;
	struct ledger_item	*items = NULL;
	const uint8_t		**fps = NULL;
	struct json_object	*deltas;
	struct emit_error	 err;
	const char		*key;
	size_t			 n, i;
	int			 rc;

	if (!api_vendor_only(c) || api_idempotency_key(c, &key) < 0)
		return;
	memset(&req, 0, sizeof(req));
	if ((deltas = emit_batch_deltas(c->body, &err)) == NULL) {
		response_error(c->resp, API_VALIDATION_ERROR, err.field, NULL,
		    "%s", err.message);
		return;
	}
	n = json_object_array_length(deltas);
	if ((items = calloc(n, sizeof(*items))) == NULL ||
	    (fps = calloc(n, sizeof(*fps))) == NULL) {
		response_out_of_memory(c->resp);
		goto out;
	}
	for (i = 0; i < n; i++) {
		items[i].valid = emit_parse(json_object_array_get_idx(deltas,
		    i), &items[i].in, &items[i].err) == 0;
		/* Memory is the whole batch's trouble, not the item's. */
		if (items[i].err.oom) {
			response_out_of_memory(c->resp);
			goto out;
		}
		fps[i] = items[i].valid ? items[i].in.fingerprint : NULL;
	}
	req.items = items;
	req.nitems = n;
	if ((rc = emit_batch_fingerprint(c->body, deltas, fps,
	    req.fingerprint, req.legacy_fingerprint)) == -1) {
		response_out_of_memory(c->resp);
		goto out;
	}
	if (rc == -2) {
		response_error(c->resp, API_VALIDATION_ERROR, "deltas", NULL,
		    "deltas hold a number with no exact JSON form (such as "
		    "1e400)");
		goto out;
	}
	req.who = &c->who;
	req.idem_key = key;
	req.batch = 1;
	req.answer = api_delta_answer;
	rc = ledger_submit(c->app->ledger, &req);
	api_ledger_answer(c, &req, rc);
out:
	for (i = 0; items != NULL && i < n; i++)
		emit_input_free(&items[i].in);
	free(items);
	free(fps);
	ledger_request_free(&req);
}

struct status_lookup {
	const char		*record_id;
	struct store_delta	 d;
	/* Once verified: the newest head, and the path to its root. */
	struct store_sth	 head;
	merkle_hash		 proof[MERKLE_PROOF_MAX];
	size_t			 len;
};

/*
 * A delta is VERIFIED once a signed head covers it, since the first such
 * head; its proof is against the newest head, the strongest statement.
 */
static int
api_status_verification(struct store_txn *t, struct status_lookup *sl)
{
	int	rc;

	if ((rc = tlog_delta_status(t, &sl->d)) != STORE_OK ||
	    sl->d.status != STORE_DELTA_VERIFIED)
		return rc;
	if ((rc = store_sth_latest(t, &sl->head)) != STORE_OK)
		return rc;
	return tlog_proof(t, sl->d.log_index, sl->head.size, sl->proof,
	    &sl->len);
}

static int
api_status_lookup(struct store_txn *t, void *arg)
{
	struct status_lookup	*sl = arg;
	uint64_t		 index;
	int			 rc;

	if (strlen(sl->record_id) > STORE_ID_MAX)
		return STORE_NOTFOUND;
	if ((rc = store_delta_find(t, sl->record_id, &index)) != STORE_OK ||
	    (rc = store_delta_get(t, index, &sl->d)) != STORE_OK)
		return rc;
	return api_status_verification(t, sl);
}

void
api_delta_status(struct ctx *c)
{
	struct status_lookup	*sl;
	int			 rc;

	/* Two notes and a proof: too big for a request thread's stack. */
	if ((sl = calloc(1, sizeof(*sl))) == NULL) {
		response_out_of_memory(c->resp);
		return;
	}
	sl->record_id = c->match.params[0];
	rc = store_read(c->app->store, api_status_lookup, sl);
	if (rc == STORE_OK && (strcmp(sl->d.tenant, c->who.tenant) != 0 ||
	    sl->d.env != c->who.env))
		rc = STORE_NOTFOUND;	/* another tenant's: not yours */
	if (rc == STORE_NOTFOUND) {
		response_error(c->resp, API_NOT_FOUND, "recordId", NULL,
		    "no delta with recordId %.64s", sl->record_id);
		goto out;
	} else if (rc != STORE_OK) {
		response_error(c->resp, API_SERVICE_UNAVAILABLE, NULL, NULL,
		    "the record could not be read, try again");
		goto out;
	}
	if (c->who.kind == STORE_KEY_CUSTOMER &&
	    strcmp(c->who.customer_id, sl->d.customer_id) != 0) {
		response_error(c->resp, API_FORBIDDEN, NULL, NULL,
		    "this key may only read customer %s", c->who.customer_id);
		goto out;
	}
	response_success(c->resp, 200, view_record_proved(&sl->d, &sl->head,
	    sl->proof, sl->len));
out:
	store_delta_free(&sl->d);
	free(sl);
}
