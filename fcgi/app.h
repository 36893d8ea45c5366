/*
 * The application: turns one parsed request into one response.  It
 * checks, in this order, route (404/405), body size (413), API key (401),
 * media type (415) and JSON syntax (400), so a handler only ever sees a
 * request that passed all five.
 */
#ifndef TALLY_APP_H
#define TALLY_APP_H

#include "../common/conf.h"
#include "../core/apikey.h"
#include "../core/integrator.h"
#include "../core/ledger.h"
#include "../core/ratelimit.h"
#include "request.h"
#include "response.h"
#include "router.h"

#define APP_BODY_MAX		(64 * 1024)
#define APP_BODY_MAX_LARGE	(1024 * 1024)

struct app {
	struct store	*store;
	struct ledger	*ledger;	/* the only way deltas are written */
	struct integrator *integrator;	/* signs tree heads; NULL in tests */
	struct ratelimit *ratelimit;	/* per key; NULL: no limit */
	const char	*public_url;	/* base of links; NULL, "": paths */
	/* Who may read GET /metrics (conf.h); none when n is 0. */
	const struct conf_net *metrics_allow;
	int		 nmetrics_allow;
	/*
	 * No integrator thread runs (CGI: a process per request): an
	 * answer that stands on a current head signs one first.
	 */
	int		 step_first;
	/*
	 * A node of a replication group (node.c), where joined and writer
	 * (atomic) say what it may answer.  joined: the store's databases
	 * are open, which a node of a group does once it knows its role;
	 * until then every answer but /healthz is a 503.  writer: the
	 * ledger and integrator run, this node is the master; until then a
	 * request that writes is a 503, which the web server retries on the
	 * next node, and a read first catches up with the master
	 * (read-your-writes through one URL).
	 */
	int		 replicated;
	int		 joined;
	int		 writer;
};

/* How long a replica waits to catch up before it answers a read. */
#define APP_CATCH_UP_MS	2000

/* Everything a handler may look at, for one request. */
struct ctx {
	struct app		*app;
	const struct request	*req;
	struct response		*resp;
	struct route_match	 match;
	struct principal	 who;		/* unset on ROUTE_PUBLIC routes */
	struct json_object	*body;		/* parsed POST body, or NULL */
};

/*
 * Returns the slot of the route that took the request in the route
 * table, for the metrics (metrics_request), or -1 if none did.
 */
int	app_handle(struct app *, const struct request *, struct response *);
/* The route table's size, and the pattern in a slot (NULL past it). */
int	app_nroutes(void);
const char *app_route_pattern(int slot);
/* The route of a request, as app_handle finds it (m->allow for a 405). */
enum router_rc app_route(const struct request *, struct route_match *m);

#endif
