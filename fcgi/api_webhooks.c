/*
 * Webhook deliveries (SPEC 3.10): what the outbox holds for the key's
 * tenant+env, and a retry that queues an event for delivery again.
 */
#include <string.h>

#include <json-c/json.h>

#include "../common/timefmt.h"
#include "../core/view.h"
#include "../core/webhook.h"
#include "api.h"

#define LIST_LIMIT_MAX		1000
#define LIST_LIMIT_DEFAULT	100

struct api_webhooks_listing {
	struct ctx		*c;
	int			 status;	/* -1: any */
	struct api_page		 page;
};

static int
api_listed(const struct store_event *e, void *arg)
{
	struct api_webhooks_listing *l = arg;

	if ((l->status < 0 || (int)e->status == l->status) &&
	    api_page_wants(&l->page))
		view_push(l->page.list, view_event(e));
	return STORE_OK;
}

static int
api_list_txn(struct store_txn *t, void *arg)
{
	struct api_webhooks_listing *l = arg;
	int		 rc;

	if ((rc = api_page_start(&l->page)) != STORE_OK)
		return rc;
	return store_event_each(t, l->c->who.tenant, l->c->who.env,
	    api_listed, l);
}

/* status=QUEUED|VERIFIED|FAILED into *status (-1: any); -1 on 400. */
static int
api_status(struct ctx *c, int *status)
{
	static const enum store_event_status all[] = { STORE_EVENT_QUEUED,
	    STORE_EVENT_DELIVERED, STORE_EVENT_FAILED };
	char	text[16];
	size_t	i;
	int	rc;

	*status = -1;
	if ((rc = request_query(c->req, "status", text, sizeof(text))) == 0)
		return 0;
	for (i = 0; rc > 0 && i < sizeof(all) / sizeof(all[0]); i++)
		if (strcmp(text, view_event_status(all[i])) == 0) {
			*status = (int)all[i];
			return 0;
		}
	response_error(c->resp, API_VALIDATION_ERROR, "status", NULL,
	    "status must be QUEUED, VERIFIED or FAILED");
	return -1;
}

void
api_webhooks(struct ctx *c)
{
	struct api_webhooks_listing l;

	memset(&l, 0, sizeof(l));
	l.c = c;
	if (!api_vendor_only(c) || api_status(c, &l.status) < 0 ||
	    api_page_query(c, &l.page, LIST_LIMIT_DEFAULT, LIST_LIMIT_MAX) < 0)
		return;
	if (store_read(c->app->store, api_list_txn, &l) != STORE_OK) {
		json_object_put(l.page.list);
		api_unavailable(c);
		return;
	}
	api_page_answer(c, &l.page, "deliveries");
}

struct retry {
	const struct principal	*who;
	const char		*id;
	struct store_event	 e;
};

/*
 * Due now, with a fresh allowance of attempts.  A delivered event is sent
 * again too: the receiver asked for it.
 */
static int
api_retry_txn(struct store_txn *t, void *arg)
{
	struct retry	*r = arg;
	int		 rc;

	store_event_free(&r->e);
	if ((rc = store_event_get(t, r->id, &r->e)) != STORE_OK)
		return rc;
	if (r->e.env != r->who->env || strcmp(r->e.tenant, r->who->tenant))
		return STORE_NOTFOUND;
	r->e.status = STORE_EVENT_QUEUED;
	r->e.next_ms = timefmt_now_ms();
	r->e.done_ms = 0;
	r->e.retry_base = r->e.attempts;
	return store_event_update(t, &r->e);
}

void
api_webhook_retry(struct ctx *c)
{
	struct retry	r;
	int		rc;

	memset(&r, 0, sizeof(r));
	r.who = &c->who;
	r.id = c->match.params[0];
	if (!api_vendor_only(c))
		return;
	rc = store_write(c->app->store, api_retry_txn, &r);
	if (rc == STORE_OK)
		response_success(c->resp, 200, view_event(&r.e));
	else if (rc == STORE_NOTFOUND)
		response_error(c->resp, API_NOT_FOUND, NULL, NULL,
		    "no such webhook event");
	else
		api_unavailable(c);
	store_event_free(&r.e);
}
