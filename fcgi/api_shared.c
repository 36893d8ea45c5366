/*
 * The Shared Record (SPEC 8, docs/shared.md): the customer's endpoints
 * under /api/v1/shared/{handle}, reached with the link alone and the
 * access code in X-Access-Code, and the vendor's share of a customer
 * under /api/v1/balance/share/{customerId}.
 *
 * The customer's routes are public in the route table: no API key.  Each
 * handler first asks core/share what the link and code may read
 * (api_shared_open); only then does it read the record.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "../common/sbuf.h"
#include "../common/timefmt.h"
#include "../core/receipt.h"
#include "../core/share.h"
#include "../core/shared.h"
#include "../core/tlog.h"
#include "../core/view.h"
#include "api.h"

#define SHARED_LIMIT_DEFAULT	100
#define SHARED_LIMIT_MAX	500
#define SHARED_CSV_MAX		100000	/* rows in one export */

/*
 * What the link (params[0]) and the code may read; -1 after answering
 * the refusal.  The one place core's access decision becomes HTTP.
 */
static int
api_shared_open(struct ctx *c, enum share_need need, struct share *sh,
    int *full)
{
	struct share_attempt	 a;
	long long		 wait;

	memset(&a, 0, sizeof(a));
	a.handle = c->match.params[0];
	a.code = request_param(c->req, "HTTP_X_ACCESS_CODE");
	if (a.code != NULL && a.code[0] == '\0')
		a.code = NULL;			/* an empty header: none */
	a.need = need;
	a.now_ms = timefmt_now_ms();
	a.client = request_param(c->req, "REMOTE_ADDR");
	a.request_id = c->req->id;
	switch (share_access(c->app->store, &a, sh, &wait)) {
	case SHARE_ACCESS_FULL:
		*full = 1;
		return 0;
	case SHARE_ACCESS_SUMMARY:
		*full = 0;
		return 0;
	case SHARE_ACCESS_CODE_REQUIRED:
		response_error(c->resp, API_ACCESS_CODE_REQUIRED, NULL, NULL,
		    "this part of the record needs its access code, sent in "
		    "X-Access-Code");
		break;
	case SHARE_ACCESS_CODE_INVALID:
		response_error(c->resp, API_ACCESS_CODE_INVALID, NULL, NULL,
		    "the access code is not this record's");
		break;
	case SHARE_ACCESS_LIMITED:
		response_retry_after(c->resp, wait);
		response_error(c->resp, API_RATE_LIMITED, NULL,
		    view_retry_after(wait), "too many wrong access codes for "
		    "this link; retry in %lld s", wait);
		break;
	case SHARE_ACCESS_NOT_FOUND:
		/* Unknown, malformed or revoked: one answer, nothing told. */
		response_error(c->resp, API_NOT_FOUND, NULL, NULL,
		    "no such record");
		break;
	default:
		api_unavailable(c);
	}
	return -1;
}

/* A period in the path (params[1]); -1 after a 400. */
static int
api_shared_path_period(struct ctx *c, int *month)
{
	if (timefmt_parse_period(c->match.params[1], month) == 0)
		return 0;
	response_error(c->resp, API_VALIDATION_ERROR, "period", NULL,
	    "period must be a UTC month, YYYY-MM");
	return -1;
}

struct api_shared_read {
	const struct share	*sh;
	int			 month;
	struct shared_month	 m;
	struct shared_periods	 ps;
	struct shared_comparison cmp;
};

static int
api_shared_month_txn(struct store_txn *t, void *arg)
{
	struct api_shared_read	*rd = arg;

	return shared_month(t, rd->sh, rd->month, &rd->m);
}

void
api_shared_summary(struct ctx *c)
{
	struct api_shared_read	rd;
	struct share		sh;
	int64_t			now = timefmt_now_ms();
	int			full;

	if (api_shared_open(c, SHARE_NEED_SUMMARY, &sh, &full) < 0)
		return;
	memset(&rd, 0, sizeof(rd));
	rd.sh = &sh;
	rd.month = timefmt_month(now);
	if (store_read(c->app->store, api_shared_month_txn, &rd) != STORE_OK)
		api_unavailable(c);
	else
		response_success(c->resp, 200, view_shared_summary(&sh, full,
		    &rd.m, now));
}

