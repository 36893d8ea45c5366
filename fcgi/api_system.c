/*
 * Liveness, readiness and key introspection.  A panicked store makes
 * both probes 503 before they get here (app_handle): tallyd is alive
 * but cannot serve until restarted, and says so.
 */
#include "../core/view.h"
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
