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

/*
 * A node of a group: its role, the master it follows, and on a replica
 * how long catching up with the master took just now (its lag).  -1
 * with the 503 given when it cannot serve.
 */
static int
api_readyz_node(struct ctx *c, struct store_repl_status *rs, int *lag_ms)
{
	if (store_repl_status(c->app->store, rs) != STORE_OK) {
		response_error(c->resp, API_SERVICE_UNAVAILABLE, NULL, NULL,
		    "replication status not available");
		return -1;
	}
	if (rs->role == STORE_ROLE_REPLICA &&
	    store_repl_catch_up(c->app->store, APP_CATCH_UP_MS, lag_ms) !=
	    STORE_OK) {
		response_error(c->resp, API_SERVICE_UNAVAILABLE, NULL, NULL,
		    "this replica cannot reach the master");
		return -1;
	}
	if (rs->role == STORE_ROLE_MASTER &&
	    !store_repl_leading(c->app->store)) {
		response_error(c->resp, API_SERVICE_UNAVAILABLE, NULL, NULL,
		    "this master has lost touch with its group");
		return -1;
	}
	if (rs->role != STORE_ROLE_REPLICA &&
	    !__atomic_load_n(&c->app->writer, __ATOMIC_ACQUIRE)) {
		response_error(c->resp, API_SERVICE_UNAVAILABLE, NULL, NULL,
		    "this node is %s", rs->role == STORE_ROLE_MASTER ?
		    "starting as the master" : "waiting for an election");
		return -1;
	}
	return 0;
}

void
api_readyz(struct ctx *c)
{
	struct store_repl_status	 rs = { .role = STORE_ROLE_ALONE };
	struct json_object		*data;
	int				 lag_ms = 0;

	if (c->app->replicated && api_readyz_node(c, &rs, &lag_ms) < 0)
		return;
	if (store_read(c->app->store, api_store_probe, NULL) != STORE_OK) {
		response_error(c->resp, API_SERVICE_UNAVAILABLE, NULL, NULL,
		    "store not available");
		return;
	}
	/* A replica signs nothing: the master does. */
	if (rs.role != STORE_ROLE_REPLICA &&
	    !integrator_ready(c->app->integrator)) {
		response_error(c->resp, API_SERVICE_UNAVAILABLE, NULL, NULL,
		    "the log signer is not working");
		return;
	}
	data = view_object();
	view_put(data, "status", view_string("ready"));
	view_put(data, "store", view_string("ok"));
	view_put(data, "signer", view_string(rs.role == STORE_ROLE_REPLICA ?
	    "the master's" : "ok"));
	if (c->app->replicated) {
		view_put(data, "role", view_string(store_role_name(rs.role)));
		view_put(data, "node", view_string(rs.self));
		view_put_optional(data, "master", rs.master[0] != '\0' ?
		    rs.master : NULL);
		if (rs.role == STORE_ROLE_REPLICA)
			view_put(data, "lagMs", view_i64(lag_ms));
	}
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
