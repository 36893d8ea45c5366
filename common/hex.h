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

#endif
