/*
 * Liveness, readiness and key introspection.  A panicked store makes
 * both probes 503 before they get here (app_handle): tallyd is alive
 * but cannot serve until restarted, and says so.
 */
#include "../core/metrics.h"
#include "../core/view.h"
#include "../store/store.h"
#include "api.h"

static int
api_store_probe(struct store_txn *t, void *arg)
{
	struct store_tenant	tn;
	int			rc;

	(void)arg;
	rc = store_tenant_get(t, "-", &tn);	/* never a valid name */
	return rc == STORE_NOTFOUND ? STORE_OK : rc;
}

void
api_healthz(struct ctx *c)
{
	struct json_object	*data = view_object();

	view_put(data, "status", view_string("ok"));
	response_success(c->resp, 200, data);
}

void
api_readyz(struct ctx *c)
{
	struct json_object	*data;

	if (store_read(c->app->store, api_store_probe, NULL) != STORE_OK) {
		response_error(c->resp, API_SERVICE_UNAVAILABLE, NULL, NULL,
		    "store not available");
		return;
	}
	if (!integrator_ready(c->app->integrator)) {
		response_error(c->resp, API_SERVICE_UNAVAILABLE, NULL, NULL,
		    "the log signer is not working");
		return;
	}
	data = view_object();
	view_put(data, "status", view_string("ready"));
	view_put(data, "store", view_string("ok"));
	view_put(data, "signer", view_string("ok"));
	response_success(c->resp, 200, data);
}

void
api_whoami(struct ctx *c)
{
	struct json_object	*data = view_object();

	view_put(data, "tenant", view_string(c->who.tenant));
	view_put(data, "env", view_string(apikey_env_name(c->who.env)));
	view_put(data, "keyKind", view_string(apikey_kind_name(c->who.kind)));
	view_put_optional(data, "customerId",
	    c->who.kind == STORE_KEY_CUSTOMER ? c->who.customer_id : NULL);
	view_put(data, "keyId", view_string(c->who.public_id));
	response_success(c->resp, 200, data);
}

/*
 * GET /metrics: Prometheus' text format, for the addresses metrics_allow
 * names (REMOTE_ADDR, as the web server saw the client) and no one else,
 * who get a 403 and learn nothing of the figures.  Without the store's
 * figures (it failed to answer) the rest is still said.
 */
void
api_metrics(struct ctx *c)
{
	struct store_stats	st;
	struct metrics_page	page;
	char			*text;
	size_t			 len;

	if (!conf_net_allows(c->app->metrics_allow, c->app->nmetrics_allow,
	    request_param(c->req, "REMOTE_ADDR"))) {
		response_error(c->resp, API_FORBIDDEN, NULL, NULL,
		    "metrics are for the addresses metrics_allow names");
		return;
	}
	page.nroutes = app_nroutes();
	page.route = app_route_pattern;
	page.store = store_stats(c->app->store, &st) == STORE_OK ? &st : NULL;
	if ((text = view_metrics(&page, &len)) == NULL) {
		response_out_of_memory(c->resp);
		return;
	}
	response_body(c->resp, 200, "text/plain; version=0.0.4; "
	    "charset=utf-8", text, len);
}
