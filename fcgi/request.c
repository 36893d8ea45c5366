#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

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
 * Our own request ids only find a request in the logs: they must be
 * unique, not secret.  A random prefix drawn once per process and a
 * counter make one without a call to the random generator (and its
 * system call) per request.
 */
static uint8_t			request_id_prefix[8];
static pthread_once_t		request_id_once = PTHREAD_ONCE_INIT;
static atomic_uint_least64_t	request_id_count;

static void
request_id_init(void)
{
	/* Should the generator fail, the counter alone is unique. */
	if (random_bytes(request_id_prefix, sizeof(request_id_prefix)) < 0)
		memset(request_id_prefix, 0, sizeof(request_id_prefix));
}

static void
request_id_new(char out[REQUEST_ID_MAX + 1])
{
	uint8_t		raw[16];
	uint64_t	n;
	int		i;

	pthread_once(&request_id_once, request_id_init);
	n = atomic_fetch_add(&request_id_count, 1);
	memcpy(raw, request_id_prefix, sizeof(request_id_prefix));
	for (i = 15; i >= 8; i--, n >>= 8)
		raw[i] = (uint8_t)n;
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

void
request_init(struct request *req, char *const *params)
{
	const char	*uri, *id, *m, *q;
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

	id = request_param(req, "HTTP_X_REQUEST_ID");
	if (id != NULL && request_id_safe(id))
		snprintf(req->id, sizeof(req->id), "%s", id);
	else
		request_id_new(req->id);
}

static int
request_hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
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
			hi = request_hexval(src[i + 1]);
			lo = request_hexval(src[i + 2]);
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
