#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "../common/jsonin.h"
#include "../core/view.h"
#include "response.h"

static const struct {
	int		 status;
	const char	*code;
} api_errors[] = {
	[API_VALIDATION_ERROR] =	{ 400, "VALIDATION_ERROR" },
	[API_INVALID_JSON] =		{ 400, "INVALID_JSON" },
	[API_INVALID_SCOPE_COMBINATION] = { 400, "INVALID_SCOPE_COMBINATION" },
	[API_SCOPE_TOO_WIDE] =		{ 400, "SCOPE_TOO_WIDE" },
	[API_INVALID_API_KEY] =		{ 401, "INVALID_API_KEY" },
	[API_FORBIDDEN] =		{ 403, "FORBIDDEN" },
	[API_NOT_FOUND] =		{ 404, "NOT_FOUND" },
	[API_CUSTOMER_NOT_FOUND] =	{ 404, "CUSTOMER_NOT_FOUND" },
	[API_CHECKPOINT_NOT_FOUND] =	{ 404, "CHECKPOINT_NOT_FOUND" },
	[API_METHOD_NOT_ALLOWED] =	{ 405, "METHOD_NOT_ALLOWED" },
	[API_IDEMPOTENCY_KEY_REUSED] =	{ 409, "IDEMPOTENCY_KEY_REUSED" },
	[API_PAYLOAD_TOO_LARGE] =	{ 413, "PAYLOAD_TOO_LARGE" },
	[API_UNSUPPORTED_MEDIA_TYPE] =	{ 415, "UNSUPPORTED_MEDIA_TYPE" },
	[API_QUOTA_EXCEEDED] =		{ 402, "QUOTA_EXCEEDED" },
	[API_RATE_LIMITED] =		{ 429, "RATE_LIMITED" },
	[API_CADENCE_LIMIT] =		{ 429, "CADENCE_LIMIT" },
	[API_SERVICE_UNAVAILABLE] =	{ 503, "SERVICE_UNAVAILABLE" },
	[API_INTERNAL] =		{ 500, "INTERNAL" },
	[API_ACCESS_CODE_REQUIRED] =	{ 401, "ACCESS_CODE_REQUIRED" },
	[API_ACCESS_CODE_INVALID] =	{ 401, "ACCESS_CODE_INVALID" },
};

/*
 * The one answer to running out of memory anywhere, built without
 * allocating: a transient failure (SPEC 1), so a 503 with Retry-After.
 */
static const char oom_body[] = "{\"success\":false,\"error\":{\"code\":"
    "\"SERVICE_UNAVAILABLE\",\"message\":\"out of memory; retry "
    "shortly\"}}";

void
response_init(struct response *resp)
{
	memset(resp, 0, sizeof(*resp));
	resp->status = 500;
}

void
response_free(struct response *resp)
{
	free(resp->body);
	resp->body = NULL;
	resp->body_len = 0;
	resp->content_type = NULL;
	sbuf_free(&resp->gathered);
}

const char *
response_reason(int status)
{
	switch (status) {
	case 200: return "OK";
	case 201: return "Created";
	case 202: return "Accepted";
	case 400: return "Bad Request";
	case 401: return "Unauthorized";
	case 402: return "Payment Required";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 409: return "Conflict";
	case 413: return "Payload Too Large";
	case 415: return "Unsupported Media Type";
	case 429: return "Too Many Requests";
	case 503: return "Service Unavailable";
	default:  return "Internal Server Error";
	}
}

const char *
response_error_code(enum api_error err)
{
	return api_errors[err].code;
}

int
response_header(struct response *resp, const char *name, const char *value)
{
	struct response_header	*h;

	if (resp->nheaders == RESPONSE_HEADERS_MAX ||
	    strlen(name) >= sizeof(h->name) ||
	    strlen(value) >= sizeof(h->value) ||
	    strpbrk(name, "\r\n:") != NULL || strpbrk(value, "\r\n") != NULL)
		return -1;
	h = &resp->headers[resp->nheaders++];
	snprintf(h->name, sizeof(h->name), "%s", name);
	snprintf(h->value, sizeof(h->value), "%s", value);
	return 0;
}

void
response_out_of_memory(struct response *resp)
{
	response_free(resp);
	/* Failing that too, the status and Retry-After still say it. */
	if ((resp->body = strdup(oom_body)) != NULL)
		resp->body_len = sizeof(oom_body) - 1;
	resp->status = 503;
	resp->nheaders = 0;
	response_retry_after(resp, 1);
}

/*
 * Serialises obj (see view_text_within) between head and tail as the
 * body, with status, and drops the reference.
 */