static int
api_shared_periods_txn(struct store_txn *t, void *arg)
{
	struct api_shared_read	*rd = arg;

	return shared_periods(t, rd->sh, rd->month, &rd->ps);
}

void
api_shared_periods(struct ctx *c)
{
	struct api_shared_read	 rd;
	struct share		 sh;
	struct json_object	*data, *list;
	size_t			 i;
	int			 full;

	if (api_shared_open(c, SHARE_NEED_FULL, &sh, &full) < 0)
		return;
	memset(&rd, 0, sizeof(rd));
	rd.sh = &sh;
	rd.month = timefmt_month(timefmt_now_ms());
	if (store_read(c->app->store, api_shared_periods_txn, &rd) !=
	    STORE_OK) {
		shared_periods_free(&rd.ps);
		api_unavailable(c);
		return;
	}
	data = view_object();
	list = view_array();
	for (i = 0; list != NULL && i < rd.ps.n; i++)
		view_push(list, view_shared_period(&rd.ps.list[i]));
	view_put(data, "periods", list);
	shared_periods_free(&rd.ps);
	response_success(c->resp, 200, data);
}

/* A page of a period's deltas, with proofs and the keys to check them. */
struct api_shared_page {
	const struct share	*sh;
	struct shared_page	 pg;
	struct json_object	*deltas;
	struct tlog_keys	 keys;
};

static int
api_shared_delta(void *arg, const struct store_delta *d, int verified,
    const merkle_hash *proof, size_t len)
{
	struct api_shared_page	*p = arg;

	view_push(p->deltas, view_shared_delta(d, verified, proof, len));
	return STORE_OK;
}

static int
api_shared_page_txn(struct store_txn *t, void *arg)
{
	struct api_shared_page	*p = arg;
	int			 rc;

	/* A retried transaction starts over. */
	json_object_put(p->deltas);
	if ((p->deltas = view_array()) == NULL)
		return STORE_NOMEM;
	if ((rc = shared_deltas(t, p->sh, &p->pg, 1, api_shared_delta, p)) !=
	    STORE_OK)
		return rc;
	/* The keys, so the page checks the head without asking again. */
	return tlog_keys_read(t, &p->keys);
}

void
api_shared_deltas(struct ctx *c)
{
	struct api_shared_page	*p;
	struct share		 sh;
	struct json_object	*data;
	char			 period[TIMEFMT_PERIOD_LEN];
	int			 full;

	if ((p = calloc(1, sizeof(*p))) == NULL) {
		response_out_of_memory(c->resp);
		return;
	}
	p->sh = &sh;
	p->pg.limit = SHARED_LIMIT_DEFAULT;
	if (api_shared_path_period(c, &p->pg.month) < 0 ||
	    api_query_range(c, "limit", 1, SHARED_LIMIT_MAX,
	    &p->pg.limit) < 0 ||
	    api_query_u64(c, "offset", &p->pg.offset) < 0 ||
	    api_shared_open(c, SHARE_NEED_FULL, &sh, &full) < 0)
		goto out;
	if (store_read(c->app->store, api_shared_page_txn, p) != STORE_OK) {
		api_unavailable(c);
		goto out;
	}
	timefmt_period(p->pg.month, period);
	data = view_object();
	view_put(data, "period", view_string(period));
	if (p->pg.head.size > 0)
		view_put(data, "treeHead", view_string(p->pg.head.note));
	else
		view_put_null(data, "treeHead");
	view_put(data, "deltas", p->deltas);
	view_put(data, "keys", view_keys(&p->keys));
	p->deltas = NULL;
	view_put(data, "pagination", view_pagination(p->pg.limit,
	    p->pg.offset, p->pg.total));
	response_success(c->resp, 200, data);
out:
	json_object_put(p->deltas);
	tlog_keys_free(&p->keys);
	free(p);
}

/*
 * The receipt bundle of one of the customer's checkpoints: exactly what
 * GET /balance/receipt/{customerId}?checkpointId= answers, through that
 * very handler, asked as a read-only key bound to the share's customer.
 */
