#include <stdio.h>
#include <string.h>

#include "router.h"

static const char *
router_method_name(enum http_method m)
{
	switch (m) {
	case HTTP_GET:		return "GET";
	case HTTP_POST:		return "POST";
	case HTTP_PUT:		return "PUT";
	case HTTP_PATCH:	return "PATCH";
	case HTTP_DELETE:	return "DELETE";
	default:		return "";
	}
}

/* Matches one pattern, capturing "*" segments into m; 1 on a match. */
static int
router_path_match(const char *pattern, const char *path, struct route_match *m)
{
	const char	*pe, *se;
	size_t		 plen, slen;

	m->nparams = 0;
	while (*pattern == '/' && *path == '/') {
		pattern++;
		path++;
		pe = strchr(pattern, '/');
		se = strchr(path, '/');
		plen = pe ? (size_t)(pe - pattern) : strlen(pattern);
		slen = se ? (size_t)(se - path) : strlen(path);
		/* A last "**" takes the rest, raw: its own grammar decides. */
		if (plen == 2 && strcmp(pattern, "**") == 0) {
			if (*path == '\0' || m->nparams == ROUTE_PARAMS_MAX ||
			    strlen(path) > ROUTE_PARAM_LEN)
				return 0;
			strcpy(m->params[m->nparams++], path);
			return 1;
		}
		if (plen == 1 && *pattern == '*') {
			if (slen == 0 || m->nparams == ROUTE_PARAMS_MAX ||
			    request_decode(path, slen, m->params[m->nparams],
			    sizeof(m->params[0]), 0) < 0)
				return 0;
			m->nparams++;
		} else if (plen != slen || strncmp(pattern, path, plen) != 0)
			return 0;
		pattern += plen;
		path += slen;
	}
	return *pattern == '\0' && *path == '\0';
}

enum router_rc
router_match(const struct route *table, size_t n, enum http_method method,
    const char *path, struct route_match *m)
{
	struct route_match	probe;
	size_t			i, used = 0;
	int			known = 0;

	memset(m, 0, sizeof(*m));
	if (method == HTTP_HEAD)
		method = HTTP_GET;
	for (i = 0; i < n; i++) {
		if (!router_path_match(table[i].pattern, path, &probe))
			continue;
		if (table[i].method == method) {
			*m = probe;
			m->route = &table[i];
			return ROUTER_FOUND;
		}
		known = 1;
		used += (size_t)snprintf(m->allow + used,
		    used < sizeof(m->allow) ? sizeof(m->allow) - used : 0,
		    "%s%s", used ? ", " : "",
		    router_method_name(table[i].method));
	}
	if (used >= sizeof(m->allow))
		m->allow[sizeof(m->allow) - 1] = '\0';
	return known ? ROUTER_BAD_METHOD : ROUTER_NOT_FOUND;
}