static void
response_set_body(struct response *resp, int status, struct json_object *obj,
    const char *head, const char *tail)
{
	char	*text;
	size_t	 len;

	if ((text = view_text_within(obj, head, tail, &len)) == NULL) {
		response_out_of_memory(resp);
		return;
	}
	response_free(resp);
	resp->body = text;
	resp->body_len = len;
	resp->status = status;
}

/* The success envelope's opening; its closing is "}". */
static const char success_head[] = "{\"success\":true,\"data\":";

void
response_success(struct response *resp, int status, struct json_object *data)
{
	if (data == NULL)
		data = view_object();
	response_set_body(resp, status, data, success_head, "}");
}

/*
 * Built by hand, not by json-c, so that an answer replayed from an
 * idempotency record is byte for byte the answer first sent.
 */
void
response_success_raw(struct response *resp, int status, const char *data,
    size_t len)
{
	const char	*head = success_head;
	size_t		 hlen = sizeof(success_head) - 1;

	char		*body;

	if ((body = malloc(hlen + len + 2)) == NULL) {
		response_out_of_memory(resp);
		return;
	}
	response_free(resp);
	resp->body = body;
	memcpy(resp->body, head, hlen);
	memcpy(resp->body + hlen, data, len);
	memcpy(resp->body + hlen + len, "}", 2);
	resp->body_len = hlen + len + 1;
	resp->status = status;
}

void
response_body(struct response *resp, int status, const char *content_type,
    char *body, size_t len)
{
	response_free(resp);
	resp->body = body;
	resp->body_len = len;
	resp->status = status;
	resp->content_type = content_type;
}

int
response_stream_begin(struct response *resp, int status)
{
	free(resp->body);
	resp->body = NULL;
	resp->body_len = 0;
	resp->status = status;
	resp->streamed = 1;
	if (resp->sink != NULL && resp->sink->head(resp->sink, resp) < 0) {
		resp->stream_failed = 1;
		return -1;
	}
	return response_stream_write(resp, success_head,
	    sizeof(success_head) - 1);
}

int
response_stream_write(struct response *resp, const void *data, size_t len)
{
	if (resp->stream_failed)
		return -1;
	if (resp->sink == NULL) {
		sbuf_add(&resp->gathered, data, len);
		if (resp->gathered.oom)
			resp->stream_failed = 1;
	} else if (resp->sink->write(resp->sink, data, len) < 0)
		resp->stream_failed = 1;
	if (resp->stream_failed)
		return -1;
	resp->stream_len += len;
	return 0;
}

int
response_stream_end(struct response *resp)
{
	if (response_stream_write(resp, "}", 1) < 0)
		return -1;
	/* Gathered: the body as any other answer's, for the caller. */
	if (resp->sink == NULL) {
		resp->streamed = 0;
		resp->body = sbuf_take(&resp->gathered, &resp->body_len);
	}
	return 0;
}

void
response_stream_fail(struct response *resp)
{
	resp->stream_failed = 1;
}

void
response_retry_after(struct response *resp, long long seconds)
{
	char	text[24];

	snprintf(text, sizeof(text), "%lld", seconds < 1 ? 1 : seconds);
	response_header(resp, "Retry-After", text);
}

/*
 * A message or a field may quote the client (an id from the path, an
 * unknown key cut short): bytes that are not UTF-8 become '?', so that
 * every answer is UTF-8 (SPEC 1), which json-c does not see to.
 */
static void
response_utf8(char *s)
{
	size_t	len = strlen(s), n;

	while (len > 0) {
		if ((n = jsonin_utf8_len((const unsigned char *)s, len)) == 0) {
			*s = '?';
			n = 1;
		}
		s += n;
		len -= n;
	}
}

void
response_error(struct response *resp, enum api_error err, const char *field,
    struct json_object *extra, const char *fmt, ...)
{
	struct json_object	*env, *error;
	char			 msg[512], name[128];
	va_list			 ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	response_utf8(msg);

	/* SPEC 1: a 503 always says when to come back. */
	if (err == API_SERVICE_UNAVAILABLE)
		response_retry_after(resp, 1);
	env = view_object();
	error = view_object();
	view_put(error, "code", view_string(api_errors[err].code));
	view_put(error, "message", view_string(msg));
	if (field != NULL) {
		snprintf(name, sizeof(name), "%s", field);
		response_utf8(name);
		view_put(error, "field", view_string(name));
	}
	if (extra != NULL) {
		json_object_object_foreach(extra, k, v)
			if (v == NULL)
				view_put_null(error, k);
			else
				view_put(error, k, json_object_get(v));
		json_object_put(extra);
	}
	view_put(env, "success", view_bool(0));
	view_put(env, "error", error);
	response_set_body(resp, api_errors[err].status, env, "", "");
}
