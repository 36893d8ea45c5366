/*
 * A request as plain data: built from the FastCGI parameters and the body
 * bytes, with no libfcgi type in sight, so unit tests and fuzzers can
 * drive everything above the socket directly.
 */
#ifndef TALLY_REQUEST_H
#define TALLY_REQUEST_H

#include <stddef.h>

enum http_method {
	HTTP_GET,
	HTTP_HEAD,
	HTTP_POST,
	HTTP_PUT,
	HTTP_PATCH,
	HTTP_DELETE,
	HTTP_OPTIONS,
	HTTP_OTHER
};

#define REQUEST_PATH_MAX	1024
#define REQUEST_ID_MAX		64
#define REQUEST_NAME_MAX	64

struct request {
	enum http_method	 method;
	const char		*method_name;
	char			 path[REQUEST_PATH_MAX];  /* raw, no query */
	int			 path_too_long;
	const char		*query;		/* raw, "" when absent */
	char			 id[REQUEST_ID_MAX + 1];
	const char		*body;		/* not NUL-terminated */
	size_t			 body_len;
	int			 body_too_large;  /* more than was kept */
	char *const		*params;	/* NULL-terminated NAME=value */
	/*
	 * A header that must be single (X-Api-Key, Idempotency-Key,
	 * Content-Type, X-Request-Id) or a query parameter that came more
	 * than once, named as the client wrote it; "" when none did.  Such
	 * a request is refused before it is routed.
	 */
	char			 repeated[REQUEST_NAME_MAX + 1];
};

/*
 * Fills req from the FastCGI parameters (which must outlive it): method,
 * path and query from REQUEST_URI, what is repeated, and the request
 * id: the client's X-Request-Id when it is safe to echo, else a fresh
 * random one.
 */
void		 request_init(struct request *, char *const *params);
/* A parameter's value ("HTTP_X_API_KEY"), or NULL. */
const char	*request_param(const struct request *, const char *name);
/*
 * Finds name in the query string and percent-decodes its value into out.
 * Returns 1 when found, 0 when absent, -1 when the value is malformed or
 * does not fit, or the name is given more than once.
 */
int		 request_query(const struct request *, const char *name,
		    char *out, size_t outlen);
/* Percent-decodes len bytes of src into out; -1 if malformed or long. */
int		 request_decode(const char *src, size_t len, char *out,
		    size_t outlen, int plus_is_space);

#endif
