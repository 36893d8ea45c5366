#include <ctype.h>
#include <string.h>
#include <strings.h>

#include <json-c/json.h>

#include "../common/jsonin.h"
#include "../common/timefmt.h"
#include "../core/metrics.h"
#include "../core/view.h"
#include "api.h"
#include "app.h"

static const struct route routes[] = {
	{ HTTP_GET,  "/healthz",		api_healthz, ROUTE_PUBLIC },
	{ HTTP_GET,  "/readyz",			api_readyz,  ROUTE_PUBLIC },
	/* No key: api_metrics checks the caller's address (metrics_allow). */
	{ HTTP_GET,  "/metrics",		api_metrics, ROUTE_PUBLIC },
	{ HTTP_GET,  "/api/v1/auth/whoami",	api_whoami,  0 },
	{ HTTP_POST, "/api/v1/balance/delta",	api_emit,    0 },
	{ HTTP_POST, "/api/v1/balance/delta/batch", api_emit_batch,
	    ROUTE_LARGE_BODY },
	{ HTTP_GET,  "/api/v1/balance/delta/*",	api_delta_status, 0 },
	{ HTTP_GET,  "/api/v1/balance/derive/*", api_derive, 0 },
	{ HTTP_POST, "/api/v1/balance/compare", api_compare, 0 },
	{ HTTP_GET,  "/api/v1/balance/customers", api_customers, 0 },
	{ HTTP_GET,  "/api/v1/balance/customers/*", api_customer, 0 },
	{ HTTP_GET,  "/api/v1/balance/usage",	api_usage,   0 },
	{ HTTP_GET,  "/api/v1/balance/gaps/*",	api_gaps,    0 },
	{ HTTP_POST, "/api/v1/balance/checkpoint", api_checkpoint_create, 0 },
	{ HTTP_GET,  "/api/v1/balance/checkpoints", api_checkpoints, 0 },
	{ HTTP_GET,  "/api/v1/balance/checkpoints/*", api_checkpoint_get, 0 },
	{ HTTP_GET,  "/api/v1/balance/receipt/*", api_receipt, 0 },
	{ HTTP_GET,  "/api/v1/balance/invoice-proof/*", api_invoice_proof, 0 },
	{ HTTP_GET,  "/api/v1/balance/webhooks", api_webhooks, 0 },
	{ HTTP_POST, "/api/v1/balance/webhooks/*/retry", api_webhook_retry,
	    ROUTE_OPTIONAL_BODY },
	{ HTTP_GET,  "/api/v1/verify/*",	api_verify,  ROUTE_PUBLIC },
	{ HTTP_GET,  "/api/v1/log/checkpoint",	api_log_checkpoint,
	    ROUTE_PUBLIC },
	{ HTTP_GET,  "/api/v1/log/proof/inclusion", api_log_inclusion,
	    ROUTE_PUBLIC },
	{ HTTP_GET,  "/api/v1/log/proof/consistency", api_log_consistency,
	    ROUTE_PUBLIC },
	{ HTTP_GET,  "/api/v1/keys",		api_log_keys, ROUTE_PUBLIC },
	{ HTTP_GET,  "/log/checkpoint",		api_log_note, ROUTE_PUBLIC },
	{ HTTP_GET,  "/log/tile/**",		api_log_tile, ROUTE_PUBLIC },
	{ HTTP_POST, "/api/v1/balance/share/*",	api_share_create,
	    ROUTE_OPTIONAL_BODY },
	{ HTTP_GET,  "/api/v1/balance/share/*",	api_share_get, 0 },
	{ HTTP_DELETE, "/api/v1/balance/share/*", api_share_revoke, 0 },
	{ HTTP_POST, "/api/v1/balance/share/*/rotate-code", api_share_rotate,
	    ROUTE_OPTIONAL_BODY },
	/*
	 * The Shared Record: no API key, the link is the capability; each
	 * handler asks core/share what the link and its code may read.
	 */
	{ HTTP_GET,  "/api/v1/shared/*",	api_shared_summary, ROUTE_PUBLIC },
	{ HTTP_GET,  "/api/v1/shared/*/periods", api_shared_periods,
	    ROUTE_PUBLIC },
	{ HTTP_GET,  "/api/v1/shared/*/periods/*/deltas", api_shared_deltas,
	    ROUTE_PUBLIC },
	{ HTTP_GET,  "/api/v1/shared/*/receipt/*", api_shared_receipt,
	    ROUTE_PUBLIC },
	{ HTTP_GET,  "/api/v1/shared/*/export.csv", api_shared_export,
	    ROUTE_PUBLIC },
	{ HTTP_POST, "/api/v1/shared/*/compare", api_shared_compare,
	    ROUTE_PUBLIC },
};

