#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "../common/hex.h"
#include "../crypto/random.h"
#include "request.h"

static const struct {
	const char		*name;
	enum http_method	 method;
} methods[] = {
	{ "GET", HTTP_GET }, { "HEAD", HTTP_HEAD }, { "POST", HTTP_POST },
	{ "PUT", HTTP_PUT }, { "PATCH", HTTP_PATCH },
	{ "DELETE", HTTP_DELETE }, { "OPTIONS", HTTP_OPTIONS },
};

const char *
request_param(const struct request *req, const char *name)
{
	size_t		 len = strlen(name);
	char *const	*p;

	if (req->params == NULL)
		return NULL;
	for (p = req->params; *p != NULL; p++)
		if (strncmp(*p, name, len) == 0 && (*p)[len] == '=')
			return *p + len + 1;
	return NULL;
}

/*
 * Our own request ids find a request in the logs, and tell a client
 * nothing more: every one is random, so that none says how many
 * requests came before it (a counter would).  Should the generator
 * fail, the time and the thread's stack address still make the id
 * unlikely to repeat; it is never a secret.
 */
static void
request_id_new(char out[REQUEST_ID_MAX + 1])
{
	uint8_t		raw[16];
	struct timespec	ts;
	uintptr_t	here = (uintptr_t)raw;

	if (random_bytes(raw, sizeof(raw)) < 0) {
		clock_gettime(CLOCK_REALTIME, &ts);
		memset(raw, 0, sizeof(raw));
		memcpy(raw, &ts, sizeof(ts) < 8 ? sizeof(ts) : 8);
		memcpy(raw + 8, &here, sizeof(here) < 8 ? sizeof(here) : 8);
	}
	hex_encode(raw, sizeof(raw), out);
}

/* An id is echoed only if it cannot inject anything into a header or log. */
static int
request_id_safe(const char *id)
{
	size_t	i, len = strlen(id);

	if (len == 0 || len > REQUEST_ID_MAX)
		return 0;
	for (i = 0; i < len; i++)
		if (!((id[i] >= 'a' && id[i] <= 'z') ||
		    (id[i] >= 'A' && id[i] <= 'Z') ||
		    (id[i] >= '0' && id[i] <= '9') ||
		    strchr("-_.:", id[i]) != NULL))
			return 0;
	return 1;
}

/*
 * Headers a request may carry once.  A web server passes a repeated one
 * either as two parameters of the same name (nginx) or as one whose
 * values it joined with ", " (Apache, as RFC 9110 5.3 allows): either
 * way, whichever copy tallyd read would be a guess.  None of these
 * values holds a comma when sent once.
 */
#define REQUEST_SINGLE(param, header)	{ param, sizeof(param) - 1, header }

static const struct {
	const char	*param;
	size_t		 len;
	const char	*header;
} request_single[] = {
	REQUEST_SINGLE("HTTP_X_API_KEY", "X-Api-Key"),
	REQUEST_SINGLE("HTTP_IDEMPOTENCY_KEY", "Idempotency-Key"),
	REQUEST_SINGLE("HTTP_CONTENT_TYPE", "Content-Type"),
	REQUEST_SINGLE("CONTENT_TYPE", "Content-Type"),
	REQUEST_SINGLE("HTTP_X_REQUEST_ID", "X-Request-Id"),
};

#define REQUEST_NSINGLE	(sizeof(request_single) / sizeof(request_single[0]))

/*
 * The header of request_single that is repeated, or NULL; the first in
 * the table's order when several are.  One pass over the parameters,
 * not two per header: every request pays it.
 */
static const char *
request_header_repeated(const struct request *req)
{
	const char	*first[REQUEST_NSINGLE];
	unsigned	 n[REQUEST_NSINGLE] = { 0 };
	char *const	*p;
	size_t		 i;

	for (p = req->params; p != NULL && *p != NULL; p++)
		for (i = 0; i < REQUEST_NSINGLE; i++) {
			if (strncmp(*p, request_single[i].param,
			    request_single[i].len) != 0 ||
			    (*p)[request_single[i].len] != '=')
				continue;
			if (n[i]++ == 0)
				first[i] = *p + request_single[i].len + 1;
			break;
		}
	for (i = 0; i < REQUEST_NSINGLE; i++)
		if (n[i] > 1 || (n[i] == 1 && strchr(first[i], ',') != NULL))
			return request_single[i].header;
	return NULL;
}

/*
 * The names of a query string, in a hash table on the stack: each name
 * is compared with the few that share its bucket, not with every other,
 * so that a line of 8 KB holding 1,600 short names costs microseconds,
 * not the 25 ms a comparison of every pair took.  A query of more names
 * than fit (longer than any web server passes on) is compared pairwise.
 */
#define REQUEST_NAMES		4096
#define REQUEST_BUCKETS		1024

struct request_names {
	struct {
		const char	*p;
		uint32_t	 len;
		int32_t		 next;		/* in the bucket, or -1 */
	}		 name[REQUEST_NAMES];
	int		 head[REQUEST_BUCKETS];
	int		 n;
};

/* FNV-1a, folded onto the buckets. */
static unsigned
request_name_hash(const char *p, size_t len)
{
	uint32_t	h = 2166136261u;

	while (len-- > 0)
		h = (h ^ (unsigned char)*p++) * 16777619u;
	return h & (REQUEST_BUCKETS - 1);
}

