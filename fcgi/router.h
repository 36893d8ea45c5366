/*
 * Routing on method and path.  A pattern is a path whose "*" segments
 * match any one non-empty segment; the matched segments are handed to
 * the handler percent-decoded; a last "**" segment matches the rest of
 * the path, one segment or more, handed over as it came (not decoded).
 * HEAD is served by the GET route.
 */
#ifndef TALLY_ROUTER_H
#define TALLY_ROUTER_H

#include <stddef.h>

#include "request.h"

struct ctx;
typedef void	(*route_handler)(struct ctx *);

#define ROUTE_PUBLIC		0x01	/* no API key needed */
#define ROUTE_LARGE_BODY	0x02	/* body up to 1 MiB, not 64 KiB */
#define ROUTE_OPTIONAL_BODY	0x04	/* a POST that may have no body */

struct route {
	enum http_method	 method;
	const char		*pattern;
	route_handler		 handler;
	unsigned		 flags;
};

#define ROUTE_PARAMS_MAX	2
#define ROUTE_PARAM_LEN		256

struct route_match {
	const struct route	*route;
	char			 params[ROUTE_PARAMS_MAX][ROUTE_PARAM_LEN + 1];
	int			 nparams;
	char			 allow[64];	/* for a 405 */
};

enum router_rc {
	ROUTER_FOUND,
	ROUTER_NOT_FOUND,
	ROUTER_BAD_METHOD	/* path known; m->allow lists its methods */
};

enum router_rc	router_match(const struct route *table, size_t n,
		    enum http_method, const char *path, struct route_match *m);

#endif
