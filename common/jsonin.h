/*
 * Untrusted JSON in: parsed strictly (RFC 8259 only, UTF-8 validated, no
 * trailing bytes) with a nesting limit, so no input can exhaust the stack
 * or smuggle a second document behind the first.
 */
#ifndef TALLY_JSONIN_H
#define TALLY_JSONIN_H

#include <stddef.h>

struct json_object;

#define JSONIN_DEPTH	32

/*
 * Parses len bytes of text.  On success *out is a new reference owned by
 * the caller (json_object_put).  On failure returns -1 with a message
 * that names the byte offset in err, or JSONIN_NOMEM when what failed
 * was memory, not the text.
 */
#define JSONIN_NOMEM	(-2)
int	jsonin_parse(const char *text, size_t len, struct json_object **out,
	    char *err, size_t errlen);

/*
 * The length of the UTF-8 sequence at p (avail > 0 bytes there): 1 to 4,
 * or 0 when it is not the shortest form of a scalar value (overlong,
 * surrogate, beyond U+10FFFF, cut short).
 */
size_t	jsonin_utf8_len(const unsigned char *p, size_t avail);

#endif
