/*
 * A response as plain data, and the two envelopes of SPEC 1: every
 * success is {"success":true,"data":{...}}, every failure
 * {"success":false,"error":{"code","message","field"?}}.  The error codes
 * and their HTTP statuses live in one table, in response.c.
 */
#ifndef TALLY_RESPONSE_H
#define TALLY_RESPONSE_H

#include <stddef.h>

#include "../common/sbuf.h"

struct json_object;
struct response;

enum api_error {
	API_VALIDATION_ERROR,
	API_INVALID_JSON,
	API_INVALID_SCOPE_COMBINATION,
	API_SCOPE_TOO_WIDE,
	API_INVALID_API_KEY,
	API_FORBIDDEN,
	API_NOT_FOUND,
	API_CUSTOMER_NOT_FOUND,
	API_CHECKPOINT_NOT_FOUND,
	API_METHOD_NOT_ALLOWED,
	API_IDEMPOTENCY_KEY_REUSED,
	API_PAYLOAD_TOO_LARGE,
	API_UNSUPPORTED_MEDIA_TYPE,
	API_QUOTA_EXCEEDED,
	API_RATE_LIMITED,
	API_CADENCE_LIMIT,
	API_SERVICE_UNAVAILABLE,
	API_INTERNAL,
	API_ACCESS_CODE_REQUIRED,	/* the Shared Record (SPEC 8) */
	API_ACCESS_CODE_INVALID
};

#define RESPONSE_HEADERS_MAX	8

struct response_header {
	char	name[32];
	char	value[256];	/* a Content-Disposition's filename */
};

/*
 * Where a streamed body goes: the server lends one to the response before
 * the handler runs.  head() sends the status line and headers, with no
 * Content-Length (the web server frames the body: chunked, or a close);
 * write() sends body bytes.  Both return 0, or -1 once the client is gone.
 */
struct response_sink {
	int	(*head)(struct response_sink *, const struct response *);
	int	(*write)(struct response_sink *, const void *, size_t);
};

struct response {
	int			status;
	struct response_header	headers[RESPONSE_HEADERS_MAX];
	int			nheaders;
	char			*body;		/* owned, NUL-terminated */
	size_t			 body_len;
	struct response_sink	*sink;		/* lent by the server, or NULL */
	int			 streamed;	/* the head went out: no body */
	int			 stream_failed;	/* cut short after the head */
	size_t			 stream_len;	/* body bytes streamed */
	struct sbuf		 gathered;	/* a stream without a sink */
	const char		*content_type;	/* static; NULL: JSON */
};

void		 response_init(struct response *);
void		 response_free(struct response *);
const char	*response_reason(int status);
const char	*response_error_code(enum api_error);
/* Adds a header; values with CR, LF or NUL are refused (-1). */
int		 response_header(struct response *, const char *name,
		    const char *value);
/* Takes ownership of data (NULL means {}). */
void		 response_success(struct response *, int status,
		    struct json_object *data);
/* The success envelope around data that is JSON text already. */
void		 response_success_raw(struct response *, int status,
		    const char *data, size_t len);
/*
 * A body that is not JSON (a CSV export), taking body (malloc'd) and
 * naming its type (a static string): the body's type goes with it, and
 * any later answer (an error, out of memory) is JSON again.
 */
void		 response_body(struct response *, int status,
		    const char *content_type, char *body, size_t len);
/*
 * A success streamed as it is produced, for an answer too large to hold
 * (a receipt bundle): begin sends the head and the envelope's opening,
 * write sends data's JSON text piece by piece, end closes the envelope.
 * Without a sink (unit tests, fuzzers) the same bytes are gathered into
 * body, so the answer reads as any other.  Each returns 0, or -1 once a
 * write failed (the client went away), after which every call fails.
 *
 * Once begin returned, the status is sent: a failure after it cannot
 * become an error envelope.  response_stream_fail marks the answer cut
 * short; the server then breaks the FastCGI stream (server.c), so the
 * web server drops the client's connection before the body's end (no
 * last chunk) and no client can take the truncated body for a whole one.
 */
int		 response_stream_begin(struct response *, int status);
int		 response_stream_write(struct response *, const void *,
		    size_t);
int		 response_stream_end(struct response *);
void		 response_stream_fail(struct response *);
/*
 * The error envelope.  field may be NULL.  extra, when not NULL, is an
 * object whose members are added to "error" (retryAfterSeconds,
 * recordId, ...); its ownership passes to the response.  A
 * SERVICE_UNAVAILABLE error also gets "Retry-After: 1".
 */
/*
 * The one answer to running out of memory, wherever it happens: 503
 * SERVICE_UNAVAILABLE with Retry-After, replacing whatever was set.
 */
void		 response_out_of_memory(struct response *);
/* Retry-After: seconds (at least 1), for a 429 or 503. */
void		 response_retry_after(struct response *, long long seconds);
void		 response_error(struct response *, enum api_error,
		    const char *field, struct json_object *extra,
		    const char *fmt, ...) __attribute__((format(printf, 5, 6)));

#endif
