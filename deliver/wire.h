/*
 * The messages between the courier (a thread of tallyd) and the sender
 * (the process that makes the HTTP requests), one per SOCK_SEQPACKET
 * datagram, so neither side ever parses a partial message.
 *
 *   job:    id (8) timeout_ms (4) allow_private (1) nheaders (1)
 *           url NUL, each "Name: value" header NUL, then the body
 *   result: id (8) HTTP status (4, 0: no answer) error text (rest)
 */
#ifndef TALLY_WIRE_H
#define TALLY_WIRE_H

#include <stddef.h>
#include <stdint.h>

#include "../store/store.h"

#define WIRE_HEADERS_MAX	8
#define WIRE_JOB_MAX		(14 + STORE_URL_MAX + 1 + 1024 + \
				 STORE_EVENT_BODY_MAX)
#define WIRE_RESULT_MAX		(12 + STORE_EVENT_ERROR_MAX)

struct wire_job {
	uint64_t	 id;
	uint32_t	 timeout_ms;
	int		 allow_private;
	const char	*url;
	const char	*headers[WIRE_HEADERS_MAX];
	size_t		 nheaders;
	const void	*body;
	size_t		 body_len;
};

struct wire_result {
	uint64_t	id;
	int		code;
	char		error[STORE_EVENT_ERROR_MAX + 1];
};

/* Returns the message's length, 0 if it does not fit in size. */
size_t	wire_job_encode(const struct wire_job *, uint8_t *buf, size_t size);
/* Points job's strings into buf; returns 0, or -1 if malformed. */
int	wire_job_decode(const uint8_t *buf, size_t len, struct wire_job *);
size_t	wire_result_encode(const struct wire_result *, uint8_t *buf,
	    size_t size);
int	wire_result_decode(const uint8_t *buf, size_t len,
	    struct wire_result *);

#endif