/* Adds a name; 1 if it was there already, -1 if the table is full. */
static int
request_name_add(struct request_names *t, const char *p, size_t len)
{
	unsigned	b = request_name_hash(p, len);
	int		i;

	for (i = t->head[b]; i >= 0; i = t->name[i].next)
		if (t->name[i].len == len && memcmp(t->name[i].p, p, len) == 0)
			return 1;
	if (t->n == REQUEST_NAMES || len > UINT32_MAX)
		return -1;
	t->name[t->n].p = p;
	t->name[t->n].len = (uint32_t)len;
	t->name[t->n].next = t->head[b];
	t->head[b] = t->n++;
	return 0;
}

/* Whether the name p (plen bytes) comes again after next. */
static int
request_name_again(const char *p, size_t plen, const char *next)
{
	const char	*q;

	for (q = next; *q != '\0'; q += strcspn(q, "&"), q += *q == '&')
		if (strcspn(q, "&=") == plen && strncmp(p, q, plen) == 0)
			return 1;
	return 0;
}

/*
 * Copies into out the first name the query string holds twice, and
 * returns 1; 0 if none.  Handlers refuse a repeated parameter too
 * (request_query), but cannot say why apart from a value too long.
 */
static int
request_query_repeated(const char *query, char *out, size_t outlen)
{
	struct request_names	 t;
	const char		*p, *next;
	size_t			 plen;
	int			 rc;

	t.n = 0;
	memset(t.head, 0xff, sizeof(t.head));	/* every bucket -1 */
	for (p = query; *p != '\0'; p = next) {
		plen = strcspn(p, "&=");
		next = p + strcspn(p, "&");
		next += *next == '&';
		if (plen == 0)
			continue;
		if ((rc = request_name_add(&t, p, plen)) < 0)
			rc = request_name_again(p, plen, next);
		if (rc > 0) {
			snprintf(out, outlen, "%.*s", (int)plen, p);
			return 1;
		}
	}
	return 0;
}

void
request_init(struct request *req, char *const *params)
{
	const char	*uri, *id, *m, *q, *repeated;
	size_t		 i, len;

	memset(req, 0, sizeof(*req));
	req->params = params;

	m = request_param(req, "REQUEST_METHOD");
	req->method = HTTP_OTHER;
	req->method_name = m != NULL ? m : "";
	for (i = 0; m != NULL && i < sizeof(methods) / sizeof(methods[0]); i++)
		if (strcmp(m, methods[i].name) == 0)
			req->method = methods[i].method;

	if ((uri = request_param(req, "REQUEST_URI")) == NULL)
		uri = "/";
	q = strchr(uri, '?');
	len = q != NULL ? (size_t)(q - uri) : strlen(uri);
	if (len >= sizeof(req->path)) {
		req->path_too_long = 1;
		len = sizeof(req->path) - 1;
	}
	memcpy(req->path, uri, len);
	req->path[len] = '\0';
	req->query = q != NULL ? q + 1 : "";

	if ((repeated = request_header_repeated(req)) != NULL)
		snprintf(req->repeated, sizeof(req->repeated), "%s",
		    repeated);
	else
		request_query_repeated(req->query, req->repeated,
		    sizeof(req->repeated));

	id = request_param(req, "HTTP_X_REQUEST_ID");
	/* Of two ids, echoing either would be a guess. */
	if (id != NULL && strcmp(req->repeated, "X-Request-Id") != 0 &&
	    request_id_safe(id))
		snprintf(req->id, sizeof(req->id), "%s", id);
	else
		request_id_new(req->id);
}

int
request_decode(const char *src, size_t len, char *out, size_t outlen,
    int plus_is_space)
{
	size_t	i, o = 0;
	int	hi, lo;
	char	c;

	for (i = 0; i < len; i++) {
		c = src[i];
		if (c == '%') {
			if (i + 2 >= len)
				return -1;
			hi = hex_digit(src[i + 1]);
			lo = hex_digit(src[i + 2]);
			if (hi < 0 || lo < 0)
				return -1;
			c = (char)(hi << 4 | lo);
			i += 2;
		} else if (c == '+' && plus_is_space)
			c = ' ';
		/* A decoded NUL would silently cut the value short. */
		if (c == '\0' || o + 1 >= outlen)
			return -1;
		out[o++] = c;
	}
	out[o] = '\0';
	return 0;
}

int
request_query(const struct request *req, const char *name, char *out,
    size_t outlen)
{
	const char	*p = req->query, *amp, *eq, *value = NULL;
	size_t		 nlen = strlen(name), plen, vlen = 0;

	for (; *p != '\0'; p += plen + (p[plen] == '&')) {
		amp = strchr(p, '&');
		plen = amp != NULL ? (size_t)(amp - p) : strlen(p);
		eq = memchr(p, '=', plen);
		if ((eq != NULL ? (size_t)(eq - p) : plen) != nlen ||
		    strncmp(p, name, nlen) != 0)
			continue;
		/*
		 * A repeated parameter is refused, as a repeated JSON key
		 * is: frameworks disagree on which copy wins.
		 */
		if (value != NULL)
			return -1;
		value = eq != NULL ? eq + 1 : p + plen;
		vlen = eq != NULL ? plen - nlen - 1 : 0;
	}
	if (value == NULL)
		return 0;
	return request_decode(value, vlen, out, outlen, 1) < 0 ? -1 : 1;
}