void
api_shared_receipt(struct ctx *c)
{
	struct receipt	*r;
	struct share	 sh;
	const char	*id = c->match.params[1];
	int		 full;

	if (api_shared_open(c, SHARE_NEED_FULL, &sh, &full) < 0)
		return;
	if (strncmp(id, "chk_", 4) != 0 || strlen(id) > STORE_ID_MAX) {
		response_error(c->resp, API_CHECKPOINT_NOT_FOUND,
		    "checkpointId", NULL, "no such checkpoint");
		return;
	}
	if ((r = calloc(1, sizeof(*r))) == NULL) {
		response_out_of_memory(c->resp);
		return;
	}
	/* The share's customer's checkpoint: another's is unknown here. */
	r->tenant = sh.tenant;
	r->env = sh.env;
	r->customer = sh.customer_id;
	r->month = -1;
	memcpy(r->id, id, strlen(id) + 1);
	api_receipt_send(c, r);
	free(r);
}

/* The CSV export of one period. */
struct api_shared_csv {
	const struct share	*sh;
	struct shared_page	 pg;
	struct sbuf		 out;
};

static int
api_shared_csv_row(void *arg, const struct store_delta *d, int verified,
    const merkle_hash *proof, size_t len)
{
	struct api_shared_csv	*x = arg;

	(void)proof;
	(void)len;
	view_shared_csv_row(&x->out, d, verified);
	return x->out.oom ? STORE_NOMEM : STORE_OK;
}

static int
api_shared_csv_txn(struct store_txn *t, void *arg)
{
	struct api_shared_csv	*x = arg;

	sbuf_reset(&x->out);		/* a retried transaction starts over */
	view_shared_csv_head(&x->out);
	return shared_deltas(t, x->sh, &x->pg, 0, api_shared_csv_row, x);
}

void
api_shared_export(struct ctx *c)
{
	struct api_shared_csv	 x;
	struct share		 sh;
	char			 period[TIMEFMT_PERIOD_LEN], disp[256];
	char			*body;
	size_t			 len;
	int			 full, rc;

	memset(&x, 0, sizeof(x));
	if (api_query_period(c, &x.pg.month) < 0 ||
	    api_shared_open(c, SHARE_NEED_FULL, &sh, &full) < 0)
		return;
	if (x.pg.month < 0) {
		response_error(c->resp, API_VALIDATION_ERROR, "period", NULL,
		    "period (YYYY-MM) is required");
		return;
	}
	x.sh = &sh;
	x.pg.limit = SHARED_CSV_MAX + 1;
	rc = store_read(c->app->store, api_shared_csv_txn, &x);
	if (rc == STORE_OK && x.pg.total > SHARED_CSV_MAX)
		response_error(c->resp, API_SCOPE_TOO_WIDE, "period", NULL,
		    "an export holds at most %d deltas", SHARED_CSV_MAX);
	else if (rc == STORE_NOMEM || x.out.oom)
		response_out_of_memory(c->resp);
	else if (rc != STORE_OK)
		api_unavailable(c);
	else {
		timefmt_period(x.pg.month, period);
		/* customerId is [A-Za-z0-9_.:-]: nothing to escape here. */
		snprintf(disp, sizeof(disp), "attachment; filename=\"%s-%s"
		    ".csv\"", sh.customer_id, period);
		body = sbuf_take(&x.out, &len);
		response_body(c->resp, 200, "text/csv; charset=utf-8", body,
		    len);
		response_header(c->resp, "Content-Disposition", disp);
	}
	sbuf_free(&x.out);
}

/*
 * The customer's figure: a JSON number or a string holding one, read as
 * its exact text.  0, or -1 after a 400.
 */
static int
api_shared_figure(struct ctx *c, decimal_t *v)
{
	return api_body_amount(c, c->body, "yourTotal", "yourTotal", 1, v) <
	    0 ? -1 : 0;
}

static int
api_shared_compare_txn(struct store_txn *t, void *arg)
{
	struct api_shared_read	*rd = arg;

	return shared_compare(t, rd->sh, rd->month, rd->cmp.yours, &rd->cmp);
}