#define APP_NROUTES	((int)(sizeof(routes) / sizeof(routes[0])))
_Static_assert(APP_NROUTES <= METRICS_ROUTES,
    "a route past METRICS_ROUTES would be counted as no route");

int
app_nroutes(void)
{
	return APP_NROUTES;
}

const char *
app_route_pattern(int slot)
{
	return slot >= 0 && slot < APP_NROUTES ? routes[slot].pattern : NULL;
}

enum router_rc
app_route(const struct request *req, struct route_match *m)
{
	return req->path_too_long ? ROUTER_NOT_FOUND : router_match(routes,
	    sizeof(routes) / sizeof(routes[0]), req->method, req->path, m);
}

/* "application/json", any case, optionally followed by parameters. */
static int
app_is_json(const char *ctype)
{
	size_t	n = strlen("application/json");

	if (ctype == NULL || strncasecmp(ctype, "application/json", n) != 0)
		return 0;
	ctype += n;
	while (*ctype == ' ' || *ctype == '\t')
		ctype++;
	return *ctype == '\0' || *ctype == ';';
}

/* The key's rate limit; -1 after answering 429. */
static int
app_rate(struct ctx *c)
{
	long long	wait;

	if ((wait = ratelimit_take(c->app->ratelimit, c->who.public_id,
	    timefmt_now_ms())) == 0)
		return 0;
	metrics_count(METRICS_RATE_LIMITED, 1);
	response_retry_after(c->resp, wait);
	response_error(c->resp, API_RATE_LIMITED, NULL, view_retry_after(wait),
	    "this key's rate limit is reached; retry in %lld s", wait);
	return -1;
}

static int
app_authenticate(struct ctx *c)
{
	const char	*key = request_param(c->req, "HTTP_X_API_KEY");

	switch (apikey_authenticate(c->app->store, key, &c->who)) {
	case APIKEY_OK:
		return app_rate(c);
	case APIKEY_INVALID:
		response_error(c->resp, API_INVALID_API_KEY, NULL, NULL,
		    key == NULL ? "missing X-Api-Key header" :
		    "invalid, unknown or revoked API key");
		return -1;
	default:
		response_error(c->resp, API_SERVICE_UNAVAILABLE, NULL, NULL,
		    "could not check the API key, try again");
		return -1;
	}
}

static int
app_parse_body(struct ctx *c)
{
	char	err[160];

	if (!app_is_json(request_param(c->req, "CONTENT_TYPE"))) {
		response_error(c->resp, API_UNSUPPORTED_MEDIA_TYPE, NULL, NULL,
		    "Content-Type must be application/json");
		return -1;
	}
	switch (jsonin_parse(c->req->body, c->req->body_len, &c->body, err,
	    sizeof(err))) {
	case 0:
		break;
	case JSONIN_NOMEM:
		response_out_of_memory(c->resp);
		return -1;
	default:
		response_error(c->resp, API_INVALID_JSON, NULL, NULL, "%s",
		    err);
		return -1;
	}
	if (!json_object_is_type(c->body, json_type_object)) {
		response_error(c->resp, API_INVALID_JSON, NULL, NULL,
		    "request body must be a JSON object");
		return -1;
	}
	return 0;
}

