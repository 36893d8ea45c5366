/* Lowercase hexadecimal, the form of every hash and id Tally prints. */
#ifndef TALLY_HEX_H
#define TALLY_HEX_H

#include <stddef.h>
#include <stdint.h>

/* Writes 2*len hex digits and a NUL into out (2*len+1 bytes). */
void	hex_encode(const uint8_t *in, size_t len, char *out);
/*
 * Decodes exactly 2*len hex digits (either case) from text into out.
 * Returns 0, or -1 if text is not exactly that long or not hex.
 */
int	hex_decode(const char *text, uint8_t *out, size_t len);
/* The value of one hex digit (either case), or -1. */
int	hex_digit(char c);

/* Bytes of the "0x" form of len bytes, with its NUL. */
#define HEX_0X_SIZE(len)	(2 + 2 * (len) + 1)
/* Writes "0x", 2*len lowercase hex digits and a NUL (HEX_0X_SIZE(len)). */
void	hex_encode_0x(const uint8_t *in, size_t len, char *out);

/*
 * How hex_decode_0x reads.  With no flag it takes only the form
 * hex_encode_0x writes: "0x" and exactly 2*len lowercase digits (what
 * a receipt must carry, one spelling per hash).  The API's inputs
 * (query parameters, paths) have always been kinder: the prefix may be
 * left out and the digits may be either case.
 */
#define HEX_0X_OPTIONAL	0x01	/* "0x" may be left out */
#define HEX_ANY_CASE	0x02	/* A-F as well as a-f */
/* Decodes text into len bytes of out: 0, or -1 if not that form. */
int	hex_decode_0x(const char *text, uint8_t *out, size_t len, int flags);

#endif
