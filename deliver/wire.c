#include <stdio.h>
#include <string.h>

#include "../store/pack.h"
#include "wire.h"

/* Appends s and its NUL at *at; 0, or -1 if it does not fit. */
static int
put_string(uint8_t *buf, size_t size, size_t *at, const char *s)
{
	size_t	n = strlen(s) + 1;

	if (n > size - *at)
		return -1;
	memcpy(buf + *at, s, n);
	*at += n;
	return 0;
}

size_t
wire_job_encode(const struct wire_job *j, uint8_t *buf, size_t size)
{
	size_t	at = 14, i;

	if (size < at || j->nheaders > WIRE_HEADERS_MAX)
		return 0;
	be64_put(buf, j->id);
	be32_put(buf + 8, j->timeout_ms);
	buf[12] = j->allow_private != 0;
	buf[13] = (uint8_t)j->nheaders;
	if (put_string(buf, size, &at, j->url) < 0)
		return 0;
	for (i = 0; i < j->nheaders; i++)
		if (put_string(buf, size, &at, j->headers[i]) < 0)
			return 0;
	if (j->body_len > size - at)
		return 0;
	memcpy(buf + at, j->body, j->body_len);
	return at + j->body_len;
}

/* The NUL-terminated string at *at, which must end inside len. */
static const char *
get_string(const uint8_t *buf, size_t len, size_t *at)
{
	const uint8_t	*nul;
	const char	*s = (const char *)buf + *at;

	if (*at >= len || (nul = memchr(buf + *at, '\0', len - *at)) == NULL)
		return NULL;
	*at = (size_t)(nul - buf) + 1;
	return s;
}

int
wire_job_decode(const uint8_t *buf, size_t len, struct wire_job *j)
{
	size_t	at = 14, i;

	memset(j, 0, sizeof(*j));
	if (len < at || buf[13] > WIRE_HEADERS_MAX)
		return -1;
	j->id = be64_get(buf);
	j->timeout_ms = be32_get(buf + 8);
	j->allow_private = buf[12] != 0;
	j->nheaders = buf[13];
	if ((j->url = get_string(buf, len, &at)) == NULL)
		return -1;
	for (i = 0; i < j->nheaders; i++)
		if ((j->headers[i] = get_string(buf, len, &at)) == NULL)
			return -1;
	j->body = buf + at;
	j->body_len = len - at;
	return 0;
}

size_t
wire_result_encode(const struct wire_result *r, uint8_t *buf, size_t size)
{
	size_t	n = strlen(r->error);

	if (size < 12 + n)
		return 0;
	be64_put(buf, r->id);
	be32_put(buf + 8, (uint32_t)r->code);
	memcpy(buf + 12, r->error, n);
	return 12 + n;
}

int
wire_result_decode(const uint8_t *buf, size_t len, struct wire_result *r)
{
	if (len < 12 || len - 12 > STORE_EVENT_ERROR_MAX)
		return -1;
	r->id = be64_get(buf);
	r->code = (int)be32_get(buf + 8);
	memcpy(r->error, buf + 12, len - 12);
	r->error[len - 12] = '\0';
	return 0;
}
