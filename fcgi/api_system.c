/*
 * Liveness, readiness and key introspection.  A panicked store makes
 * both probes 503 before they get here (app_handle): tallyd is alive
 * but cannot serve until restarted, and says so.
 */
#include <json-c/json.h>

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
	struct json_object	*data = json_object_new_object();

	json_object_object_add(data, "status", json_object_new_string("ok"));
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
	data = json_object_new_object();
	json_object_object_add(data, "status", json_object_new_string("ready"));
	json_object_object_add(data, "store", json_object_new_string("ok"));
	json_object_object_add(data, "signer", json_object_new_string("ok"));
	response_success(c->resp, 200, data);
}

void
api_whoami(struct ctx *c)
{
	struct json_object	*data = json_object_new_object();

	json_object_object_add(data, "tenant",
	    json_object_new_string(c->who.tenant));
	json_object_object_add(data, "env",
	    json_object_new_string(apikey_env_name(c->who.env)));
	json_object_object_add(data, "keyKind",
	    json_object_new_string(apikey_kind_name(c->who.kind)));
	json_object_object_add(data, "customerId",
	    c->who.kind == STORE_KEY_CUSTOMER ?
	    json_object_new_string(c->who.customer_id) : NULL);
	json_object_object_add(data, "keyId",
	    json_object_new_string(c->who.public_id));
	response_success(c->resp, 200, data);
}
