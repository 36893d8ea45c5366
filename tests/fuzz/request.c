/*
 * Fuzzes the request layer: what turns the FastCGI parameters and the
 * body into a routed request and its query and body fields.  The input
 * is a CGI environment, "NAME=value" lines, then an empty line, then the
 * body; each parameter and the body get their own exact-size buffers, as
 * libfcgi gives them, so any over-read is caught.
 *
 * Drives request_init, app_route (the real route table), the query
 * readers the handlers use (api_query_*, request_query), the scope parser
 * on the query and, for a POST, on the strictly parsed JSON body.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "../../common/jsonin.h"
#include "../../core/balance.h"
#include "../../fcgi/api.h"

#define PARAMS_MAX	32

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/* What request_init promises about any request. */
static void
check_request(const struct request *req)
{
	size_t	i, len = strlen(req->id);

	if (strlen(req->path) >= REQUEST_PATH_MAX ||
	    strchr(req->path, '?') != NULL || len < 1 ||
	    len > REQUEST_ID_MAX)
		abort();
	for (i = 0; i < len; i++)
		if (strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
		    "0123456789-_.:", req->id[i]) == NULL)
			abort();
}

/* A found route captured one non-empty segment per "*" of its pattern. */
static void
check_route(enum router_rc rc, const struct route_match *m)
{
	const char	*p;
	int		 stars = 0, i;

	if (rc == ROUTER_BAD_METHOD && m->allow[0] == '\0')
		abort();
	if (rc != ROUTER_FOUND)
		return;
	for (p = m->route->pattern; *p != '\0'; p++)
		stars += *p == '*';
	if (m->nparams != stars)
		abort();
	for (i = 0; i < m->nparams; i++)
		if (m->params[i][0] == '\0' ||
		    strlen(m->params[i]) > ROUTE_PARAM_LEN)
			abort();
}

/* Every key the query names is found again by request_query. */
static void
check_query_keys(const struct request *req)
{
	const char	*p = req->query;
	char		 name[64], out[256];
	size_t		 len;

	while (*p != '\0') {
		len = strcspn(p, "=&");
		if (len > 0 && len < sizeof(name)) {
			memcpy(name, p, len);
			name[len] = '\0';
			if (request_query(req, name, out, sizeof(out)) == 0)
				abort();
		}
		p += strcspn(p, "&");
		if (*p == '&')
			p++;
	}
}

/* The query as the handlers read it; refusals land in c->resp. */
static void
read_query(struct ctx *c)
{
	static const char *const u64s[] = {
		"from", "to", "index", "treeSize", "offset",
	};
	static const char *const ranges[] = {
		"limit", "page", "deltaLimit", "deltaPage", "fromSequence",
		"toSequence",
	};
	struct balance_scope	 scope;
	uint64_t		 v;
	size_t			 i;
	int			 month;
	char			 search[256];

	for (i = 0; i < sizeof(u64s) / sizeof(u64s[0]); i++)
		api_query_u64(c, u64s[i], &v);
	for (i = 0; i < sizeof(ranges) / sizeof(ranges[0]); i++)
		if (api_query_range(c, ranges[i], 1, 1000, &v) > 0 &&
		    (v < 1 || v > 1000))
			abort();
	api_query_period(c, &month);
	request_query(c->req, "search", search, sizeof(search));
	api_scope(c, api_query_field, &scope);
}

/* A POST body as app.c reads it, and the scope compare takes from it. */
static void
read_body(struct ctx *c)
{
	struct balance_scope	scope;
	char			why[160];

	if (jsonin_parse(c->req->body, c->req->body_len, &c->body, why,
	    sizeof(why)) < 0)
		return;
	if (json_object_is_type(c->body, json_type_object))
		api_scope(c, api_body_field, &scope);
	json_object_put(c->body);
	c->body = NULL;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char	*text = (const char *)data, *end = text + size, *nl;
	char		*params[PARAMS_MAX + 1], *body;
	struct request	 req;
	struct response	 resp;
	struct ctx	 c;
	size_t		 n = 0, i, blen;
	enum router_rc	 rc;

	/* Lines up to the first empty one are parameters. */
	while (text < end && *text != '\n' && n < PARAMS_MAX) {
		nl = memchr(text, '\n', (size_t)(end - text));
		if (nl == NULL)
			nl = end;
		params[n++] = strndup(text, (size_t)(nl - text));
		text = nl < end ? nl + 1 : end;
	}
	params[n] = NULL;
	if (text < end && *text == '\n')
		text++;
	/* Never NULL, as the server's body buffer never is. */
	blen = (size_t)(end - text);
	if ((body = malloc(blen > 0 ? blen : 1)) == NULL)
		goto out;
	memcpy(body, text, blen);

	request_init(&req, params);
	check_request(&req);
	check_query_keys(&req);
	req.body = body;
	req.body_len = blen;

	memset(&c, 0, sizeof(c));
	rc = app_route(&req, &c.match);
	check_route(rc, &c.match);
	response_init(&resp);
	c.req = &req;
	c.resp = &resp;
	read_query(&c);
	if (req.method == HTTP_POST)
		read_body(&c);
	response_free(&resp);
out:
	free(body);
	for (i = 0; i < n; i++)
		free(params[i]);
	return 0;
}