/*
 * What a node of a replication group may answer now (app.h): -1 with the
 * 503 given, which nginx's fastcgi_next_upstream takes to the next node.
 */
static int
app_node_gate(struct ctx *c)
{
	struct app	*app = c->app;
	route_handler	 h = c->match.route->handler;
	int		 waited;

	if (h == api_healthz)
		return 0;
	if (!__atomic_load_n(&app->joined, __ATOMIC_ACQUIRE)) {
		response_error(c->resp, API_SERVICE_UNAVAILABLE, NULL, NULL,
		    "this node is joining its replication group");
		return -1;
	}
	if (h == api_readyz || h == api_metrics)
		return 0;
	if (__atomic_load_n(&app->writer, __ATOMIC_ACQUIRE)) {
		if (store_repl_leading(app->store))
			return 0;
		response_error(c->resp, API_SERVICE_UNAVAILABLE, NULL, NULL,
		    "this master has lost touch with its group");
		return -1;
	}
	if (c->req->method != HTTP_GET && c->req->method != HTTP_HEAD) {
		response_error(c->resp, API_SERVICE_UNAVAILABLE, NULL, NULL,
		    "this node is a replica; writes go to the master");
		return -1;
	}
	if (store_repl_catch_up(app->store, APP_CATCH_UP_MS, &waited) !=
	    STORE_OK) {
		response_error(c->resp, API_SERVICE_UNAVAILABLE, NULL, NULL,
		    "this replica cannot reach the master to catch up");
		return -1;
	}
	return 0;
}

int
app_handle(struct app *app, const struct request *req, struct response *resp)
{
	struct ctx	c;
	size_t		max;
	int		route;

	view_reset();
	memset(&c, 0, sizeof(c));
	c.app = app;
	c.req = req;
	c.resp = resp;

	/*
	 * A panicked store fails every call until tallyd is restarted (it
	 * is stopping by now: tallyd.c), and what was read before may be
	 * gone after recovery: every answer, /healthz and /readyz too, is
	 * a 503 with Retry-After, never a 2xx.
	 */
	if (store_panicked(app->store)) {
		response_error(resp, API_SERVICE_UNAVAILABLE, NULL, NULL,
		    "the store needs recovery; tallyd is restarting, retry "
		    "shortly");
		return -1;
	}
	switch (app_route(req, &c.match)) {
	case ROUTER_NOT_FOUND:
		response_error(resp, API_NOT_FOUND, NULL, NULL,
		    "no such endpoint");
		return -1;
	case ROUTER_BAD_METHOD:
		response_header(resp, "Allow", c.match.allow);
		response_error(resp, API_METHOD_NOT_ALLOWED, NULL, NULL,
		    "method %s not allowed here; allowed: %s",
		    req->method_name, c.match.allow);
		return -1;
	case ROUTER_FOUND:
		break;
	}
	route = (int)(c.match.route - routes);
	if (app->replicated && app_node_gate(&c) < 0)
		return route;

	max = c.match.route->flags & ROUTE_LARGE_BODY ? APP_BODY_MAX_LARGE :
	    APP_BODY_MAX;
	if (req->body_too_large || req->body_len > max) {
		response_error(resp, API_PAYLOAD_TOO_LARGE, NULL, NULL,
		    "request body exceeds %zu bytes", max);
		return route;
	}
	if (!(c.match.route->flags & ROUTE_PUBLIC) && app_authenticate(&c) < 0)
		return route;
	if (req->method == HTTP_POST && (req->body_len > 0 ||
	    !(c.match.route->flags & ROUTE_OPTIONAL_BODY)) &&
	    app_parse_body(&c) < 0)
		goto out;
	/*
	 * /readyz says whether signing works, and a checkpoint waits for a
	 * head over every delta recorded before it: without a thread that
	 * signs, this request does.
	 */
	if (app->step_first && (c.match.route->handler == api_readyz ||
	    c.match.route->handler == api_checkpoint_create))
		(void)integrator_step(app->integrator, NULL);
	c.match.route->handler(&c);
out:
	json_object_put(c.body);
	return route;
}
