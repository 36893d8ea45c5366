/*
 * Unpredictable bytes from OpenSSL's CSPRNG, for secrets, salts and ids,
 * drawn through a small pool per thread (random.c says why).
 */
#ifndef TALLY_RANDOM_H
#define TALLY_RANDOM_H

#include <stddef.h>
#include <stdint.h>

/* Returns 0, or -1 if the generator could not produce the bytes. */
int	random_bytes(uint8_t *out, size_t len);
/* Fills out with 2*nbytes random lowercase hex digits and a NUL. */
int	random_hex(char *out, size_t nbytes);

#endif