void
api_shared_compare(struct ctx *c)
{
	struct api_shared_read	rd;
	struct share		sh;
	char			text[TIMEFMT_PERIOD_LEN + 1];
	int			full, rc;

	memset(&rd, 0, sizeof(rd));
	rd.sh = &sh;
	rd.month = timefmt_month(timefmt_now_ms());
	rc = api_body_field(c, "period", text, sizeof(text));
	if (rc < 0 || (rc > 0 && timefmt_parse_period(text, &rd.month) < 0)) {
		response_error(c->resp, API_VALIDATION_ERROR, "period", NULL,
		    "period must be a UTC month, YYYY-MM");
		return;
	}
	if (api_shared_figure(c, &rd.cmp.yours) < 0 ||
	    api_shared_open(c, SHARE_NEED_FULL, &sh, &full) < 0)
		return;
	if (store_read(c->app->store, api_shared_compare_txn, &rd) !=
	    STORE_OK)
		api_unavailable(c);
	else
		response_success(c->resp, 200, view_shared_compare(&rd.cmp));
}

/* The vendor's side: one share per customer of the key's tenant+env. */

/* The share's answer, with its link built on public_url (SPEC 7). */
static void
api_shared_answer(struct ctx *c, int status, const struct share *sh,
    const char *code)
{
	char	url[SHARE_LINK_MAX];

	if (share_link(c->app->public_url, sh->handle, url, sizeof(url)) < 0) {
		api_unavailable(c);
		return;
	}
	response_success(c->resp, status, view_share(sh, url, code));
}

/* A share call's failure, answered. */
static void
api_shared_failed(struct ctx *c, enum share_rc rc)
{
	if (rc == SHARE_NOTFOUND)
		response_error(c->resp, API_NOT_FOUND, "customerId", NULL,
		    "customer %s has no live share", c->match.params[0]);
	else
		api_unavailable(c);
}

/* The vendor and the customer id of the path; 0 after a refusal. */
static int
api_shared_customer(struct ctx *c)
{
	return api_vendor_only(c) && api_customer_access(c,
	    c->match.params[0]);
}

void
api_share_create(struct ctx *c)
{
	struct share		 sh;
	struct json_object	*v;
	enum share_policy	 policy = SHARE_TWO_TIER;
	char			 code[SHARE_CODE_LEN + 1];
	enum share_rc		 rc;

	if (!api_shared_customer(c))
		return;
	if (c->body != NULL && json_object_object_get_ex(c->body, "policy",
	    &v) && v != NULL && (!json_object_is_type(v, json_type_string) ||
	    share_policy_parse(json_object_get_string(v), &policy) < 0)) {
		response_error(c->resp, API_VALIDATION_ERROR, "policy", NULL,
		    "policy must be two_tier, gated or open");
		return;
	}
	rc = share_create(c->app->store, c->who.tenant, c->who.env,
	    c->match.params[0], policy, timefmt_now_ms(), &sh, code);
	if (rc == SHARE_OK)
		api_shared_answer(c, 201, &sh, code);
	else if (rc == SHARE_EXISTS)	/* its code was shown when made */
		api_shared_answer(c, 200, &sh, NULL);
	else
		api_shared_failed(c, rc);
	explicit_bzero(code, sizeof(code));
}

void
api_share_get(struct ctx *c)
{
	struct share	sh;
	enum share_rc	rc;

	if (!api_shared_customer(c))
		return;
	rc = share_show(c->app->store, c->who.tenant, c->who.env,
	    c->match.params[0], &sh);
	if (rc == SHARE_OK)
		api_shared_answer(c, 200, &sh, NULL);
	else
		api_shared_failed(c, rc);
}

void
api_share_rotate(struct ctx *c)
{
	struct share	sh;
	char		code[SHARE_CODE_LEN + 1];
	enum share_rc	rc;

	if (!api_shared_customer(c))
		return;
	rc = share_rotate_code(c->app->store, c->who.tenant, c->who.env,
	    c->match.params[0], timefmt_now_ms(), &sh, code);
	if (rc == SHARE_OK)
		api_shared_answer(c, 200, &sh, code);
	else
		api_shared_failed(c, rc);
	explicit_bzero(code, sizeof(code));
}

void
api_share_revoke(struct ctx *c)
{
	struct share	sh;
	enum share_rc	rc;

	if (!api_shared_customer(c))
		return;
	rc = share_revoke(c->app->store, c->who.tenant, c->who.env,
	    c->match.params[0], timefmt_now_ms(), &sh);
	if (rc == SHARE_OK)
		api_shared_answer(c, 200, &sh, NULL);
	else
		api_shared_failed(c, rc);
}
