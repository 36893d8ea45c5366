/* Base64 of RFC 4648 section 4 (standard alphabet, padded). */
#ifndef TALLY_BASE64_H
#define TALLY_BASE64_H

#include <stddef.h>
#include <stdint.h>

/* Bytes base64_encode writes for len input bytes, NUL included. */
#define BASE64_LEN(len)	(4 * (((len) + 2) / 3) + 1)

/* Writes the encoding of in and a NUL into out; returns its length. */
size_t	base64_encode(const uint8_t *in, size_t len, char *out);
/*
 * Decodes exactly len characters of text: canonical, padded, no
 * whitespace.  Returns 0 with *outlen set, or -1 if text is not that or
 * the result would exceed outmax bytes.
 */
int	base64_decode(const char *text, size_t len, uint8_t *out,
	    size_t outmax, size_t *outlen);

#endif
